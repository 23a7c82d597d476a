/* HOOK (an OCI hook run by the executor in its current namespaces and root,
 * with the state JSON of the last SYNC 4 on its stdin) and WINSIZE. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int op_winsize(struct ex *ex, uint64_t rows, uint64_t cols)
{
	if (rows > USHRT_MAX || cols > USHRT_MAX)
		return ex_fail(ex, EINVAL, "rows %llu cols %llu", (unsigned long long)rows,
			       (unsigned long long)cols);
	struct winsize ws;
	memset(&ws, 0, sizeof(ws));
	ws.ws_row = (unsigned short)rows;
	ws.ws_col = (unsigned short)cols;
	if (ioctl(0, TIOCSWINSZ, &ws) < 0)
		return ex_fail(ex, errno, "rows %llu cols %llu", (unsigned long long)rows,
			       (unsigned long long)cols);
	return 0;
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The hook child: stdin = rfd, stdout/stderr inherited, nothing else open at
 * execve. An exec failure goes back as an int errno on efd (CLOEXEC, so the
 * parent reads EOF when execve succeeds). */
__attribute__((noreturn)) static void hook_child(int rfd, int efd, const struct sigaction *pipe_sa,
						 const char *path, char **argv, char **env)
{
	int e = efd;
	if (sigaction(SIGPIPE, pipe_sa, NULL) < 0)
		goto fail;
	/* move both pipe ends out of 0..2 first (only if those were closed) */
	if (efd < 3 && (e = fcntl(efd, F_DUPFD_CLOEXEC, 3)) < 0) {
		e = efd;
		goto fail;
	}
	int r = rfd;
	if (rfd < 3 && (r = fcntl(rfd, F_DUPFD_CLOEXEC, 3)) < 0)
		goto fail;
	if (dup2(r, 0) < 0) /* dup2 clears FD_CLOEXEC on 0 */
		goto fail;
	if (e != 3) {
		if (dup3(e, 3, O_CLOEXEC) < 0)
			goto fail;
		e = 3;
	}
	if (close_range(4, ~0U, 0) < 0)
		goto fail;
	execve(path, argv, env);
fail: {
	int err = errno ? errno : EIO;
	ssize_t w;
	do
		w = write(e, &err, sizeof(err));
	while (w < 0 && errno == EINTR);
	_exit(127);
}
}

/* Feeds the state to the hook's stdin while waiting for it, up to deadline_ms
 * (0 = none). Returns 0 with *status, 1 on timeout (the hook is killed and
 * reaped), -1 on error (errno set; the hook is killed and reaped). */
static int hook_wait(pid_t pid, int wfd, const uint8_t *data, size_t len, long long deadline_ms,
		     int *status)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* -1: poll every 20 ms */
	size_t off = 0;
	int rc = 0, e = 0;
	if (len == 0 || fcntl(wfd, F_SETFL, O_NONBLOCK) < 0) {
		close(wfd); /* nothing to write (or cannot write safely): EOF */
		wfd = -1;
	}
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			e = errno;
			rc = -1;
			break;
		}
		int tmo = -1;
		if (deadline_ms) {
			long long left = deadline_ms - mono_ms();
			if (left <= 0) {
				rc = 1;
				break;
			}
			tmo = left > 60000 ? 60000 : (int)left;
		}
		if (pidfd < 0 && (tmo < 0 || tmo > 20))
			tmo = 20;
		struct pollfd pf[2] = {{.fd = pidfd, .events = POLLIN},
				       {.fd = wfd, .events = POLLOUT}};
		int n = poll(pf, 2, tmo);
		if (n < 0 && errno != EINTR) {
			e = errno;
			rc = -1;
			break;
		}
		if (n > 0 && wfd >= 0 && pf[1].revents) {
			ssize_t k = write(wfd, data + off, len - off);
			if (k > 0)
				off += (size_t)k;
			/* EPIPE (SIGPIPE is ignored here): the hook does not read */
			if ((k > 0 && off == len) || (k < 0 && errno != EAGAIN && errno != EINTR)) {
				close(wfd);
				wfd = -1;
			}
		}
	}
	if (rc != 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, status, 0) < 0 && errno == EINTR)
			;
	}
	if (wfd >= 0)
		close(wfd);
	if (pidfd >= 0)
		close(pidfd);
	errno = e;
	return rc;
}

static int hook_run(struct ex *ex, const struct rts_value *v, const char *label, char **env);

static int strlist_equal(char **a, char **b)
{
	if (a == NULL || b == NULL)
		return 0;
	size_t i = 0;
	for (; a[i] != NULL && b[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return a[i] == NULL && b[i] == NULL;
}

int op_hook(struct ex *ex, const struct rts_value *v)
{
	const char *label = v[0].str;
	/* a hook given the process' environment (a startContainer hook without
	 * one of its own) gets it as the process does: with DEFAULT_HOME's HOME */
	char **env = v[3].strs;
	if (strlist_equal(v[3].strs, ex->exec_env) && env_with_home(ex, v[3].strs, &env) < 0)
		return ex_fail(ex, ENOMEM, "%s: environment", label);
	int r = hook_run(ex, v, label, env);
	env_free(env, v[3].strs);
	return r;
}

static int hook_run(struct ex *ex, const struct rts_value *v, const char *label, char **env)
{
	const char *path = v[1].str;
	uint64_t timeout = v[4].u64;
	int in[2], ep[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return ex_fail(ex, errno, "%s: stdin pipe", label);
	if (pipe2(ep, O_CLOEXEC) < 0) {
		int e = errno;
		close(in[0]);
		close(in[1]);
		return ex_fail(ex, e, "%s: pipe", label);
	}
	/* a hook that does not read its stdin must not kill us with SIGPIPE */
	struct sigaction ign, old;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	if (sigaction(SIGPIPE, &ign, &old) < 0) {
		int e = errno;
		close(in[0]);
		close(in[1]);
		close(ep[0]);
		close(ep[1]);
		return ex_fail(ex, e, "%s: sigaction", label);
	}
	/* timeouts beyond ~68 years are no timeout */
	long long deadline = timeout && timeout <= INT_MAX ? mono_ms() + (long long)timeout * 1000 : 0;
	pid_t pid = fork();
	if (pid == 0)
		hook_child(in[0], ep[1], &old, path, v[2].strs, env);
	int fe = errno;
	close(in[0]);
	close(ep[1]);
	if (pid < 0) {
		close(in[1]);
		close(ep[0]);
		sigaction(SIGPIPE, &old, NULL);
		return ex_fail(ex, fe, "%s: fork", label);
	}
	int status = 0;
	int r = hook_wait(pid, in[1], ex->state, ex->state_len, deadline, &status);
	int we = errno;
	sigaction(SIGPIPE, &old, NULL);
	int cerr = 0;
	ssize_t n;
	do
		n = read(ep[0], &cerr, sizeof(cerr));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (r < 0)
		return ex_fail(ex, we, "%s: wait", label);
	if (r > 0)
		return ex_fail_msg(ex, "%s: timed out after %llus", label,
				   (unsigned long long)timeout);
	if (n == (ssize_t)sizeof(cerr))
		return ex_fail(ex, cerr, "%s", label);
	if (WIFSIGNALED(status)) {
		/* runc's wording too ("error running hook: signal: bad system call"),
		 * which tools and runc's tests look for */
		char name[64];
		snprintf(name, sizeof(name), "%s", strsignal(WTERMSIG(status)));
		if (name[0] >= 'A' && name[0] <= 'Z')
			name[0] = (char)(name[0] - 'A' + 'a');
		return ex_fail_msg(ex, "%s: killed by signal %d (error running hook: signal: %s)",
				   label, WTERMSIG(status), name);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return ex_fail_msg(ex, "%s: exit status %d", label, WEXITSTATUS(status));
	return 0;
}

/* ---- op handlers (the dispatch table in main.c) ---- */

OP_RUN(winsize)
{
	const struct rts_value *v = op->v;
	return op_winsize(ex, v[0].u64, v[1].u64);
}

OP_RUN(hook)
{
	return op_hook(ex, op->v);
}
