import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { SystemdError } from './errors.js';
import type { DbusValue } from './properties.js';

export const SYSTEMD_SERVICE = 'org.freedesktop.systemd1';
export const SYSTEMD_PATH = '/org/freedesktop/systemd1';
export const MANAGER_INTERFACE = 'org.freedesktop.systemd1.Manager';

export interface DbusMethodCall {
  /** The service called: systemd unless said otherwise (the bus daemon for AddMatch). */
  destination?: string;
  path: string;
  interface: string;
  member: string;
  /** Signature of `body`; absent for a call without arguments. */
  signature?: string;
  /** Arguments in the driver's form (see DbusValue); bigint for 64-bit integers. */
  body?: DbusValue[];
}

export interface DbusSignal {
  path: string;
  interface: string;
  member: string;
  body: unknown[];
}

/**
 * A connection to systemd's D-Bus API, as small as the driver needs: method
 * calls to systemd and the signals it sends. The real one is made by
 * connectSystemdBus; tests put a fake service behind the same interface.
 */
export interface SystemdBus {
  /** Calls a method of systemd and resolves with the reply's arguments; an error reply rejects with SystemdError. */
  call(call: DbusMethodCall): Promise<unknown[]>;
  /** Calls `listener` for every signal that arrives; returns a function that stops it. */
  onSignal(listener: (signal: DbusSignal) => void): () => void;
  /** Whether a bus daemon sits between us and systemd (signals then need a match rule). */
  readonly viaBusDaemon: boolean;
  /** Where the connection goes, for messages. */
  readonly address: string;
  close(): void;
}

/** Makes the connection a SystemdManager uses; the default is connectSystemdBus. */
export type SystemdBusConnector = (options: { rootless: boolean }) => Promise<SystemdBus>;

/** A socket systemd can be reached on: its private socket (direct) or a bus daemon's. */
export interface BusEndpoint {
  /** A socket path; one starting with "\0" is in the abstract namespace. */
  socket: string;
  /** systemd's own socket: no bus daemon, no Hello, no match rules. */
  direct: boolean;
}

/** How long a method call may take before the connection is given up. */
const CALL_TIMEOUT_MS = 30_000;
/** How long connecting and authenticating may take. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Where systemd may be reached, in the order tried. As root: systemd's
 * private socket, which needs no D-Bus daemon and is what systemctl uses,
 * then the system bus. Rootless: the user manager's private socket, then
 * the session bus (systemd --user is reached there, as runc does).
 */
export function systemdEndpoints(
  rootless: boolean,
  env: NodeJS.ProcessEnv = process.env,
): BusEndpoint[] {
  if (!rootless) {
    return [
      { socket: '/run/systemd/private', direct: true },
      ...busAddressEndpoints(
        env.DBUS_SYSTEM_BUS_ADDRESS ?? 'unix:path=/run/dbus/system_bus_socket',
      ),
    ];
  }
  const runtimeDir = env.XDG_RUNTIME_DIR;
  const endpoints: BusEndpoint[] = [];
  if (runtimeDir) endpoints.push({ socket: `${runtimeDir}/systemd/private`, direct: true });
  const session =
    env.DBUS_SESSION_BUS_ADDRESS ?? (runtimeDir ? `unix:path=${runtimeDir}/bus` : undefined);
  if (session) endpoints.push(...busAddressEndpoints(session));
  return endpoints;
}

/** The unix sockets of a D-Bus address list ("unix:path=/x;unix:abstract=y"); other transports are skipped. */
export function busAddressEndpoints(address: string): BusEndpoint[] {
  const endpoints: BusEndpoint[] = [];
  for (const entry of address.split(';')) {
    const colon = entry.indexOf(':');
    if (colon < 0 || entry.slice(0, colon) !== 'unix') continue;
    const params = new Map<string, string>();
    for (const pair of entry.slice(colon + 1).split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) params.set(pair.slice(0, eq), unescapeAddressValue(pair.slice(eq + 1)));
    }
    const path = params.get('path');
    const abstract = params.get('abstract');
    if (path) endpoints.push({ socket: path, direct: false });
    else if (abstract) endpoints.push({ socket: `\0${abstract}`, direct: false });
  }
  return endpoints;
}

/** D-Bus addresses escape bytes as %XX. */
function unescapeAddressValue(value: string): string {
  return value.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/**
 * Connects to systemd at the first endpoint that accepts us. Fails with
 * SYSTEMD_UNAVAILABLE, saying what each endpoint answered, when none does.
 */
export async function connectSystemdBus(
  options: { rootless: boolean },
  endpoints: BusEndpoint[] = systemdEndpoints(options.rootless),
): Promise<SystemdBus> {
  const failures: string[] = [];
  for (const endpoint of endpoints) {
    try {
      return await connectEndpoint(endpoint);
    } catch (error) {
      failures.push(`${printable(endpoint.socket)}: ${(error as Error).message}`);
    }
  }
  const manager = options.rootless ? "the user's systemd (systemd --user)" : 'systemd';
  const tried =
    failures.length > 0
      ? failures.join('; ')
      : 'no socket to try (XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS are unset)';
  throw new SystemdError(
    'SYSTEMD_UNAVAILABLE',
    `cannot reach ${manager} over D-Bus (${tried}). The systemd cgroup driver (--systemd-cgroup) needs systemd running as the init system${options.rootless ? ' and a user session' : ''}; ${describePid1()}. Without systemd, leave out --systemd-cgroup.`,
  );
}

function printable(socket: string): string {
  return socket.startsWith('\0') ? `@${socket.slice(1)}` : socket;
}

function describePid1(): string {
  try {
    const comm = readFileSync('/proc/1/comm', 'utf8').trim();
    return comm === 'systemd'
      ? 'PID 1 is systemd'
      : `PID 1 here is ${JSON.stringify(comm)}, not systemd`;
  } catch {
    return 'PID 1 could not be identified';
  }
}

/** The subset of @homebridge/dbus-native this module uses. */
interface NativeMessage {
  type: number;
  path?: string;
  interface?: string;
  member?: string;
  body?: unknown[];
}
interface NativeConnection {
  on(event: 'connect' | 'end', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'message', listener: (message: NativeMessage) => void): void;
  once(event: 'connect', listener: () => void): void;
  once(event: 'error', listener: (error: Error) => void): void;
  removeListener(event: string, listener: (...args: never[]) => void): void;
  removeAllListeners(): void;
  end(): void;
  stream: { destroy(): void; on(event: 'close', listener: () => void): void };
}
interface NativeBus {
  connection: NativeConnection;
  invoke(
    message: Record<string, unknown>,
    callback: (error: { name?: string; message?: string } | null, ...values: unknown[]) => void,
  ): void;
}
interface DbusNative {
  createClient(options: { stream: Duplex; direct: boolean }): NativeBus;
}

const SIGNAL = 4;

/**
 * dbus-native, only when a systemd cgroup is used. The compiled `runc` has
 * no node_modules to resolve it from: there the bundler inlines it behind
 * this dynamic import, which initialises it only now.
 */
async function loadDbusNative(): Promise<DbusNative> {
  if (typeof process.versions.bun === 'string') {
    const module = (await import('@homebridge/dbus-native')) as unknown as DbusNative & {
      default?: DbusNative;
    };
    return module.default ?? module;
  }
  return requireDbusNative<DbusNative>();
}

let longChecked = false;

/**
 * Loads @homebridge/dbus-native, or one of its files (tests use its
 * marshalling), when first needed: never at import, so that only
 * --systemd-cgroup pays for it.
 */
export function requireDbusNative<T>(file?: string): T {
  const load = typeof require === 'function' ? require : createRequire(import.meta.url);
  const entry = load.resolve('@homebridge/dbus-native');
  if (!longChecked) {
    longChecked = true;
    useCommonJsLong(entry);
  }
  return load(file === undefined ? entry : join(dirname(entry), file)) as T;
}

/**
 * dbus-native requires "long" for 64-bit integers. Under Node run with
 * --conditions=import (vitest runs its workers so), that require resolves
 * to long's ES module and returns its namespace, whose Long is under
 * `default`, and every uint64 then fails to marshal. The class itself is
 * put in the require cache in the namespace's place.
 */
function useCommonJsLong(dbusNativeEntry: string): void {
  const fromDbusNative = createRequire(dbusNativeEntry);
  const path = fromDbusNative.resolve('long');
  const long = fromDbusNative('long') as { isLong?: unknown; default?: { isLong?: unknown } };
  if (typeof long.isLong === 'function' || typeof long.default?.isLong !== 'function') return;
  const cached = new Module(path);
  cached.filename = path;
  cached.exports = long.default;
  cached.loaded = true;
  (Module as unknown as { _cache: Record<string, Module> })._cache[path] = cached;
}

/** Turns the driver's values into what dbus-native marshals: 64-bit integers as decimal strings, variants as [signature, value]. */
export function toWire(value: DbusValue): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(toWire);
  return value;
}

/**
 * Connects and authenticates the way sd-bus does: "AUTH EXTERNAL" with
 * the identity left to the kernel's peer credentials (right inside a user
 * namespace too), and BEGIN sent in the same write. systemd's private
 * socket does not look at bytes that arrive together with BEGIN until more
 * arrive, so dbus-native's own handshake (BEGIN, then at once the first
 * call) leaves about one call in three unanswered; dbus-native is given the
 * authenticated socket behind a shim that completes its handshake locally.
 */
async function connectEndpoint(endpoint: BusEndpoint): Promise<SystemdBus> {
  const native = await loadDbusNative();
  // net and stream load only here: every other command starts faster.
  const builtins = createRequire(import.meta.url);
  const { createConnection } = builtins('node:net') as typeof import('node:net');
  const socket = createConnection(endpoint.socket);
  const deadline = setTimeout(
    () => socket.destroy(new Error(`no answer in ${CONNECT_TIMEOUT_MS} ms`)),
    CONNECT_TIMEOUT_MS,
  );
  try {
    const { guid, rest } = await authenticate(socket);
    const HandshakeShim = handshakeShimClass(
      (builtins('node:stream') as typeof import('node:stream')).Duplex,
    );
    const shim = new HandshakeShim(socket, guid, rest);
    const bus = native.createClient({ stream: shim, direct: endpoint.direct });
    await new Promise<void>((resolve, reject) => {
      bus.connection.once('connect', () => resolve());
      bus.connection.once('error', reject);
    });
    return new NativeSystemdBus(bus, endpoint);
  } catch (error) {
    socket.destroy();
    throw new Error(describeSocketError(error as Error));
  } finally {
    clearTimeout(deadline);
  }
}

/** Sends the whole authentication at once and reads the server's answer up to "OK <guid>". */
function authenticate(socket: Socket): Promise<{ guid: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const cleanup = () => {
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('closed during authentication'));
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      for (;;) {
        const end = received.indexOf('\r\n');
        if (end < 0) return;
        const line = received.subarray(0, end).toString('latin1');
        received = received.subarray(end + 2);
        if (line === 'DATA' || line.startsWith('DATA ')) continue;
        cleanup();
        if (line.startsWith('OK ')) {
          socket.pause();
          resolve({ guid: line.slice(3).trim(), rest: received });
        } else {
          reject(new Error(`authentication refused (${line})`));
        }
        return;
      }
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write('\0AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\n');
  });
}

/**
 * The authenticated socket as dbus-native sees it: its handshake is
 * answered with the OK the server already gave, its BEGIN is dropped, and
 * from then on bytes pass through both ways.
 */
function handshakeShimClass(DuplexBase: typeof Duplex) {
  return class HandshakeShim extends DuplexBase {
    private handshake = Buffer.alloc(0);
    private passing = false;

    constructor(
      private readonly socket: Socket,
      private readonly guid: string,
      /** What the server sent after its OK: the start of the message stream. */
      private readonly rest: Buffer,
    ) {
      super();
      socket.on('data', (chunk: Buffer) => {
        if (!this.push(chunk)) socket.pause();
      });
      socket.on('end', () => this.push(null));
      socket.on('error', (error) => this.destroy(error));
      socket.on('close', () => this.destroy());
    }

    /** dbus-native calls this on its stream. */
    setNoDelay(): this {
      return this;
    }

    override _read(): void {
      if (this.passing) this.socket.resume();
    }

    override _write(
      chunk: Buffer,
      _encoding: BufferEncoding,
      callback: (error?: Error | null) => void,
    ): void {
      if (this.passing) {
        this.socket.write(chunk, callback);
        return;
      }
      this.handshake = Buffer.concat([this.handshake, chunk]);
      for (;;) {
        const end = this.handshake.indexOf('\r\n');
        if (end < 0) break;
        const line = this.handshake.subarray(0, end).toString('latin1').replace(/^\0/, '');
        this.handshake = this.handshake.subarray(end + 2);
        if (line.startsWith('AUTH')) this.push(`OK ${this.guid}\r\n`);
        else if (line === 'BEGIN') {
          this.passing = true;
          if (this.rest.length > 0) this.push(this.rest);
          this.socket.resume();
          if (this.handshake.length > 0) {
            this.socket.write(this.handshake, callback);
            return;
          }
          break;
        }
      }
      callback();
    }

    override _final(callback: (error?: Error | null) => void): void {
      this.socket.end(callback);
    }

    override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
      this.socket.destroy();
      callback(error);
    }
  };
}

function describeSocketError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such socket';
    case 'ECONNREFUSED':
      return 'connection refused (nobody listens on it)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return error.message;
  }
}

class NativeSystemdBus implements SystemdBus {
  readonly viaBusDaemon: boolean;
  readonly address: string;
  private readonly listeners = new Set<(signal: DbusSignal) => void>();
  private readonly pending = new Set<(error: Error) => void>();
  private closedBecause: string | undefined;

  constructor(
    private readonly bus: NativeBus,
    endpoint: BusEndpoint,
  ) {
    this.viaBusDaemon = !endpoint.direct;
    this.address = printable(endpoint.socket);
    const connection = bus.connection;
    connection.on('message', (message) => {
      if (message.type !== SIGNAL) return;
      const signal: DbusSignal = {
        path: message.path ?? '',
        interface: message.interface ?? '',
        member: message.member ?? '',
        body: message.body ?? [],
      };
      for (const listener of this.listeners) listener(signal);
    });
    const lost = (why: string) => {
      this.closedBecause ??= why;
      for (const rejectCall of [...this.pending])
        rejectCall(new Error(`connection to ${this.address} lost: ${why}`));
    };
    connection.on('error', (error) => lost(describeSocketError(error)));
    connection.on('end', () => lost('closed by systemd'));
    connection.stream.on('close', () => lost('closed'));
  }

  call(call: DbusMethodCall): Promise<unknown[]> {
    const what = `${call.interface}.${call.member}`;
    if (this.closedBecause !== undefined) {
      return Promise.reject(
        new SystemdError(
          'SYSTEMD_UNAVAILABLE',
          `${what}: the connection to systemd at ${this.address} is gone (${this.closedBecause})`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        this.pending.delete(onLost);
      };
      const onLost = (error: Error) => {
        finish();
        reject(new SystemdError('SYSTEMD_UNAVAILABLE', `${what}: ${error.message}`));
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new SystemdError(
            'SYSTEMD_TIMEOUT',
            `${what}: systemd did not answer within ${CALL_TIMEOUT_MS / 1000} s`,
          ),
        );
      }, CALL_TIMEOUT_MS);
      this.pending.add(onLost);
      const message: Record<string, unknown> = {
        path: call.path,
        interface: call.interface,
        member: call.member,
        destination: call.destination ?? SYSTEMD_SERVICE,
      };
      if (call.signature) {
        message.signature = call.signature;
        message.body = (call.body ?? []).map(toWire);
      }
      try {
        this.bus.invoke(message, (error, ...values) => {
          finish();
          if (error) {
            reject(
              new SystemdError(
                'SYSTEMD_CALL_FAILED',
                `${what}: ${error.message || error.name || 'failed'}`,
                { dbusError: error.name },
              ),
            );
          } else {
            resolve(values);
          }
        });
      } catch (error) {
        // dbus-native checks values against the signature while marshalling.
        finish();
        reject(
          new SystemdError(
            'SYSTEMD_CALL_FAILED',
            `${what}: cannot encode the arguments: ${(error as Error).message}`,
            { cause: error },
          ),
        );
      }
    });
  }

  onSignal(listener: (signal: DbusSignal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closedBecause ??= 'closed by us';
    this.listeners.clear();
    this.bus.connection.removeAllListeners();
    this.bus.connection.on('error', () => {});
    this.bus.connection.end();
    this.bus.connection.stream.destroy();
  }
}
