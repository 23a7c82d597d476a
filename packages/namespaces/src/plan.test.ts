import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nativeProtocolFiles } from '../scripts/native-ops.js';
import { goldenPlans } from '../test/golden.js';
import { dumpPlan, encodeFrame, encodePlan, MessageType, OPS, op } from './plan.js';

const golden = (file: string) =>
  readFileSync(new URL(`../../../native/testdata/golden/${file}`, import.meta.url));

describe('plan encoding', () => {
  it.each(Object.entries(goldenPlans))('%s matches the committed golden vector', (name, ops) => {
    expect(encodeFrame(MessageType.PLAN, encodePlan(ops)).equals(golden(`${name}.plan`))).toBe(
      true,
    );
    expect(dumpPlan(ops)).toBe(golden(`${name}.txt`).toString('utf8'));
  });

  it('golden vectors use every opcode', () => {
    const used = new Set(Object.values(goldenPlans).flatMap((ops) => ops.map((o) => o.op)));
    expect([...Object.keys(OPS)].filter((name) => !used.has(name as never))).toEqual([]);
  });

  it.each(Object.entries(nativeProtocolFiles()))(
    'native/src/%s is generated from these tables (run `pnpm --filter @runc-ts/namespaces golden`)',
    (name, text) => {
      const committed = readFileSync(new URL(`../../../native/src/${name}`, import.meta.url));
      expect(committed.toString('utf8')).toBe(text);
    },
  );

  it('the generated C tables name every op with its code and signature', () => {
    const header = nativeProtocolFiles()['protocol.gen.h']!;
    const source = nativeProtocolFiles()['protocol.gen.c']!;
    expect(header).toContain('\tOP_MOUNT = 6,\n');
    expect(header).toContain('\tRTS_SYNC_SECCOMP = 5,\n');
    expect(header).toContain(`\tOP_MAX = ${Math.max(...Object.values(OPS).map(([c]) => c))},\n`);
    expect(source).toContain(
      '[OP_MOUNT] = {"MOUNT", 6, {RTS_STR, RTS_STR, RTS_STR, RTS_U64, RTS_STR, RTS_U64}},',
    );
    expect(source).toContain('[OP_PIVOT_ROOT] = {"PIVOT_ROOT", 0, {0}},');
  });

  it('frames: magic RTS1, type, length', () => {
    const frame = encodeFrame(MessageType.CONTINUE);
    expect(frame.toString('hex')).toBe('525453310200000000000000');
  });

  it('encodes negative numbers as two’s complement u64', () => {
    const body = encodePlan([op('SCHED', 0, 0, -1, 0, 0, 0, 0)]);
    expect(body.subarray(8 + 2 * 9 + 1, 8 + 2 * 9 + 9).toString('hex')).toBe('ffffffffffffffff');
  });

  it('refuses strings with NUL bytes', () => {
    expect(() => encodePlan([op('HOSTNAME', 'a\0b')])).toThrow('NUL');
  });
});
