/* FORK mode 2's console proxy (PROTOCOL.md, "Console proxy"): the parent
 * side receives the pty master from the child's CONSOLE "" op, copies its
 * stdin to the master and the master to its stdout, and exits with the
 * child's status. `runc-ts-init --console-relay PID` does the same copying
 * for a pty master it inherits (a restored container's, which CRIU hands to
 * the runtime) until PID, not its child, has exited. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static volatile sig_atomic_t got_winch, got_term;

static void on_winch(int sig)
{
	(void)sig;
	got_winch = 1;
}

static void on_term(int sig) { got_term = sig; }

static void warn(const char *what)
{
	fprintf(stderr, "runc-ts-init: console proxy: %s: %s\n", what, strerror(errno));
}

static void clear_onlcr(int master)
{
	struct termios t;
	if (tcgetattr(master, &t) < 0) {
		warn("tcgetattr of the pty");
		return;
	}
	t.c_oflag &= ~(tcflag_t)ONLCR;
	if (tcsetattr(master, TCSANOW, &t) < 0)
		warn("clear ONLCR on the pty");
}

/* The pty master from the channel: its fd, -2 at EOF (the child ended
 * before CONSOLE), -1 on error. The data (the pty name) is ignored. */
static int recv_master(int chan)
{
	char name[128];
	int fd;
	ssize_t n = recv_with_fd(chan, name, sizeof(name), &fd);
	if (n < 0)
		return -1;
	if (fd < 0) {
		if (n == 0)
			return -2;
		errno = EPROTO;
		return -1;
	}
	return fd;
}

static void copy_winsize(int master)
{
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0 && (ws.ws_row || ws.ws_col))
		(void)ioctl(master, TIOCSWINSZ, &ws);
}

/* Writes all of p to stdout; returns -1 (stop writing) when it is gone. */
static int out_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(1, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = {.fd = 1, .events = POLLOUT};
			if (poll(&pf, 1, -1) < 0 && errno != EINTR)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1; /* EPIPE (SIGPIPE is ignored) or worse */
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads what the master has now (non-blocking) into stdout. Returns 1 while
 * the master is open, 0 at EIO/EOF (no slave left). */
static int master_to_out(int master, int *out_ok)
{
	char buf[16384];
	ssize_t n = read(master, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (n <= 0)
		return 0; /* EIO: every slave fd is closed */
	if (*out_ok && out_all(buf, (size_t)n) < 0)
		*out_ok = 0; /* keep reading so the container never blocks */
	return 1;
}

struct proxy {
	int master, pidfd;
	pid_t child;
	int status, reaped;
	/* child is not ours to wait for: its pidfd turning readable is its end */
	int foreign;
};

/* Reaps the child if it has exited. */
static void check_child(struct proxy *px)
{
	if (px->reaped)
		return;
	if (px->foreign) {
		struct pollfd pf = {.fd = px->pidfd, .events = POLLIN};
		if (px->pidfd < 0 || poll(&pf, 1, 0) != 0)
			px->reaped = 1; /* exited (or poll failed: stop rather than spin) */
		return;
	}
	pid_t w = waitpid(px->child, &px->status, WNOHANG);
	if (w == px->child)
		px->reaped = 1;
	else if (w < 0 && errno == ECHILD) {
		px->status = 255 << 8; /* exit status 255: not ours to wait for */
		px->reaped = 1;
	}
}

/* Dies of the signal we were sent (the terminal is restored by then). */
__attribute__((noreturn)) static void die_of(int sig)
{
	signal(sig, SIG_DFL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	raise(sig);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	_exit(128 + sig);
}

static void proxy_loop(struct proxy *px, const sigset_t *unblocked)
{
	char in[4096];
	size_t ioff = 0, ilen = 0;
	int in_open = 1, master_open = 1, out_ok = 1;
	int fl = fcntl(px->master, F_GETFL);
	if (fl < 0 || fcntl(px->master, F_SETFL, fl | O_NONBLOCK) < 0) {
		warn("master O_NONBLOCK");
		return;
	}
	for (;;) {
		if (got_term)
			return;
		if (got_winch) {
			got_winch = 0;
			if (isatty(0))
				copy_winsize(px->master);
		}
		check_child(px);
		if (px->reaped) {
			/* the container exited: what it wrote is still in the master */
			while (master_open && master_to_out(px->master, &out_ok)) {
				struct pollfd pf = {.fd = px->master, .events = POLLIN};
				if (poll(&pf, 1, 0) <= 0)
					break; /* a left-over slave holder with nothing to say */
			}
			return;
		}
		struct pollfd pf[3] = {
			{.fd = in_open && ilen == 0 ? 0 : -1, .events = POLLIN},
			{.fd = master_open ? px->master : -1,
			 .events = (short)(POLLIN | (ilen ? POLLOUT : 0))},
			{.fd = px->pidfd, .events = POLLIN},
		};
		struct timespec slice = {0, 50 * 1000 * 1000}; /* without a pidfd */
		int n = ppoll(pf, 3, px->pidfd < 0 ? &slice : NULL, unblocked);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			warn("poll");
			return;
		}
		if (pf[0].revents) {
			ssize_t r = read(0, in, sizeof(in));
			if (r > 0) {
				ioff = 0;
				ilen = (size_t)r;
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				in_open = 0; /* EOF on stdin stops only this direction */
			}
		}
		if (ilen && master_open) {
			ssize_t w = write(px->master, in + ioff, ilen - ioff);
			if (w > 0) {
				ioff += (size_t)w;
				if (ioff == ilen)
					ioff = ilen = 0;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				ioff = ilen = 0;
				in_open = 0;
			}
		}
		if (master_open && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
			master_open = master_to_out(px->master, &out_ok);
		if (!master_open) {
			ioff = ilen = 0;
			in_open = 0; /* nothing left to type into */
		}
	}
}

/* Blocks the signals the proxy handles everywhere but in ppoll (which gets
 * `unblocked`) and installs their handlers. */
static void proxy_signals(sigset_t *unblocked)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	/* handlers run only inside ppoll (blocked everywhere else), no SA_RESTART */
	if (sigprocmask(SIG_BLOCK, &block, unblocked) < 0)
		warn("sigprocmask");
	sigdelset(unblocked, SIGWINCH);
	sigdelset(unblocked, SIGTERM);
	sigdelset(unblocked, SIGINT);
	sigdelset(unblocked, SIGHUP);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_winch;
	if (sigaction(SIGWINCH, &sa, NULL) < 0)
		warn("sigaction SIGWINCH");
	sa.sa_handler = on_term;
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		warn("sigaction");
	sa.sa_handler = SIG_IGN; /* EPIPE on stdout instead */
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		warn("sigaction SIGPIPE");
}

/* Our terminal in raw mode (saved in *saved; returns 1 then) with its window
 * size on the pty; ONLCR off on the pty when stdout is no terminal. */
static int terminal_setup(int master, struct termios *saved)
{
	int raw = 0;
	if (isatty(0) && tcgetattr(0, saved) == 0) {
		struct termios t = *saved;
		cfmakeraw(&t);
		if (tcsetattr(0, TCSANOW, &t) == 0)
			raw = 1;
		else
			warn("raw mode");
		copy_winsize(master);
	}
	/* Output captured by a pipe or file gets plain \n line ends, as
	 * runc's does: no terminal on our side turns \r\n back into \n. */
	if (!isatty(1))
		clear_onlcr(master);
	return raw;
}

void console_proxy(int chan, pid_t child)
{
	struct proxy px = {.master = -1, .pidfd = -1, .child = child};
	struct termios saved;
	int raw = 0;
	sigset_t unblocked;
	proxy_signals(&unblocked);
	px.pidfd = (int)syscall(SYS_pidfd_open, child, 0);

	/* wait for the master, or for the child to end without sending one */
	for (;;) {
		if (got_term)
			break;
		struct pollfd pf = {.fd = chan, .events = POLLIN};
		int n = ppoll(&pf, 1, NULL, &unblocked);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			warn("poll");
			break;
		}
		px.master = recv_master(chan);
		if (px.master == -1)
			warn("receive the pty master");
		break;
	}
	if (px.master >= 0) {
		raw = terminal_setup(px.master, &saved);
		/* acknowledge: the child's later WINSIZE ops now win */
		if (send(chan, "1", 1, MSG_NOSIGNAL) < 0 && errno != EPIPE && errno != ECONNRESET)
			warn("acknowledge the pty master");
	}
	close(chan);
	if (px.master >= 0) {
		proxy_loop(&px, &unblocked);
		close(px.master);
	}
	if (raw && tcsetattr(0, TCSANOW, &saved) < 0)
		warn("restore the terminal");
	if (px.pidfd >= 0)
		close(px.pidfd);
	/* wait with the handlers live: a signal interrupts waitpid (no SA_RESTART) */
	if (!px.reaped && sigprocmask(SIG_SETMASK, &unblocked, NULL) < 0)
		warn("sigprocmask");
	while (!px.reaped && !got_term) {
		pid_t w = waitpid(child, &px.status, 0);
		if (w == child)
			px.reaped = 1;
		else if (w < 0 && errno != EINTR)
			_exit(255);
	}
	if (got_term)
		die_of(got_term);
	if (WIFSIGNALED(px.status))
		_exit(128 + WTERMSIG(px.status));
	_exit(WEXITSTATUS(px.status));
}

void console_relay(int master, pid_t pid)
{
	struct proxy px = {.master = master, .pidfd = -1, .child = pid, .foreign = 1};
	struct termios saved;
	sigset_t unblocked;
	proxy_signals(&unblocked);
	px.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (px.pidfd < 0 && errno != ESRCH) {
		warn("pidfd_open of the container process");
		_exit(1);
	}
	/* ESRCH: it has exited already; what it wrote is still to be copied */
	int raw = terminal_setup(master, &saved);
	proxy_loop(&px, &unblocked);
	close(master);
	if (raw && tcsetattr(0, TCSANOW, &saved) < 0)
		warn("restore the terminal");
	if (px.pidfd >= 0)
		close(px.pidfd);
	if (got_term)
		die_of(got_term);
	_exit(0);
}
