// How libc.ts reaches bun:ffi. Here, through Bun's require on first use:
// that works wherever these sources run under Bun (tests spawn `bun` on
// them) and keeps bun:ffi out of the Node build. The compiled `runc`
// resolves this module to bun-ffi-static.ts instead
// (packages/cli/scripts/compile.ts): a static import of bun:ffi costs
// ~0.1 ms, the require ~0.8 ms, in every command that takes a lock.

/** The part of bun:ffi used here (Bun's types are not a dependency). */
export interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  ptr(view: ArrayBufferView): number;
  read: { i32(pointer: number, offset: number): number };
}

export function bunFfi(): BunFfi {
  const bunRequire = (import.meta as unknown as { require?: (id: string) => unknown }).require;
  if (!bunRequire) throw new Error('bun:ffi is only available under Bun');
  return bunRequire('bun:ffi') as BunFfi;
}
