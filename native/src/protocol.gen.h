/* Generated from packages/namespaces/src/plan.ts by packages/namespaces/scripts/native-ops.ts
 * (`pnpm --filter @runc-ts/namespaces golden`): do not edit. */
#ifndef RTS_PROTOCOL_GEN_H
#define RTS_PROTOCOL_GEN_H

#define RTS_MAGIC 0x31535452u
#define RTS_MAX_VALUES 7u

enum rts_msg {
	RTS_MSG_PLAN = 1,
	RTS_MSG_CONTINUE = 2,
	RTS_MSG_ABORT = 3,
	RTS_MSG_SYNC = 16,
	RTS_MSG_PID = 17,
	RTS_MSG_READY = 18,
	RTS_MSG_ERROR = 19,
};

enum rts_kind {
	RTS_U64 = 1,
	RTS_STR = 2,
	RTS_STRLIST = 3,
	RTS_BYTES = 4,
	RTS_U64LIST = 5,
};

/* SYNC op values and SYNC message kinds */
enum rts_sync_kind {
	RTS_SYNC_USERNS = 1,
	RTS_SYNC_HOOKS = 2,
	RTS_SYNC_CGROUP = 3,
	RTS_SYNC_STATE = 4,
	RTS_SYNC_SECCOMP = 5,
};

enum rts_opcode {
	OP_UNSHARE = 1,
	OP_SETNS = 2,
	OP_SYNC = 3,
	OP_FORK = 4,
	OP_ROOTFS = 5,
	OP_MOUNT = 6,
	OP_REMOUNT = 7,
	OP_PROPAGATE = 8,
	OP_SETATTR = 9,
	OP_MKNOD = 10,
	OP_BIND_DEVICE = 11,
	OP_SYMLINK = 12,
	OP_PIVOT_ROOT = 13,
	OP_MOVE_ROOT = 14,
	OP_MASK = 15,
	OP_READONLY = 16,
	OP_SYSCTL = 17,
	OP_HOSTNAME = 18,
	OP_DOMAINNAME = 19,
	OP_RLIMIT = 20,
	OP_OOM_SCORE_ADJ = 21,
	OP_UMASK = 22,
	OP_SETSID = 23,
	OP_KEEPCAPS = 24,
	OP_SETGROUPS = 25,
	OP_SETGID = 26,
	OP_SETUID = 27,
	OP_CAPS = 28,
	OP_NO_NEW_PRIVS = 29,
	OP_SECCOMP = 30,
	OP_CHDIR = 31,
	OP_RESOLVE_EXEC = 32,
	OP_OPEN_FIFO = 33,
	OP_READY = 34,
	OP_WAIT_FIFO = 35,
	OP_CLOSE_FDS = 36,
	OP_EXEC = 37,
	OP_PERSONALITY = 38,
	OP_IOPRIO = 39,
	OP_SCHED = 40,
	OP_SETGROUPS_DENY = 41,
	OP_KEYRING = 42,
	OP_CONSOLE = 43,
	OP_APPARMOR = 44,
	OP_SELINUX_LABEL = 45,
	OP_WINSIZE = 46,
	OP_HOOK = 47,
	OP_SECCOMP_NOTIFY = 48,
	OP_TIMENS_OFFSETS = 49,
	OP_PIDFD_SOCKET = 50,
	OP_MOUNT_IDMAPPED = 51,
	OP_OPEN_MOUNT_SOURCE = 52,
	OP_SET_DUMPABLE = 53,
	OP_DEFAULT_HOME = 54,
	OP_TTY_OWNER = 55,
	OP_MOUNT_CONSOLE = 56,
	OP_SETNS_PID = 57,
	OP_SCHED_AFFINITY = 58,
	OP_MEMPOLICY = 59,
	OP_NETDEV_MOVE = 60,
	OP_MOUNT_TMPFS = 61,
	OP_BIND_REMOUNT = 62,
	OP_JOIN_NAMESPACES = 63,
	OP_CHROOT = 64,
	OP_MAX = 64,
};

/* X(NAME, name) for every op, in code order: the executor builds its
 * dispatch table from it (a missing handler is a link error). */
#define RTS_FOR_EACH_OP(X) \
	X(UNSHARE, unshare) \
	X(SETNS, setns) \
	X(SYNC, sync) \
	X(FORK, fork) \
	X(ROOTFS, rootfs) \
	X(MOUNT, mount) \
	X(REMOUNT, remount) \
	X(PROPAGATE, propagate) \
	X(SETATTR, setattr) \
	X(MKNOD, mknod) \
	X(BIND_DEVICE, bind_device) \
	X(SYMLINK, symlink) \
	X(PIVOT_ROOT, pivot_root) \
	X(MOVE_ROOT, move_root) \
	X(MASK, mask) \
	X(READONLY, readonly) \
	X(SYSCTL, sysctl) \
	X(HOSTNAME, hostname) \
	X(DOMAINNAME, domainname) \
	X(RLIMIT, rlimit) \
	X(OOM_SCORE_ADJ, oom_score_adj) \
	X(UMASK, umask) \
	X(SETSID, setsid) \
	X(KEEPCAPS, keepcaps) \
	X(SETGROUPS, setgroups) \
	X(SETGID, setgid) \
	X(SETUID, setuid) \
	X(CAPS, caps) \
	X(NO_NEW_PRIVS, no_new_privs) \
	X(SECCOMP, seccomp) \
	X(CHDIR, chdir) \
	X(RESOLVE_EXEC, resolve_exec) \
	X(OPEN_FIFO, open_fifo) \
	X(READY, ready) \
	X(WAIT_FIFO, wait_fifo) \
	X(CLOSE_FDS, close_fds) \
	X(EXEC, exec) \
	X(PERSONALITY, personality) \
	X(IOPRIO, ioprio) \
	X(SCHED, sched) \
	X(SETGROUPS_DENY, setgroups_deny) \
	X(KEYRING, keyring) \
	X(CONSOLE, console) \
	X(APPARMOR, apparmor) \
	X(SELINUX_LABEL, selinux_label) \
	X(WINSIZE, winsize) \
	X(HOOK, hook) \
	X(SECCOMP_NOTIFY, seccomp_notify) \
	X(TIMENS_OFFSETS, timens_offsets) \
	X(PIDFD_SOCKET, pidfd_socket) \
	X(MOUNT_IDMAPPED, mount_idmapped) \
	X(OPEN_MOUNT_SOURCE, open_mount_source) \
	X(SET_DUMPABLE, set_dumpable) \
	X(DEFAULT_HOME, default_home) \
	X(TTY_OWNER, tty_owner) \
	X(MOUNT_CONSOLE, mount_console) \
	X(SETNS_PID, setns_pid) \
	X(SCHED_AFFINITY, sched_affinity) \
	X(MEMPOLICY, mempolicy) \
	X(NETDEV_MOVE, netdev_move) \
	X(MOUNT_TMPFS, mount_tmpfs) \
	X(BIND_REMOUNT, bind_remount) \
	X(JOIN_NAMESPACES, join_namespaces) \
	X(CHROOT, chroot)

#endif
