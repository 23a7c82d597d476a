import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
export declare function registerFeatures(program: Command, context: CommandContext): void;
//# sourceMappingURL=features.d.ts.map
