import { Command } from 'commander';
import { CliContext, type CliIo } from './context.js';
export declare function buildProgram(context: CliContext): Command;
/** Runs the CLI on `argv` (without node and script), returning the exit code. */
export declare function runCli(argv: readonly string[], io: CliIo): Promise<number>;
//# sourceMappingURL=program.d.ts.map
