export type SystemdErrorCode =
  /** No systemd to talk to: its socket is missing or refuses us (PID 1 is not systemd, no D-Bus). */
  | 'SYSTEMD_UNAVAILABLE'
  /** systemd answered a method call with an error (the D-Bus error name is in `dbusError`). */
  | 'SYSTEMD_CALL_FAILED'
  /** A unit's start or stop job ended with another result than "done". */
  | 'SYSTEMD_JOB_FAILED'
  /** systemd did not answer, or a job did not finish, in time. */
  | 'SYSTEMD_TIMEOUT'
  /** The unit name is taken by a unit that is not a leftover of ours. */
  | 'SYSTEMD_UNIT_EXISTS';

/** Errors of the systemd cgroup driver about systemd itself; `code` is stable. */
export class SystemdError extends Error {
  override readonly name = 'SystemdError';
  /** The D-Bus error name systemd replied with (org.freedesktop.systemd1.NoSuchUnit, ...). */
  readonly dbusError: string | undefined;
  /** The unit concerned, when there is one. */
  readonly unit: string | undefined;
  constructor(
    readonly code: SystemdErrorCode,
    message: string,
    options?: { cause?: unknown; dbusError?: string; unit?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.dbusError = options?.dbusError;
    this.unit = options?.unit;
  }
}
