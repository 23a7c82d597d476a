import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { busAddressEndpoints, systemdEndpoints, toWire } from './bus.js';

describe('systemdEndpoints', () => {
  it("tries systemd's private socket first as root, then the system bus", () => {
    expect(systemdEndpoints(false, {})).toEqual([
      { socket: '/run/systemd/private', direct: true },
      { socket: '/run/dbus/system_bus_socket', direct: false },
    ]);
    expect(systemdEndpoints(false, { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/x/bus' })[1]).toEqual({
      socket: '/x/bus',
      direct: false,
    });
  });

  it('uses the user manager and the session bus when rootless', () => {
    expect(systemdEndpoints(true, { XDG_RUNTIME_DIR: '/run/user/1000' })).toEqual([
      { socket: '/run/user/1000/systemd/private', direct: true },
      { socket: '/run/user/1000/bus', direct: false },
    ]);
    expect(
      systemdEndpoints(true, {
        XDG_RUNTIME_DIR: '/run/user/1000',
        DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/dbus-x,guid=1',
      })[1],
    ).toEqual({ socket: '\0/tmp/dbus-x', direct: false });
    expect(systemdEndpoints(true, {})).toEqual([]);
  });
});

describe('busAddressEndpoints', () => {
  it('keeps the unix sockets of an address list, unescaping %XX', () => {
    expect(
      busAddressEndpoints('tcp:host=localhost,port=1;unix:path=/run/a%20b,guid=9;unix:tmpdir=/tmp'),
    ).toEqual([{ socket: '/run/a b', direct: false }]);
  });
});

describe('toWire', () => {
  it('hands 64-bit integers to dbus-native as decimal strings, recursively', () => {
    expect(toWire([1n, ['x', 2n ** 64n - 1n], true])).toEqual([
      '1',
      ['x', '18446744073709551615'],
      true,
    ]);
  });
});

describe('loading', () => {
  it('does not load dbus-native when the driver is imported', async () => {
    await import('./index.js');
    const cache = createRequire(import.meta.url).cache;
    expect(Object.keys(cache).filter((path) => path.includes('dbus-native'))).toEqual([]);
  });
});
