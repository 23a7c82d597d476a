import { writeSync } from 'node:fs';
import { COMPILED } from './context.js';
import { runCli } from './program.js';

const write = (fd: number) => (text: string) => {
  writeSync(fd, text);
};

async function main(): Promise<void> {
  // Build step only (scripts/write-code-cache.cjs): run several command lines
  // in this one process so V8's code cache covers all their code paths.
  const warmup = process.env.RUNC_TS_CODE_CACHE_WARMUP;
  if (warmup) {
    const quiet = () => {};
    for (const argv of JSON.parse(warmup) as string[][]) {
      await runCli(argv, { stdout: quiet, stderr: quiet });
    }
    return;
  }
  const code = await runCli(process.argv.slice(2), { stdout: write(1), stderr: write(2) });
  process.exitCode = code;
  // The compiled runc ends here without Bun's orderly teardown of its VM
  // (~1 ms of every call): everything is written (synchronously) and closed,
  // and the processes it started are on their own.
  if (COMPILED) (process as unknown as { reallyExit(code: number): never }).reallyExit(code);
}

void main();
