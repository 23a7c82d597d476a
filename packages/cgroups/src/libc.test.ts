// Both FFI backends of libc.ts, on the same calls: koffi here under Node,
// bun:ffi in a Bun child running the same module (as the compiled runc does).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadLibc } from './libc.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const bun = join(here, '../../../node_modules/@oven/bun-linux-x64/bin/bun');

const SYS_BPF = 321; // x86_64
const BPF_PROG_GET_FD_BY_ID = 13;

/** What a backend answers: eventfd works, errors come back as -errno, strerror text. */
const probe = `
  const { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } = require('node:fs');
  const libc = loadLibc();
  // flock(2): a second open file description cannot take a held lock.
  const dir = mkdtempSync(require('node:os').tmpdir() + '/runc-ts-flock-');
  const first = openSync(dir + '/lock', 'w');
  const second = openSync(dir + '/lock', 'r');
  const flock = [
    libc.flock(first, 2 | 4),
    libc.flock(second, 2 | 4),
    libc.flock(first, 8),
    libc.flock(second, 2 | 4),
    libc.flock(-1, 2),
  ];
  closeSync(first);
  closeSync(second);
  rmSync(dir, { recursive: true });
  const fd = libc.eventfd(0, 0o2000000);
  if (fd >= 0) closeSync(fd);
  // A SOCK_SEQPACKET pair keeps message boundaries (CRIU's RPC relies on it).
  const pair = Buffer.alloc(8);
  const paired = libc.socketpair(1, 5 | 0o2000000, 0, pair);
  const [a, b] = [pair.readInt32LE(0), pair.readInt32LE(4)];
  writeSync(a, Buffer.from('one'));
  writeSync(a, Buffer.from('two'));
  const message = Buffer.alloc(16);
  const received = message.subarray(0, readSync(b, message)).toString();
  closeSync(a);
  closeSync(b);
  // P_PID of a pid that is not our child: ECHILD.
  const info = Buffer.alloc(128);
  const waited = libc.waitid(1, 1, info, 4 | 1);
  // Without CAP_SYS_ADMIN EPERM, with it ENOENT: a negative errno either way.
  const mounted = libc.mount('/nonexistent-source', '/nonexistent-target', '', 4096);
  const unmounted = libc.umount2('/nonexistent-target', 2);
  const PR_GET_CHILD_SUBREAPER = 37;
  const reaper = Buffer.alloc(4);
  const subreaper = libc.prctl(PR_GET_CHILD_SUBREAPER, Number(libc.address(reaper)));
  const F_DUPFD_CLOEXEC = 1030;
  const high = libc.fcntl(0, F_DUPFD_CLOEXEC, 200);
  if (high >= 0) closeSync(high);
  const attr = Buffer.alloc(128);
  attr.writeUInt32LE(0xfffffff0, 0); // a program id that does not exist
  return {
    eventfd: fd >= 0,
    bpf: libc.syscallWithBuffer(${SYS_BPF}, ${BPF_PROG_GET_FD_BY_ID}, attr, 128),
    strerror: libc.strerror(2),
    address: libc.address(attr) > 0n,
    socketpair: [paired, received],
    waitid: waited,
    mount: mounted < 0,
    umount2: unmounted < 0,
    subreaper: [subreaper, reaper.readInt32LE(0)],
    duplicatedAbove: high >= 200,
    flock,
  };
`;

function underNode(): unknown {
  return new Function('loadLibc', 'require', probe)(loadLibc, (id: string) =>
    process.getBuiltinModule(id),
  );
}

const notX64 =
  process.arch === 'x64'
    ? undefined
    : `the probe's bpf(2) number is x86_64's; this is ${process.arch}`;
const noBun = existsSync(bun)
  ? undefined
  : `no Bun at ${bun} (@oven/bun-linux-x64 installs on x86_64 Linux only)`;

describe('libc through the FFI', () => {
  beforeEach((context) => {
    if (notX64) context.skip(notX64);
  });

  it('koffi (Node): eventfd, bpf errors as -errno, strerror, buffer addresses, flock', () => {
    const result = underNode() as { bpf: number };
    expect(result).toMatchObject({
      eventfd: true,
      strerror: 'No such file or directory',
      address: true,
      socketpair: [0, 'one'],
      waitid: -10,
      mount: true,
      umount2: true,
      subreaper: [0, 0],
      duplicatedAbove: true,
      // taken; EWOULDBLOCK for the other holder; released; taken; EBADF
      flock: [0, -11, 0, 0, -9],
    });
    // ENOENT as root, EPERM without CAP_SYS_ADMIN: a negative errno either way.
    expect([-2, -1]).toContain(result.bpf);
  });

  it('bun:ffi (the compiled runc) answers the same', (context) => {
    if (noBun) context.skip(noBun);
    const script = `import { loadLibc } from ${JSON.stringify(join(here, 'libc.ts'))};
      const run = new Function('loadLibc', 'require', ${JSON.stringify(probe)});
      console.log(JSON.stringify(run(loadLibc, require)));`;
    const child = spawnSync(bun, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual(underNode());
  });
});
