/* A small seccomp notify agent for tests: the integration tests' and, with
 * runc's command line, the one runc's bats suite (seccomp-notify.bats) runs.
 *
 *   seccompagent -socketfile=PATH [-pid-file=PATH] [-log=PATH]
 *
 * It listens on the unix socket PATH. Each connection carries one container
 * process state (runtime-spec, JSON) with the seccomp listener fd named
 * "seccompFd" in its "fds" (SCM_RIGHTS). Then it answers notifications:
 *   mkdir(path, mode)            creates "<path>-<metadata>" in the process'
 *                                root (absolute path) or cwd, and succeeds
 *   chmod, fchmod, fchmodat(2)   fail with ENOMEDIUM
 *   anything else                continues (the kernel runs the syscall)
 * With -log, every state received and every notification answered is
 * appended to that file, one line each. The pid file is written once the
 * socket listens. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

#define MAX_POLL 256
#define MAX_STATE (1u << 20)

enum kind { LISTENER, CONNECTION, NOTIFY };

struct slot {
	int fd;
	enum kind kind;
	char *data; /* CONNECTION: the state received so far */
	size_t len;
	int seccomp_fd;   /* CONNECTION: fd received with it, -1 until then */
	char meta[256];   /* NOTIFY: the metadata of its state */
};

static struct slot slots[MAX_POLL];
static int nslots;
static FILE *log_file;
static const char *socket_path;
static volatile sig_atomic_t stop;

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	if (log_file == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(log_file, fmt, ap);
	va_end(ap);
	fputc('\n', log_file);
	fflush(log_file);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int add_slot(int fd, enum kind kind)
{
	if (nslots == MAX_POLL) {
		close(fd);
		return -1;
	}
	memset(&slots[nslots], 0, sizeof(slots[nslots]));
	slots[nslots].fd = fd;
	slots[nslots].kind = kind;
	slots[nslots].seccomp_fd = -1;
	nslots++;
	return nslots - 1;
}

static void drop_slot(int i)
{
	close(slots[i].fd);
	if (slots[i].seccomp_fd >= 0)
		close(slots[i].seccomp_fd);
	free(slots[i].data);
	slots[i] = slots[nslots - 1];
	nslots--;
}

/* The JSON string value of "key" at the top of the text (no nesting
 * awareness: keys are unique enough in a container process state). */
static int json_string(const char *json, const char *key, char *out, size_t outlen)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = strstr(json, pat);
	if (p == NULL)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p != '"')
		return -1;
	p++;
	size_t n = 0;
	while (*p && *p != '"' && n + 1 < outlen) {
		if (*p == '\\' && p[1])
			p++;
		out[n++] = *p++;
	}
	out[n] = '\0';
	return *p == '"' ? 0 : -1;
}

/* Index of "seccompFd" in the "fds" array, or -1. */
static int seccomp_fd_index(const char *json)
{
	const char *p = strstr(json, "\"fds\"");
	if (p == NULL || (p = strchr(p, '[')) == NULL)
		return -1;
	const char *end = strchr(p, ']');
	if (end == NULL)
		return -1;
	int index = 0;
	for (const char *q = p + 1; q < end; q++) {
		if (*q == ',')
			index++;
		if (strncmp(q, "\"seccompFd\"", 11) == 0)
			return index;
	}
	return -1;
}

/* Whether text holds one whole JSON object (braces balanced outside strings). */
static int json_complete(const char *text, size_t len)
{
	int depth = 0, in_string = 0, started = 0;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
			continue;
		}
		if (c == '"')
			in_string = 1;
		else if (c == '{') {
			depth++;
			started = 1;
		} else if (c == '}' && --depth == 0 && started)
			return 1;
	}
	return 0;
}

/* Receives on a connection; once the whole state is there (a complete JSON
 * object, or EOF: runc 1.1 keeps its end open until it exits) hands the
 * listener over to a NOTIFY slot. */
static void on_connection(int i)
{
	struct slot *s = &slots[i];
	char buf[65536];
	union {
		char b[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr msg;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.b;
	msg.msg_controllen = sizeof(cm.b);
	ssize_t n = recvmsg(s->fd, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0 && errno == EINTR)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int fds[8];
		memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)count);
		logline("fds %d", count);
		for (int k = 0; k < count; k++) {
			if (s->seccomp_fd < 0 && k == 0)
				s->seccomp_fd = fds[k]; /* resolved against "fds" at EOF */
			else
				close(fds[k]);
		}
	}
	if (n > 0) {
		if (s->len + (size_t)n > MAX_STATE) {
			logline("error state larger than %u bytes", MAX_STATE);
			drop_slot(i);
			return;
		}
		char *nd = realloc(s->data, s->len + (size_t)n + 1);
		if (nd == NULL) {
			drop_slot(i);
			return;
		}
		s->data = nd;
		memcpy(s->data + s->len, buf, (size_t)n);
		s->len += (size_t)n;
		s->data[s->len] = '\0';
		if (s->seccomp_fd < 0 || !json_complete(s->data, s->len))
			return;
	}
	/* the whole state is here (or EOF, or an error) */
	const char *json = s->data ? s->data : "";
	logline("state %s", json);
	int index = seccomp_fd_index(json);
	if (index != 0 || s->seccomp_fd < 0) {
		logline("error no seccompFd (index %d, fd %d)", index, s->seccomp_fd);
		drop_slot(i);
		return;
	}
	char meta[256] = "";
	if (json_string(json, "metadata", meta, sizeof(meta)) == 0) {
		/* only a file name suffix: no way out of the directory */
		if (strchr(meta, '/') || strcmp(meta, "..") == 0 || strcmp(meta, ".") == 0)
			snprintf(meta, sizeof(meta), "agent-generated-suffix");
	}
	int fd = s->seccomp_fd;
	s->seccomp_fd = -1;
	drop_slot(i);
	int k = add_slot(fd, NOTIFY);
	if (k >= 0)
		snprintf(slots[k].meta, sizeof(slots[k].meta), "%s", meta);
}

static int read_path(pid_t pid, uint64_t addr, char *out, size_t outlen)
{
	char mem[64];
	snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)pid);
	int fd = open(mem, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = pread(fd, out, outlen - 1, (off_t)addr);
	int e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	out[n] = '\0';
	if (strnlen(out, (size_t)n) == (size_t)n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* mkdir "<path>-<meta>" as the process would see it, never outside its root. */
static int mkdir_for(pid_t pid, const char *path, mode_t mode, const char *meta)
{
	char base[64], name[4400];
	snprintf(base, sizeof(base), "/proc/%d/%s", (int)pid, path[0] == '/' ? "root" : "cwd");
	int n = snprintf(name, sizeof(name), "%s-%s", path, meta);
	if (n < 0 || (size_t)n >= sizeof(name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int dir = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	/* split off the last component and resolve its parent inside the root */
	char *slash = strrchr(name, '/');
	const char *leaf = name;
	int parent = dir;
	if (slash) {
		*slash = '\0';
		leaf = slash + 1;
		struct open_how how;
		memset(&how, 0, sizeof(how));
		how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
		how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
		parent = (int)syscall(SYS_openat2, dir, name[0] ? name : "/", &how, sizeof(how));
		int e = errno;
		close(dir);
		if (parent < 0) {
			errno = e;
			return -1;
		}
	}
	int r = mkdirat(parent, leaf, mode);
	int e = errno;
	close(parent);
	errno = e;
	return r;
}

static void on_notify(int i)
{
	struct slot *s = &slots[i];
	struct seccomp_notif req;
	memset(&req, 0, sizeof(req));
	if (ioctl(s->fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
		if (errno != EINTR && errno != ENOENT)
			drop_slot(i);
		return;
	}
	struct seccomp_notif_resp resp;
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	const char *what = "continue";
	int nr = req.data.nr;
	if (nr == SYS_mkdir) {
		char path[4097];
		if (read_path((pid_t)req.pid, req.data.args[0], path, sizeof(path)) < 0 ||
		    ioctl(s->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) < 0) {
			resp.error = -ENOSYS;
			resp.val = -1;
			what = "mkdir: cannot read its path";
		} else if (mkdir_for((pid_t)req.pid, path, (mode_t)req.data.args[1], s->meta) < 0) {
			resp.error = -errno;
			resp.val = -1;
			what = "mkdir failed";
		} else {
			what = "mkdir done";
		}
		logline("notify mkdir %s pid %u: %s", path, req.pid, what);
	} else if (nr == SYS_chmod || nr == SYS_fchmod || nr == SYS_fchmodat ||
		   nr == SYS_fchmodat2) {
		resp.error = -ENOMEDIUM;
		resp.val = -1;
		logline("notify chmod (%d) pid %u: ENOMEDIUM", nr, req.pid);
	} else {
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		logline("notify syscall %d pid %u: continue", nr, req.pid);
	}
	if (ioctl(s->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
		logline("error NOTIF_SEND: %s", strerror(errno));
}

static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
	const char *a = argv[*i];
	while (*a == '-')
		a++;
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

int main(int argc, char **argv)
{
	const char *pidfile = NULL, *logpath = NULL;
	socket_path = "/run/seccomp-agent.socket";
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = flag_value(argc, argv, &i, "socketfile")))
			socket_path = v;
		else if ((v = flag_value(argc, argv, &i, "pid-file")))
			pidfile = v;
		else if ((v = flag_value(argc, argv, &i, "log")))
			logpath = v;
		else {
			fprintf(stderr,
				"usage: seccompagent [-socketfile=PATH] [-pid-file=PATH] [-log=PATH]\n");
			return 2;
		}
	}
	if (logpath && (log_file = fopen(logpath, "ae")) == NULL) {
		perror(logpath);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	umask(0);

	if (unlink(socket_path) < 0 && errno != ENOENT) {
		perror(socket_path);
		return 1;
	}
	struct sockaddr_un addr;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(socket_path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "%s: path too long\n", socket_path);
		return 1;
	}
	strcpy(addr.sun_path, socket_path);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(ls, 64) < 0) {
		perror(socket_path);
		return 1;
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "we");
		if (f == NULL || fprintf(f, "%d", (int)getpid()) < 0 || fclose(f) != 0) {
			perror(pidfile);
			return 1;
		}
	}
	add_slot(ls, LISTENER);
	while (!stop) {
		struct pollfd pfd[MAX_POLL];
		for (int i = 0; i < nslots; i++)
			pfd[i] = (struct pollfd){.fd = slots[i].fd, .events = POLLIN};
		int count = nslots;
		if (poll(pfd, (nfds_t)count, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			break;
		}
		/* from the end: drop_slot moves the last slot into the freed one */
		for (int i = count - 1; i >= 0; i--) {
			if (pfd[i].revents == 0)
				continue;
			if (slots[i].kind == LISTENER) {
				int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
				if (c >= 0)
					add_slot(c, CONNECTION);
			} else if (slots[i].kind == CONNECTION) {
				on_connection(i);
			} else if (pfd[i].revents & POLLIN) {
				on_notify(i);
			} else {
				drop_slot(i); /* POLLHUP: no process uses the filter any more */
			}
		}
	}
	unlink(socket_path);
	return 0;
}
