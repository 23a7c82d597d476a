/* recvpidfd: a --pidfd-socket receiver for the integration tests.
 *
 *   recvpidfd [-t SECONDS] SOCKET
 *
 * Listens on SOCKET (a new unix socket file), takes one connection, removes
 * the file, and receives one message with a file descriptor (SCM_RIGHTS).
 * It checks that the descriptor is a pidfd (its fdinfo has a "Pid:" line)
 * and prints one line:
 *
 *   data=<message bytes> pid=<Pid: in our pid namespace> eof=<yes|no>
 *
 * eof says whether the sender closed the connection after the message (it
 * waits up to SECONDS for that). Then it reads commands from stdin, one a
 * line, and answers each on stdout:
 *
 *   signal N   pidfd_send_signal(pidfd, N)  -> "sent N" or "error <reason>"
 *   wait       until the process has exited -> "exited" or "error <reason>"
 *
 * It exits 0 at the end of stdin, 1 (message on stderr) when no pidfd
 * arrives within SECONDS (default 30) or anything else fails. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static const char *prog = "recvpidfd";

static int fail(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	return 1;
}

/* Waits until fd is readable, for at most ms milliseconds. 1, 0 on timeout, -1. */
static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r;
}

/* The "Pid:" value of fd's fdinfo, or -1 when it has none (not a pidfd). */
static long fdinfo_pid(int fd)
{
	char path[64], text[2048];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	ssize_t n = read(f, text, sizeof(text) - 1);
	close(f);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	const char *line = strstr(text, "\nPid:");
	if (line == NULL)
		return -1;
	return strtol(line + 5, NULL, 10);
}

static int receive(int conn, char *data, size_t size, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {.iov_base = data, .iov_len = size - 1};
	struct msghdr msg;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	ssize_t n;
	do
		n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	data[n] = '\0';
	*fd = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (*fd < 0) {
		errno = n == 0 ? EPIPE : EBADMSG;
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int seconds = 30;
	int opt;
	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt == 't' && atoi(optarg) > 0) {
			seconds = atoi(optarg);
		} else {
			fprintf(stderr, "usage: %s [-t SECONDS] SOCKET\n", prog);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: %s [-t SECONDS] SOCKET\n", prog);
		return 2;
	}
	const char *path = argv[optind];
	signal(SIGPIPE, SIG_IGN);

	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return fail(path);
	}
	strcpy(sa.sun_path, path);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		return fail("socket");
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0)
		return fail(path);
	int r = readable(ls, seconds * 1000);
	if (r <= 0) {
		if (r == 0)
			errno = ETIMEDOUT;
		unlink(path);
		return fail("accept");
	}
	int conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	int e = errno;
	close(ls);
	unlink(path);
	if (conn < 0) {
		errno = e;
		return fail("accept");
	}
	char data[256];
	int pidfd;
	if (readable(conn, seconds * 1000) <= 0 || receive(conn, data, sizeof(data), &pidfd) < 0)
		return fail("receive the pidfd");
	long pid = fdinfo_pid(pidfd);
	if (pid < 0) {
		fprintf(stderr, "%s: the fd received is not a pidfd (no Pid: in its fdinfo)\n",
			prog);
		return 1;
	}
	char rest;
	int eof = readable(conn, seconds * 1000) == 1 && read(conn, &rest, 1) == 0;
	close(conn);
	printf("data=%s pid=%ld eof=%s\n", data, pid, eof ? "yes" : "no");
	fflush(stdout);

	char line[128];
	while (fgets(line, sizeof(line), stdin) != NULL) {
		int sig;
		if (sscanf(line, "signal %d", &sig) == 1) {
			if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
				printf("error %s\n", strerror(errno));
			else
				printf("sent %d\n", sig);
		} else if (strcmp(line, "wait\n") == 0) {
			/* a pidfd polls readable once its process has exited */
			int w = readable(pidfd, seconds * 1000);
			if (w == 1)
				printf("exited\n");
			else
				printf("error %s\n", w == 0 ? "timed out" : strerror(errno));
		} else {
			printf("error unknown command\n");
		}
		fflush(stdout);
	}
	close(pidfd);
	return 0;
}
