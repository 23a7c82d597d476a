import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
export declare function registerSpec(program: Command, context: CommandContext): void;
//# sourceMappingURL=spec.d.ts.map
