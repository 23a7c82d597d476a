// mounts[].options -> mount(2) flags, propagation changes, mount_setattr(2)
// attributes and filesystem data, with runc's option vocabulary.

// mount(2) flags (linux/mount.h).
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_SYNCHRONOUS = 16;
export const MS_REMOUNT = 32;
export const MS_MANDLOCK = 64;
export const MS_DIRSYNC = 128;
export const MS_NOSYMFOLLOW = 256;
export const MS_NOATIME = 1024;
export const MS_NODIRATIME = 2048;
export const MS_BIND = 4096;
export const MS_MOVE = 8192;
export const MS_REC = 16384;
export const MS_SILENT = 32768;
export const MS_POSIXACL = 1 << 16;
export const MS_UNBINDABLE = 1 << 17;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
export const MS_RELATIME = 1 << 21;
export const MS_I_VERSION = 1 << 23;
export const MS_STRICTATIME = 1 << 24;
export const MS_LAZYTIME = 1 << 25;

// mount_setattr(2) attributes (linux/mount.h).
export const MOUNT_ATTR_RDONLY = 0x1;
export const MOUNT_ATTR_NOSUID = 0x2;
export const MOUNT_ATTR_NODEV = 0x4;
export const MOUNT_ATTR_NOEXEC = 0x8;
/** The atime field: one of RELATIME, NOATIME, STRICTATIME, not a bit set. */
export const MOUNT_ATTR__ATIME = 0x70;
export const MOUNT_ATTR_RELATIME = 0x0;
export const MOUNT_ATTR_NOATIME = 0x10;
export const MOUNT_ATTR_STRICTATIME = 0x20;
export const MOUNT_ATTR_NODIRATIME = 0x80;
export const MOUNT_ATTR_IDMAP = 0x100000;
export const MOUNT_ATTR_NOSYMFOLLOW = 0x200000;

export interface MountOptions {
  /** MS_* flags to pass to mount(2) (no propagation flags). */
  flags: number;
  /** MS_* flags explicitly turned off (`rw`, `suid`, `dev`…), for remounts. */
  clearFlags: number;
  /** Propagation changes in option order: MS_SHARED/SLAVE/PRIVATE/UNBINDABLE, maybe |MS_REC. */
  propagation: number[];
  /** MOUNT_ATTR_* to set recursively with mount_setattr(2). */
  attrSet: number;
  /** MOUNT_ATTR_* to clear recursively (MOUNT_ATTR__ATIME whenever the atime mode changes). */
  attrClear: number;
  /** True when any `r*` attribute option was given (apply with AT_RECURSIVE). */
  recursiveAttr: boolean;
  /** Options mount(2) does not know as flags, in order; the caller joins them with ",". */
  data: string[];
  /** runc's extensions that are neither flags nor data. */
  extensions: { tmpcopyup?: boolean; idmap?: boolean; ridmap?: boolean };
}

// [clear?, flag]: `clear` options remove the flag (rw, suid, dev…).
const FLAG_OPTIONS = new Map<string, readonly [boolean, number]>([
  ['defaults', [false, 0]],
  ['ro', [false, MS_RDONLY]],
  ['rw', [true, MS_RDONLY]],
  ['nosuid', [false, MS_NOSUID]],
  ['suid', [true, MS_NOSUID]],
  ['nodev', [false, MS_NODEV]],
  ['dev', [true, MS_NODEV]],
  ['noexec', [false, MS_NOEXEC]],
  ['exec', [true, MS_NOEXEC]],
  ['sync', [false, MS_SYNCHRONOUS]],
  ['async', [true, MS_SYNCHRONOUS]],
  ['dirsync', [false, MS_DIRSYNC]],
  ['remount', [false, MS_REMOUNT]],
  ['mand', [false, MS_MANDLOCK]],
  ['nomand', [true, MS_MANDLOCK]],
  ['noatime', [false, MS_NOATIME]],
  ['atime', [true, MS_NOATIME]],
  ['nodiratime', [false, MS_NODIRATIME]],
  ['diratime', [true, MS_NODIRATIME]],
  ['relatime', [false, MS_RELATIME]],
  ['norelatime', [true, MS_RELATIME]],
  ['strictatime', [false, MS_STRICTATIME]],
  ['nostrictatime', [true, MS_STRICTATIME]],
  ['lazytime', [false, MS_LAZYTIME]],
  ['nolazytime', [true, MS_LAZYTIME]],
  ['iversion', [false, MS_I_VERSION]],
  ['noiversion', [true, MS_I_VERSION]],
  ['bind', [false, MS_BIND]],
  ['rbind', [false, MS_BIND | MS_REC]],
  ['nosymfollow', [false, MS_NOSYMFOLLOW]],
  ['symfollow', [true, MS_NOSYMFOLLOW]],
  ['silent', [false, MS_SILENT]],
  ['loud', [true, MS_SILENT]],
]);
// `acl`/`noacl` are not in the table: like runc we hand them to the
// filesystem as data (ext4, btrfs… parse them); MS_POSIXACL is set by
// filesystems themselves, not requested by callers.

const PROPAGATION_OPTIONS = new Map<string, number>([
  ['private', MS_PRIVATE],
  ['rprivate', MS_PRIVATE | MS_REC],
  ['shared', MS_SHARED],
  ['rshared', MS_SHARED | MS_REC],
  ['slave', MS_SLAVE],
  ['rslave', MS_SLAVE | MS_REC],
  ['unbindable', MS_UNBINDABLE],
  ['runbindable', MS_UNBINDABLE | MS_REC],
]);

// Recursive attributes: [clear?, attribute] for plain bits, 'atime' entries
// select the atime mode.
type AttrOption = { kind: 'bit'; clear: boolean; attr: number } | { kind: 'atime'; mode: number };
const bit = (clear: boolean, attr: number): AttrOption => ({ kind: 'bit', clear, attr });
const atime = (mode: number): AttrOption => ({ kind: 'atime', mode });

// The atime mode is a field, not a bit set: the kernel only accepts a change
// that clears the whole MOUNT_ATTR__ATIME field and sets one mode. So the
// "clear" spellings (ratime, rnorelatime, rnostrictatime) cannot clear one
// bit; they select the kernel's default mode, relatime, which is also what
// their non-recursive counterparts give on a fresh mount.
const ATTR_OPTIONS = new Map<string, AttrOption>([
  ['rro', bit(false, MOUNT_ATTR_RDONLY)],
  ['rrw', bit(true, MOUNT_ATTR_RDONLY)],
  ['rnosuid', bit(false, MOUNT_ATTR_NOSUID)],
  ['rsuid', bit(true, MOUNT_ATTR_NOSUID)],
  ['rnodev', bit(false, MOUNT_ATTR_NODEV)],
  ['rdev', bit(true, MOUNT_ATTR_NODEV)],
  ['rnoexec', bit(false, MOUNT_ATTR_NOEXEC)],
  ['rexec', bit(true, MOUNT_ATTR_NOEXEC)],
  ['rnodiratime', bit(false, MOUNT_ATTR_NODIRATIME)],
  ['rdiratime', bit(true, MOUNT_ATTR_NODIRATIME)],
  ['rnosymfollow', bit(false, MOUNT_ATTR_NOSYMFOLLOW)],
  ['rsymfollow', bit(true, MOUNT_ATTR_NOSYMFOLLOW)],
  ['rrelatime', atime(MOUNT_ATTR_RELATIME)],
  ['rnorelatime', atime(MOUNT_ATTR_RELATIME)],
  ['rnoatime', atime(MOUNT_ATTR_NOATIME)],
  ['ratime', atime(MOUNT_ATTR_RELATIME)],
  ['rstrictatime', atime(MOUNT_ATTR_STRICTATIME)],
  ['rnostrictatime', atime(MOUNT_ATTR_RELATIME)],
]);

const EXTENSION_OPTIONS = new Set(['tmpcopyup', 'idmap', 'ridmap'] as const);
type Extension = 'tmpcopyup' | 'idmap' | 'ridmap';

/**
 * Parses mounts[].options the way runc does. Later options win over earlier
 * ones (`ro,rw` is read-write); anything unknown is filesystem data, kept in
 * order.
 */
export function parseMountOptions(options: readonly string[]): MountOptions {
  const result: MountOptions = {
    flags: 0,
    clearFlags: 0,
    propagation: [],
    attrSet: 0,
    attrClear: 0,
    recursiveAttr: false,
    data: [],
    extensions: {},
  };
  for (const option of options) {
    const flag = FLAG_OPTIONS.get(option);
    if (flag) {
      const [clear, value] = flag;
      if (clear) {
        result.flags &= ~value;
        result.clearFlags |= value;
      } else {
        result.flags |= value;
        result.clearFlags &= ~value;
      }
      continue;
    }
    const propagation = PROPAGATION_OPTIONS.get(option);
    if (propagation !== undefined) {
      result.propagation.push(propagation);
      continue;
    }
    const attr = ATTR_OPTIONS.get(option);
    if (attr) {
      result.recursiveAttr = true;
      if (attr.kind === 'atime') {
        result.attrSet = (result.attrSet & ~MOUNT_ATTR__ATIME) | attr.mode;
        result.attrClear |= MOUNT_ATTR__ATIME;
      } else if (attr.clear) {
        result.attrSet &= ~attr.attr;
        result.attrClear |= attr.attr;
      } else {
        result.attrSet |= attr.attr;
        result.attrClear &= ~attr.attr;
      }
      continue;
    }
    if (EXTENSION_OPTIONS.has(option as Extension)) {
      result.extensions[option as Extension] = true;
      continue;
    }
    result.data.push(option);
  }
  return result;
}

/**
 * The options `runc features` advertises: those the planner turns into
 * flags, propagation or mount_setattr attributes. Not listed: tmpcopyup
 * (rejected as unsupported for now), filesystem data, and idmap/ridmap,
 * which runc reports as `linux.mountExtensions.idmap` instead.
 */
export const MOUNT_OPTIONS_SUPPORTED: string[] = [
  ...FLAG_OPTIONS.keys(),
  ...PROPAGATION_OPTIONS.keys(),
  ...ATTR_OPTIONS.keys(),
].sort();
