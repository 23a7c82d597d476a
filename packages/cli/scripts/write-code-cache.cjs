'use strict';
// Build step after bundling: copies the executor beside the bundle, then runs `runc spec` once through bin/runc (into a throw-away
// bundle dir) and saves V8's code cache, which then holds every function a
// typical start-up compiles: argument parsing, logging, the command itself.
const { copyFileSync, mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const dist = join(__dirname, '..', 'dist');
copyFileSync(join(__dirname, '../../../native/build/runc-ts-init'), join(dist, 'runc-ts-init'));

const bundle = mkdtempSync(join(tmpdir(), 'runc-ts-code-cache-'));
process.argv = [process.argv[0], 'runc', 'spec', '--bundle', bundle];
const script = require('../bin/runc.cjs').launch();
process.on('exit', (code) => {
  rmSync(bundle, { recursive: true, force: true });
  if (code !== 0) throw new Error(`warm-up run of runc spec failed (exit ${code})`);
  writeFileSync(join(dist, 'runc.cjs.cache'), script.createCachedData());
});
