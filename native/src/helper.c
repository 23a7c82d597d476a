/* Privileged helper processes (ops_net.c, ops_idmap.c) and their channel.
 *
 * Some ops need the runtime's namespaces and credentials after the executor
 * has left them (a network device moved from the runtime's network namespace,
 * an id-mapped mount of a host filesystem). For those, before any op runs, the
 * executor forks a helper that keeps them and serves one request per op over a
 * SOCK_SEQPACKET socketpair: a message, with at most one fd attached
 * (send_with_fd, recv_with_fd in fdpass.c). The
 * helper is forked twice, so it is never the executor's child to reap (the
 * caller's subreaper or init collects it), holds no fd of the executor's but
 * its end of the channel (above all not the protocol socket, whose end-of-file
 * tells the runtime the executor is gone), and exits at end-of-file. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void close_all_but(int keep)
{
	if ((keep == 0 || syscall(SYS_close_range, 0U, (unsigned)keep - 1, 0U) == 0) &&
	    syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) == 0)
		return;
	struct rlimit rl;
	int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1048576 ? (int)rl.rlim_cur
									     : 1048576;
	for (int fd = 0; fd < max; fd++)
		if (fd != keep)
			close(fd);
}

int helper_start(struct ex *ex, const struct rts_plan *plan, const struct helper_kind *kind,
		 int *sock, uint32_t *last)
{
	*sock = -1;
	*last = UINT32_MAX;
	for (uint32_t i = 0; i < plan->nops; i++)
		if (plan->ops[i].code == kind->opcode)
			*last = i;
	if (*last == UINT32_MAX)
		return 0;
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return ex_fail(ex, errno, "start the %s: socketpair", kind->what);
	pid_t mid = fork();
	if (mid < 0) {
		int e = errno;
		close(sp[0]);
		close(sp[1]);
		return ex_fail(ex, e, "start the %s: fork", kind->what);
	}
	if (mid == 0) {
		pid_t helper = fork();
		if (helper == 0) {
			close_all_but(sp[1]);
			prctl(PR_SET_NAME, kind->comm, 0, 0, 0);
			kind->serve(sp[1], plan);
		}
		_exit(helper < 0 ? 1 : 0);
	}
	close(sp[1]);
	int status;
	pid_t w;
	do
		w = waitpid(mid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		int e = w < 0 ? errno : EAGAIN;
		close(sp[0]);
		return ex_fail(ex, e, "start the %s: fork", kind->what);
	}
	*sock = sp[0];
	return 0;
}
