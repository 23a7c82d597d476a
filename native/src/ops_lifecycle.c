/* The lifecycle ops: FORK, SYNC, OPEN_FIFO, WAIT_FIFO, READY, SET_DUMPABLE. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void close_fd(int *fd)
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
	int userns = kind == RTS_SYNC_USERNS;
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
	if (kind != RTS_SYNC_STATE && kind != RTS_SYNC_SECCOMP) { /* only their CONTINUE carries data */
		free(payload);
		return 0;
	}
	if (len > RTS_MAX_BYTES) {
		free(payload);
		return ex_fail(ex, EPROTO, "sync %llu: state of %u bytes exceeds %u",
			       (unsigned long long)kind, len, RTS_MAX_BYTES);
	}
	uint8_t **slot = kind == RTS_SYNC_STATE ? &ex->state : &ex->notify_state;
	free(*slot);
	*slot = payload; /* NULL when empty */
	if (kind == RTS_SYNC_STATE)
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
void keep_fifo_proc(struct ex *ex)
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

/* ---- op handlers (the dispatch table in main.c) ---- */

OP_RUN(sync)
{
	const struct rts_value *v = op->v;
	return do_sync(ex, v[0].u64);
}

OP_RUN(fork)
{
	const struct rts_value *v = op->v;
	return do_fork(ex, v[0].u64);
}

OP_RUN(open_fifo)
{
	const struct rts_value *v = op->v;
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

OP_RUN(set_dumpable)
{
	return set_dumpable(ex);
}

OP_RUN(ready)
{
	close_fd(&ex->netdev_sock); /* the network device helper exits at EOF */
	if (ex->sock < 0)
		return ex_fail(ex, EBADF, "socket already closed");
	if (rts_write_frame(ex->sock, RTS_MSG_READY, NULL, 0) < 0)
		return ex_fail(ex, errno, "send READY");
	close(ex->sock);
	ex->sock = -1;
	return 0;
}

OP_RUN(wait_fifo)
{
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
