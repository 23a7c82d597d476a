/* recvtty: the console-socket receiver with the command line of runc's Go
 * test helper of that name, written for running runc's bats suite against
 * runc-ts (scripts/runc-suite). Written from its documented usage:
 *   recvtty [--no-stdin] [--pid-file FILE] [--mode null|single] SOCKET
 * null: accept connections until killed, discard every pty's output.
 * single: take one pty; copy it to stdout (and stdin to it unless
 * --no-stdin) until it closes. It binds the socket before writing the pid
 * file, and starts fast: tests do not wait for it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int receive_fd(int conn)
{
	char data[256];
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control)};
	ssize_t n;
	do
		n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int fd;
			memcpy(&fd, CMSG_DATA(c), sizeof(fd));
			return fd;
		}
	}
	errno = EBADMSG;
	return -1;
}

static int write_all(int fd, const char *buf, ssize_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, (size_t)len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= w;
	}
	return 0;
}

/* Copies until the pty closes (EIO once every slave fd is gone). */
static void relay(int master, int with_stdin)
{
	char buf[4096];
	struct pollfd fds[2] = {{.fd = master, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
	for (;;) {
		int n = poll(fds, with_stdin ? 2 : 1, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		if (fds[0].revents) {
			ssize_t r = read(master, buf, sizeof(buf));
			if (r <= 0)
				return;
			if (write_all(1, buf, r) < 0)
				return;
		}
		if (with_stdin && fds[1].revents) {
			ssize_t r = read(0, buf, sizeof(buf));
			if (r <= 0)
				with_stdin = 0;
			else if (write_all(master, buf, r) < 0)
				return;
		}
	}
}

static void drain(int master)
{
	char buf[4096];
	for (;;) {
		ssize_t r = read(master, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
	}
	close(master);
}

int main(int argc, char **argv)
{
	const char *pid_file = NULL, *mode = "single", *path = NULL;
	int with_stdin = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-stdin") == 0)
			with_stdin = 0;
		else if (strcmp(argv[i], "--pid-file") == 0 && i + 1 < argc)
			pid_file = argv[++i];
		else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
			mode = argv[++i];
		else if (argv[i][0] != '-' && path == NULL)
			path = argv[i];
		else {
			fprintf(stderr, "recvtty: unexpected argument %s\n", argv[i]);
			return 2;
		}
	}
	if (path == NULL || (strcmp(mode, "null") != 0 && strcmp(mode, "single") != 0)) {
		fprintf(stderr, "usage: recvtty [--no-stdin] [--pid-file FILE] [--mode null|single] SOCKET\n");
		return 2;
	}
	/* hold none of the caller's fds but stdio (bats waits for its pipes) */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	signal(SIGCHLD, SIG_IGN); /* null mode drains in children */

	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "recvtty: socket path too long\n");
		return 1;
	}
	strcpy(addr.sun_path, path);
	int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (server < 0 || bind(server, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(server, 16) < 0) {
		perror("recvtty: socket");
		return 1;
	}
	if (pid_file != NULL) {
		FILE *f = fopen(pid_file, "w");
		if (f == NULL || fprintf(f, "%d", (int)getpid()) < 0 || fclose(f) != 0) {
			perror("recvtty: pid file");
			return 1;
		}
	}
	for (;;) {
		int conn = accept4(server, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EINTR)
				continue;
			perror("recvtty: accept");
			return 1;
		}
		int master = receive_fd(conn);
		close(conn);
		if (master < 0) {
			perror("recvtty: receive");
			continue;
		}
		if (strcmp(mode, "single") == 0) {
			relay(master, with_stdin);
			return 0;
		}
		pid_t child = fork();
		if (child == 0) {
			close(server);
			drain(master);
			_exit(0);
		}
		close(master);
	}
}
