// `runc start`: its verb's module alone, without the Runtime or the cgroup
// drivers (startup-graph.test.ts checks).
import { runVerb, startContainer } from '@runc-ts/libcontainer';
import type { Command } from '../args.js';
import type { CommandContext } from '../context.js';
import { contextOf } from './runtime-options.js';

export function registerStart(program: Command, context: CommandContext): void {
  program
    .command('start')
    .summary('executes the user defined process in a created container')
    .argument('<container-id>')
    .action(async (id: string) => {
      await runVerb(async () => startContainer(await contextOf(context, 'none'), id, {}));
    });
}
