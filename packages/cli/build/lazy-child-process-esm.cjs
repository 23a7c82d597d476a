// Bundled in place of node:child_process for our own packages: only `create`,
// `run` and hooks spawn processes, and loading child_process (with net, dgram
// and streams) costs every other command ~10 ms at start-up.
let real;
const load = () => {
  real ??= require('node:child_process');
  return real;
};
exports.spawn = (...args) => load().spawn(...args);
exports.spawnSync = (...args) => load().spawnSync(...args);
exports.execFileSync = (...args) => load().execFileSync(...args);
