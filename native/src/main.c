/* runc-ts-init: the C executor of runc-ts (see native/PROTOCOL.md).
 *
 *   runc-ts-init [SOCKFD]     run the plan received on SOCKFD (default 3)
 *   runc-ts-init --dump FILE  print the canonical dump of a PLAN frame file
 */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <grp.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

extern char **environ;

int ex_fail(struct ex *ex, int e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ex->detail, sizeof(ex->detail), fmt, ap);
	va_end(ap);
	ex->err = e ? e : EIO;
	return -1;
}

int ex_fail_msg(struct ex *ex, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ex->detail, sizeof(ex->detail), fmt, ap);
	va_end(ap);
	ex->err = 0;
	return -1;
}

/* ---- --dump ------------------------------------------------------------- */

static int dump_file(const char *path)
{
	const size_t max = RTS_HDR_LEN + RTS_MAX_PAYLOAD + 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "runc-ts-init: %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "runc-ts-init: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	size_t cap = (st.st_size > 0 && (size_t)st.st_size < max) ? (size_t)st.st_size + 1 : max;
	uint8_t *buf = malloc(cap);
	if (buf == NULL) {
		fprintf(stderr, "runc-ts-init: %s: out of memory\n", path);
		close(fd);
		return 1;
	}
	size_t n = 0;
	for (;;) {
		if (n == cap) {
			if (cap == max)
				break;
			size_t ncap = cap * 2 < max ? cap * 2 : max;
			uint8_t *nb = realloc(buf, ncap);
			if (nb == NULL) {
				fprintf(stderr, "runc-ts-init: %s: out of memory\n", path);
				free(buf);
				close(fd);
				return 1;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "runc-ts-init: %s: %s\n", path, strerror(errno));
			free(buf);
			close(fd);
			return 1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	struct rts_plan plan;
	char err[256];
	if (n >= max) {
		fprintf(stderr, "runc-ts-init: %s: file larger than a frame\n", path);
		free(buf);
		return 1;
	}
	int r = rts_decode_plan_frame(buf, n, &plan, err, sizeof(err));
	free(buf);
	if (r < 0) {
		fprintf(stderr, "runc-ts-init: %s: %s\n", path, err);
		return 1;
	}
	int bad = rts_dump_plan(stdout, &plan) < 0 || fflush(stdout) == EOF;
	rts_plan_free(&plan);
	if (bad) {
		fprintf(stderr, "runc-ts-init: write: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

/* ---- sealed memfd re-exec (CVE-2019-5736) ---------------------------------- */

#define WANT_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Returns only on failure (-1, errno set) or when already sealed (0). */
static int ensure_sealed(char **argv)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0 && (seals & WANT_SEALS) == WANT_SEALS) {
		close(fd);
		return 0;
	}
	int mfd = memfd_create("runc-ts-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL)
		mfd = memfd_create("runc-ts-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		goto fail;
	char buf[65536];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		for (ssize_t o = 0; o < r;) {
			ssize_t w = write(mfd, buf + o, (size_t)(r - o));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				goto fail;
			o += w;
		}
	}
	if (fcntl(mfd, F_ADD_SEALS, WANT_SEALS) < 0)
		goto fail;
	close(fd);
	fd = -1;
	execveat(mfd, "", argv, environ, AT_EMPTY_PATH);
fail: {
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (mfd >= 0)
		close(mfd);
	errno = e;
	return -1;
}
}

/* ---- running the plan -------------------------------------------------------- */

static void report(struct ex *ex, uint32_t index, uint16_t opcode)
{
	if (ex->sock >= 0) {
		rts_send_error(ex->sock, index, opcode, ex->err, ex->detail);
	} else {
		char name[32];
		snprintf(name, sizeof(name), "%s", rts_opname(opcode));
		for (char *p = name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (ex->err == 0) /* the detail is the whole message */
			fprintf(stderr, "runc-ts-init: %s\n", ex->detail);
		else
			fprintf(stderr, "runc-ts-init: %s %s: %s\n", name, ex->detail,
				strerror(ex->err));
	}
}

static int u32_arg(struct ex *ex, uint64_t v, const char *what)
{
	if (v > UINT32_MAX - 1)
		return ex_fail(ex, EINVAL, "%s %llu", what, (unsigned long long)v);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* FORK: mode 0 leaves the child (the container's init) to be reparented to
 * the caller's subreaper; mode 1 stays as its parent and exits with its
 * status (128 + signal when killed), so a foreground `runc run` learns it;
 * mode 2 is mode 1 plus the console proxy (PROTOCOL.md): a socketpair made
 * before the fork carries the pty master from the child's CONSOLE "" op. */
static int do_fork(struct ex *ex, uint64_t mode)
{
	if (mode > 2)
		return ex_fail(ex, EINVAL, "fork mode %llu", (unsigned long long)mode);
	if (mode == 2 && ex->console_chan >= 0)
		return ex_fail(ex, EINVAL, "fork mode 2: console proxy already set up");
	int p[2], cs[2] = {-1, -1};
	if (mode == 2 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) < 0)
		return ex_fail(ex, errno, "fork mode 2: socketpair");
	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = errno;
		close_fd(&cs[0]);
		close_fd(&cs[1]);
		return ex_fail(ex, e, "pipe");
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		close_fd(&cs[0]);
		close_fd(&cs[1]);
		return ex_fail(ex, e, "fork");
	}
	if (pid > 0) {
		/* PID goes out before the child may send anything; then leave at
		 * once so the child is reparented to the caller's subreaper */
		close(p[0]);
		close_fd(&cs[1]);
		/* the parent never uses the child's fds (a channel of an earlier
		 * FORK 2 would otherwise hide the child's exit from that proxy) */
		close_fd(&ex->console_chan);
		if (ex->sock >= 0 && rts_send_pid(ex->sock, (uint32_t)pid) < 0)
			_exit(1);
		if (write(p[1], "1", 1) != 1)
			_exit(1);
		if (mode == 0)
			_exit(0);
		close(p[1]);
		close_fd(&ex->sock);
		close_fd(&ex->rootfd);
		close_fd(&ex->fifofd);
		close_fd(&ex->fifo_proc);
		close_fd(&ex->console_sock);
		close_fd(&ex->notify_sock);
		close_fd(&ex->pidfd_sock); /* the receiver may wait for EOF */
		close_fd(&ex->idmap_sock); /* the id-mapping helper exits at EOF */
		close_fd(&ex->netdev_sock);
		if (mode == 2)
			console_proxy(cs[0], pid);
		int status;
		pid_t w;
		do
			w = waitpid(pid, &status, 0);
		while (w < 0 && errno == EINTR);
		if (w < 0)
			_exit(255);
		if (WIFSIGNALED(status))
			_exit(128 + WTERMSIG(status));
		_exit(WEXITSTATUS(status));
	}
	close(p[1]);
	if (mode == 2) {
		close(cs[0]);
		ex->console_chan = cs[1];
	}
	char c;
	ssize_t r;
	do
		r = read(p[0], &c, 1);
	while (r < 0 && errno == EINTR);
	close(p[0]);
	if (r != 1)
		_exit(1);
	return 0;
}

static int wait_continue(struct ex *ex, uint64_t kind);

/* SYNC 1 (USERNS): an unprivileged parent can write /proc/PID/{uid_map,
 * gid_map,setgroups} only while this process is dumpable (otherwise those
 * files belong to root). Nothing of the container runs yet, and the user
 * namespace is still empty: the window exposes only the runtime's own user. */
static int do_sync(struct ex *ex, uint64_t kind)
{
	if (ex->sock < 0)
		return ex_fail(ex, EBADF, "sync %llu: socket closed", (unsigned long long)kind);
	int userns = kind == 1;
	if (userns && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return ex_fail(ex, errno, "sync 1: prctl(PR_SET_DUMPABLE, 1)");
	int r = wait_continue(ex, kind);
	int e = errno;
	if (userns && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return ex_fail(ex, errno, "sync 1: prctl(PR_SET_DUMPABLE, 0)");
	errno = e;
	return r;
}

static int wait_continue(struct ex *ex, uint64_t kind)
{
	if (rts_send_sync(ex->sock, (uint32_t)kind, (uint32_t)getpid()) < 0)
		return ex_fail(ex, errno, "sync %llu", (unsigned long long)kind);
	uint16_t type;
	uint8_t *payload;
	uint32_t len;
	char err[256];
	int r = rts_read_frame(ex->sock, &type, &payload, &len, err, sizeof(err));
	if (r == 0) {
		ex->quiet = 1;
		return ex_fail(ex, EPIPE, "sync %llu: end of file", (unsigned long long)kind);
	}
	if (r < 0)
		return ex_fail(ex, errno ? errno : EPROTO, "sync %llu: %s", (unsigned long long)kind, err);
	if (type == RTS_MSG_ABORT) {
		free(payload);
		ex->quiet = 1;
		return ex_fail(ex, ECANCELED, "sync %llu: aborted", (unsigned long long)kind);
	}
	if (type != RTS_MSG_CONTINUE) {
		free(payload);
		return ex_fail(ex, EPROTO, "sync %llu: unexpected message type %u (%u bytes)",
			       (unsigned long long)kind, type, len);
	}
	if (kind != 4 && kind != 5) { /* only STATE's and SECCOMP's CONTINUE carry data */
		free(payload);
		return 0;
	}
	if (len > RTS_MAX_BYTES) {
		free(payload);
		return ex_fail(ex, EPROTO, "sync %llu: state of %u bytes exceeds %u",
			       (unsigned long long)kind, len, RTS_MAX_BYTES);
	}
	uint8_t **slot = kind == 4 ? &ex->state : &ex->notify_state;
	free(*slot);
	*slot = payload; /* NULL when empty */
	if (kind == 4)
		ex->state_len = len;
	else
		ex->notify_state_len = len;
	return 0;
}

/* The exec fifo, opened for writing through this process' O_PATH fd of the
 * fifo itself (a process may follow its own /proc/self/fd links whoever owns
 * them), and checked to be that very fifo: the /proc here is the container's. */
static int open_fifo(struct ex *ex)
{
	char p[64];
	int fd;
	if (ex->fifo_proc >= 0) {
		/* the container's root may have no /proc, or the image's */
		snprintf(p, sizeof(p), "self/fd/%d", ex->fifofd);
		fd = openat(ex->fifo_proc, p, O_WRONLY | O_CLOEXEC);
	} else {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", ex->fifofd);
		fd = open(p, O_WRONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return -1;
	struct stat want, got;
	if (fstat(ex->fifofd, &want) < 0 || fstat(fd, &got) < 0 || want.st_dev != got.st_dev ||
	    want.st_ino != got.st_ino) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	return fd;
}

/* After the pivot, while the init is still privileged and in the
 * container's pid namespace: the procfs WAIT_FIFO reopens the fifo through,
 * showing the container's processes only (as its /proc would), so that the
 * image's /proc or a missing one cannot route that open. Without the right
 * to make one, WAIT_FIFO uses the root's /proc and its same-file check. */
static void keep_fifo_proc(struct ex *ex)
{
	if (ex->fifofd >= 0 && ex->fifo_proc < 0)
		ex->fifo_proc = procfs_pid_handle();
}

/* SET_DUMPABLE (a rootless init): its own user may then open its
 * /proc/<pid>/ns files (runc exec into a created container). Before, every host
 * fd but the fifo's goes: a dumpable process' fds can be reached through /proc
 * (CVE-2016-9962). */
static int set_dumpable(struct ex *ex)
{
	close_mount_sources(ex);
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return ex_fail(ex, errno, "prctl(PR_SET_DUMPABLE, 1)");
	return 0;
}

static int simple_errno(struct ex *ex, int r, const char *fmt, const char *s)
{
	if (r < 0)
		return ex_fail(ex, errno, fmt, s);
	return 0;
}


/*
 * A created container's init waits on exec.fifo as pid 1 of its pid
 * namespace, where signals without a handler are dropped: `kill` with
 * SIGTERM (or HUP, INT, QUIT) would not stop it. runc's waiting init dies of
 * them; so does ours, through these handlers, until the wait is over.
 */
static void die_while_waiting(int sig)
{
	_exit(128 + sig);
}

static int set_waiting_signals(void (*handler)(int))
{
	static const int signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	if (sigemptyset(&sa.sa_mask) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (sigaction(signals[i], &sa, NULL) < 0)
			return -1;
	return 0;
}

static int run_op(struct ex *ex, const struct rts_op *op, uint32_t index)
{
	const struct rts_value *v = op->v;
	switch (op->code) {
	case OP_UNSHARE:
		if (unshare((int)v[0].u64) < 0)
			return ex_fail(ex, errno, "flags 0x%llx", (unsigned long long)v[0].u64);
		return 0;
	case OP_SETNS: {
		int fd = open(v[1].str, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return ex_fail(ex, errno, "%s", v[1].str);
		int r = setns(fd, (int)v[0].u64);
		int e = errno;
		close(fd);
		if (r < 0)
			return ex_fail(ex, e, "%s", v[1].str);
		return 0;
	}
	case OP_SETNS_PID:
		return op_setns_pid(ex, v[0].u64, v[1].u64, v[2].str);
	case OP_JOIN_NAMESPACES:
		return op_join_namespaces(ex, &v[0], &v[1]);
	case OP_SYNC:
		return do_sync(ex, v[0].u64);
	case OP_FORK:
		return do_fork(ex, v[0].u64);
	case OP_ROOTFS:
		return op_rootfs(ex, v[0].str, v[1].u64);
	case OP_OPEN_MOUNT_SOURCE:
		return op_open_mount_source(ex, v[0].str);
	case OP_MOUNT_IDMAPPED:
		return op_mount_idmapped(ex, index, v);
	case OP_MOUNT:
		return op_mount(ex, v[0].str, v[1].str, v[2].str, v[3].u64, v[4].str, v[5].u64);
	case OP_REMOUNT:
		return op_remount(ex, v[0].str, v[1].u64);
	case OP_PROPAGATE:
		return op_propagate(ex, v[0].str, v[1].u64);
	case OP_SETATTR:
		return op_setattr(ex, v[0].str, v[1].u64, v[2].u64, v[3].u64);
	case OP_MKNOD:
		return op_mknod(ex, v[0].str, v[1].u64, v[2].u64, v[3].u64, v[4].u64, v[5].u64);
	case OP_BIND_DEVICE:
		return op_bind_device(ex, v[0].str, v[1].str);
	case OP_SYMLINK:
		return op_symlink(ex, v[0].str, v[1].str);
	case OP_PIVOT_ROOT:
		close_mount_sources(ex); /* no host path is mounted after this */
		if (op_pivot_root(ex) < 0 || reopen_dev_null(ex) < 0)
			return -1;
		keep_fifo_proc(ex);
		return 0;
	case OP_MOVE_ROOT:
		close_mount_sources(ex);
		if (op_move_root(ex) < 0 || reopen_dev_null(ex) < 0)
			return -1;
		keep_fifo_proc(ex);
		return 0;
	case OP_CHROOT:
		close_mount_sources(ex);
		if (op_chroot(ex) < 0 || reopen_dev_null(ex) < 0)
			return -1;
		keep_fifo_proc(ex);
		return 0;
	case OP_MASK:
		return op_mask(ex, v[0].str);
	case OP_READONLY:
		return op_readonly(ex, v[0].str);
	case OP_SYSCTL:
		return op_sysctl(ex, v[0].str, v[1].str);
	case OP_TIMENS_OFFSETS:
		return op_timens_offsets(ex, v[0].str);
	case OP_HOSTNAME:
		return simple_errno(ex, sethostname(v[0].str, v[0].len), "%s", v[0].str);
	case OP_DOMAINNAME:
		return simple_errno(ex, setdomainname(v[0].str, v[0].len), "%s", v[0].str);
	case OP_RLIMIT: {
		if (v[0].u64 > INT_MAX)
			return ex_fail(ex, EINVAL, "resource %llu", (unsigned long long)v[0].u64);
		struct rlimit rl = {.rlim_cur = v[1].u64, .rlim_max = v[2].u64};
		if (prlimit(0, (int)v[0].u64, &rl, NULL) < 0)
			return ex_fail(ex, errno, "resource %llu soft %llu hard %llu",
				       (unsigned long long)v[0].u64, (unsigned long long)v[1].u64,
				       (unsigned long long)v[2].u64);
		return 0;
	}
	case OP_OOM_SCORE_ADJ:
		return op_oom_score_adj(ex, v[0].str);
	case OP_UMASK:
		umask((mode_t)(v[0].u64 & 0777));
		return 0;
	case OP_SETSID:
		return simple_errno(ex, setsid() < 0 ? -1 : 0, "%s", "setsid");
	case OP_KEEPCAPS:
		if (prctl(PR_SET_KEEPCAPS, (unsigned long)v[0].u64, 0, 0, 0) < 0)
			return ex_fail(ex, errno, "%llu", (unsigned long long)v[0].u64);
		return 0;
	case OP_SETGROUPS: {
		gid_t *g = NULL;
		if (v[0].len) {
			g = calloc(v[0].len, sizeof(gid_t));
			if (g == NULL)
				return ex_fail(ex, ENOMEM, "%u groups", v[0].len);
		}
		for (uint32_t i = 0; i < v[0].len; i++) {
			if (u32_arg(ex, v[0].u64s[i], "gid")) {
				free(g);
				return -1;
			}
			g[i] = (gid_t)v[0].u64s[i];
		}
		int r = setgroups(v[0].len, g);
		int e = errno;
		free(g);
		if (r < 0)
			return ex_fail(ex, e, "%u groups", v[0].len);
		return 0;
	}
	case OP_SETGID:
		if (u32_arg(ex, v[0].u64, "gid"))
			return -1;
		if (setresgid((gid_t)v[0].u64, (gid_t)v[0].u64, (gid_t)v[0].u64) < 0)
			return ex_fail(ex, errno, "gid %llu", (unsigned long long)v[0].u64);
		return 0;
	case OP_SETUID:
		if (u32_arg(ex, v[0].u64, "uid"))
			return -1;
		if (setresuid((uid_t)v[0].u64, (uid_t)v[0].u64, (uid_t)v[0].u64) < 0)
			return ex_fail(ex, errno, "uid %llu", (unsigned long long)v[0].u64);
		return 0;
	case OP_CAPS:
		return op_caps(ex, v[0].u64, v[1].u64, v[2].u64, v[3].u64, v[4].u64);
	case OP_NO_NEW_PRIVS:
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return ex_fail(ex, errno, "no_new_privs");
		return 0;
	case OP_SECCOMP:
		return op_seccomp(ex, v[0].bytes, v[0].len, v[1].u64);
	case OP_SECCOMP_NOTIFY: {
		int s = -1;
		if (index == ex->notify_index) {
			s = ex->notify_sock;
			ex->notify_sock = -1;
		}
		return op_seccomp_notify(ex, v[0].bytes, v[0].len, v[1].u64, v[2].str, s);
	}
	case OP_CHDIR: {
		int fd = cpath_open(ex, v[0].str, O_PATH | O_DIRECTORY, 0);
		if (fd < 0)
			return ex_fail(ex, errno, "%s", v[0].str);
		int r = fchdir(fd);
		int e = errno;
		close(fd);
		if (r < 0)
			return ex_fail(ex, e, "%s", v[0].str);
		return 0;
	}
	case OP_RESOLVE_EXEC:
		return op_resolve_exec(ex, v[0].str, v[1].str);
	case OP_OPEN_FIFO: {
		/* The fifo's existence marks the container "created" until start.
		 * Keep an O_PATH fd of the fifo alone: a directory fd of the host
		 * (the container's state directory) would stay reachable from the
		 * container until start (the CVE-2024-21626 class). */
		const char *slash = strrchr(v[0].str, '/');
		if (slash == NULL || slash[1] == '\0' || strlen(slash + 1) >= sizeof(ex->fifoname))
			return ex_fail(ex, EINVAL, "%s: not an absolute file path", v[0].str);
		if (mkfifo(v[0].str, 0622) < 0 && errno != EEXIST)
			return ex_fail(ex, errno, "%s", v[0].str);
		if (chmod(v[0].str, 0622) < 0) /* the umask applied to mkfifo */
			return ex_fail(ex, errno, "%s", v[0].str);
		char dir[PATH_MAX];
		size_t dirlen = slash == v[0].str ? 1 : (size_t)(slash - v[0].str);
		if (dirlen >= sizeof(dir))
			return ex_fail(ex, ENAMETOOLONG, "%s", v[0].str);
		memcpy(dir, v[0].str, dirlen);
		dir[dirlen] = '\0';
		int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			return ex_fail(ex, errno, "%s", dir);
		int fd = openat(dirfd, slash + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(dirfd);
		if (fd < 0)
			return ex_fail(ex, e, "%s", v[0].str);
		struct stat st;
		if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
			close(fd);
			return ex_fail(ex, EINVAL, "%s: not a fifo", v[0].str);
		}
		if (ex->fifofd >= 0)
			close(ex->fifofd);
		ex->fifofd = fd;
		snprintf(ex->fifoname, sizeof(ex->fifoname), "%s", slash + 1);
		return 0;
	}
	case OP_SET_DUMPABLE:
		return set_dumpable(ex);
	case OP_MOUNT_CONSOLE:
		return op_mount_console(ex);
	case OP_MOUNT_TMPFS:
		return op_mount_tmpfs(ex, v[0].str, v[1].str, v[2].u64, v[3].str, v[4].u64);
	case OP_BIND_REMOUNT:
		return op_bind_remount(ex, v[0].str, v[1].u64, v[2].u64);
	case OP_READY:
		close_fd(&ex->netdev_sock); /* the network device helper exits at EOF */
		if (ex->sock < 0)
			return ex_fail(ex, EBADF, "socket already closed");
		if (rts_write_frame(ex->sock, RTS_MSG_READY, NULL, 0) < 0)
			return ex_fail(ex, errno, "send READY");
		close(ex->sock);
		ex->sock = -1;
		return 0;
	case OP_WAIT_FIFO: {
		if (ex->fifofd < 0)
			return ex_fail(ex, EBADF, "exec fifo: no OPEN_FIFO before");
		if (set_waiting_signals(die_while_waiting) < 0)
			return ex_fail(ex, errno, "sigaction");
		int fd;
		do
			fd = open_fifo(ex);
		while (fd < 0 && errno == EINTR);
		if (fd < 0 || set_waiting_signals(SIG_DFL) < 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			return ex_fail(ex, e, fd < 0 ? "exec fifo %s" : "sigaction (exec fifo %s)", ex->fifoname);
		}
		struct stat st;
		if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
			close(fd);
			return ex_fail(ex, EINVAL, "exec fifo %s: not a fifo", ex->fifoname);
		}
		ssize_t w;
		do
			w = write(fd, "0", 1);
		while (w < 0 && errno == EINTR);
		int e = errno;
		close(fd);
		close(ex->fifofd);
		ex->fifofd = -1;
		close_fd(&ex->fifo_proc);
		if (w != 1)
			return ex_fail(ex, w < 0 ? e : EIO, "exec fifo");
		return 0;
	}
	case OP_CLOSE_FDS:
		return op_close_fds(ex, v[0].u64);
	case OP_EXEC: {
		const char *path = ex->resolved;
		if (path == NULL) {
			ex->exit_code = 127;
			return ex_fail(ex, ENOENT, "no RESOLVE_EXEC before EXEC");
		}
		char **env;
		if (env_with_home(ex, v[1].strs, &env) < 0)
			return ex_fail(ex, ENOMEM, "environment");
		execve(path, v[0].strs, env);
		int e = errno;
		env_free(env, v[1].strs);
		return exec_failed(ex, path, e);
	}
	case OP_DEFAULT_HOME:
		return op_default_home(ex, v[0].u64);
	case OP_TTY_OWNER:
		return op_tty_owner(ex, v[0].u64);
	case OP_PERSONALITY:
		if (personality((unsigned long)v[0].u64) == -1)
			return ex_fail(ex, errno, "0x%llx", (unsigned long long)v[0].u64);
		return 0;
	case OP_IOPRIO:
		if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (int)v[0].u64) < 0)
			return ex_fail(ex, errno, "%llu", (unsigned long long)v[0].u64);
		return 0;
	case OP_SCHED:
		return op_sched(ex, v);
	case OP_SCHED_AFFINITY:
		return op_sched_affinity(ex, v[0].str, v[1].bytes, v[1].len);
	case OP_NETDEV_MOVE: {
		int rc = op_netdev_move(ex, index, v[0].str, 0);
		if (rc == 0)
			ex->netdev_moved = index + 1;
		return rc;
	}
	case OP_MEMPOLICY:
		return op_mempolicy(ex, v[0].str, v[1].u64, v[2].bytes, v[2].len);
	case OP_SETGROUPS_DENY:
		return op_setgroups_deny(ex);
	case OP_KEYRING:
		if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, v[0].str) < 0 && errno != ENOSYS &&
		    errno != EACCES)
			return ex_fail(ex, errno, "%s", v[0].str);
		return 0;
	case OP_CONSOLE: {
		if (v[0].len == 0) { /* FORK 2: hand the master to the console proxy */
			if (ex->console_chan < 0)
				return ex_fail(ex, EINVAL, "console: no console proxy (FORK 2)");
			int chan = ex->console_chan;
			ex->console_chan = -1;
			return op_console(ex, v[0].str, chan, 1);
		}
		int s = -1;
		if (index == ex->console_index) {
			s = ex->console_sock;
			ex->console_sock = -1;
		}
		if (s < 0 && console_connect(v[0].str, &s) < 0)
			return ex_fail(ex, errno, "%s", v[0].str);
		return op_console(ex, v[0].str, s, 0);
	}
	case OP_PIDFD_SOCKET: {
		int s = -1;
		if (index == ex->pidfd_index) {
			s = ex->pidfd_sock;
			ex->pidfd_sock = -1;
		}
		return op_pidfd_socket(ex, v[0].str, v[1].str, s);
	}
	case OP_WINSIZE:
		return op_winsize(ex, v[0].u64, v[1].u64);
	case OP_HOOK:
		return op_hook(ex, v);
	case OP_APPARMOR:
		return op_apparmor(ex, v[0].str);
	case OP_SELINUX_LABEL:
		return op_selinux_label(ex, v[0].str);
	}
	return ex_fail(ex, EINVAL, "unknown opcode %u", op->code);
}

/* Connects the socket (a host path, value `vi`) of the first `code` op with
 * a non-empty path while the host is still reachable: later ops may leave
 * its filesystem. A failure is reported for that op before any op runs. */
static int preconnect(struct ex *ex, const struct rts_plan *plan, uint16_t code, unsigned vi,
		      int *sock, uint32_t *index, const char *prefix)
{
	for (uint32_t i = 0; i < plan->nops; i++) {
		if (plan->ops[i].code != code || plan->ops[i].v[vi].len == 0)
			continue; /* CONSOLE "" uses the FORK 2 channel */
		const char *path = plan->ops[i].v[vi].str;
		*index = i;
		if (console_connect(path, sock) < 0) {
			ex_fail(ex, errno, "%s%s", prefix, path);
			report(ex, i, code);
			return -1;
		}
		break;
	}
	return 0;
}

static int run_plan(struct ex *ex, const struct rts_plan *plan)
{
	if (preconnect(ex, plan, OP_CONSOLE, 0, &ex->console_sock, &ex->console_index, "") < 0 ||
	    preconnect(ex, plan, OP_SECCOMP_NOTIFY, 2, &ex->notify_sock, &ex->notify_index,
		       "failed to connect with seccomp agent at ") < 0 ||
	    preconnect(ex, plan, OP_PIDFD_SOCKET, 0, &ex->pidfd_sock, &ex->pidfd_index, "") < 0)
		return 1;
	/* NETDEV_MOVE: a helper keeps the runtime's namespaces and credentials
	 * (rtnetlink checks the caller's capabilities too, not only the socket's) */
	if (netdev_helper_start(ex, plan) < 0) {
		report(ex, ex->netdev_last, OP_NETDEV_MOVE);
		return 1;
	}
	/* while still in the runtime's namespaces and credentials (ops_idmap.c) */
	if (idmap_helper_start(ex, plan) < 0) {
		report(ex, ex->idmap_last, OP_MOUNT_IDMAPPED);
		return 1;
	}
	for (uint32_t i = 0; i < plan->nops; i++)
		if (plan->ops[i].code == OP_EXEC)
			ex->exec_env = plan->ops[i].v[1].strs;
	for (uint32_t i = 0; i < plan->nops; i++) {
		if (run_op(ex, &plan->ops[i], i) < 0) {
			/* devices moved in would die with the namespace: back first */
			netdev_undo(ex, plan);
			if (!ex->quiet)
				report(ex, i, plan->ops[i].code);
			return ex->exit_code;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--dump") == 0) {
		if (argc != 3) {
			fprintf(stderr, "usage: runc-ts-init --dump FILE\n");
			return 2;
		}
		return dump_file(argv[1 + 1]);
	}

	int sock = 3;
	if (argc >= 2) {
		char *end;
		errno = 0;
		long v = strtol(argv[1], &end, 10);
		if (errno || end == argv[1] || *end || v < 0 || v > INT_MAX) {
			fprintf(stderr, "usage: runc-ts-init [SOCKFD] | --dump FILE\n");
			return 2;
		}
		sock = (int)v;
	}
	if (fcntl(sock, F_GETFD) < 0) {
		fprintf(stderr, "runc-ts-init: socket fd %d: %s\n", sock, strerror(errno));
		return 1;
	}

	if (ensure_sealed(argv) < 0) {
		char d[256];
		snprintf(d, sizeof(d), "re-exec from a sealed memfd: %s", strerror(errno));
		rts_send_error(sock, 0xffffffffu, 0, errno, d);
		return 1;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		rts_send_error(sock, 0xffffffffu, 0, errno, "prctl(PR_SET_DUMPABLE, 0)");
		return 1;
	}
	/* the socket must never reach the container */
	int fl = fcntl(sock, F_GETFD);
	if (fl < 0 || fcntl(sock, F_SETFD, fl | FD_CLOEXEC) < 0) {
		rts_send_error(sock, 0xffffffffu, 0, errno, "set FD_CLOEXEC on the socket");
		return 1;
	}

	uint16_t type;
	uint8_t *payload;
	uint32_t len;
	char err[256];
	int r = rts_read_frame(sock, &type, &payload, &len, err, sizeof(err));
	if (r == 0)
		return 1; /* the parent went away */
	if (r < 0) {
		rts_send_error(sock, 0xffffffffu, 0, EINVAL, err);
		return 1;
	}
	if (type != RTS_MSG_PLAN) {
		free(payload);
		snprintf(err, sizeof(err), "first message has type %u, expected PLAN (%u)", type,
			 RTS_MSG_PLAN);
		rts_send_error(sock, 0xffffffffu, 0, EINVAL, err);
		return 1;
	}
	struct rts_plan plan;
	r = rts_decode_plan(payload, len, &plan, err, sizeof(err));
	free(payload);
	if (r < 0) {
		rts_send_error(sock, 0xffffffffu, 0, EINVAL, err);
		return 1;
	}

	struct ex ex;
	memset(&ex, 0, sizeof(ex));
	ex.sock = sock;
	ex.rootfd = -1;
	ex.fifofd = -1;
	ex.fifo_proc = -1;
	ex.console_sock = -1;
	ex.console_index = UINT32_MAX;
	ex.console_chan = -1;
	ex.notify_sock = -1;
	ex.notify_index = UINT32_MAX;
	ex.pidfd_sock = -1;
	ex.pidfd_index = UINT32_MAX;
	ex.idmap_sock = -1;
	ex.idmap_last = UINT32_MAX;
	ex.netdev_sock = -1;
	ex.netdev_moved = 0;
	ex.netdev_last = UINT32_MAX;
	ex.cap_last = read_cap_last_cap(1);
	ex.exit_code = 1;
	int rc = run_plan(&ex, &plan);
	rts_plan_free(&plan);
	free(ex.resolved);
	free(ex.home);
	free(ex.state);
	free(ex.notify_state);
	if (ex.notify_sock >= 0)
		close(ex.notify_sock);
	if (ex.pidfd_sock >= 0)
		close(ex.pidfd_sock);
	if (ex.idmap_sock >= 0)
		close(ex.idmap_sock);
	if (ex.netdev_sock >= 0)
		close(ex.netdev_sock);
	return rc;
}
