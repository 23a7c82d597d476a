// `runc pause` and `resume`: their verbs' module alone, without the Runtime,
// and only the cgroup driver the container's state names.
import { pauseContainer, resumeContainer, runVerb } from '@runc-ts/libcontainer';
import type { Command } from '../args.js';
import type { CommandContext } from '../context.js';
import { contextOf } from './runtime-options.js';

export function registerPause(program: Command, context: CommandContext): void {
  program
    .command('pause')
    .summary('pause suspends all processes inside the container')
    .argument('<container-id>')
    .action(async (id: string) => {
      await runVerb(async () => pauseContainer(await contextOf(context, 'stored'), id));
    });
}

export function registerResume(program: Command, context: CommandContext): void {
  program
    .command('resume')
    .summary('resumes all processes that have been previously paused')
    .argument('<container-id>')
    .action(async (id: string) => {
      await runVerb(async () => resumeContainer(await contextOf(context, 'stored'), id));
    });
}
