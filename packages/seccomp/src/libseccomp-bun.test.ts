// The bun:ffi backend (the compiled runc's) against the koffi one (Node's):
// the same profile compiles to the same program, and the kernel probes agree.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { compileSeccomp, seccompFeatures } from './index.js';
import { locateLibseccomp } from './locate.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const bun = join(here, '../../../node_modules/@oven/bun-linux-x64/bin/bun');

const profile = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
  syscalls: [
    { names: ['mkdir', 'personality'], action: 'SCMP_ACT_ERRNO' },
    {
      names: ['clone'],
      action: 'SCMP_ACT_KILL',
      args: [{ index: 0, value: 0x10000000, valueTwo: 0x10000000, op: 'SCMP_CMP_MASKED_EQ' }],
    },
  ],
} as const;

const unavailable =
  process.arch !== 'x64' || !existsSync(bun)
    ? `needs x86_64 and Bun at ${bun} (@oven/bun-linux-x64)`
    : locateLibseccomp() === undefined
      ? 'needs libseccomp.so.2 (libseccomp2)'
      : undefined;

describe('libseccomp through bun:ffi', () => {
  beforeEach((context) => {
    if (unavailable) context.skip(unavailable);
  });

  it('compiles the same program and sees the same kernel features as koffi', () => {
    const script = `import { compileSeccomp, seccompFeatures } from ${JSON.stringify(join(here, 'index.ts'))};
      const compiled = compileSeccomp(${JSON.stringify(profile)});
      console.log(JSON.stringify({ program: Buffer.from(compiled.program).toString('base64'), features: seccompFeatures() }));`;
    const child = spawnSync(bun, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.stderr).toBe('');
    const viaBun = JSON.parse(child.stdout);
    const viaKoffi = compileSeccomp(structuredClone(profile) as never);
    expect(viaBun.program).toBe(Buffer.from(viaKoffi.program).toString('base64'));
    expect(viaBun.features).toEqual(seccompFeatures());
  });
});
