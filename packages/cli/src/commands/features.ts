import { runtimeFeatures } from '@runc-ts/libcontainer';
import type { Command } from '../args.js';
import { buildInfo } from '../build-info.js';
import type { CommandContext } from '../context.js';

export function registerFeatures(program: Command, context: CommandContext): void {
  program
    .command('features')
    .summary('show the enabled features')
    .description(
      'Print, as runtime-spec features JSON, what this build of runc-ts implements:\n' +
        'supported spec versions, hooks, mount options, namespaces, capabilities,\n' +
        'cgroup drivers and security modules. It lists only what works now.',
    )
    .action(async () => {
      context.write(`${JSON.stringify(await runtimeFeatures(buildInfo), null, 4)}\n`);
    });
}
