import { CgroupError, errnoOf } from './errors.js';
import { cgroupFileExists, formatInteger, type RootlessSkips, writeCgroupFile } from './fsutil.js';

/** One value for one cgroup file, with the config field it comes from (for messages). */
export interface FileWrite {
  file: string;
  value: string;
  field: string;
}

/**
 * Writes values whose files constrain each other (cfs period/quota/burst,
 * rt period/runtime, cpuset cpus/mems): a write the kernel refuses with
 * EINVAL in the current state is retried after the others, since the order
 * that works depends on the values already there.
 */
export function writeInAnyWorkingOrder(
  dir: string,
  writes: FileWrite[],
  skips: RootlessSkips,
): void {
  let pending = writes;
  while (pending.length > 0) {
    const refused: { write: FileWrite; error: CgroupError }[] = [];
    for (const write of pending) {
      try {
        skips.attempt(`${dir}/${write.file}`, () => writeCgroupFile(dir, write.file, write.value));
      } catch (error) {
        if (error instanceof CgroupError && errnoOf(error.cause) === 'EINVAL')
          refused.push({ write, error });
        else throw error;
      }
    }
    if (refused.length === pending.length)
      throw withField(refused[0]!.error, refused[0]!.write.field);
    pending = refused.map((entry) => entry.write);
  }
}

/** Writes each value in order, failing on the first refusal. */
export function writeAll(dir: string, writes: FileWrite[], skips: RootlessSkips): void {
  for (const write of writes) {
    try {
      skips.attempt(`${dir}/${write.file}`, () => writeCgroupFile(dir, write.file, write.value));
    } catch (error) {
      throw error instanceof CgroupError ? withField(error, write.field) : error;
    }
  }
}

/** The same error with the config field it came from in front of the message. */
export function withField(error: CgroupError, field: string): CgroupError {
  return new CgroupError(error.code, `${field}: ${error.message}`, {
    cause: error.cause,
    path: error.path,
    errno: error.errno,
  });
}

export function invalid(field: string, message: string): CgroupError {
  return new CgroupError('INVALID', `${field}: ${message}`);
}

/** A spec integer that Go's zero value would mean "unset" for: undefined or 0. */
export function isSet(value: number | undefined): value is number {
  return value !== undefined && value !== 0;
}

export function integerText(value: number, field: string): string {
  try {
    return formatInteger(value);
  } catch {
    throw invalid(field, `${value} is not an integer`);
  }
}

/** Fails with a message naming the file when a value is set but the kernel does not have its file. */
export function requireFile(dir: string, file: string, field: string, why = ''): void {
  if (!cgroupFileExists(dir, file)) {
    throw new CgroupError(
      'UNSUPPORTED',
      `${field}: ${dir}/${file} does not exist${why ? ` (${why})` : ''}, so the value cannot be set`,
      { path: `${dir}/${file}`, errno: 'ENOENT' },
    );
  }
}
