/* Executor state shared by the operation implementations. */
#ifndef RTS_EXECUTOR_H
#define RTS_EXECUTOR_H

#include "protocol.h"

#include <stdint.h>
#include <sys/types.h>

/* A bind-mount source opened (O_PATH) before the user namespace: a MOUNT op
 * with the same source string mounts from the fd instead of the path. */
struct mount_source {
	char *path;
	int fd;
};

struct ex {
	int sock;          /* protocol socket, -1 after READY */
	int rootfd;        /* O_PATH fd of the rootfs after ROOTFS, -1 otherwise */
	int pivoted;       /* set by PIVOT_ROOT / MOVE_ROOT (rootfd is then closed) */
	int fifofd;        /* OPEN_FIFO: O_PATH fd of the fifo itself, -1 otherwise */
	int fifo_proc;     /* procfs (subset=pid) WAIT_FIFO reopens fifofd through, or -1 */
	char fifoname[256]; /* OPEN_FIFO: the fifo's name in that directory */
	int console_sock;  /* pre-connected console socket of the first CONSOLE op */
	uint32_t console_index;
	int console_chan;  /* FORK 2 child: socketpair end to the console proxy, -1 otherwise */
	uint8_t *state;    /* SYNC 4: the CONTINUE payload (state JSON for HOOK), NULL if empty */
	uint32_t state_len;
	int notify_sock;   /* pre-connected listenerPath socket of the first SECCOMP_NOTIFY op */
	uint32_t notify_index;
	uint8_t *notify_state; /* SYNC 5: the container process state SECCOMP_NOTIFY sends */
	uint32_t notify_state_len;
	int pidfd_sock;    /* pre-connected socket of the first PIDFD_SOCKET op */
	uint32_t pidfd_index;
	int idmap_sock;    /* channel to the id-mapping helper (ops_idmap.c), -1 if none */
	uint32_t idmap_last; /* index of the last MOUNT_IDMAPPED op: the channel closes after it */
	struct mount_source *sources; /* OPEN_MOUNT_SOURCE: bind sources opened early */
	size_t nsources;
	int cap_last;      /* /proc/sys/kernel/cap_last_cap, read at start; -1 if unknown */
	int netdev_sock;   /* channel to the network device helper (ops_net.c), -1 if none */
	uint32_t netdev_last; /* index of the last NETDEV_MOVE op, UINT32_MAX if none */
	uint32_t netdev_moved; /* 1 + index of the last NETDEV_MOVE done (0: none); until READY */
	char *resolved;    /* RESOLVE_EXEC's result */
	char *home;        /* DEFAULT_HOME's result: HOME for EXEC and later HOOKs without one */
	char **exec_env;   /* the env of the plan's EXEC op (HOOKs with that env get `home` too) */
	int err;           /* errno of the failing op */
	int exit_code;     /* exit status when the op fails (1, EXEC: 127) */
	int quiet;         /* fail without an ERROR message (ABORT / EOF in SYNC) */
	char detail[4096]; /* detail of the failing op */
};

/* Records a failure: errno e and a printf detail. Always returns -1. */
int ex_fail(struct ex *ex, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records a failure with errno 0: the detail is the whole message. */
int ex_fail_msg(struct ex *ex, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- op handlers ---- */
/* Every op has a handler run_<op> (the name of RTS_FOR_EACH_OP, lower case)
 * in the ops_*.c file of its kind; main.c dispatches through a table of
 * them. The op's values match its signature (the decoder checked them);
 * index is the op's position in the plan. Returns 0, or -1 after ex_fail. */
#define OP_RUN(name)                                                                          \
	int run_##name(struct ex *ex __attribute__((unused)),                                 \
		       const struct rts_op *op __attribute__((unused)),                        \
		       uint32_t index __attribute__((unused)))
#define OP_RUN_DECLARE(NAME, name) OP_RUN(name);
RTS_FOR_EACH_OP(OP_RUN_DECLARE)
#undef OP_RUN_DECLARE

/* ---- lifecycle (ops_lifecycle.c) ---- */
/* Closes *fd when open and sets it to -1. */
void close_fd(int *fd);
/* After PIVOT_ROOT / MOVE_ROOT: the procfs WAIT_FIFO reopens the fifo through. */
void keep_fifo_proc(struct ex *ex);

/* ---- container path resolution (paths.c) ---- */
/* Opens `path` under the current resolution root: the rootfs fd after
 * ROOTFS, "/" otherwise, with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS. */
int cpath_open(struct ex *ex, const char *path, int flags, mode_t mode);
/* cpath_open without following any symlink (ELOOP if the path has one) */
int cpath_open_nosymlinks(struct ex *ex, const char *path, int flags);
/* Like cpath_open(O_PATH|O_DIRECTORY) but creates missing directories
 * (mode 0755) component by component with mkdirat on the resolved parent. */
int cpath_mkdirs(struct ex *ex, const char *path);
/* Resolves (and with create, creates) the parent directory of `path`;
 * returns its O_PATH fd and points *base at the last component, copied
 * into basebuf. */
int cpath_parent(struct ex *ex, const char *path, int create, char *basebuf, size_t basesz);
/* Opens path (O_PATH), creating missing parents (0755) and an empty regular
 * file (mode) when it does not exist; dangling symlinks are followed in root. */
int cpath_create_file(struct ex *ex, const char *path, mode_t mode);
/* ---- private procfs (procfs.c) ---- */
/* A procfs root no one else can mount over (see procfs.c), O_CLOEXEC. */
int procfs_handle(void);
/* A fresh procfs with only the process directories (subset=pid), or -1. */
int procfs_pid_handle(void);
/* Opens <procfs>/rel beneath procfs_handle() without crossing a mount or
 * following a magic link; the file is checked to be on that procfs. */
int procfs_open(const char *rel, int flags);
/* procfs_open(rel, O_RDONLY) that may go through an overmount when no
 * private procfs can be had: only for host settings read at start. */
int procfs_read_config(const char *rel);

/* ---- operations: return 0, or -1 after ex_fail ---- */
int op_rootfs(struct ex *ex, const char *rootfs, uint64_t prop);
int op_open_mount_source(struct ex *ex, const char *path);
/* After PIVOT_ROOT / MOVE_ROOT: stdio on the host's /dev/null moves to the container's. */
int reopen_dev_null(struct ex *ex);
/* Closes what OPEN_MOUNT_SOURCE opened (before PIVOT_ROOT / MOVE_ROOT). */
void close_mount_sources(struct ex *ex);
int op_mount(struct ex *ex, const char *src, const char *dest, const char *fstype, uint64_t flags,
	     const char *data, uint64_t create);
int op_remount(struct ex *ex, const char *dest, uint64_t flags);
/* A mounts[] bind mount's flags: exactly `flags` (relatime when no access-time
 * option), or, where the source's flags are locked, those not in `cleared`. */
int op_bind_remount(struct ex *ex, const char *dest, uint64_t flags, uint64_t cleared);
int op_propagate(struct ex *ex, const char *dest, uint64_t flags);
int op_setattr(struct ex *ex, const char *dest, uint64_t set, uint64_t clr, uint64_t rec);
int op_mknod(struct ex *ex, const char *path, uint64_t mode, uint64_t major, uint64_t minor,
	     uint64_t uid, uint64_t gid);
int op_bind_device(struct ex *ex, const char *hostpath, const char *path);
int op_symlink(struct ex *ex, const char *target, const char *path);
int op_pivot_root(struct ex *ex);
int op_move_root(struct ex *ex);
int op_chroot(struct ex *ex);
int op_mask(struct ex *ex, const char *path);
int op_readonly(struct ex *ex, const char *path);
/* 0 when fd is a pty slave of a devpts instance; -1 with errno otherwise. */
int check_pty_slave(int fd);
/* Bind-mounts the pty on fd 0 (after CONSOLE) onto /dev/console. */
int op_mount_console(struct ex *ex);
/* Opens a mount target (O_PATH) as MOUNT does, creating it as `create` says
 * and refusing one that resolves into /proc; on failure records it (detail
 * "<dest> (<what>)") and returns -1. */
int mount_target_open(struct ex *ex, const char *dest, uint64_t create, const char *what);
/* What mount(src, <target>, fstype, flags, data) would mount, detached
 * (fsopen/fsconfig/fsmount); -1 with errno. */
int mount_new_detached(const char *src, const char *fstype, unsigned long flags, const char *data);
/* move_mount of the detached tree onto the target fd; closes the tree. */
int mount_attach(int tree, int target);
/* mount(NULL, <fd>, NULL, MS_REMOUNT | flags, NULL) with the fd-based API. */
int mount_reconfigure(int fd, unsigned long flags);
/* A tmpfs of mounts[] (ops_tmpfs.c): the covered directory's mode unless
 * data has mode=, its content copied in first with copyup. */
int op_mount_tmpfs(struct ex *ex, const char *src, const char *dest, uint64_t flags,
		   const char *data, uint64_t copyup);

/* ---- privileged helpers (helper.c) ---- */
/* A helper that keeps the runtime's namespaces and credentials for the ops
 * of one opcode (see helper.c). */
struct helper_kind {
	uint16_t opcode;  /* the ops it serves: started only when the plan has one */
	const char *what; /* named in errors: "start the <what>: fork" */
	const char *comm; /* its process name */
	/* serves requests on chan until end-of-file, then exits; never returns */
	void (*serve)(int chan, const struct rts_plan *plan);
};
/* Before any op runs: when the plan has ops of kind->opcode, forks the helper
 * (twice: the caller's subreaper reaps it) with nothing of the executor's but
 * its end of a SOCK_SEQPACKET channel; *sock is the executor's end, *last the
 * index of the last such op (-1 and UINT32_MAX when none). */
int helper_start(struct ex *ex, const struct rts_plan *plan, const struct helper_kind *kind,
		 int *sock, uint32_t *last);

/* ---- id-mapped mounts (ops_idmap.c) ---- */
/* Forks the privileged id-mapping helper when the plan has MOUNT_IDMAPPED ops
 * (before any op runs); sets ex->idmap_sock and ex->idmap_last. */
int idmap_helper_start(struct ex *ex, const struct rts_plan *plan);
int op_mount_idmapped(struct ex *ex, uint32_t index, const struct rts_value *v);

/* The kernel's highest capability number, or -1 (errno set). at_start: in
 * the runtime's own namespaces (see procfs_read_config). */
int read_cap_last_cap(int at_start);
int op_sysctl(struct ex *ex, const char *key, const char *value);
int op_setns_pid(struct ex *ex, uint64_t pid, uint64_t flags, const char *start_time);
int op_join_namespaces(struct ex *ex, const struct rts_value *types, const struct rts_value *paths);
int op_timens_offsets(struct ex *ex, const char *offsets);
int op_oom_score_adj(struct ex *ex, const char *value);
int op_setgroups_deny(struct ex *ex);
int op_apparmor(struct ex *ex, const char *profile);
int op_selinux_label(struct ex *ex, const char *label);
int op_caps(struct ex *ex, uint64_t bounding, uint64_t eff, uint64_t perm, uint64_t inh,
	    uint64_t amb);
int op_seccomp(struct ex *ex, const uint8_t *filter, uint32_t len, uint64_t flags);
/* Loads a filter with SECCOMP_FILTER_FLAG_NEW_LISTENER and sends the listener
 * with the SYNC 5 state to the agent on sock (closed here; -1: connect to
 * path now). */
int op_seccomp_notify(struct ex *ex, const uint8_t *filter, uint32_t len, uint64_t flags,
		      const char *path, int sock);
int op_resolve_exec(struct ex *ex, const char *file, const char *path_env);
int op_close_fds(struct ex *ex, uint64_t first);
int op_sched(struct ex *ex, const struct rts_value *v);
/* SCHED_AFFINITY: an empty mask means every CPU. `label` names the config field. */
int op_sched_affinity(struct ex *ex, const char *label, const uint8_t *mask, uint32_t len);
int op_mempolicy(struct ex *ex, const char *label, uint64_t mode, const uint8_t *mask, uint32_t len);

/* ---- network devices (ops_net.c) ---- */
int netdev_socket(void);
/* Forks the helper that moves devices with the runtime's credentials, from
 * the runtime's network namespace, when the plan has NETDEV_MOVE ops. */
int netdev_helper_start(struct ex *ex, const struct rts_plan *plan);
/* NETDEV_MOVE op `index` (named `name`), done by the helper; `undo` moves
 * it back the other way (names swapped). */
int op_netdev_move(struct ex *ex, uint32_t index, const char *name, int undo);
/* After a failed op before READY: move the devices moved in (direction 0)
 * back out, last first; the failed op's error stays. */
void netdev_undo(struct ex *ex, const struct rts_plan *plan);
/* Connects a SOCK_STREAM unix socket to path (a host path; long paths go
 * through an O_PATH fd). Returns 0 with *out set, or -1 with errno. */
int console_connect(const char *path, int *out);
/* Sends a new pty master over sock (closed here); with ack (the FORK 2
 * channel) waits for the proxy's one-byte acknowledgement first. */
int op_console(struct ex *ex, const char *path, int sock, int ack);
/* ---- fd passing (fdpass.c) ---- */
/* close(fd) when fd >= 0, errno unchanged */
void keep_errno_close(int fd);
/* sendmsg of data (may be empty) with fd attached (SCM_RIGHTS; -1: none) to
 * its first byte; the rest follows if the socket takes it in pieces. 0, or -1
 * with errno. */
int send_with_fd(int s, const void *data, size_t len, int fd);
/* Receives one message (a stream socket: what has arrived) into data, up to
 * cap bytes, and at most one fd (*fd, -1 if none; extra fds are closed). The
 * length, 0 at end-of-file, -1 with errno (EMSGSIZE when truncated). */
ssize_t recv_with_fd(int s, void *data, size_t cap, int *fd);
/* Sends a pidfd of this very process with `data` over sock (closed here;
 * -1: connect to path now). */
int op_pidfd_socket(struct ex *ex, const char *path, const char *data, int sock);

/* ---- hooks, window size, console proxy (ops_hook.c, proxy.c) ---- */
int op_hook(struct ex *ex, const struct rts_value *v);
int op_winsize(struct ex *ex, uint64_t rows, uint64_t cols);

/* ---- environment and terminal (ops_env.c) ---- */
int op_default_home(struct ex *ex, uint64_t uid);
int op_tty_owner(struct ex *ex, uint64_t uid);
/* `env` with HOME=<DEFAULT_HOME's result> in place of an empty HOME= (or
 * appended) unless it has a non-empty HOME or there was no DEFAULT_HOME;
 * *out is `env` itself when nothing changes. -1 (ENOMEM) on error. Free
 * with env_free(*out, env). EXEC applies it, and HOOK when its env is
 * EXEC's (a startContainer hook given the process' environment). */
int env_with_home(struct ex *ex, char **env, char ***out);
void env_free(char **env, char **orig);
/* EXEC's execve failed with `e`: "exec <path>: <reason>" on stderr, exit
 * status 127 (ENOENT) or 126. Returns -1. */
int exec_failed(struct ex *ex, const char *path, int e);
/* FORK 2 parent after PID: receives the pty master on chan, proxies stdio
 * until the child is done, never returns (exits with the child's status). */
__attribute__((noreturn)) void console_proxy(int chan, pid_t child);
/* `--console-relay PID`: proxies stdio to the pty master `master` (a
 * restored container's) like console_proxy until PID (not a child) has
 * exited and the master has no more output; exits 0 (1 when PID cannot be
 * watched, 128 + n when killed by signal n). */
__attribute__((noreturn)) void console_relay(int master, pid_t pid);

#endif
