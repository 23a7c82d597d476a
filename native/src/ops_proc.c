/* Process operations that need more than one syscall: procfs writes,
 * capabilities, seccomp (and its notify listener), exec resolution, fd
 * closing, scheduling, console, pidfd socket. */
#include "executor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* One write(2) of the whole value (procfs files want a single write). */
static int proc_write(const char *rel, const char *value)
{
	int fd = procfs_open(rel, O_WRONLY);
	if (fd < 0)
		return -1;
	size_t n = strlen(value);
	ssize_t w;
	do
		w = write(fd, value, n);
	while (w < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (w < 0) {
		errno = e;
		return -1;
	}
	if ((size_t)w != n) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int op_sysctl(struct ex *ex, const char *key, const char *value)
{
	char rel[PATH_MAX];
	int n = snprintf(rel, sizeof(rel), "sys/%s", key);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return ex_fail(ex, ENAMETOOLONG, "/proc/sys/%s", key);
	for (char *p = rel + 4; *p; p++)
		if (*p == '.')
			*p = '/';
	if (proc_write(rel, value) < 0)
		return ex_fail(ex, errno, "/proc/%s", rel);
	return 0;
}

/* The clock offsets of a new time namespace: the kernel takes them only
 * before a process enters the namespace (the FORK that follows). */
int op_timens_offsets(struct ex *ex, const char *offsets)
{
	if (proc_write("self/timens_offsets", offsets) < 0)
		return ex_fail(ex, errno, "/proc/self/timens_offsets");
	return 0;
}

int op_oom_score_adj(struct ex *ex, const char *value)
{
	if (proc_write("self/oom_score_adj", value) < 0)
		return ex_fail(ex, errno, "/proc/self/oom_score_adj (%s)", value);
	return 0;
}

int op_setgroups_deny(struct ex *ex)
{
	if (proc_write("self/setgroups", "deny") < 0)
		return ex_fail(ex, errno, "/proc/self/setgroups");
	return 0;
}

int op_apparmor(struct ex *ex, const char *profile)
{
	size_t n = strlen(profile) + 6;
	char *buf = malloc(n);
	if (buf == NULL)
		return ex_fail(ex, ENOMEM, "%s", profile);
	snprintf(buf, n, "exec %s", profile);
	const char *file = "/proc/self/attr/apparmor/exec";
	int r = proc_write("self/attr/apparmor/exec", buf);
	if (r < 0 && errno == ENOENT) {
		file = "/proc/self/attr/exec";
		r = proc_write("self/attr/exec", buf);
	}
	int e = errno;
	free(buf);
	if (r < 0)
		return ex_fail(ex, e, "%s (%s)", profile, file);
	return 0;
}

int op_selinux_label(struct ex *ex, const char *label)
{
	if (proc_write("self/attr/exec", label) < 0)
		return ex_fail(ex, errno, "%s (/proc/self/attr/exec)", label);
	return 0;
}

int read_cap_last_cap(int at_start)
{
	const char *rel = "sys/kernel/cap_last_cap";
	int fd = at_start ? procfs_read_config(rel) : procfs_open(rel, O_RDONLY);
	if (fd < 0)
		return -1;
	char buf[32];
	ssize_t r;
	do
		r = read(fd, buf, sizeof(buf) - 1);
	while (r < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (r <= 0) {
		errno = r < 0 ? e : EINVAL;
		return -1;
	}
	buf[r] = '\0';
	char *end;
	long v = strtol(buf, &end, 10);
	if (end == buf || v < 0 || v > 63) {
		errno = EINVAL;
		return -1;
	}
	return (int)v;
}

int op_caps(struct ex *ex, uint64_t bounding, uint64_t eff, uint64_t perm, uint64_t inh,
	    uint64_t amb)
{
	/* read when the executor started: a seccomp filter loaded by now may
	 * refuse openat2 (a profile older than it) */
	int last = ex->cap_last >= 0 ? ex->cap_last : read_cap_last_cap(0);
	if (last < 0)
		return ex_fail(ex, errno, "/proc/sys/kernel/cap_last_cap");
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	/* After SETUID to a non-root user (with KEEPCAPS) the effective set is
	 * empty; dropping from the bounding set needs CAP_SETPCAP effective. */
	if (syscall(SYS_capget, &hdr, data) < 0)
		return ex_fail(ex, errno, "capget");
	for (int i = 0; i < 2; i++)
		data[i].effective = data[i].permitted;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return ex_fail(ex, errno, "capset: raise the permitted capabilities");
	for (int c = 0; c <= last; c++) {
		if (bounding & (1ULL << c))
			continue;
		int in = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
		if (in < 0)
			return ex_fail(ex, errno, "bounding set: read cap %d", c);
		if (in && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return ex_fail(ex, errno, "bounding set: drop cap %d", c);
	}
	memset(data, 0, sizeof(data));
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(eff >> (32 * i));
		data[i].permitted = (uint32_t)(perm >> (32 * i));
		data[i].inheritable = (uint32_t)(inh >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return ex_fail(ex, errno, "capset effective 0x%llx permitted 0x%llx inheritable 0x%llx",
			       (unsigned long long)eff, (unsigned long long)perm,
			       (unsigned long long)inh);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return ex_fail(ex, errno, "ambient set: clear");
	for (int c = 0; c <= last; c++)
		if ((amb & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return ex_fail(ex, errno, "ambient set: raise cap %d", c);
	return 0;
}

/* seccomp(SECCOMP_SET_MODE_FILTER) of a struct sock_filter[] program;
 * returns what the kernel returns (a listener fd with NEW_LISTENER). */
static long load_filter(struct ex *ex, const uint8_t *filter, uint32_t len, uint64_t flags)
{
	if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
	    len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return ex_fail(ex, EINVAL, "filter of %u bytes", len);
	struct sock_filter *prog = malloc(len); /* aligned copy */
	if (prog == NULL)
		return ex_fail(ex, ENOMEM, "filter of %u bytes", len);
	memcpy(prog, filter, len);
	struct sock_fprog fp = {.len = (unsigned short)(len / sizeof(struct sock_filter)),
				.filter = prog};
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned long)flags, &fp);
	int e = errno;
	free(prog);
	if (r < 0)
		return ex_fail(ex, e, "filter of %u instructions, flags 0x%llx", fp.len,
			       (unsigned long long)flags);
	return r;
}

int op_seccomp(struct ex *ex, const uint8_t *filter, uint32_t len, uint64_t flags)
{
	/* a listener needs somewhere to go: that is SECCOMP_NOTIFY */
	if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
		return ex_fail(ex, EINVAL, "flags 0x%llx: NEW_LISTENER needs SECCOMP_NOTIFY",
			       (unsigned long long)flags);
	return load_filter(ex, filter, len, flags) < 0 ? -1 : 0;
}

/* One fd sent with SCM_RIGHTS (and a byte); -1 at EOF or on error. */
static int recv_fd(int s)
{
	char byte;
	int fd;
	ssize_t r = recv_with_fd(s, &byte, 1, &fd);
	if (r <= 0 || fd < 0) {
		if (r > 0)
			errno = EPROTO;
		return -1;
	}
	return fd;
}

/* The listener goes to the agent through a helper forked before the filter
 * is loaded (so it is not filtered): once this process has handed the fd to
 * the helper, every syscall it makes may be a NOTIFY rule (close, read,
 * execve… as runc allows), because the agent gets the listener without
 * waiting for this process. Only the handover's sendmsg must not be one. */
int op_seccomp_notify(struct ex *ex, const uint8_t *filter, uint32_t len, uint64_t flags,
		      const char *path, int s)
{
	if (!(flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)) {
		if (s >= 0)
			close(s);
		return ex_fail(ex, EINVAL, "flags 0x%llx lack SECCOMP_FILTER_FLAG_NEW_LISTENER",
			       (unsigned long long)flags);
	}
	if (ex->notify_state == NULL || ex->notify_state_len == 0) {
		if (s >= 0)
			close(s);
		return ex_fail(ex, EPROTO, "%s: no container process state (SYNC 5) before", path);
	}
	if (s < 0 && console_connect(path, &s) < 0)
		return ex_fail(ex, errno, "failed to connect with seccomp agent at %s", path);
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		int e = errno;
		close(s);
		return ex_fail(ex, e, "%s: socketpair", path);
	}
	pid_t helper = fork();
	if (helper < 0) {
		int e = errno;
		close(s);
		close(sp[0]);
		close(sp[1]);
		return ex_fail(ex, e, "%s: fork", path);
	}
	if (helper == 0) {
		close(sp[0]);
		int fd = recv_fd(sp[1]);
		if (fd < 0)
			_exit(0); /* the filter was not loaded: nothing to send */
		unsigned char result = 0;
		if (send_with_fd(s, ex->notify_state, ex->notify_state_len, fd) < 0)
			result = (unsigned char)(errno > 0 && errno < 256 ? errno : EIO);
		close(s);
		/* one byte, 0 or the errno: EOF alone means the helper died */
		_exit(write(sp[1], &result, 1) == 1 ? 0 : 1);
	}
	/* this process' copy of the connection goes before the filter: the
	 * agent sees the end of the message from the helper alone */
	close(sp[1]);
	close(s);
	long fd = load_filter(ex, filter, len, flags);
	if (fd < 0) {
		close(sp[0]); /* the helper sees EOF and exits */
		waitpid(helper, NULL, 0);
		return -1;
	}
	int r = send_with_fd(sp[0], (const uint8_t *)"L", 1, (int)fd);
	int e = errno;
	close((int)fd);
	unsigned char result = 0;
	ssize_t n = -1;
	if (r == 0) {
		do
			n = read(sp[0], &result, 1);
		while (n < 0 && errno == EINTR);
		e = n < 0 ? errno : n == 0 ? EPIPE : result;
	}
	close(sp[0]);
	/* best effort: a profile may refuse wait4, the result came by the socket */
	while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return ex_fail(ex, e, "%s: hand the listener to its helper", path);
	if (n != 1 || result != 0)
		return ex_fail(ex, e ? e : EIO, "send the seccomp listener to the agent at %s", path);
	return 0;
}

static int is_exec_file(const char *p)
{
	struct stat st;
	if (stat(p, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return -1;
	}
	return access(p, X_OK);
}

int op_resolve_exec(struct ex *ex, const char *file, const char *path_env)
{
	char *found = NULL;
	int denied = 0;
	if (*file == '\0')
		return ex_fail(ex, ENOENT, "exec: \"%s\": executable file not found in $PATH", file);
	if (strchr(file, '/')) {
		/* no search and no check of ours: whether the program may run is
		 * the kernel's call at EXEC, which reports its answer */
		if ((found = strdup(file)) == NULL)
			return ex_fail(ex, ENOMEM, "%s", file);
	} else {
		const char *p = path_env;
		for (;;) {
			const char *end = strchr(p, ':');
			size_t dl = end ? (size_t)(end - p) : strlen(p);
			size_t need = (dl ? dl : 1) + 1 + strlen(file) + 1;
			if (need <= PATH_MAX) {
				char cand[PATH_MAX];
				if (dl)
					memcpy(cand, p, dl);
				else
					cand[0] = '.';
				size_t o = dl ? dl : 1;
				cand[o++] = '/';
				strcpy(cand + o, file);
				if (is_exec_file(cand) == 0) {
					found = strdup(cand);
					if (found == NULL)
						return ex_fail(ex, ENOMEM, "%s", file);
					break;
				}
				if (errno == EACCES)
					denied = 1;
			}
			if (end == NULL)
				break;
			p = end + 1;
		}
	}
	if (found == NULL) {
		if (denied)
			return ex_fail(ex, EACCES, "exec: \"%s\": permission denied", file);
		return ex_fail(ex, ENOENT, "exec: \"%s\": executable file not found in $PATH", file);
	}
	free(ex->resolved);
	ex->resolved = found;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Closes every fd >= lo not in keep[] one by one, from /proc/self/fd (of a
 * private procfs), or up to RLIMIT_NOFILE without one: for when close_range
 * is refused (a seccomp profile older than it gives ENOSYS or its default
 * errno). */
static int close_fds_slowly(unsigned lo, const int *keep, int nkeep)
{
	/* the private procfs: a /proc the container mounted could hide fds */
	int pfd = procfs_open("self/fd", O_RDONLY | O_DIRECTORY);
	DIR *d = pfd < 0 ? NULL : fdopendir(pfd);
	if (d == NULL && pfd >= 0)
		close(pfd);
	if (d != NULL) {
		int dfd = dirfd(d);
		int *fds = NULL;
		size_t n = 0, cap = 0;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			char *end;
			long fd = strtol(de->d_name, &end, 10);
			if (*end || end == de->d_name || fd < (long)lo || fd == dfd)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				int *nf = realloc(fds, cap * sizeof(int));
				if (nf == NULL) {
					free(fds);
					closedir(d);
					errno = ENOMEM;
					return -1;
				}
				fds = nf;
			}
			fds[n++] = (int)fd;
		}
		closedir(d);
		for (size_t i = 0; i < n; i++) {
			int kept = 0;
			for (int k = 0; k < nkeep; k++)
				kept |= fds[i] == keep[k];
			if (!kept)
				close(fds[i]);
		}
		free(fds);
		return 0;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	for (rlim_t fd = lo; fd < rl.rlim_cur && fd <= INT_MAX; fd++) {
		int kept = 0;
		for (int k = 0; k < nkeep; k++)
			kept |= (int)fd == keep[k];
		if (!kept)
			close((int)fd);
	}
	return 0;
}

/* Closes [first, ~0U] except the executor's own kept fds (which are all
 * O_CLOEXEC and so vanish at EXEC anyway): close_range over the gaps. */
int op_close_fds(struct ex *ex, uint64_t first)
{
	if (first < 3)
		first = 3;
	if (first > UINT_MAX)
		return 0;
	int keep[7], n = 0;
	int cand[7] = {ex->sock,	  ex->fifofd,	    ex->rootfd,	    ex->console_sock,
		       ex->console_chan, ex->notify_sock, ex->pidfd_sock};
	for (int i = 0; i < 7; i++)
		if (cand[i] >= 0 && (uint64_t)cand[i] >= first)
			keep[n++] = cand[i];
	qsort(keep, (size_t)n, sizeof(int), cmp_int);
	unsigned lo = (unsigned)first;
	for (int i = 0; i < n; i++) {
		unsigned k = (unsigned)keep[i];
		if (k < lo)
			continue; /* duplicate */
		if (k > lo && close_range(lo, k - 1, 0) < 0)
			goto slowly;
		lo = k + 1;
	}
	if (close_range(lo, ~0U, 0) < 0)
		goto slowly;
	return 0;
slowly:
	if (close_fds_slowly((unsigned)first, keep, n) < 0)
		return ex_fail(ex, errno, "close fds from %llu", (unsigned long long)first);
	return 0;
}

struct rts_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

int op_sched(struct ex *ex, const struct rts_value *v)
{
	struct rts_sched_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a); /* SCHED_ATTR_SIZE_VER0 = 48 */
	if (v[0].u64 > UINT32_MAX || v[3].u64 > UINT32_MAX)
		return ex_fail(ex, EINVAL, "policy %llu priority %llu", (unsigned long long)v[0].u64,
			       (unsigned long long)v[3].u64);
	int64_t nice = (int64_t)v[2].u64;
	if (nice < INT32_MIN || nice > INT32_MAX)
		return ex_fail(ex, EINVAL, "nice %lld", (long long)nice);
	a.sched_policy = (uint32_t)v[0].u64;
	a.sched_flags = v[1].u64;
	a.sched_nice = (int32_t)nice;
	a.sched_priority = (uint32_t)v[3].u64;
	a.sched_runtime = v[4].u64;
	a.sched_deadline = v[5].u64;
	a.sched_period = v[6].u64;
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		return ex_fail(ex, errno, "policy %u priority %u nice %d", a.sched_policy,
			       a.sched_priority, a.sched_nice);
	return 0;
}

int console_connect(const char *path, int *out)
{
	struct sockaddr_un sa;
	int pfd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) < sizeof(sa.sun_path)) {
		strcpy(sa.sun_path, path);
	} else {
		/* too long for sun_path: connect through an O_PATH fd */
		pfd = open(path, O_PATH | O_CLOEXEC);
		if (pfd < 0)
			return -1;
		snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", pfd);
	}
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		int e = errno;
		if (pfd >= 0)
			close(pfd);
		errno = e;
		return -1;
	}
	int r;
	do
		r = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	int e = errno;
	if (pfd >= 0)
		close(pfd);
	if (r < 0) {
		close(s);
		errno = e;
		return -1;
	}
	*out = s;
	return 0;
}

int op_console(struct ex *ex, const char *sockpath, int s, int ack)
{
	const char *path = *sockpath ? sockpath : "console proxy";
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0) {
		int e = errno;
		close(s);
		return ex_fail(ex, e, "/dev/ptmx");
	}
	char name[128];
	int e = 0;
	if (unlockpt(m) != 0 || ptsname_r(m, name, sizeof(name)) != 0) {
		e = errno ? errno : EIO;
		close(m);
		close(s);
		return ex_fail(ex, e, "/dev/ptmx (unlockpt/ptsname)");
	}
	/* the slave by fd from the master, not by the name through the
	 * container's /dev/pts (an image could have planted that path) */
	int sl = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (sl < 0 || check_pty_slave(sl) < 0) {
		e = errno;
		if (sl >= 0)
			close(sl);
		close(m);
		close(s);
		return ex_fail(ex, e, "%s (TIOCGPTPEER)", name);
	}
	/* send the master with the pty name as data */
	int w = send_with_fd(s, (const uint8_t *)name, strlen(name), m);
	e = errno;
	close(m);
	if (w >= 0 && ack) {
		/* the proxy has set the initial window size once this byte (or EOF)
		 * arrives, so a later WINSIZE op wins over it */
		char ackb;
		ssize_t r;
		do
			r = read(s, &ackb, 1);
		while (r < 0 && errno == EINTR);
	}
	close(s);
	if (w < 0) {
		close(sl);
		return ex_fail(ex, e, "%s (send pty master)", path);
	}
	if (getsid(0) != getpid() && setsid() < 0) {
		e = errno;
		close(sl);
		return ex_fail(ex, e, "%s (setsid)", name);
	}
	if (ioctl(sl, TIOCSCTTY, 0) < 0) {
		e = errno;
		close(sl);
		return ex_fail(ex, e, "%s (TIOCSCTTY)", name);
	}
	for (int fd = 0; fd < 3; fd++) {
		if (dup2(sl, fd) < 0) {
			e = errno;
			close(sl);
			return ex_fail(ex, e, "%s (dup2 %d)", name, fd);
		}
	}
	if (sl > 2)
		close(sl);
	return 0;
}

/* A process that opens a pidfd of itself cannot be handed a recycled pid:
 * it is alive while it asks. So the container's process does this right
 * after FORK (in its pid namespace getpid() names it there, where
 * pidfd_open looks it up), rather than the forking parent, which exits at
 * once with FORK 0 and would need the socket in FORK's own signature. */
int op_pidfd_socket(struct ex *ex, const char *path, const char *data, int s)
{
	size_t len = strlen(data);
	if (len == 0) { /* a stream socket carries no fd without a byte */
		if (s >= 0)
			close(s);
		return ex_fail(ex, EINVAL, "%s: empty data", path);
	}
	if (s < 0 && console_connect(path, &s) < 0)
		return ex_fail(ex, errno, "%s", path);
	long fd = syscall(SYS_pidfd_open, getpid(), 0);
	if (fd < 0) {
		int e = errno;
		close(s);
		return ex_fail(ex, e, "%s (pidfd_open)", path);
	}
	int r = send_with_fd(s, (const uint8_t *)data, len, (int)fd);
	int e = errno;
	close((int)fd);
	close(s);
	if (r < 0)
		return ex_fail(ex, e, "%s (send pidfd)", path);
	return 0;
}

/* Mask buffers: whole unsigned longs, as the kernel reads them. The CPU one
 * always covers runc's highest CPU (65536): sched_setaffinity refuses a mask
 * shorter than the kernel's CPU count, and ignores bits past it. */
#define AFFINITY_MASK_BYTES (((65536 / 64) + 1) * 8)
#define NODE_MASK_MAX_BYTES 128 /* MAX_NUMNODES 1024 */

static const char *mask_text(const uint8_t *mask, uint32_t len, char *buf, size_t size)
{
	size_t at = 0;
	buf[0] = '\0';
	for (uint32_t bit = 0; bit < len * 8u && at + 12 < size; bit++) {
		if (!(mask[bit / 8] & (1u << (bit % 8))))
			continue;
		int n = snprintf(buf + at, size - at, "%s%u", at ? "," : "", bit);
		if (n < 0)
			break;
		at += (size_t)n;
	}
	return buf;
}

int op_sched_affinity(struct ex *ex, const char *label, const uint8_t *mask, uint32_t len)
{
	if (len > AFFINITY_MASK_BYTES || len % 8 != 0)
		return ex_fail(ex, EINVAL, "%s: mask of %u bytes", label, len);
	unsigned long *set = calloc(AFFINITY_MASK_BYTES / sizeof(unsigned long), sizeof(unsigned long));
	if (set == NULL)
		return ex_fail(ex, ENOMEM, "mask");
	if (len == 0)
		memset(set, 0xff, AFFINITY_MASK_BYTES); /* every CPU; the cpuset limits it */
	else
		memcpy(set, mask, len);
	int rc = 0;
	if (syscall(SYS_sched_setaffinity, 0, (size_t)AFFINITY_MASK_BYTES, set) < 0) {
		char text[256];
		rc = ex_fail(ex, errno, "%s: cpus %s", label,
			     len ? mask_text(mask, len, text, sizeof(text)) : "all");
	}
	free(set);
	return rc;
}

int op_mempolicy(struct ex *ex, const char *label, uint64_t mode, const uint8_t *mask, uint32_t len)
{
	if (len > NODE_MASK_MAX_BYTES || len % 8 != 0 || mode > INT32_MAX)
		return ex_fail(ex, EINVAL, "%s: mode 0x%llx, node mask of %u bytes", label,
			       (unsigned long long)mode, len);
	unsigned long nodes[NODE_MASK_MAX_BYTES / sizeof(unsigned long)];
	memset(nodes, 0, sizeof(nodes));
	if (len)
		memcpy(nodes, mask, len);
	/* maxnode counts one more than the bits given (the kernel drops the last) */
	unsigned long maxnode = len ? (unsigned long)len * 8 + 1 : 0;
	if (syscall(SYS_set_mempolicy, (int)mode, len ? nodes : NULL, maxnode) < 0) {
		char text[256];
		return ex_fail(ex, errno, "%s: mode 0x%llx nodes %s", label, (unsigned long long)mode,
			       len ? mask_text(mask, len, text, sizeof(text)) : "none");
	}
	return 0;
}

/* ---- op handlers (the dispatch table in main.c) ---- */

OP_RUN(sysctl)
{
	const struct rts_value *v = op->v;
	return op_sysctl(ex, v[0].str, v[1].str);
}

OP_RUN(timens_offsets)
{
	const struct rts_value *v = op->v;
	return op_timens_offsets(ex, v[0].str);
}

OP_RUN(oom_score_adj)
{
	const struct rts_value *v = op->v;
	return op_oom_score_adj(ex, v[0].str);
}

OP_RUN(resolve_exec)
{
	const struct rts_value *v = op->v;
	return op_resolve_exec(ex, v[0].str, v[1].str);
}

OP_RUN(close_fds)
{
	const struct rts_value *v = op->v;
	return op_close_fds(ex, v[0].u64);
}

OP_RUN(sched)
{
	return op_sched(ex, op->v);
}

OP_RUN(sched_affinity)
{
	const struct rts_value *v = op->v;
	return op_sched_affinity(ex, v[0].str, v[1].bytes, v[1].len);
}

OP_RUN(mempolicy)
{
	const struct rts_value *v = op->v;
	return op_mempolicy(ex, v[0].str, v[1].u64, v[2].bytes, v[2].len);
}
