import { describe, expect, it } from 'vitest';
import { parseSignal, signalName, validateContainerId } from './index.js';

describe('parseSignal', () => {
  it.each([
    ['KILL', 9],
    ['SIGKILL', 9],
    ['sigterm', 15],
    ['term', 15],
    ['9', 9],
    ['0', 0],
    ['64', 64],
    ['RTMIN', 34],
    ['SIGRTMIN+3', 37],
    ['RTMAX-1', 63],
  ])('%s -> %d', (value, number) => {
    expect(parseSignal(value)).toBe(number);
  });

  it.each(['65', 'SIGFOO', '', '-1', 'RTMIN+40'])('rejects %j', (value) => {
    expect(() => parseSignal(value)).toThrow(`invalid signal: ${JSON.stringify(value)}`);
  });

  it('names signals', () => {
    expect(signalName(15)).toBe('SIGTERM');
  });
});

describe('validateContainerId', () => {
  it.each(['a', 'abc-123_x.y+z', '.hidden', 'x'.repeat(200)])('accepts %j', (id) => {
    expect(() => validateContainerId(id)).not.toThrow();
  });

  it.each(['', '.', '..', 'a/b', 'a b', 'ü', '../x'])('rejects %j', (id) => {
    expect(() => validateContainerId(id)).toThrow('invalid container ID format');
  });
});
