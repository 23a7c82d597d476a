// scripts/vm/cgroup2-vm: a qemu guest with only cgroup v2 (cgroup_no_v1=all)
// on this host's root, where the cgroup tests run in CI. One boot runs a
// self-check of what those tests rely on; a second one checks the timeout
// path. Skipped with RUNC_TS_VM_TESTS=0 (quick local runs), inside the VM
// itself, and when the VM cannot start (exit 125, reason printed).
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/runc.js';

const script = join(repoRoot, 'scripts/vm/cgroup2-vm');
const CANNOT_START = 125;
const TIMED_OUT = 124;
// TCG is slow, and slower still while other tests share the two cores.
const VM_TIMEOUT_S = 480;
const TEST_TIMEOUT_MS = (VM_TIMEOUT_S + 60) * 1000;

const disabledBecause =
  process.env.RUNC_TS_VM_TESTS === '0'
    ? 'RUNC_TS_VM_TESTS=0'
    : process.env.RUNC_TS_VM_GUEST
      ? 'already inside the cgroup v2 VM'
      : undefined;
if (disabledBecause) console.warn(`cgroup2-vm tests skipped: ${disabledBecause}`);

interface VmResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the VM script with its own TMPDIR, which must be empty again afterwards;
 * `signalAfterMs` sends it SIGTERM that long after the start.
 */
function runVm(
  args: readonly string[],
  tmp: string,
  signalAfterMs?: number,
  cwd = repoRoot,
): Promise<VmResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(script, args, {
      cwd,
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer =
      signalAfterMs === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGTERM'), signalAfterMs);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const bySignal = signal ? 128 + constants.signals[signal] : -1;
      resolve({ status: code ?? bySignal, stdout, stderr });
    });
  });
}

/** The reason to skip when the VM could not start, printed once. */
function cannotStart(result: VmResult): string | undefined {
  if (result.status !== CANNOT_START) return undefined;
  const why = `the VM cannot start: ${result.stderr.trim().split('\n').slice(-3).join(' / ')}`;
  console.warn(`cgroup2-vm tests skipped: ${why}`);
  return why;
}

/** Processes still running with `path` in their command line (our qemu or tail). */
function processesMentioning(path: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(path)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

// Prints key=value facts; the exit status 3 and the stderr line check that
// both come back to the host unchanged and apart. It runs in a directory
// under /tmp, which the guest mounts afresh: the script binds it back.
const SELF_CHECK = String.raw`
cg=/sys/fs/cgroup
fstype_of() { awk '{ i = 7; while ($i != "-") i++; print $5, $(i + 1) }' /proc/self/mountinfo; }
echo "fstype=$(stat -f -c %T $cg)"
echo "cgroup2_at=$(fstype_of | awk '$2 == "cgroup2" { print $1 }')"
echo "v1_mounts=$(fstype_of | awk '$2 == "cgroup" { n++ } END { print n + 0 }')"
echo "v1_hierarchies=$(awk '!/^#/ && $2 != 0 { n++ } END { print n + 0 }' /proc/cgroups)"
mkdir -p /tmp/v1-probe
if mount -t cgroup -o memory cgroup /tmp/v1-probe 2>/dev/null; then
  echo v1_mount=allowed; umount /tmp/v1-probe
else
  echo v1_mount=refused
fi
echo "controllers=$(cat $cg/cgroup.controllers)"
echo "subtree_control=$(cat $cg/cgroup.subtree_control)"
echo "own=$(cat /proc/self/cgroup)"
parent=$cg/cgroup2-vm-selfcheck
mkdir $parent
echo '+memory +pids' >$parent/cgroup.subtree_control
mkdir $parent/hog
echo 32M >$parent/hog/memory.max
echo "memory_max=$(cat $parent/hog/memory.max)"
sh -c "echo \$\$ >$parent/hog/cgroup.procs && echo moved_to=\$(cat /proc/self/cgroup) && exec dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null"
echo "hog_status=$?"
echo "oom_kills=$(awk '$1 == "oom_kill" { print $2 }' $parent/hog/memory.events)"
rmdir $parent/hog $parent && echo removed=yes
echo "cwd=$(pwd -P)"
echo "marker=$(cat marker 2>&1)"
echo guest >written && echo wrote=yes
test -f ${quote(join(repoRoot, 'package.json'))} && echo checkout=visible
echo 'self-check on stderr' >&2
exit 3
`;

describe.skipIf(disabledBecause)(
  'cgroup2-vm: a cgroup v2 only guest on the host root (skipped with RUNC_TS_VM_TESTS=0, inside the VM, or when it cannot start)',
  () => {
    let tmp: string;
    let workDir: string;
    let result: VmResult;
    let facts: Map<string, string>;
    let skip: string | undefined;

    beforeAll(async () => {
      tmp = mkdtempSync(join(tmpdir(), 'runc-ts-it-vm-'));
      workDir = mkdtempSync('/tmp/runc-ts-it-vm-cwd-');
      writeFileSync(join(workDir, 'marker'), 'from the host\n');
      result = await runVm(
        ['--quiet', '--timeout', String(VM_TIMEOUT_S), '--', 'sh', '-c', SELF_CHECK],
        tmp,
        undefined,
        workDir,
      );
      skip = cannotStart(result);
      facts = new Map(
        result.stdout
          .split('\n')
          .filter((line) => line.includes('='))
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
    }, TEST_TIMEOUT_MS);
    afterAll(() => {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    it("returns the command's exit status, stdout and stderr apart", (context) => {
      if (skip) context.skip(skip);
      expect(result.status, result.stderr).toBe(3);
      expect(result.stderr).toContain('self-check on stderr');
      expect(result.stdout).not.toContain('self-check on stderr');
    });

    it('mounts cgroup2 at /sys/fs/cgroup and no v1 hierarchy, and refuses one', (context) => {
      if (skip) context.skip(skip);
      expect(facts.get('fstype')).toBe('cgroup2fs');
      expect(facts.get('cgroup2_at')).toBe('/sys/fs/cgroup');
      expect(facts.get('v1_mounts')).toBe('0');
      expect(facts.get('v1_hierarchies')).toBe('0');
      expect(facts.get('v1_mount')).toBe('refused');
    });

    it('enables every controller below the root and runs the command in a child cgroup', (context) => {
      if (skip) context.skip(skip);
      const controllers = (facts.get('controllers') ?? '').split(' ');
      expect(controllers).toEqual(
        expect.arrayContaining(['cpuset', 'cpu', 'io', 'memory', 'pids']),
      );
      expect(facts.get('subtree_control')).toBe(facts.get('controllers'));
      expect(facts.get('own')).toBe('0::/command.scope');
    });

    it('moves a process into a new child cgroup and enforces its memory.max', (context) => {
      if (skip) context.skip(skip);
      expect(facts.get('memory_max')).toBe(String(32 * 1024 * 1024));
      expect(facts.get('moved_to')).toBe('0::/cgroup2-vm-selfcheck/hog');
      expect(facts.get('hog_status')).toBe('137'); // SIGKILL from the OOM killer
      expect(Number(facts.get('oom_kills'))).toBeGreaterThanOrEqual(1);
      expect(facts.get('removed')).toBe('yes');
    });

    it('runs in the working directory and sees this checkout, under /tmp too; writes stay in the guest', (context) => {
      if (skip) context.skip(skip);
      expect(facts.get('cwd')).toBe(realpathSync(workDir));
      expect(facts.get('marker')).toBe('from the host');
      expect(facts.get('wrote')).toBe('yes');
      expect(existsSync(join(workDir, 'written'))).toBe(false);
      expect(facts.get('checkout')).toBe('visible');
    });

    it('leaves no temporary file and no process behind', (context) => {
      if (skip) context.skip(skip);
      expect(readdirSync(tmp)).toEqual([]);
      expect(processesMentioning(tmp)).toEqual([]);
    });

    it('stops the VM on --timeout with status 124, leaving nothing behind', async (context) => {
      if (skip) context.skip(skip);
      const timeoutTmp = mkdtempSync(join(tmpdir(), 'runc-ts-it-vm-timeout-'));
      try {
        const timedOut = await runVm(
          ['--quiet', '--timeout', '3', '--', 'sleep', '600'],
          timeoutTmp,
        );
        if (cannotStart(timedOut)) context.skip('the VM cannot start');
        expect(timedOut.status, timedOut.stderr).toBe(TIMED_OUT);
        expect(timedOut.stderr).toContain('timed out after 3 s');
        expect(readdirSync(timeoutTmp)).toEqual([]);
        expect(processesMentioning(timeoutTmp)).toEqual([]);
      } finally {
        rmSync(timeoutTmp, { recursive: true, force: true });
      }
    }, 60_000);

    it('stops the VM on SIGTERM with status 143, leaving nothing behind', async (context) => {
      if (skip) context.skip(skip);
      const signalTmp = mkdtempSync(join(tmpdir(), 'runc-ts-it-vm-signal-'));
      try {
        const stopped = await runVm(['--quiet', '--', 'sleep', '600'], signalTmp, 3000);
        expect(stopped.status, stopped.stderr).toBe(128 + constants.signals.SIGTERM);
        expect(stopped.stderr).toContain('SIGTERM received, stopping the VM');
        expect(readdirSync(signalTmp)).toEqual([]);
        expect(processesMentioning(signalTmp)).toEqual([]);
      } finally {
        rmSync(signalTmp, { recursive: true, force: true });
      }
    }, 60_000);
  },
);

describe('cgroup2-vm: arguments', () => {
  it('rejects bad options with 125 and a usage message, before starting anything', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'runc-ts-it-vm-args-'));
    try {
      const bad = await runVm(['--cpus', '0', '--', 'true'], tmp);
      expect(bad.status).toBe(CANNOT_START);
      expect(bad.stderr).toContain('--cpus must be a positive number');
      expect(bad.stderr).toContain('usage: scripts/vm/cgroup2-vm');
      const none = await runVm(['--quiet'], tmp);
      expect(none.status).toBe(CANNOT_START);
      expect(none.stderr).toContain('no command given');
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
