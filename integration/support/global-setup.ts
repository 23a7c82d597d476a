import { referenceRunc, requireFile, runcTs } from './runc.js';

// Integration tests exercise the built binary and compare it with the
// reference runc; both must be there (scripts/setup installs and builds them).
// A missing prerequisite fails the run instead of skipping it.
export default function setup(): void {
  requireFile(runcTs, 'build the CLI first: pnpm build');
  requireFile(
    referenceRunc,
    'install the reference runtime: apt-get install runc (scripts/setup does)',
  );
}
