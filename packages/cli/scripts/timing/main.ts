// Entry of the timing build (scripts/compile.ts --timing, used by
// scripts/profile-startup): runs the CLI like src/main.ts, then prints to
// stderr, in ms since the process started, when runc-ts's first module ran,
// when the eager modules were initialised and when the command was done.
import './start.js';
import { writeSync } from 'node:fs';
import { runCli } from '../../src/program.js';

const eager = Bun.nanoseconds();
const write = (fd: number) => (text: string) => {
  writeSync(fd, text);
};
process.exitCode = await runCli(process.argv.slice(2), { stdout: write(1), stderr: write(2) });
const done = Bun.nanoseconds();
const ms = (ns: number) => (ns / 1e6).toFixed(3);
const first = (globalThis as { __runcTsT0?: number }).__runcTsT0 ?? 0;
writeSync(2, `runc-ts-timing first-js=${ms(first)} eager=${ms(eager)} done=${ms(done)}\n`);
// As src/main.ts ends the compiled runc.
(process as unknown as { reallyExit(code: number): never }).reallyExit(Number(process.exitCode));
