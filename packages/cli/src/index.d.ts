export type { CliIo, GlobalOptions } from './context.js';
export { runCli } from './program.js';
//# sourceMappingURL=index.d.ts.map
