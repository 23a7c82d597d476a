// Bundled in place of node:child_process for commander, which requires it at
// load time only to run executable subcommands (the `runc` CLI has none).
// Loading child_process pulls in net, dgram and streams: ~5 ms per start.
module.exports = new Proxy(
  {},
  {
    get(_target, name) {
      return require('node:child_process')[name];
    },
  },
);
