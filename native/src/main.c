/* runc-ts-init: the C executor of runc-ts (see native/PROTOCOL.md).
 *
 *   runc-ts-init [SOCKFD]     run the plan received on SOCKFD (default 3)
 *   runc-ts-init --dump FILE  print the canonical dump of a PLAN frame file
 */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern char **environ;

int ex_fail(struct ex *ex, int e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ex->detail, sizeof(ex->detail), fmt, ap);
	va_end(ap);
	ex->err = e ? e : EIO;
	return -1;
}

int ex_fail_msg(struct ex *ex, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ex->detail, sizeof(ex->detail), fmt, ap);
	va_end(ap);
	ex->err = 0;
	return -1;
}

/* ---- --dump ------------------------------------------------------------- */

static int dump_file(const char *path)
{
	const size_t max = RTS_HDR_LEN + RTS_MAX_PAYLOAD + 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "runc-ts-init: %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "runc-ts-init: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	size_t cap = (st.st_size > 0 && (size_t)st.st_size < max) ? (size_t)st.st_size + 1 : max;
	uint8_t *buf = malloc(cap);
	if (buf == NULL) {
		fprintf(stderr, "runc-ts-init: %s: out of memory\n", path);
		close(fd);
		return 1;
	}
	size_t n = 0;
	for (;;) {
		if (n == cap) {
			if (cap == max)
				break;
			size_t ncap = cap * 2 < max ? cap * 2 : max;
			uint8_t *nb = realloc(buf, ncap);
			if (nb == NULL) {
				fprintf(stderr, "runc-ts-init: %s: out of memory\n", path);
				free(buf);
				close(fd);
				return 1;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "runc-ts-init: %s: %s\n", path, strerror(errno));
			free(buf);
			close(fd);
			return 1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	struct rts_plan plan;
	char err[256];
	if (n >= max) {
		fprintf(stderr, "runc-ts-init: %s: file larger than a frame\n", path);
		free(buf);
		return 1;
	}
	int r = rts_decode_plan_frame(buf, n, &plan, err, sizeof(err));
	free(buf);
	if (r < 0) {
		fprintf(stderr, "runc-ts-init: %s: %s\n", path, err);
		return 1;
	}
	int bad = rts_dump_plan(stdout, &plan) < 0 || fflush(stdout) == EOF;
	rts_plan_free(&plan);
	if (bad) {
		fprintf(stderr, "runc-ts-init: write: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

/* ---- sealed memfd re-exec (CVE-2019-5736) ---------------------------------- */

#define WANT_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Returns only on failure (-1, errno set) or when already sealed (0). */
static int ensure_sealed(char **argv)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0 && (seals & WANT_SEALS) == WANT_SEALS) {
		close(fd);
		return 0;
	}
	int mfd = memfd_create("runc-ts-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL)
		mfd = memfd_create("runc-ts-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		goto fail;
	char buf[65536];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		for (ssize_t o = 0; o < r;) {
			ssize_t w = write(mfd, buf + o, (size_t)(r - o));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				goto fail;
			o += w;
		}
	}
	if (fcntl(mfd, F_ADD_SEALS, WANT_SEALS) < 0)
		goto fail;
	close(fd);
	fd = -1;
	execveat(mfd, "", argv, environ, AT_EMPTY_PATH);
fail: {
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (mfd >= 0)
		close(mfd);
	errno = e;
	return -1;
}
}

/* ---- running the plan -------------------------------------------------------- */

static void report(struct ex *ex, uint32_t index, uint16_t opcode)
{
	if (ex->sock >= 0) {
		rts_send_error(ex->sock, index, opcode, ex->err, ex->detail);
	} else {
		char name[32];
		snprintf(name, sizeof(name), "%s", rts_opname(opcode));
		for (char *p = name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (ex->err == 0) /* the detail is the whole message */
			fprintf(stderr, "runc-ts-init: %s\n", ex->detail);
		else
			fprintf(stderr, "runc-ts-init: %s %s: %s\n", name, ex->detail,
				strerror(ex->err));
	}
}

/* Opcode -> handler: every op of RTS_FOR_EACH_OP (protocol.gen.h) has its
 * run_<op> in an ops_*.c file. The decoder already checked each op's values
 * against its signature (rts_opdefs), which the handlers rely on. */
typedef int (*op_handler)(struct ex *ex, const struct rts_op *op, uint32_t index);

#define OP_HANDLER_ENTRY(NAME, name) [OP_##NAME] = run_##name,
static const op_handler op_handlers[OP_MAX + 1] = {RTS_FOR_EACH_OP(OP_HANDLER_ENTRY)};
#undef OP_HANDLER_ENTRY

static int run_op(struct ex *ex, const struct rts_op *op, uint32_t index)
{
	const struct rts_opdef *def = rts_opdef(op->code);
	if (def == NULL || op_handlers[op->code] == NULL)
		return ex_fail(ex, EINVAL, "unknown opcode %u", op->code);
	if (op->nvalues != def->nkinds)
		return ex_fail(ex, EINVAL, "%u values, expected %u", op->nvalues, def->nkinds);
	return op_handlers[op->code](ex, op, index);
}

/* Connects the socket (a host path, value `vi`) of the first `code` op with
 * a non-empty path while the host is still reachable: later ops may leave
 * its filesystem. A failure is reported for that op before any op runs. */
static int preconnect(struct ex *ex, const struct rts_plan *plan, uint16_t code, unsigned vi,
		      int *sock, uint32_t *index, const char *prefix)
{
	for (uint32_t i = 0; i < plan->nops; i++) {
		if (plan->ops[i].code != code || plan->ops[i].v[vi].len == 0)
			continue; /* CONSOLE "" uses the FORK 2 channel */
		const char *path = plan->ops[i].v[vi].str;
		*index = i;
		if (console_connect(path, sock) < 0) {
			ex_fail(ex, errno, "%s%s", prefix, path);
			report(ex, i, code);
			return -1;
		}
		break;
	}
	return 0;
}

static int run_plan(struct ex *ex, const struct rts_plan *plan)
{
	if (preconnect(ex, plan, OP_CONSOLE, 0, &ex->console_sock, &ex->console_index, "") < 0 ||
	    preconnect(ex, plan, OP_SECCOMP_NOTIFY, 2, &ex->notify_sock, &ex->notify_index,
		       "failed to connect with seccomp agent at ") < 0 ||
	    preconnect(ex, plan, OP_PIDFD_SOCKET, 0, &ex->pidfd_sock, &ex->pidfd_index, "") < 0)
		return 1;
	/* NETDEV_MOVE: a helper keeps the runtime's namespaces and credentials
	 * (rtnetlink checks the caller's capabilities too, not only the socket's) */
	if (netdev_helper_start(ex, plan) < 0) {
		report(ex, ex->netdev_last, OP_NETDEV_MOVE);
		return 1;
	}
	/* while still in the runtime's namespaces and credentials (ops_idmap.c) */
	if (idmap_helper_start(ex, plan) < 0) {
		report(ex, ex->idmap_last, OP_MOUNT_IDMAPPED);
		return 1;
	}
	for (uint32_t i = 0; i < plan->nops; i++)
		if (plan->ops[i].code == OP_EXEC)
			ex->exec_env = plan->ops[i].v[1].strs;
	for (uint32_t i = 0; i < plan->nops; i++) {
		if (run_op(ex, &plan->ops[i], i) < 0) {
			/* devices moved in would die with the namespace: back first */
			netdev_undo(ex, plan);
			if (!ex->quiet)
				report(ex, i, plan->ops[i].code);
			return ex->exit_code;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--dump") == 0) {
		if (argc != 3) {
			fprintf(stderr, "usage: runc-ts-init --dump FILE\n");
			return 2;
		}
		return dump_file(argv[1 + 1]);
	}

	if (argc >= 2 && strcmp(argv[1], "--console-relay") == 0) {
		char *end;
		errno = 0;
		long pid = argc == 3 ? strtol(argv[2], &end, 10) : 0;
		if (argc != 3 || errno || end == argv[2] || *end || pid <= 0 || pid > INT_MAX) {
			fprintf(stderr, "usage: runc-ts-init --console-relay PID (pty master on fd 3)\n");
			return 2;
		}
		if (!isatty(3)) {
			fprintf(stderr, "runc-ts-init: --console-relay: fd 3 is not a pty master: %s\n",
				strerror(errno));
			return 1;
		}
		console_relay(3, (pid_t)pid);
	}

	int sock = 3;
	if (argc >= 2) {
		char *end;
		errno = 0;
		long v = strtol(argv[1], &end, 10);
		if (errno || end == argv[1] || *end || v < 0 || v > INT_MAX) {
			fprintf(stderr, "usage: runc-ts-init [SOCKFD] | --dump FILE | --console-relay PID\n");
			return 2;
		}
		sock = (int)v;
	}
	if (fcntl(sock, F_GETFD) < 0) {
		fprintf(stderr, "runc-ts-init: socket fd %d: %s\n", sock, strerror(errno));
		return 1;
	}

	if (ensure_sealed(argv) < 0) {
		char d[256];
		snprintf(d, sizeof(d), "re-exec from a sealed memfd: %s", strerror(errno));
		rts_send_error(sock, 0xffffffffu, 0, errno, d);
		return 1;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		rts_send_error(sock, 0xffffffffu, 0, errno, "prctl(PR_SET_DUMPABLE, 0)");
		return 1;
	}
	/* the socket must never reach the container */
	int fl = fcntl(sock, F_GETFD);
	if (fl < 0 || fcntl(sock, F_SETFD, fl | FD_CLOEXEC) < 0) {
		rts_send_error(sock, 0xffffffffu, 0, errno, "set FD_CLOEXEC on the socket");
		return 1;
	}

	uint16_t type;
	uint8_t *payload;
	uint32_t len;
	char err[256];
	int r = rts_read_frame(sock, &type, &payload, &len, err, sizeof(err));
	if (r == 0)
		return 1; /* the parent went away */
	if (r < 0) {
		rts_send_error(sock, 0xffffffffu, 0, EINVAL, err);
		return 1;
	}
	if (type != RTS_MSG_PLAN) {
		free(payload);
		snprintf(err, sizeof(err), "first message has type %u, expected PLAN (%u)", type,
			 RTS_MSG_PLAN);
		rts_send_error(sock, 0xffffffffu, 0, EINVAL, err);
		return 1;
	}
	struct rts_plan plan;
	r = rts_decode_plan(payload, len, &plan, err, sizeof(err));
	free(payload);
	if (r < 0) {
		rts_send_error(sock, 0xffffffffu, 0, EINVAL, err);
		return 1;
	}

	struct ex ex;
	memset(&ex, 0, sizeof(ex));
	ex.sock = sock;
	ex.rootfd = -1;
	ex.fifofd = -1;
	ex.fifo_proc = -1;
	ex.console_sock = -1;
	ex.console_index = UINT32_MAX;
	ex.console_chan = -1;
	ex.notify_sock = -1;
	ex.notify_index = UINT32_MAX;
	ex.pidfd_sock = -1;
	ex.pidfd_index = UINT32_MAX;
	ex.idmap_sock = -1;
	ex.idmap_last = UINT32_MAX;
	ex.netdev_sock = -1;
	ex.netdev_moved = 0;
	ex.netdev_last = UINT32_MAX;
	ex.cap_last = read_cap_last_cap(1);
	ex.exit_code = 1;
	int rc = run_plan(&ex, &plan);
	rts_plan_free(&plan);
	free(ex.resolved);
	free(ex.home);
	free(ex.state);
	free(ex.notify_state);
	if (ex.notify_sock >= 0)
		close(ex.notify_sock);
	if (ex.pidfd_sock >= 0)
		close(ex.pidfd_sock);
	if (ex.idmap_sock >= 0)
		close(ex.idmap_sock);
	if (ex.netdev_sock >= 0)
		close(ex.netdev_sock);
	return rc;
}
