/* SETNS_PID: join every namespace of a running process at once through a
 * pidfd (setns(2) with a pidfd, Linux 5.8), so that no namespace can come
 * from another process that reused the pid between two joins. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Field 22 (starttime) of /proc/<pid>/stat, after the last ')' of comm. */
static int read_start_time(pid_t pid, char *out, size_t outlen)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int e = errno;
	close(fd);
	if (n <= 0) {
		errno = n < 0 ? e : EIO;
		return -1;
	}
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (p == NULL) {
		errno = EIO;
		return -1;
	}
	p++; /* the space before field 3 (state) */
	for (int field = 3; field < 22; field++) { /* to the space before field 22 */
		p = strchr(p + 1, ' ');
		if (p == NULL) {
			errno = EIO;
			return -1;
		}
	}
	p++;
	size_t len = strcspn(p, " ");
	if (len == 0 || len >= outlen) {
		errno = EIO;
		return -1;
	}
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

/* Kernels before 5.8 take only namespace fds: join one at a time, user
 * first (it grants the rights for the others), mount last, by /proc paths of
 * the pid the caller's pidfd pins down. */
static int setns_by_paths(struct ex *ex, pid_t pid, uint64_t flags)
{
	static const struct {
		uint64_t flag;
		const char *file;
	} order[] = {
		{CLONE_NEWUSER, "user"},     {CLONE_NEWIPC, "ipc"}, {CLONE_NEWUTS, "uts"},
		{CLONE_NEWNET, "net"},       {CLONE_NEWPID, "pid"}, {CLONE_NEWCGROUP, "cgroup"},
		{CLONE_NEWTIME, "time"},     {CLONE_NEWNS, "mnt"},
	};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(flags & order[i].flag))
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, order[i].file);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return ex_fail(ex, errno, "%s", path);
		int r = setns(fd, (int)order[i].flag);
		int e = errno;
		close(fd);
		if (r < 0)
			return ex_fail(ex, e, "%s", path);
	}
	return 0;
}

int op_setns_pid(struct ex *ex, uint64_t pid64, uint64_t flags, const char *start_time)
{
	if (pid64 == 0 || pid64 > 4194304)
		return ex_fail(ex, EINVAL, "pid %llu", (unsigned long long)pid64);
	pid_t pid = (pid_t)pid64;
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0 && errno != ENOSYS)
		return ex_fail(ex, errno, "pidfd_open(%d)", (int)pid);
	/* The pidfd names the process that had the pid when it was opened; if
	 * the pid still has the start time asked for now, that was this one
	 * (a process started later cannot have an earlier start time). */
	if (start_time[0] != '\0') {
		char now[32];
		if (read_start_time(pid, now, sizeof(now)) < 0 || strcmp(now, start_time) != 0) {
			if (pidfd >= 0)
				close(pidfd);
			return ex_fail(ex, ESRCH, "process %d (start time %s) is gone", (int)pid, start_time);
		}
	}
	if (pidfd < 0) /* no pidfd_open (before 5.3): the start time check is all there is */
		return setns_by_paths(ex, pid, flags);
	int r = setns(pidfd, (int)flags);
	int e = errno;
	if (r < 0 && e == EINVAL) {
		/* Before 5.8 setns() takes no pidfd; the pidfd still keeps the pid
		 * from being reused meanwhile, so the /proc paths are its. */
		r = setns_by_paths(ex, pid, flags);
		close(pidfd);
		return r;
	}
	close(pidfd);
	if (r < 0)
		return ex_fail(ex, e, "setns(pidfd of %d, 0x%llx)", (int)pid, (unsigned long long)flags);
	return 0;
}

/* ---- op handlers (the dispatch table in main.c) ---- */

OP_RUN(unshare)
{
	const struct rts_value *v = op->v;
	if (unshare((int)v[0].u64) < 0)
		return ex_fail(ex, errno, "flags 0x%llx", (unsigned long long)v[0].u64);
	return 0;
}

OP_RUN(setns)
{
	const struct rts_value *v = op->v;
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

OP_RUN(setns_pid)
{
	const struct rts_value *v = op->v;
	return op_setns_pid(ex, v[0].u64, v[1].u64, v[2].str);
}

#define JOIN_MAX 8 /* one of each namespace type */

/* JOIN_NAMESPACES: the namespaces of linux.namespaces given by path. Every
 * path is opened first, in the runtime's mount namespace (a joined mount
 * namespace must not change what the later paths name). Then, as runc
 * >= 1.2 does, the joins that the runtime's credentials allow are made,
 * then the user namespace, then the rest with the user namespace's
 * capabilities: a namespace owned by another user namespace than the
 * joined one (the host's network namespace, say) is joined before the
 * user namespace takes away the rights over it, one owned by the joined
 * user namespace after it gives them (a rootless runtime). */
int op_join_namespaces(struct ex *ex, const struct rts_value *types, const struct rts_value *paths)
{
	if (types->len != paths->len || types->len == 0 || types->len > JOIN_MAX)
		return ex_fail(ex, EINVAL, "%u namespace types for %u paths (1..%d)", types->len,
			       paths->len, JOIN_MAX);
	int fds[JOIN_MAX], err[JOIN_MAX];
	uint32_t n = types->len, user = n;
	for (uint32_t i = 0; i < n; i++) {
		if (types->u64s[i] == CLONE_NEWUSER)
			user = i;
		fds[i] = open(paths->strs[i], O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			int e = errno;
			for (uint32_t j = 0; j < i; j++)
				close(fds[j]);
			return ex_fail(ex, e, "%s", paths->strs[i]);
		}
	}
	int r = 0, failed = -1;
	for (uint32_t i = 0; i < n; i++) {
		err[i] = 0;
		if (i != user && setns(fds[i], (int)types->u64s[i]) < 0) {
			err[i] = errno;
			/* Only a user namespace still to join can grant more rights. */
			if (user == n || err[i] != EPERM) {
				failed = (int)i;
				break;
			}
		}
	}
	if (failed < 0 && user < n && setns(fds[user], CLONE_NEWUSER) < 0) {
		err[user] = errno;
		failed = (int)user;
	}
	for (uint32_t i = 0; failed < 0 && i < n; i++) {
		if (i != user && err[i] != 0 && setns(fds[i], (int)types->u64s[i]) < 0) {
			err[i] = errno;
			failed = (int)i;
		}
	}
	if (failed >= 0)
		r = ex_fail(ex, err[failed], "%s", paths->strs[failed]);
	for (uint32_t i = 0; i < n; i++)
		close(fds[i]);
	return r;
}

OP_RUN(join_namespaces)
{
	const struct rts_value *v = op->v;
	return op_join_namespaces(ex, &v[0], &v[1]);
}
