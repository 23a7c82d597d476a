#!/usr/bin/env node
'use strict';
// Launches the bundled CLI (dist/runc.cjs) from V8's code cache
// (dist/runc.cjs.cache, written by `pnpm build`), which saves compiling the
// bundle and commander's functions on every start: about 4 ms of ~50. A
// missing or stale cache (another Node version) only costs that time back.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');
const Module = require('node:module');

const dist = join(__dirname, '..', 'dist');
const bundle = join(dist, 'runc.cjs');

/** Compiles and runs the bundle; returns the script so a build can cache it. */
function launch() {
  let cachedData;
  try {
    cachedData = readFileSync(`${bundle}.cache`);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), {
    filename: bundle,
    cachedData,
  });
  const module = { exports: {} };
  script
    .runInThisContext()
    .call(module.exports, module.exports, Module.createRequire(bundle), module, bundle, dist);
  return script;
}

if (require.main === module) launch();
else module.exports = { launch };
