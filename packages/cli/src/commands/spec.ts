import { writeStarterSpec } from '@runc-ts/libcontainer';
import type { Command } from '../args.js';
import type { CommandContext } from '../context.js';

export function registerSpec(program: Command, context: CommandContext): void {
  program
    .command('spec')
    .summary('create a new specification file')
    .description(
      'Write a starter config.json into the bundle directory (the current directory unless\n' +
        '--bundle is given). It runs `sh` from ./rootfs as root with a read-only root, the\n' +
        'usual /proc, /dev and /sys mounts and masked kernel paths. Edit it to suit your\n' +
        'image. An existing config.json is never overwritten.\n\n' +
        'With --rootless the config maps your user to root in a new user namespace and\n' +
        'drops what an unprivileged user cannot set up (network namespace, sysfs mount,\n' +
        'cgroup resources).',
    )
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
    .option('--rootless', 'generate a configuration for a rootless container', false)
    .action(async (options: { bundle: string; rootless: boolean }) => {
      const path = await writeStarterSpec({ bundle: options.bundle, rootless: options.rootless });
      context.logger().debug(`spec: wrote ${path}`);
    });
}
