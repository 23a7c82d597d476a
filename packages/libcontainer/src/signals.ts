import { constants } from 'node:os';
import { ContainerError } from './errors.js';

const SIGNALS = constants.signals as Record<string, number>;

/**
 * `kill` argument: a name with or without SIG (`KILL`, `SIGKILL`, `sigkill`)
 * or a number. Returns the signal number.
 */
export function parseSignal(value: string): number {
  if (/^\d+$/.test(value)) {
    // 0 is kill(2)'s "does it exist" probe, which runc passes through.
    const number = Number(value);
    if (number >= 0 && number <= 64) return number;
  } else {
    const upper = value.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    const rt = /^SIGRTMIN(?:\+(\d+))?$|^SIGRTMAX(?:-(\d+))?$/.exec(name);
    if (rt) {
      const number = name.startsWith('SIGRTMIN')
        ? 34 + Number(rt[1] ?? 0)
        : 64 - Number(rt[2] ?? 0);
      if (number >= 34 && number <= 64) return number;
    } else if (SIGNALS[name] !== undefined) {
      return SIGNALS[name];
    }
  }
  throw new ContainerError('SIGNAL_INVALID', `invalid signal: ${JSON.stringify(value)}`);
}

export function signalName(number: number): string {
  for (const [name, value] of Object.entries(SIGNALS)) if (value === number) return name;
  return String(number);
}
