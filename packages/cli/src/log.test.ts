import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatLogLine, Logger, rfc3339, zoneIsUtc } from './log.js';

const at = new Date('2026-11-28T03:11:52.345Z');

describe('formatLogLine', () => {
  it('writes logrus-style text lines, quoting only when needed', () => {
    expect(formatLogLine('text', 'error', 'File config.json exists. Remove it first', at)).toMatch(
      /^time="[^"]+" level=error msg="File config.json exists. Remove it first"\n$/,
    );
    expect(formatLogLine('text', 'debug', 'plain', at)).toMatch(/ level=debug msg=plain\n$/);
    expect(formatLogLine('text', 'error', 'a "b"\nc', at)).toContain('msg="a \\"b\\"\\nc"');
  });

  it('writes JSON with the keys containerd reads, in sorted order', () => {
    const line = formatLogLine('json', 'error', 'boom', at);
    expect(line.endsWith('\n')).toBe(true);
    expect(Object.keys(JSON.parse(line))).toEqual(['level', 'msg', 'time']);
    expect(JSON.parse(line)).toMatchObject({ level: 'error', msg: 'boom' });
  });
});

describe('rfc3339', () => {
  it('is second precision with a zone, like Go time.RFC3339', () => {
    expect(rfc3339(at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    if (at.getTimezoneOffset() === 0) expect(rfc3339(at)).toBe('2026-11-28T03:11:52Z');
  });
});

describe('zoneIsUtc', () => {
  const link = (target?: string) => () => target;
  it('takes TZ first: empty, UTC names and their zoneinfo paths are UTC', () => {
    for (const tz of [
      '',
      ':UTC',
      'UTC',
      'UTC0',
      'Etc/UTC',
      ':/usr/share/zoneinfo/Etc/UTC',
      'GMT',
    ]) {
      expect(zoneIsUtc(tz, link('/usr/share/zoneinfo/Europe/Paris')), tz).toBe(true);
    }
    for (const tz of ['Europe/Paris', 'CET-1', 'EST5EDT', 'UTC+1']) {
      expect(zoneIsUtc(tz, link('/usr/share/zoneinfo/Etc/UTC')), tz).toBe(false);
    }
  });

  it('otherwise reads the /etc/localtime link; anything else is not known to be UTC', () => {
    expect(zoneIsUtc(undefined, link('/usr/share/zoneinfo/Etc/UTC'))).toBe(true);
    expect(zoneIsUtc(undefined, link('../usr/share/zoneinfo/UTC'))).toBe(true);
    expect(zoneIsUtc(undefined, link('/usr/share/zoneinfo/America/New_York'))).toBe(false);
    expect(zoneIsUtc(undefined, link(undefined))).toBe(false);
    expect(zoneIsUtc(undefined, link('/somewhere/UTC'))).toBe(false);
  });
});

describe('Logger', () => {
  it('appends to a file and honours the debug level', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runc-ts-log-'));
    try {
      const file = join(dir, 'log.json');
      const quiet = new Logger({ format: 'json', file });
      quiet.debug('hidden');
      quiet.error('first');
      quiet.close();
      const verbose = new Logger({ format: 'json', file, debug: true });
      verbose.debug('shown');
      verbose.close();
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).msg);
      expect(lines).toEqual(['first', 'shown']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
