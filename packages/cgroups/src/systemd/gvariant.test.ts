import { describe, expect, it } from 'vitest';
import { CgroupError } from '../errors.js';
import { parseGVariant, unitPropertiesFromAnnotations } from './gvariant.js';

describe('parseGVariant', () => {
  it('reads typed and untyped scalars as GLib does', () => {
    expect(parseGVariant('uint64 123456789')).toEqual({ signature: 't', value: 123456789n });
    expect(parseGVariant('uint64 18446744073709551615')).toEqual({
      signature: 't',
      value: 18446744073709551615n,
    });
    expect(parseGVariant('int64 -5')).toEqual({ signature: 'x', value: -5n });
    expect(parseGVariant('uint32 0x10')).toEqual({ signature: 'u', value: 16 });
    expect(parseGVariant('7')).toEqual({ signature: 'i', value: 7 });
    expect(parseGVariant('1.5')).toEqual({ signature: 'd', value: 1.5 });
    expect(parseGVariant('true')).toEqual({ signature: 'b', value: true });
    expect(parseGVariant('boolean false')).toEqual({ signature: 'b', value: false });
    expect(parseGVariant("'inactive-or-failed'")).toEqual({
      signature: 's',
      value: 'inactive-or-failed',
    });
    expect(parseGVariant('"it\'s \\"quoted\\"\\n"')).toEqual({
      signature: 's',
      value: 'it\'s "quoted"\n',
    });
    expect(parseGVariant("objectpath '/a/b'")).toEqual({ signature: 'o', value: '/a/b' });
  });

  it('reads arrays and tuples, typed by annotation when empty', () => {
    expect(parseGVariant("['a.service', 'b.service']")).toEqual({
      signature: 'as',
      value: ['a.service', 'b.service'],
    });
    expect(parseGVariant('@as []')).toEqual({ signature: 'as', value: [] });
    expect(parseGVariant('[uint64 1, 2]')).toEqual({ signature: 'at', value: [1n, 2n] });
    expect(parseGVariant("@a(ss) [('/dev/null', 'rw')]")).toEqual({
      signature: 'a(ss)',
      value: [['/dev/null', 'rw']],
    });
    expect(parseGVariant("('a', 1, true)")).toEqual({ signature: '(sib)', value: ['a', 1, true] });
  });

  it('refuses what it cannot read', () => {
    expect(() => parseGVariant('[]')).toThrow(/empty array needs a type/);
    expect(() => parseGVariant("['a', 1]")).toThrow(/int32|number where string/);
    expect(() => parseGVariant('uint64 -1')).toThrow(/out of range for uint64/);
    expect(() => parseGVariant('int32 5000000000')).toThrow(/out of range/);
    expect(() => parseGVariant("'open")).toThrow(/unterminated/);
    expect(() => parseGVariant('1 2')).toThrow(/unexpected "2"/);
    expect(() => parseGVariant("{'a': 1}")).toThrow(/cannot read a value/);
    expect(() => parseGVariant('@a{sv} []')).toThrow(/unsupported type/);
  });
});

describe('unitPropertiesFromAnnotations (runc docs/systemd.md; checked against runc 1.1.5)', () => {
  it('takes org.systemd.property.* annotations and leaves others', () => {
    expect(
      unitPropertiesFromAnnotations({
        'org.systemd.property.CollectMode': "'inactive-or-failed'",
        'org.systemd.property.CPUWeight': 'uint64 42',
        'org.opencontainers.image.title': 'x',
      }),
    ).toEqual([
      { name: 'CollectMode', signature: 's', value: 'inactive-or-failed' },
      { name: 'CPUWeight', signature: 't', value: 42n },
    ]);
    expect(unitPropertiesFromAnnotations(undefined)).toEqual([]);
  });

  it('turns <Name>Sec seconds into <Name>USec microseconds, as runc does', () => {
    expect(
      unitPropertiesFromAnnotations({
        'org.systemd.property.TimeoutStopSec': 'uint64 7',
        'org.systemd.property.RuntimeMaxSec': '7',
        'org.systemd.property.RuntimeRandomizedExtraSec': '0.25',
        'org.systemd.property.TimeoutStartUSec': 'uint64 123456789',
      }),
    ).toEqual([
      { name: 'TimeoutStopUSec', signature: 't', value: 7_000_000n },
      { name: 'RuntimeMaxUSec', signature: 't', value: 7_000_000n },
      { name: 'RuntimeRandomizedExtraUSec', signature: 't', value: 250_000n },
      { name: 'TimeoutStartUSec', signature: 't', value: 123456789n },
    ]);
  });

  it('names the annotation in errors', () => {
    const error = (annotations: Record<string, string>) => {
      try {
        unitPropertiesFromAnnotations(annotations);
      } catch (caught) {
        expect(caught).toBeInstanceOf(CgroupError);
        return (caught as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(error({ 'org.systemd.property.Bad-Name': 'true' })).toBe(
      'annotations["org.systemd.property.Bad-Name"]: "Bad-Name" is not a systemd property name (CamelCase letters and digits)',
    );
    expect(error({ 'org.systemd.property.CollectMode': 'inactive' })).toMatch(
      /^annotations\["org\.systemd\.property\.CollectMode"\]: "inactive" is not a GVariant text value: cannot read a value/,
    );
    expect(error({ 'org.systemd.property.TimeoutStopSec': "'forever'" })).toMatch(
      /takes a non-negative number of seconds, got "forever"/,
    );
    expect(error({ 'org.systemd.property.TimeoutStopSec': '-1' })).toMatch(/non-negative/);
  });
});
