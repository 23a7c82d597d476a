/*
 * The container's stdio after PIVOT_ROOT / MOVE_ROOT. A stdio fd that is
 * a null device opened on the host (the caller's </dev/null) names a host
 * mount: the process could reach the host /dev through it, and CRIU cannot
 * dump it. Like runc, such fds are replaced with the container's own
 * /dev/null, opened read-write.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "executor.h"

static int is_null_device(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

int reopen_dev_null(struct ex *ex)
{
	int nfd = -1;
	struct stat null_st;
	int rc = 0;
	for (int fd = 0; fd < 3 && rc == 0; fd++) {
		struct stat st;
		if (fstat(fd, &st) < 0) {
			if (errno == EBADF)
				continue;
			rc = ex_fail(ex, errno, "stdio fd %d", fd);
			break;
		}
		if (!is_null_device(&st))
			continue;
		if (nfd < 0) {
			nfd = cpath_open(ex, "/dev/null", O_RDWR | O_CLOEXEC, 0);
			/* no usable /dev/null in the container: keep what we have */
			if (nfd < 0)
				break;
			if (fstat(nfd, &null_st) < 0 || !is_null_device(&null_st))
				break;
		}
		if (st.st_dev == null_st.st_dev && st.st_ino == null_st.st_ino)
			continue;
		if (dup3(nfd, fd, 0) < 0)
			rc = ex_fail(ex, errno, "reopen stdio fd %d on /dev/null", fd);
	}
	if (nfd >= 0)
		close(nfd);
	return rc;
}

/* ---- op handlers (the dispatch table in main.c) ---- */

OP_RUN(console)
{
	const struct rts_value *v = op->v;
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

OP_RUN(pidfd_socket)
{
	const struct rts_value *v = op->v;
	int s = -1;
	if (index == ex->pidfd_index) {
		s = ex->pidfd_sock;
		ex->pidfd_sock = -1;
	}
	return op_pidfd_socket(ex, v[0].str, v[1].str, s);
}
