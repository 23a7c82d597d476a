// `runc delete`: its verb's module alone, without the Runtime's create/run
// paths (startup-graph.test.ts checks).
import { deleteContainer, runVerb } from '@runc-ts/libcontainer';
import type { Command } from '../args.js';
import type { CommandContext } from '../context.js';
import { contextOf } from './runtime-options.js';

export function registerDelete(program: Command, context: CommandContext): void {
  program
    .command('delete')
    .summary('delete a container and the resources it holds')
    .argument('<container-id>')
    .option('-f, --force', 'forcibly delete the container if it is still running (uses SIGKILL)')
    .action(async (id: string, flags: { force?: boolean }) => {
      const force = flags.force === true;
      await runVerb(async () => deleteContainer(await contextOf(context, 'stored'), id, { force }));
    });
}
