import { writeSync } from 'node:fs';
import { runCli } from './program.js';

const write = (fd: number) => (text: string) => {
  writeSync(fd, text);
};

void runCli(process.argv.slice(2), { stdout: write(1), stderr: write(2) }).then((code) => {
  process.exitCode = code;
});
