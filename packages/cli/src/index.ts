// @runc-ts/cli: the `runc` command. Importable for embedding and tests.
export type { CliIo, GlobalOptions } from './context.js';
export { runCli } from './program.js';
