// A fake systemd for unit tests: a D-Bus peer on a unix socket that speaks
// the wire protocol (through dbus-native's own marshalling) and implements
// the org.freedesktop.systemd1.Manager methods the driver calls. Tests reach
// it through the real client code (connectSystemdBus), so signatures and
// values are checked as systemd would receive them.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  connectSystemdBus,
  requireDbusNative,
  type SystemdBusConnector,
} from '../../src/systemd/bus.js';
import type { DbusValue } from '../../src/systemd/properties.js';

const MANAGER = 'org.freedesktop.systemd1.Manager';
const PROPERTIES = 'org.freedesktop.DBus.Properties';
const ROOT = '/org/freedesktop/systemd1';
const TYPE = { call: 1, reply: 2, error: 3, signal: 4 } as const;

/** A property as the fake received it: bigint for 64-bit integers, number[] for byte arrays. */
export interface ReceivedProperty {
  name: string;
  signature: string;
  value: DbusValue;
}

export interface ReceivedCall {
  interface: string;
  member: string;
  path: string;
  signature: string;
  /** Arguments decoded; a(sv) property lists as ReceivedProperty[]. */
  args: unknown[];
}

export interface FakeUnit {
  name: string;
  activeState: 'active' | 'failed';
  properties: ReceivedProperty[];
}

export interface FakeError {
  name: string;
  message: string;
}

interface WireMessage {
  type: number;
  serial: number;
  path?: string;
  interface?: string;
  member?: string;
  signature?: string;
  body?: unknown[];
}

interface DbusMessageModule {
  unmarshalMessages(
    stream: NodeJS.ReadableStream,
    onMessage: (message: WireMessage) => void,
    options: object,
  ): void;
  marshall(message: object): Buffer;
}

interface LongLike {
  toString(): string;
  unsigned: boolean;
}

/** Properties StartTransientUnit/SetUnitProperties accept for a scope (with their signatures), as systemd 252 does. */
const KNOWN_PROPERTIES: Record<string, string> = {
  Description: 's',
  Slice: 's',
  Wants: 'as',
  Delegate: 'b',
  PIDs: 'au',
  DefaultDependencies: 'b',
  MemoryAccounting: 'b',
  CPUAccounting: 'b',
  IOAccounting: 'b',
  BlockIOAccounting: 'b',
  TasksAccounting: 'b',
  MemoryLimit: 't',
  MemoryMax: 't',
  MemoryLow: 't',
  MemoryHigh: 't',
  MemoryMin: 't',
  MemorySwapMax: 't',
  CPUShares: 't',
  CPUWeight: 't',
  CPUQuotaPerSecUSec: 't',
  CPUQuotaPeriodUSec: 't',
  BlockIOWeight: 't',
  IOWeight: 't',
  TasksMax: 't',
  AllowedCPUs: 'ay',
  AllowedMemoryNodes: 'ay',
  DevicePolicy: 's',
  DeviceAllow: 'a(ss)',
  CollectMode: 's',
  TimeoutStopUSec: 't',
};

export class FakeSystemd {
  readonly calls: ReceivedCall[] = [];
  readonly units = new Map<string, FakeUnit>();
  version = '252.39-1~deb12u2';
  /** The manager's ControlGroup property (a user manager's cgroup for rootless). */
  controlGroup = '/';
  /** The result JobRemoved reports for a job (default "done"). */
  jobResult: (unit: string, member: string) => string = () => 'done';
  /** Whether JobRemoved is sent at all (false: jobs never finish). */
  sendJobSignals = true;
  /** An error to answer a call with instead of handling it. */
  failCall: (call: ReceivedCall) => FakeError | undefined = () => undefined;
  /** Called when a unit starts or stops, e.g. to make its fake cgroup. */
  onStart: (unit: FakeUnit) => void = () => {};
  onStop: (unit: FakeUnit) => void = () => {};

  private readonly sockets = new Set<Socket>();
  private readonly subscribers = new Set<Socket>();
  private jobId = 0;
  private serial = 1;
  private readonly wire: DbusMessageModule;

  private constructor(
    private readonly server: Server,
    readonly socketPath: string,
    private readonly dir: string,
  ) {
    this.wire = requireDbusNative<DbusMessageModule>('lib/message.js');
    server.on('connection', (socket) => this.accept(socket));
  }

  static async start(): Promise<FakeSystemd> {
    const dir = mkdtempSync(join(tmpdir(), 'fake-systemd-'));
    const socketPath = join(dir, 'private');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return new FakeSystemd(server, socketPath, dir);
  }

  /** Connects the driver's real client to this fake, as if it were systemd's private socket. */
  connector(): SystemdBusConnector {
    return (options) => connectSystemdBus(options, [{ socket: this.socketPath, direct: true }]);
  }

  /** The calls of one method, in order. */
  callsOf(member: string): ReceivedCall[] {
    return this.calls.filter((call) => call.member === member);
  }

  /** How many connections are open now (each driver operation closes its own). */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Closes every connection from the server side, as a systemd that goes away would. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.subscribers.delete(socket);
    });
    socket.on('error', () => {});
    let buffer = Buffer.alloc(0);
    let messages: PassThrough | undefined;
    socket.on('data', (chunk: Buffer) => {
      if (messages) {
        messages.write(chunk);
        return;
      }
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n');
        if (end < 0) return;
        const line = buffer.subarray(0, end).toString('latin1').replace(/^\0/, '');
        buffer = buffer.subarray(end + 2);
        if (line === 'AUTH EXTERNAL') socket.write('DATA\r\n');
        else if (line.startsWith('AUTH EXTERNAL ') || line === 'DATA' || line.startsWith('DATA ')) {
          socket.write('OK 0123456789abcdef0123456789abcdef\r\n');
        } else if (line === 'BEGIN') {
          messages = new PassThrough();
          this.wire.unmarshalMessages(messages, (message) => this.receive(socket, message), {
            ReturnLongjs: true,
          });
          if (buffer.length > 0) messages.write(buffer);
          return;
        } else {
          socket.write('ERROR "unexpected"\r\n');
        }
      }
    });
  }

  private send(socket: Socket, message: object): void {
    socket.write(this.wire.marshall({ serial: this.serial++, ...message }));
  }

  private receive(socket: Socket, message: WireMessage): void {
    if (message.type !== TYPE.call) return;
    const call: ReceivedCall = {
      interface: message.interface ?? '',
      member: message.member ?? '',
      path: message.path ?? '',
      signature: message.signature ?? '',
      args: decodeArgs(message.signature ?? '', message.body ?? []),
    };
    this.calls.push(call);
    const reply = (signature: string, body: unknown[]) =>
      this.send(socket, { type: TYPE.reply, replySerial: message.serial, signature, body });
    const fail = (error: FakeError) =>
      this.send(socket, {
        type: TYPE.error,
        replySerial: message.serial,
        errorName: error.name,
        signature: 's',
        body: [error.message],
      });
    const injected = this.failCall(call);
    if (injected) {
      fail(injected);
      return;
    }
    const result = this.handle(socket, call);
    if ('error' in result) {
      fail(result.error);
      return;
    }
    reply(result.signature, result.body);
    for (const [job, unit, jobResult] of result.signals ?? [])
      this.sendJobRemoved(job, unit, jobResult);
  }

  private handle(
    socket: Socket,
    call: ReceivedCall,
  ):
    | { error: FakeError }
    | { signature: string; body: unknown[]; signals?: [string, string, string][] } {
    const noSuchUnit = (name: string) => ({
      error: { name: 'org.freedesktop.systemd1.NoSuchUnit', message: `Unit ${name} not loaded.` },
    });
    if (call.interface === PROPERTIES && call.member === 'Get') {
      const [iface, name] = call.args as [string, string];
      if (call.path === ROOT && iface === MANAGER) {
        if (name === 'Version') return { signature: 'v', body: [['s', this.version]] };
        if (name === 'ControlGroup') return { signature: 'v', body: [['s', this.controlGroup]] };
      }
      const unit = [...this.units.values()].find((entry) => unitPath(entry.name) === call.path);
      const property = unit?.properties.findLast((entry) => entry.name === name);
      if (unit && property) {
        return { signature: 'v', body: [[property.signature, toWire(property.value)]] };
      }
      return {
        error: {
          name: 'org.freedesktop.DBus.Error.UnknownProperty',
          message: `Unknown property ${name}`,
        },
      };
    }
    if (call.interface !== MANAGER || call.path !== ROOT) {
      return {
        error: {
          name: 'org.freedesktop.DBus.Error.UnknownMethod',
          message: `Unknown method ${call.member} or interface ${call.interface}.`,
        },
      };
    }
    switch (call.member) {
      case 'Subscribe':
        this.subscribers.add(socket);
        return { signature: '', body: [] };
      case 'StartTransientUnit': {
        const [name, mode, properties, auxiliary] = call.args as [
          string,
          string,
          ReceivedProperty[],
          unknown[],
        ];
        if (mode !== 'replace' || auxiliary.length !== 0) {
          return { error: { name: 'org.freedesktop.DBus.Error.InvalidArgs', message: 'bad mode' } };
        }
        if (this.units.has(name)) {
          return {
            error: {
              name: 'org.freedesktop.systemd1.UnitExists',
              message: `Unit ${name} was already loaded or has a fragment file.`,
            },
          };
        }
        const refused = checkProperties(name, properties);
        if (refused) return { error: refused };
        const job = this.newJob();
        const result = this.jobResult(name, call.member);
        const unit: FakeUnit = {
          name,
          activeState: result === 'done' ? 'active' : 'failed',
          properties: [...properties],
        };
        this.units.set(name, unit);
        if (result === 'done') this.onStart(unit);
        return { signature: 'o', body: [job.path], signals: [[job.path, name, result]] };
      }
      case 'StopUnit': {
        const [name] = call.args as [string];
        const unit = this.units.get(name);
        if (!unit) return noSuchUnit(name);
        const job = this.newJob();
        const result = this.jobResult(name, call.member);
        if (result === 'done') {
          if (unit.activeState === 'active') this.onStop(unit);
          this.units.delete(name);
        }
        return { signature: 'o', body: [job.path], signals: [[job.path, name, result]] };
      }
      case 'SetUnitProperties': {
        const [name, runtime, properties] = call.args as [string, boolean, ReceivedProperty[]];
        const unit = this.units.get(name);
        if (!unit) return noSuchUnit(name);
        if (runtime !== true) {
          return {
            error: { name: 'org.freedesktop.DBus.Error.InvalidArgs', message: 'not runtime' },
          };
        }
        const refused = checkProperties(name, properties);
        if (refused) return { error: refused };
        unit.properties.push(...properties);
        return { signature: '', body: [] };
      }
      case 'ResetFailedUnit': {
        const [name] = call.args as [string];
        const unit = this.units.get(name);
        if (!unit) return noSuchUnit(name);
        if (unit.activeState === 'failed') this.units.delete(name);
        return { signature: '', body: [] };
      }
      case 'GetUnit': {
        const [name] = call.args as [string];
        if (!this.units.has(name)) return noSuchUnit(name);
        return { signature: 'o', body: [unitPath(name)] };
      }
      default:
        return {
          error: {
            name: 'org.freedesktop.DBus.Error.UnknownMethod',
            message: `Unknown method ${call.member}.`,
          },
        };
    }
  }

  private newJob(): { id: number; path: string } {
    this.jobId++;
    return { id: this.jobId, path: `${ROOT}/job/${this.jobId}` };
  }

  private sendJobRemoved(jobPath: string, unit: string, result: string): void {
    if (!this.sendJobSignals) return;
    const id = Number(jobPath.slice(jobPath.lastIndexOf('/') + 1));
    // After the reply, as systemd does: the job finishes in a later event loop turn.
    setImmediate(() => {
      for (const socket of this.subscribers) {
        this.send(socket, {
          type: TYPE.signal,
          path: ROOT,
          interface: MANAGER,
          member: 'JobRemoved',
          signature: 'uoss',
          body: [id, jobPath, unit, result],
        });
      }
    });
  }
}

/** What systemd refuses: unknown properties, wrong signatures, PIDs= on a slice. */
function checkProperties(unit: string, properties: ReceivedProperty[]): FakeError | undefined {
  for (const property of properties) {
    const expected = KNOWN_PROPERTIES[property.name];
    const slicePids = unit.endsWith('.slice') && property.name === 'PIDs';
    if (expected === undefined || slicePids) {
      return {
        name: 'org.freedesktop.DBus.Error.PropertyReadOnly',
        message: `Cannot set property ${property.name}, or unknown property.`,
      };
    }
    if (expected !== property.signature) {
      return {
        name: 'org.freedesktop.DBus.Error.InvalidArgs',
        message: `Bus message has type ${property.signature} for ${property.name}, expected ${expected}`,
      };
    }
  }
  return undefined;
}

/** systemd's object path of a unit: bytes other than [A-Za-z0-9] escaped as _xx. */
export function unitPath(name: string): string {
  const escaped = [...Buffer.from(name)]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9]/.test(char) ? char : `_${byte.toString(16).padStart(2, '0')}`;
    })
    .join('');
  return `${ROOT}/unit/${escaped}`;
}

function toWire(value: DbusValue): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(toWire);
  return value;
}

interface SignatureNode {
  type: string;
  child: SignatureNode[];
}

function signatureOf(node: SignatureNode): string {
  if (node.type === 'a') return `a${signatureOf(node.child[0] as SignatureNode)}`;
  if (node.type === '(') return `(${node.child.map(signatureOf).join('')})`;
  if (node.type === '{') return `{${node.child.map(signatureOf).join('')}}`;
  return node.type;
}

function isLong(value: unknown): value is LongLike {
  return typeof value === 'object' && value !== null && 'unsigned' in value && 'high' in value;
}

/** dbus-native's decoded values in the driver's form: Long -> bigint, Buffer -> number[], variants -> {signature, value}. */
function normalize(value: unknown): DbusValue {
  if (isLong(value)) return BigInt(value.toString());
  if (Buffer.isBuffer(value)) return [...value];
  if (Array.isArray(value)) return value.map(normalize);
  return value as DbusValue;
}

function decodeProperties(list: unknown[]): ReceivedProperty[] {
  return list.map((entry) => {
    const [name, variant] = entry as [string, [SignatureNode[], unknown[]]];
    const [tree, [value]] = variant;
    return { name, signature: signatureOf(tree[0] as SignatureNode), value: normalize(value) };
  });
}

function decodeArgs(signature: string, body: unknown[]): unknown[] {
  switch (signature) {
    case 'ssa(sv)a(sa(sv))':
      return [body[0], body[1], decodeProperties(body[2] as unknown[]), body[3]];
    case 'sba(sv)':
      return [body[0], body[1], decodeProperties(body[2] as unknown[])];
    default:
      return body.map(normalize);
  }
}
