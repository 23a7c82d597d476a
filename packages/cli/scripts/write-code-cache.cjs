'use strict';
// Build step after bundling: copies the executor beside the bundle, then runs
// typical command lines once through bin/runc (in a throw-away bundle dir and
// state root) and saves V8's code cache, which then holds every function
// those start-ups compile: argument parsing, logging, state, the commands.
const {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const dist = join(__dirname, '..', 'dist');
// The executor both builds use: bin/runc-ts-init (see executorPath()).
const executor = join(__dirname, '..', 'bin', 'runc-ts-init');
copyFileSync(join(__dirname, '../../../native/build/runc-ts-init'), executor);
chmodSync(executor, 0o755);

const work = mkdtempSync(join(tmpdir(), 'runc-ts-code-cache-'));
const root = join(work, 'state');
// A stopped container (its pid is long gone) for state, list and delete.
mkdirSync(join(root, 'warm'), { recursive: true, mode: 0o700 });
writeFileSync(
  join(root, 'warm', 'state.json'),
  JSON.stringify({
    id: 'warm',
    pid: 2 ** 22 + 1,
    pidStartTime: '0',
    bundle: work,
    rootfs: join(work, 'rootfs'),
    created: '2026-01-01T00:00:00Z',
    owner: '',
    config: { ociVersion: '1.3.0', root: { path: 'rootfs' } },
  }),
);
const runs = [
  ['--version'],
  ['spec', '--bundle', work],
  ['features'],
  ['--root', root, 'list'],
  ['--root', root, 'list', '--format', 'json'],
  ['--root', root, 'state', 'warm'],
  ['--root', root, 'start', 'warm'],
  ['--root', root, 'kill', 'warm', 'KILL'],
  ['--root', root, 'delete', 'warm'],
  ['--root', root, 'state', 'warm'],
  ['--root', root, 'create', '--bundle', work, 'warm2'],
];
process.env.RUNC_TS_CODE_CACHE_WARMUP = JSON.stringify(runs);
process.argv = [process.argv[0], 'runc'];
const script = require('../bin/runc.cjs').launch();
process.on('exit', () => {
  rmSync(work, { recursive: true, force: true });
  writeFileSync(join(dist, 'runc.cjs.cache'), script.createCachedData());
});
