import { existsSync, rmdirSync } from 'node:fs';
import { referenceRunc, requireFile, runcTs } from './runc.js';

// containerd 1.6's shims (integration/clients: containerd's and dockerd's)
// put their sockets under /run/containerd/s whatever containerd's own paths
// are; the directories are removed after the whole run, when they were not
// there before it and are empty (not between test files, which run side by
// side).
const shimSocketDirs = ['/run/containerd/s', '/run/containerd/fifo', '/run/containerd'];

// Integration tests exercise the built binary and compare it with the
// reference runc; both must be there (scripts/setup installs and builds them).
// A missing prerequisite fails the run instead of skipping it.
export default function setup(): () => void {
  requireFile(runcTs, 'build the CLI first: pnpm build');
  requireFile(
    referenceRunc,
    'install the reference runtime: apt-get install runc (scripts/setup does)',
  );
  const created = shimSocketDirs.filter((dir) => !existsSync(dir));
  return () => {
    for (const dir of created) {
      try {
        rmdirSync(dir);
      } catch {
        // not there, or in use (not empty)
      }
    }
  };
}
