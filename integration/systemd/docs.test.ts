// The examples of docs/systemd.md, run as written inside the systemd that
// integration/systemd/run-in-nspawn boots (integration/tests/systemd-nspawn.test.ts
// runs this directory there). The examples call runc-ts as
// /usr/local/bin/runc, with the default --root, and the unit file goes to
// /etc/systemd/system: this test installs both in the guest, whose root is
// a throwaway overlay, and removes them, the containers, the units and the
// bundle they made, even after a failure.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DocExampleRunner,
  docExamples,
  exampleSkipReason,
  outputMatches,
} from '../support/doc-examples.js';
import { runcTs } from '../support/runc.js';

const DOC = 'docs/systemd.md';
const INSTALLED_RUNC = '/usr/local/bin/runc';
const SAVED_RUNC = `${INSTALLED_RUNC}.docs-test-saved`;
// What the examples create outside their directory (besides the unit files).
const MADE_BY_EXAMPLES = ['/srv/web', '/run/web.pid'];

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const init = readFileSync('/proc/1/comm', 'utf8').trim();
  if (init !== 'systemd') return `PID 1 is ${JSON.stringify(init)}, not systemd`;
  if (!process.env.RUNC_TS_NSPAWN_GUEST) {
    return 'not inside run-in-nspawn (the test installs /usr/local/bin/runc)';
  }
  const present = MADE_BY_EXAMPLES.filter((path) => existsSync(path));
  if (present.length > 0) return `${present.join(', ')} already exist here`;
  return undefined;
}
const skip = skipReason();
if (skip) console.warn(`${DOC} examples skipped: ${skip}`);

const { examples, files } = docExamples(DOC);
const unitFiles = files.filter((file) => file.attrs.file?.startsWith('/etc/systemd/system/'));
const runner = new DocExampleRunner(false, '/usr/local/bin');

function runcCommand(...args: string[]) {
  return spawnSync(INSTALLED_RUNC, args, { encoding: 'utf8', timeout: 30_000 });
}

/** Everything an example may have left: containers, units, unit files, the bundle. */
function cleanUp(): void {
  const listed = runcCommand('list', '-q');
  for (const id of (listed.stdout ?? '').split('\n').filter(Boolean)) {
    runcCommand('delete', '--force', id);
  }
  for (const file of unitFiles) {
    const unit = (file.attrs.file as string).split('/').pop() as string;
    spawnSync('systemctl', ['stop', unit], { stdio: 'ignore', timeout: 120_000 });
    spawnSync('systemctl', ['reset-failed', unit], { stdio: 'ignore' });
    rmSync(file.attrs.file as string, { force: true });
  }
  spawnSync('systemctl', ['daemon-reload'], { stdio: 'ignore' });
  for (const path of MADE_BY_EXAMPLES) rmSync(path, { recursive: true, force: true });
}

beforeAll(() => {
  if (skip) return;
  let present = false;
  try {
    lstatSync(INSTALLED_RUNC);
    present = true;
  } catch {
    // not installed: the usual case
  }
  if (present) renameSync(INSTALLED_RUNC, SAVED_RUNC);
  symlinkSync(runcTs, INSTALLED_RUNC);
});

afterAll(() => {
  if (!skip) {
    cleanUp();
    rmSync(INSTALLED_RUNC, { force: true });
    if (existsSync(SAVED_RUNC)) renameSync(SAVED_RUNC, INSTALLED_RUNC);
  }
  runner.cleanup();
});

describe.skipIf(skip !== undefined)(`${DOC} examples under systemd`, () => {
  it('the document has the examples this test expects', () => {
    expect(examples.map((e) => e.block.attrs.test)).toEqual(['cgroup-driver', 'service']);
    expect(unitFiles.map((file) => file.attrs.file)).toEqual(['/etc/systemd/system/web.service']);
  });

  for (const { block, output } of examples) {
    it(`${block.attrs.test} (line ${block.line})`, { timeout: 180_000 }, (context) => {
      const why = exampleSkipReason(block);
      if (why) {
        console.warn(`${DOC}: example ${block.attrs.test} skipped: ${why}`);
        context.skip();
        return;
      }
      try {
        for (const file of unitFiles) writeFileSync(file.attrs.file as string, file.body);
        const result = runner.run(block, runner.workDir(files), 150_000);
        expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
        expect(output, `${DOC}: no output= block for ${block.attrs.test}`).toBeDefined();
        expect(
          outputMatches(output?.body ?? '', result.stdout),
          `expected (${DOC}:${output?.line}):\n${output?.body}\nprinted:\n${result.stdout}\nstderr:\n${result.stderr}`,
        ).toBe(true);
      } finally {
        cleanUp();
      }
    });
  }
});
