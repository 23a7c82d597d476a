// A recording fake of the lifecycle's Host (src/lifecycle/host.ts): scripted
// processes, exec.fifo and cgroup; every side effect appended to `calls`, so
// a test states exactly what a verb did to the host, in order.

import type { CgroupManager, CgroupState, FreezerState } from '@runc-ts/cgroups';
import type { Host, OpenFifo } from '../src/lifecycle/host.js';
import type { ProcessStat } from '../src/proc.js';

export interface FakeProcess {
  /** /proc/<pid>/stat state letter: R, S, Z... */
  state: string;
  startTime: string;
  /** /proc/<pid>/exe */
  exe: string;
  /** /proc/<pid>/ns/pid */
  pidNamespace?: string;
}

/** The parts of a CgroupManager the lifecycle verbs use. */
export class FakeCgroup {
  frozen = false;
  present = true;
  members: number[] = [];
  /** Processes SIGKILLed while frozen: they die once thawed, as the kernel does it. */
  readonly killedWhileFrozen = new Set<number>();
  constructor(
    private readonly record: (call: string) => void,
    private readonly died: (pid: number) => void,
  ) {}
  exists = () => this.present;
  pids = () => [...this.members];
  freezerState = () => (this.frozen ? 'frozen' : 'thawed');
  freeze = async () => {
    this.record('cgroup freeze');
    this.frozen = true;
  };
  thaw = async () => {
    this.record('cgroup thaw');
    this.frozen = false;
    for (const pid of this.killedWhileFrozen) this.died(pid);
    this.killedWhileFrozen.clear();
  };
  destroy = async () => {
    this.record('cgroup destroy');
    this.present = false;
  };
}

export class FakeHost implements Host {
  readonly calls: string[] = [];
  readonly processes = new Map<number, FakeProcess>();
  readonly files = new Set<string>();
  readonly cgroupManager = new FakeCgroup(
    (call) => this.calls.push(call),
    (pid) => {
      const process = this.processes.get(pid);
      if (process) process.state = 'Z';
    },
  );
  clock = 1_000_000;
  /** Answers of exec.fifo reads, in turn (false: EAGAIN); after them, false. */
  fifoReads: boolean[] = [];
  /** Runs before the n-th (1-based) fifo read answers: to script a race. */
  beforeFifoRead: (n: number) => void = () => {};
  /** Runs on every sleep: to script what happens meanwhile. */
  onSleep: (n: number) => void = () => {};
  private reads = 0;
  private sleeps = 0;

  /** A live process: an init still in runc-ts-init unless `exe` says otherwise. */
  spawn(pid: number, process: Partial<FakeProcess> = {}): void {
    this.processes.set(pid, {
      state: 'S',
      startTime: '100',
      exe: '/usr/bin/runc-ts-init',
      ...process,
    });
  }

  processStat(pid: number): ProcessStat | undefined {
    const process = this.processes.get(pid);
    return process && { state: process.state, startTime: process.startTime };
  }

  executable(pid: number): string | undefined {
    return this.processes.get(pid)?.exe;
  }

  namespace(pid: number, type: 'pid' | 'mnt'): string {
    const process = this.processes.get(pid);
    if (!process || process.state === 'Z') {
      throw Object.assign(new Error(`readlink /proc/${pid}/ns/${type}: ENOENT`), {
        code: 'ENOENT',
      });
    }
    return type === 'pid' ? (process.pidNamespace ?? 'pid:[host]') : `mnt:[${pid}]`;
  }

  pids(): number[] {
    return [...this.processes.keys()];
  }

  kill(pid: number, signal: number | NodeJS.Signals): void {
    const process = this.processes.get(pid);
    if (!process || process.state === 'Z') {
      throw Object.assign(new Error(`kill ${pid}: ESRCH`), { code: 'ESRCH' });
    }
    this.calls.push(`kill ${pid} ${signal}`);
    // SIGKILL ends a process (a frozen one once thawed); a zombie until reaped.
    if (signal === 9 || signal === 'SIGKILL') {
      if (this.cgroupManager.frozen) this.cgroupManager.killedWhileFrozen.add(pid);
      else process.state = 'Z';
    }
  }

  freezerState(_state: CgroupState): FreezerState {
    return this.cgroupManager.frozen ? 'frozen' : 'thawed';
  }

  cgroup(state: CgroupState | undefined): CgroupManager | undefined {
    return state ? (this.cgroupManager as unknown as CgroupManager) : undefined;
  }

  exists(path: string): boolean {
    return this.files.has(path);
  }

  openFifo(path: string): OpenFifo {
    if (!this.files.has(path)) {
      throw Object.assign(new Error(`open ${path}: ENOENT`), { code: 'ENOENT' });
    }
    this.calls.push('fifo open');
    return {
      readByte: () => {
        this.reads++;
        this.beforeFifoRead(this.reads);
        const byte = this.fifoReads.shift() ?? false;
        this.calls.push(`fifo read ${byte ? 'byte' : 'EAGAIN'}`);
        return byte;
      },
      close: () => {
        this.calls.push('fifo close');
      },
    };
  }

  unlink(path: string): void {
    this.calls.push(`unlink ${path}`);
    this.files.delete(path);
  }

  now(): number {
    return this.clock;
  }

  async sleep(ms: number): Promise<void> {
    this.clock += ms;
    this.onSleep(++this.sleeps);
  }
}
