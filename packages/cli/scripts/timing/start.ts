// First module of the timing build (scripts/compile.ts --timing): the time
// Bun took to start before any of runc-ts's code ran.
(globalThis as { __runcTsT0?: number }).__runcTsT0 = Bun.nanoseconds();
