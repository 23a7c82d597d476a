import { describe, expect, it } from 'vitest';
import { formatStatsJson, parseBlkioFile, parseCpuList, parseIoStat } from './stats.js';

/** What a v1 limit file says for "no limit" (2^63 rounded down to a page); a double exactly. */
const V1_UNLIMITED = 2 ** 63 - 4096;

describe('stats parsers', () => {
  it('expands cpu lists', () => {
    expect(parseCpuList('0-3,5,7-8\n')).toEqual([0, 1, 2, 3, 5, 7, 8]);
    expect(parseCpuList('\n')).toEqual([]);
  });

  it('reads v1 blkio lines with and without an operation, skipping the Total summary', () => {
    expect(parseBlkioFile('8:16 Read 512\n8:16 Write 0\nTotal 512\n')).toEqual([
      { major: 8, minor: 16, op: 'Read', value: 512 },
      { major: 8, minor: 16, op: 'Write' },
    ]);
    expect(parseBlkioFile('8:0 1234\n')).toEqual([{ major: 8, value: 1234 }]);
    expect(parseBlkioFile(undefined)).toEqual([]);
  });

  it('maps io.stat to bytes and operations per device', () => {
    expect(parseIoStat('8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n')).toEqual({
      ioServiceBytesRecursive: [
        { major: 8, op: 'Read', value: 10 },
        { major: 8, op: 'Write', value: 20 },
      ],
      ioServicedRecursive: [
        { major: 8, op: 'Read', value: 1 },
        { major: 8, op: 'Write', value: 2 },
      ],
    });
    expect(parseIoStat('')).toEqual({});
  });
});

describe('formatStatsJson', () => {
  it('prints integers beyond 2^53 exactly, as Go does', () => {
    expect(
      formatStatsJson({
        limit: V1_UNLIMITED,
        max: 2 ** 64,
        n: [1, 2.5],
        s: 'x',
        u: undefined,
        z: null,
      }),
    ).toBe('{"limit":9223372036854771712,"max":18446744073709551615,"n":[1,2.5],"s":"x","z":null}');
    expect(JSON.stringify({ limit: V1_UNLIMITED })).toBe('{"limit":9223372036854772000}');
  });
});
