// `state` and `list`: they read the state directory and /proc, and nothing
// else. Their own module, apart from the lifecycle verbs, so that the most
// frequently polled commands do not load the Runtime, the cgroup drivers
// or the process-control code (see startup-graph.test.ts).
import { listContainerStates, readContainerState, StateStore } from '@runc-ts/libcontainer';
import type { Command } from '../args.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { renderList } from '../render.js';

function storeOf(context: CommandContext): StateStore {
  return new StateStore(context.globals().root);
}

export function registerState(program: Command, context: CommandContext): void {
  program
    .command('state')
    .summary('output the state of a container')
    .argument('<container-id>')
    .action((id: string) => {
      context.write(JSON.stringify(readContainerState(storeOf(context), id), null, 2));
    });
}

export function registerList(program: Command, context: CommandContext): void {
  program
    .command('list')
    .summary('lists containers started by runc with the given root')
    .option('-f, --format <format>', 'select one of: table or json', 'table')
    .option('-q, --quiet', 'display only container IDs')
    .action((flags: { format: string; quiet?: boolean }) => {
      if (flags.format !== 'table' && flags.format !== 'json') {
        throw new UsageError(
          `invalid --format ${JSON.stringify(flags.format)}: use "table" or "json"`,
        );
      }
      context.write(
        renderList(listContainerStates(storeOf(context)), flags.format, flags.quiet === true),
      );
    });
}
