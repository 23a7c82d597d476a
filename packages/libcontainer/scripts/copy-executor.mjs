// Ships the executor in this package: bin/runc-ts-init, where Runtime finds
// it when the caller gives no initPath (src/executor-path.ts).
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(pkg, '..', '..', 'native', 'build', 'runc-ts-init');
if (!existsSync(built)) {
  console.error(`copy-executor: ${built} is missing: build native/ first (pnpm build does)`);
  process.exit(1);
}
mkdirSync(join(pkg, 'bin'), { recursive: true });
copyFileSync(built, join(pkg, 'bin', 'runc-ts-init'));
chmodSync(join(pkg, 'bin', 'runc-ts-init'), 0o755);
