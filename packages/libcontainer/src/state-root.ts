/**
 * Default `--root`: /run/runc-ts for root; for other users
 * $XDG_RUNTIME_DIR/runc-ts (their private tmpfs), as runc does with /run/runc.
 */
export function defaultStateRoot(
  euid = process.geteuid?.() ?? 0,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (euid !== 0 && env.XDG_RUNTIME_DIR) return `${env.XDG_RUNTIME_DIR}/runc-ts`;
  return '/run/runc-ts';
}
