// Id-mapped bind mounts (mounts[].uidMappings/gidMappings, `idmap`,
// `ridmap`): owners seen from inside, files written through the mount, the
// recursive variant, read-only, and the errors. Sources live under the
// sandbox in $TMPDIR; the host file system there must support id-mapped
// mounts (ext4, xfs, btrfs, tmpfs since 6.3...), checked below.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Mount, Spec } from '@runc-ts/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
const hostMounts: string[] = [];

afterAll(() => {
  for (const target of hostMounts.reverse()) spawnSync('umount', ['-l', target]);
  sandbox.cleanup();
});

/** Why id-mapped mounts cannot be tested here, or undefined. */
function unsupportedBecause(): string | undefined {
  const [major = 0, minor = 0] = readFileSync('/proc/sys/kernel/osrelease', 'utf8')
    .split('.')
    .map(Number);
  if (major < 5 || (major === 5 && minor < 12)) return 'kernel older than 5.12';
  const fs = spawnSync('stat', ['-f', '-c', '%T', sandbox.dir], { encoding: 'utf8' }).stdout.trim();
  if (!['ext2/ext3', 'xfs', 'btrfs', 'tmpfs', 'overlayfs'].includes(fs)) {
    return `${sandbox.dir} is on ${fs}, which may not support id-mapped mounts`;
  }
  return undefined;
}
const skipReason = unsupportedBecause();

/**
 * A host directory under the sandbox, owned by 1000:1000 and writable by
 * all, with files of the given owners. (The kernel refuses writes to a
 * directory whose owner the mount's mapping does not cover: EACCES.)
 */
function hostDir(name: string, files: Record<string, [number, number]>): string {
  const dir = join(sandbox.dir, name);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  chownSync(dir, 1000, 1000);
  for (const [file, [uid, gid]] of Object.entries(files)) {
    writeFileSync(join(dir, file), `${file}\n`);
    chownSync(join(dir, file), uid, gid);
  }
  return dir;
}

function hostBind(source: string, target: string): void {
  const r = spawnSync('mount', ['--bind', source, target], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount --bind ${source} ${target}: ${r.stderr}`);
  hostMounts.push(target);
}

const ownerOf = (path: string) => {
  const st = statSync(path);
  return `${st.uid}:${st.gid}`;
};

/** A user namespace mapping 0..65535 to 100000..165535, as runc's tests use. */
function withUserns(spec: Spec): void {
  spec.linux!.namespaces!.push({ type: 'user' });
  spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  // cgroup v1 hierarchies cannot be mounted from a user namespace
  spec.mounts = spec.mounts!.filter((m) => m.type !== 'cgroup');
}

/** Runs `script` with `mounts` added; returns the result. */
function runWith(script: string, mounts: Mount[], edit: (spec: Spec) => void = () => {}) {
  return sandbox.exec(['sh', '-c', script], (spec) => {
    spec.mounts!.push(...mounts);
    edit(spec);
  });
}

/**
 * Id-mapping helpers of runc-ts-init that are still running (none may
 * outlive a create). Exited ones wait as zombies for init to reap them:
 * they hold nothing. A helper exits at end-of-file on its channel, which
 * can come a moment after runc returns: wait up to 2 s for that.
 */
function idmapHelpers(): number[] {
  for (let tries = 0; ; tries++) {
    const running = runningIdmapHelpers();
    if (running.length === 0 || tries >= 40) return running;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

function runningIdmapHelpers(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // "pid (comm) state ..."
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        return stat.includes('(runc-ts-idmap)') && state !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe.skipIf(skipReason)(
  `id-mapped mounts${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let data: string;
    let tree: string;

    beforeAll(() => {
      // the user namespace's root (host uid 100000) must reach the bundles
      chmodSync(sandbox.dir, 0o755);
      data = hostDir('data', { root: [0, 0], f: [1000, 1000], g: [1001, 1002] });
      tree = hostDir('tree', { top: [1000, 1000] });
      const other = hostDir('other', { o: [1000, 1000] });
      mkdirSync(join(tree, 'sub'));
      hostBind(other, join(tree, 'sub'));
    });

    const dataMapping = {
      uidMappings: [{ containerID: 1000, hostID: 2000, size: 10 }],
      gidMappings: [{ containerID: 1000, hostID: 3000, size: 10 }],
    };

    it('shows files with the mapped owner and maps a new file back (no user namespace)', () => {
      const result = runWith(
        'stat -c %n=%u:%g /data/f /data/g; touch /data/made; stat -c %n=%u:%g /data/made; ' +
          'grep " /data " /proc/self/mountinfo',
        [{ destination: '/data', source: data, options: ['bind'], ...dataMapping }],
        (spec) => {
          spec.process!.user = { uid: 2005, gid: 3006 };
        },
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const lines = result.stdout.split('\n');
      expect(lines.slice(0, 3)).toEqual([
        '/data/f=2000:3000',
        '/data/g=2001:3002',
        '/data/made=2005:3006',
      ]);
      expect(lines[3]).toContain('idmapped');
      // on disk: 2005:3006 is 1005:1006
      expect(ownerOf(join(data, 'made'))).toBe('1005:1006');
      expect(idmapHelpers()).toEqual([]);
    });

    it('refuses to write as an id the mapping does not cover (EOVERFLOW, as runc)', () => {
      const result = runWith('touch /data/root-made', [
        { destination: '/data', source: data, options: ['bind', 'idmap'], ...dataMapping },
      ]);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('Value too large for defined data type');
      expect(existsSync(join(data, 'root-made'))).toBe(false);
    });

    it('idmap without mappings takes the container user namespace mapping', () => {
      const result = runWith(
        'cd /tmp; stat -c %n=%u:%g data/root data/f plain/f; touch data/made-in-userns; ' +
          'stat -c %n=%u:%g data/made-in-userns',
        [
          { destination: '/tmp/data', source: data, options: ['bind', 'idmap'] },
          { destination: '/tmp/plain', source: data, options: ['bind'] },
        ],
        withUserns,
      );
      expect(result.stderr).toBe('');
      expect(result.stdout.split('\n')).toEqual([
        'data/root=0:0',
        'data/f=1000:1000',
        // a plain bind mount of the same directory: unmapped host ids
        'plain/f=65534:65534',
        'data/made-in-userns=0:0',
        '',
      ]);
      // the container's root wrote it: on disk that is root again
      expect(ownerOf(join(data, 'made-in-userns'))).toBe('0:0');
    });

    it('explicit mappings apply inside a user namespace too (host ids, mapped again)', () => {
      const result = runWith(
        'stat -c %n=%u:%g /tmp/data/f /tmp/data/g',
        [
          {
            destination: '/tmp/data',
            source: data,
            options: ['bind', 'idmap'],
            uidMappings: [{ containerID: 1000, hostID: 101100, size: 2 }],
            gidMappings: [{ containerID: 1000, hostID: 102000, size: 3 }],
          },
        ],
        withUserns,
      );
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('/tmp/data/f=1100:2000\n/tmp/data/g=1101:2002\n');
    });

    it('ridmap maps the submounts of an rbind, idmap leaves them as they are', () => {
      const script = 'stat -c %n=%u:%g /t/top /t/sub/o';
      const mount = (option: string): Mount => ({
        destination: '/t',
        source: tree,
        options: ['rbind', option],
        ...dataMapping,
      });
      const idmap = runWith(script, [mount('idmap')]);
      expect(idmap.stderr).toBe('');
      expect(idmap.stdout).toBe('/t/top=2000:3000\n/t/sub/o=1000:1000\n');
      const ridmap = runWith(script, [mount('ridmap')]);
      expect(ridmap.stderr).toBe('');
      expect(ridmap.stdout).toBe('/t/top=2000:3000\n/t/sub/o=2000:3000\n');
      // in a user namespace the unmapped submount shows the overflow ids
      const userns = runWith(
        'stat -c %n=%u:%g /tmp/t/top /tmp/t/sub/o',
        [{ destination: '/tmp/t', source: tree, options: ['rbind', 'idmap'] }],
        withUserns,
      );
      expect(userns.stderr).toBe('');
      expect(userns.stdout).toBe('/tmp/t/top=1000:1000\n/tmp/t/sub/o=65534:65534\n');
    });

    it('keeps read-only and the other bind options', () => {
      const result = runWith(
        'stat -c %n=%u:%g /data/f; touch /data/x; grep " /data " /proc/self/mountinfo',
        [
          {
            destination: '/data',
            source: data,
            options: ['bind', 'ro', 'nosuid', 'idmap'],
            ...dataMapping,
          },
        ],
      );
      expect(result.status).toBe(0);
      expect(result.stdout.split('\n')[0]).toBe('/data/f=2000:3000');
      expect(result.stdout).toMatch(/ \/data ro,nosuid,.*idmapped/);
      expect(result.stderr).toContain('Read-only file system');
      expect(existsSync(join(data, 'x'))).toBe(false);
    });

    it('mounts a single file', () => {
      const result = runWith('stat -c %n=%u:%g /etc/f; cat /etc/f', [
        { destination: '/etc/f', source: join(data, 'f'), options: ['bind', 'ro'], ...dataMapping },
      ]);
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('/etc/f=2000:3000\nf\n');
    });

    it('leaves no helper behind once created', () => {
      const bundle = sandbox.bundle((spec) => {
        spec.process!.args = ['true'];
        spec.mounts!.push({
          destination: '/data',
          source: data,
          options: ['bind'],
          ...dataMapping,
        });
      });
      const id = sandbox.id('idmap-created');
      expect(sandbox.runc(['create', '--bundle', bundle, id]).status).toBe(0);
      // the init waits for start; the id-mapping helper must be gone already
      expect(sandbox.state(id).status).toBe('created');
      expect(idmapHelpers()).toEqual([]);
      expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
      expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
    });

    describe('errors: clear, and nothing left behind', () => {
      /** Creates a container that must fail; checks nothing of it remains. */
      function failingCreate(mounts: Mount[], edit: (spec: Spec) => void = () => {}) {
        const bundle = sandbox.bundle((spec) => {
          spec.process!.args = ['true'];
          spec.mounts!.push(...mounts);
          edit(spec);
        });
        const id = sandbox.id('idmap-fail');
        const result = sandbox.runc(['create', '--bundle', bundle, id]);
        expect(result.status).toBe(1);
        expect(sandbox.runc(['list', '-q']).stdout.split('\n')).not.toContain(id);
        expect(existsSync(join(sandbox.root, id))).toBe(false);
        expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
        expect(idmapHelpers()).toEqual([]);
        return result.stderr;
      }

      it('a mount that is not a bind mount', () => {
        const stderr = failingCreate([
          { destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['idmap'], ...dataMapping },
        ]);
        expect(stderr).toMatch(
          /mounts\[\d+\]\.options\[0\]: id-mapped mounts are only supported for bind mounts/,
        );
      });

      it('idmap without mappings in a container without user namespace', () => {
        const stderr = failingCreate([
          { destination: '/x', source: data, options: ['bind', 'idmap'] },
        ]);
        expect(stderr).toMatch(/mounts\[\d+\]\.options\[1\]: /);
        expect(stderr).toContain(
          "without uidMappings and gidMappings takes the container's user namespace mapping, but the container has no user namespace",
        );
      });

      it('a filesystem that cannot be id-mapped (procfs)', () => {
        const stderr = failingCreate([
          {
            destination: '/x',
            source: '/proc/sys/kernel',
            options: ['bind', 'idmap'],
            ...dataMapping,
          },
        ]);
        expect(stderr).toContain(
          'mount idmapped /x (/proc/sys/kernel): mount_setattr MOUNT_ATTR_IDMAP (does the proc filesystem support id-mapped mounts?): invalid argument',
        );
      });

      it('a missing source', () => {
        const stderr = failingCreate([
          {
            destination: '/x',
            source: join(sandbox.dir, 'missing'),
            options: ['bind'],
            ...dataMapping,
          },
        ]);
        expect(stderr).toContain('/missing): open_tree: no such file or directory');
      });
    });
  },
);
