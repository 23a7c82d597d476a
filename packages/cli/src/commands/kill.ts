// `runc kill`: its verb's module alone, without the Runtime; the cgroup
// drivers only with --all (startup-graph.test.ts checks).
import { killContainer, parseSignal, runVerb } from '@runc-ts/libcontainer';
import type { Command } from '../args.js';
import type { CommandContext } from '../context.js';
import { contextOf } from './runtime-options.js';

export function registerKill(program: Command, context: CommandContext): void {
  program
    .command('kill')
    .summary("send a signal (default: SIGTERM) to the container's init process")
    .argument('<container-id>')
    .argument('[signal]', 'signal name (KILL, SIGKILL) or number', 'SIGTERM')
    .option('-a, --all', 'send the signal to all processes inside the container')
    .action(async (id: string, signal: string, flags: { all?: boolean }) => {
      const all = flags.all === true;
      const number = parseSignal(signal);
      await runVerb(async () =>
        killContainer(await contextOf(context, all ? 'stored' : 'none'), id, number, { all }),
      );
    });
}
