/* End-to-end tests of MOUNT_IDMAPPED (id-mapped bind mounts), run by
 * `make test` from native/. They need root, build/runc-ts-init, a static
 * /bin/busybox and a kernel with id-mapped tmpfs (6.3+); everything lives on
 * a tmpfs this test mounts and removes. */
#include "protocol.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(cond, ...)                                                                \
	do {                                                                            \
		if (cond) {                                                             \
			passed++;                                                       \
		} else {                                                                \
			failed++;                                                       \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);            \
			fprintf(stderr, __VA_ARGS__);                                   \
			fputc('\n', stderr);                                            \
		}                                                                       \
	} while (0)

static const char *EXE = "build/runc-ts-init";

/* MOUNT_IDMAPPED flags */
#define CLONE_RECURSIVE 1
#define IDMAP_RECURSIVE 2

/* ---- plan builder ---- */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void b_raw(struct buf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		size_t c = b->cap ? b->cap * 2 : 256;
		while (c < b->n + n)
			c *= 2;
		uint8_t *np = realloc(b->p, c);
		if (np == NULL) {
			perror("realloc");
			exit(2);
		}
		b->p = np;
		b->cap = c;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void b_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

struct plan_b {
	struct buf b;
	uint32_t nops;
};

static void p_init(struct plan_b *p)
{
	memset(p, 0, sizeof(*p));
	uint8_t z[4] = {0};
	b_raw(&p->b, z, 4);
}

static void p_op(struct plan_b *p, uint16_t code, uint16_t nv)
{
	uint8_t h[4];
	rts_put16(h, code);
	rts_put16(h + 2, nv);
	b_raw(&p->b, h, 4);
	p->nops++;
	rts_put32(p->b.p, p->nops);
}

static void v_u64(struct plan_b *p, uint64_t v)
{
	uint8_t d[9] = {RTS_U64};
	rts_put64(d + 1, v);
	b_raw(&p->b, d, 9);
}

static void s_data(struct buf *b, const char *s)
{
	uint8_t l[4];
	rts_put32(l, (uint32_t)strlen(s));
	b_raw(b, l, 4);
	b_raw(b, s, strlen(s));
}

static void v_str(struct plan_b *p, const char *s)
{
	uint8_t k = RTS_STR;
	b_raw(&p->b, &k, 1);
	s_data(&p->b, s);
}

static void v_strlist(struct plan_b *p, const char *const *l)
{
	uint8_t k = RTS_STRLIST, c[4];
	uint32_t n = 0;
	while (l[n])
		n++;
	b_raw(&p->b, &k, 1);
	rts_put32(c, n);
	b_raw(&p->b, c, 4);
	for (uint32_t i = 0; i < n; i++)
		s_data(&p->b, l[i]);
}

static void p_idmapped(struct plan_b *p, const char *src, const char *dest, uint64_t flags,
		       const char *uidmap, const char *gidmap, const char *userns)
{
	p_op(p, OP_MOUNT_IDMAPPED, 7);
	v_str(p, src);
	v_str(p, dest);
	v_u64(p, flags);
	v_str(p, uidmap);
	v_str(p, gidmap);
	v_str(p, userns);
	v_u64(p, 1);
}

/* ---- running the executor ---- */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_text(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, s, strlen(s));
	close(fd);
	return w == (ssize_t)strlen(s) ? 0 : -1;
}

struct outcome {
	int got_ready;
	int error;         /* an ERROR frame came */
	uint32_t index;    /* ... for this op */
	uint16_t opcode;
	int32_t err;
	char detail[1024];
	char out[8192];    /* the container's stdout */
	int status;        /* the executor's exit status */
};

/* Runs the plan with the protocol socket at fd 7; SYNC 1 is answered by
 * writing `maps` ("0 100000 65536") as the uid and gid map of the sender. */
static int run(struct plan_b *pl, const char *maps, struct outcome *oc)
{
	memset(oc, 0, sizeof(*oc));
	int sv[2], o[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(o, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (dup2(o[1], 1) < 0 || dup2(sv[1], 7) < 0)
			_exit(126);
		char *argv[] = {"runc-ts-init", "7", NULL};
		execv(EXE, argv);
		_exit(127);
	}
	close(sv[1]);
	close(o[1]);
	long long deadline = now_ms() + 20000;
	int rc = rts_write_frame(sv[0], RTS_MSG_PLAN, pl->b.p, (uint32_t)pl->b.n);
	while (rc == 0) {
		struct pollfd pf = {.fd = sv[0], .events = POLLIN};
		long long left = deadline - now_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0) {
			rc = -1;
			break;
		}
		uint16_t type;
		uint8_t *payload;
		uint32_t len;
		char err[256];
		int fr = rts_read_frame(sv[0], &type, &payload, &len, err, sizeof(err));
		if (fr <= 0)
			break;
		if (type == RTS_MSG_ERROR && len >= 16) {
			oc->error = 1;
			oc->index = rts_get32(payload);
			oc->opcode = rts_get16(payload + 4);
			oc->err = (int32_t)rts_get32(payload + 8);
			uint32_t dl = rts_get32(payload + 12);
			if (dl == len - 16 && dl < sizeof(oc->detail))
				memcpy(oc->detail, payload + 16, dl);
		} else if (type == RTS_MSG_READY) {
			oc->got_ready = 1;
		} else if (type == RTS_MSG_SYNC && len == 8) {
			if (rts_get32(payload) == 1 && maps) {
				char p[64];
				uint32_t spid = rts_get32(payload + 4);
				snprintf(p, sizeof(p), "/proc/%u/uid_map", spid);
				if (write_text(p, maps) < 0)
					fprintf(stderr, "write %s: %s\n", p, strerror(errno));
				snprintf(p, sizeof(p), "/proc/%u/gid_map", spid);
				if (write_text(p, maps) < 0)
					fprintf(stderr, "write %s: %s\n", p, strerror(errno));
			}
			rts_write_frame(sv[0], RTS_MSG_CONTINUE, NULL, 0);
		}
		free(payload);
	}
	/* the container's output, until every writer (its init) is gone */
	size_t n = 0;
	for (;;) {
		struct pollfd pf = {.fd = o[0], .events = POLLIN};
		long long left = deadline - now_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			break;
		ssize_t r = read(o[0], oc->out + n, sizeof(oc->out) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	oc->out[n] = '\0';
	close(o[0]);
	close(sv[0]);
	for (;;) {
		pid_t w = waitpid(pid, &oc->status, WNOHANG);
		if (w == pid)
			break;
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &oc->status, 0);
			return -1;
		}
		usleep(10000);
	}
	return rc;
}

/* ---- fixtures ---- */

static char tmp[PATH_MAX];      /* the tmpfs */
static char rootfs[PATH_MAX];   /* busybox */
static char src[PATH_MAX];      /* the id-mapped source: f (0:0), g (7:8), sub/ */
static char other[PATH_MAX];    /* mounted on src/sub: o (5:5) */
static int sub_mounted;

static int mk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int mk(const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	return mkdir(p, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static int copy_busybox(const char *to)
{
	int in = open("/bin/busybox", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0) {
		close(in);
		return -1;
	}
	char b[65536];
	ssize_t n;
	int rc = 0;
	while ((n = read(in, b, sizeof(b))) > 0)
		if (write(out, b, (size_t)n) != n)
			rc = -1;
	close(in);
	if (close(out) < 0 || n < 0)
		rc = -1;
	return rc;
}

static int file_owned(const char *path, uid_t uid, gid_t gid)
{
	return write_text(path, "x\n") == 0 && chown(path, uid, gid) == 0 ? 0 : -1;
}

static int setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/runc-ts-idmap-test.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	if (mount("tmpfs", tmp, "tmpfs", 0, "mode=755,size=16m") < 0)
		return -1;
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmp);
	snprintf(src, sizeof(src), "%s/src", tmp);
	snprintf(other, sizeof(other), "%s/other", tmp);
	char p[PATH_MAX];
	if (mk("%s", rootfs) || mk("%s/bin", rootfs) || mk("%s/proc", rootfs) || mk("%s", src) ||
	    mk("%s/sub", src) || mk("%s", other))
		return -1;
	snprintf(p, sizeof(p), "%s/bin/busybox", rootfs);
	if (copy_busybox(p) < 0)
		return -1;
	const char *applets[] = {"sh", "stat", "touch", "cat", "grep", "echo", NULL};
	for (int i = 0; applets[i]; i++) {
		snprintf(p, sizeof(p), "%s/bin/%s", rootfs, applets[i]);
		if (symlink("busybox", p) < 0)
			return -1;
	}
	if (chmod(src, 0777) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/f", src);
	if (file_owned(p, 0, 0))
		return -1;
	snprintf(p, sizeof(p), "%s/g", src);
	if (file_owned(p, 7, 8))
		return -1;
	snprintf(p, sizeof(p), "%s/o", other);
	if (file_owned(p, 5, 5))
		return -1;
	snprintf(p, sizeof(p), "%s/sub", src);
	if (mount(other, p, NULL, MS_BIND, NULL) < 0)
		return -1;
	sub_mounted = 1;
	return 0;
}

static void teardown(void)
{
	if (sub_mounted) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/sub", src);
		if (umount2(p, MNT_DETACH) < 0)
			fprintf(stderr, "cleanup: umount %s: %s\n", p, strerror(errno));
	}
	if (tmp[0] && umount2(tmp, MNT_DETACH) < 0)
		fprintf(stderr, "cleanup: umount %s: %s\n", tmp, strerror(errno));
	if (tmp[0] && rmdir(tmp) < 0)
		fprintf(stderr, "cleanup: rmdir %s: %s\n", tmp, strerror(errno));
}

/* ---- plans ---- */

/* Namespaces (with a user namespace when userns), FORK, ROOTFS, proc; the
 * caller adds mounts, then p_finish adds the rest and `script`. */
static void p_start(struct plan_b *pl, int userns)
{
	p_init(pl);
	if (userns) {
		p_op(pl, OP_UNSHARE, 1);
		v_u64(pl, CLONE_NEWUSER);
		p_op(pl, OP_SYNC, 1);
		v_u64(pl, 1);
		p_op(pl, OP_SETGID, 1);
		v_u64(pl, 0);
		p_op(pl, OP_SETUID, 1);
		v_u64(pl, 0);
	}
	p_op(pl, OP_UNSHARE, 1);
	v_u64(pl, CLONE_NEWNS | CLONE_NEWPID);
	p_op(pl, OP_FORK, 1);
	v_u64(pl, 1); /* the executor waits for the container: its status is ours */
	p_op(pl, OP_ROOTFS, 2);
	v_str(pl, rootfs);
	v_u64(pl, MS_SLAVE | MS_REC);
	p_op(pl, OP_MOUNT, 6);
	v_str(pl, "proc");
	v_str(pl, "/proc");
	v_str(pl, "proc");
	v_u64(pl, 0);
	v_str(pl, "");
	v_u64(pl, 1);
}

static void p_finish(struct plan_b *pl, uint64_t uid, uint64_t gid, const char *script)
{
	p_op(pl, OP_PIVOT_ROOT, 0);
	p_op(pl, OP_CHDIR, 1);
	v_str(pl, "/");
	p_op(pl, OP_SETGID, 1);
	v_u64(pl, gid);
	p_op(pl, OP_SETUID, 1);
	v_u64(pl, uid);
	p_op(pl, OP_RESOLVE_EXEC, 2);
	v_str(pl, "sh");
	v_str(pl, "/bin");
	p_op(pl, OP_READY, 0);
	p_op(pl, OP_CLOSE_FDS, 1);
	v_u64(pl, 3);
	p_op(pl, OP_EXEC, 2);
	const char *argv[] = {"sh", "-c", script, NULL};
	const char *env[] = {"PATH=/bin", NULL};
	v_strlist(pl, argv);
	v_strlist(pl, env);
}

static int owner(const char *rel, uid_t *uid, gid_t *gid)
{
	char p[PATH_MAX];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", src, rel);
	if (lstat(p, &st) < 0)
		return -1;
	*uid = st.st_uid;
	*gid = st.st_gid;
	return 0;
}

/* How many runc-ts-idmap helpers still run (they must all be gone). An
 * exited one waits as a zombie for init to reap it: it holds nothing. */
static int helpers_alive(void)
{
	int n = 0;
	DIR *d = opendir("/proc");
	if (d == NULL)
		return -1;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char p[300], stat[512];
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/stat", de->d_name);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t r = read(fd, stat, sizeof(stat) - 1);
		close(fd);
		if (r <= 0)
			continue;
		stat[r] = '\0';
		/* "pid (comm) state ..." */
		const char *close_paren = strrchr(stat, ')');
		if (strstr(stat, "(runc-ts-idmap)") != NULL && close_paren && close_paren[1] == ' ' &&
		    close_paren[2] != 'Z')
			n++;
	}
	closedir(d);
	return n;
}

static int helpers_gone(void)
{
	/* the helper exits at end-of-file; give the reaper a moment */
	for (int i = 0; i < 100; i++) {
		if (helpers_alive() == 0)
			return 1;
		usleep(20000);
	}
	return 0;
}

/* ---- tests ---- */

/* No user namespace: on-disk ids 0..99 show as 5000..5099 (uid) and
 * 6000..6099 (gid); a file made by container 5001:6002 is 1:2 on disk; the mount is marked idmapped; the submount is not cloned. */
static void test_no_userns(void)
{
	struct plan_b pl;
	p_start(&pl, 0);
	p_idmapped(&pl, src, "/mnt", 0, "0 5000 100\n", "0 6000 100\n", "");
	p_finish(&pl, 5001, 6002,
		 "stat -c f=%u:%g /mnt/f; stat -c g=%u:%g /mnt/g; "
		 "touch /mnt/made && stat -c made=%u:%g /mnt/made; "
		 "test -e /mnt/sub/o && echo sub=cloned || echo sub=empty; "
		 "grep -q ' /mnt .*idmapped' /proc/self/mountinfo && echo flag=idmapped");
	struct outcome oc;
	int r = run(&pl, NULL, &oc);
	b_free(&pl.b);
	CHECK(r == 0 && !oc.error, "no userns: ran (error %d: %s)", oc.err, oc.detail);
	CHECK(WIFEXITED(oc.status) && WEXITSTATUS(oc.status) == 0, "no userns: status 0x%x\n%s",
	      oc.status, oc.out);
	CHECK(strstr(oc.out, "f=5000:6000\n") != NULL, "no userns: f mapped:\n%s", oc.out);
	CHECK(strstr(oc.out, "g=5007:6008\n") != NULL, "no userns: g mapped:\n%s", oc.out);
	CHECK(strstr(oc.out, "made=5001:6002\n") != NULL, "no userns: made by 5001:6002:\n%s",
	      oc.out);
	CHECK(strstr(oc.out, "sub=empty\n") != NULL, "no userns: bind is not recursive:\n%s",
	      oc.out);
	CHECK(strstr(oc.out, "flag=idmapped\n") != NULL, "no userns: idmapped in mountinfo:\n%s",
	      oc.out);
	uid_t u;
	gid_t g;
	CHECK(owner("made", &u, &g) == 0 && u == 1 && g == 2, "no userns: made is 1:2 on disk (%u:%u)",
	      u, g);
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/made", src);
	unlink(p);
	CHECK(helpers_gone(), "no userns: the helper exited");
}

/* In a user namespace (0 100000 65536) with the same mapping on the mount:
 * on-disk 0 is the container's root; root's new file is 0 on disk; rbind
 * keeps the submount, not id-mapped without ridmap (overflow id), mapped
 * with it. */
static void test_userns(uint64_t flags)
{
	const char *maps = "0 100000 65536\n";
	struct plan_b pl;
	p_start(&pl, 1);
	p_idmapped(&pl, src, "/mnt", flags, maps, maps, "");
	p_finish(&pl, 0, 0,
		 "stat -c f=%u:%g /mnt/f; stat -c g=%u:%g /mnt/g; stat -c o=%u:%g /mnt/sub/o; "
		 "touch /mnt/made && stat -c made=%u:%g /mnt/made");
	struct outcome oc;
	int r = run(&pl, maps, &oc);
	b_free(&pl.b);
	const char *what = flags & IDMAP_RECURSIVE ? "userns ridmap" : "userns idmap";
	CHECK(r == 0 && !oc.error, "%s: ran (error %d: %s)", what, oc.err, oc.detail);
	CHECK(WIFEXITED(oc.status) && WEXITSTATUS(oc.status) == 0, "%s: status 0x%x\n%s", what,
	      oc.status, oc.out);
	CHECK(strstr(oc.out, "f=0:0\n") != NULL, "%s: f is root's:\n%s", what, oc.out);
	CHECK(strstr(oc.out, "g=7:8\n") != NULL, "%s: g is 7:8:\n%s", what, oc.out);
	const char *want_o = flags & IDMAP_RECURSIVE ? "o=5:5\n" : "o=65534:65534\n";
	CHECK(strstr(oc.out, want_o) != NULL, "%s: %s in:\n%s", what, want_o, oc.out);
	CHECK(strstr(oc.out, "made=0:0\n") != NULL, "%s: made by root:\n%s", what, oc.out);
	uid_t u;
	gid_t g;
	CHECK(owner("made", &u, &g) == 0 && u == 0 && g == 0, "%s: made is 0:0 on disk (%u:%u)",
	      what, u, g);
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/made", src);
	unlink(p);
	CHECK(helpers_gone(), "%s: the helper exited", what);
}

/* Two id-mapped mounts of one source with different mappings, the second
 * read-only (REMOUNT after it, as the planner emits for "ro"). */
static void test_two_mounts_ro(void)
{
	struct plan_b pl;
	p_start(&pl, 0);
	p_idmapped(&pl, src, "/a", 0, "0 1000 10\n", "0 1000 10\n", "");
	p_idmapped(&pl, src, "/b", 0, "0 2000 10\n", "0 3000 10\n", "");
	p_op(&pl, OP_REMOUNT, 2);
	v_str(&pl, "/b");
	v_u64(&pl, MS_BIND | MS_RDONLY);
	p_finish(&pl, 0, 0,
		 "stat -c a=%u:%g /a/f; stat -c b=%u:%g /b/f; "
		 "(touch /b/x 2>&1) && echo b=rw || echo b=ro");
	struct outcome oc;
	int r = run(&pl, NULL, &oc);
	b_free(&pl.b);
	CHECK(r == 0 && !oc.error, "two mounts: ran (error %d: %s)", oc.err, oc.detail);
	CHECK(strstr(oc.out, "a=1000:1000\n") != NULL, "two mounts: a:\n%s", oc.out);
	CHECK(strstr(oc.out, "b=2000:3000\n") != NULL, "two mounts: b:\n%s", oc.out);
	CHECK(strstr(oc.out, "b=ro\n") != NULL && strstr(oc.out, "Read-only file system") != NULL,
	      "two mounts: b read-only:\n%s", oc.out);
	CHECK(helpers_gone(), "two mounts: the helper exited");
}

/* A user namespace given by path (another process'): its mapping applies. */
static void test_userns_path(void)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		CHECK(0, "userns path: socketpair: %s", strerror(errno));
		return;
	}
	pid_t holder = fork();
	if (holder == 0) {
		close(sp[0]);
		char c = unshare(CLONE_NEWUSER) == 0 ? 'u' : 'e';
		if (write(sp[1], &c, 1) != 1)
			_exit(1);
		while (read(sp[1], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(sp[1]);
	char c = 0, p[64], nspath[64];
	int ok = read(sp[0], &c, 1) == 1 && c == 'u';
	snprintf(p, sizeof(p), "/proc/%d/uid_map", (int)holder);
	ok = ok && write_text(p, "0 4000 10\n") == 0;
	snprintf(p, sizeof(p), "/proc/%d/gid_map", (int)holder);
	ok = ok && write_text(p, "0 4100 10\n") == 0;
	snprintf(nspath, sizeof(nspath), "/proc/%d/ns/user", (int)holder);
	CHECK(ok, "userns path: holder's namespace: %s", strerror(errno));
	if (ok) {
		struct plan_b pl;
		p_start(&pl, 0);
		p_idmapped(&pl, src, "/mnt", 0, "", "", nspath);
		p_finish(&pl, 0, 0, "stat -c f=%u:%g /mnt/f");
		struct outcome oc;
		int r = run(&pl, NULL, &oc);
		b_free(&pl.b);
		CHECK(r == 0 && !oc.error, "userns path: ran (error %d: %s)", oc.err, oc.detail);
		CHECK(strstr(oc.out, "f=4000:4100\n") != NULL, "userns path: f:\n%s", oc.out);
	}
	close(sp[0]);
	waitpid(holder, NULL, 0);
	CHECK(helpers_gone(), "userns path: the helper exited");
}

/* Failures are reported for the MOUNT_IDMAPPED op with errno and step, the
 * executor exits 1 and no helper is left. */
static void expect_failure(const char *name, const char *source, const char *userns, int want_err,
			   const char *want_detail)
{
	struct plan_b pl;
	p_start(&pl, 0);
	uint32_t index = pl.nops;
	p_idmapped(&pl, source, "/mnt", 0, userns[0] ? "" : "0 5000 100\n",
		   userns[0] ? "" : "0 5000 100\n", userns);
	p_finish(&pl, 0, 0, "echo not reached");
	struct outcome oc;
	int r = run(&pl, NULL, &oc);
	b_free(&pl.b);
	CHECK(r == 0 && oc.error && oc.index == index && oc.opcode == OP_MOUNT_IDMAPPED,
	      "%s: ERROR for op %u (got %d, op %u code %u)", name, index, oc.error, oc.index,
	      oc.opcode);
	CHECK(oc.err == want_err, "%s: errno %d, want %d (%s)", name, oc.err, want_err, oc.detail);
	CHECK(strstr(oc.detail, want_detail) != NULL && strstr(oc.detail, "/mnt (") == oc.detail,
	      "%s: detail \"%s\" names /mnt and \"%s\"", name, oc.detail, want_detail);
	CHECK(strstr(oc.out, "not reached") == NULL, "%s: the container did not run", name);
	CHECK(WIFEXITED(oc.status) && WEXITSTATUS(oc.status) == 1, "%s: executor exits 1 (0x%x)",
	      name, oc.status);
	CHECK(helpers_gone(), "%s: the helper exited", name);
}

static void test_errors(void)
{
	char missing[PATH_MAX];
	snprintf(missing, sizeof(missing), "%s/missing", tmp);
	expect_failure("missing source", missing, "", ENOENT, "open_tree");
	/* procfs has no id-mapped mounts */
	expect_failure("procfs source", "/proc/sys", "", EINVAL,
		       "does the proc filesystem support id-mapped mounts?");
	expect_failure("not a user namespace", src, "/proc/self/ns/net", EINVAL,
		       "is not a user namespace");
	/* a mapping the kernel refuses (overlapping ranges) */
	struct plan_b pl;
	p_start(&pl, 0);
	p_idmapped(&pl, src, "/mnt", 0, "0 5000 100\n50 9000 10\n", "0 5000 100\n", "");
	p_finish(&pl, 0, 0, "echo not reached");
	struct outcome oc;
	int r = run(&pl, NULL, &oc);
	b_free(&pl.b);
	CHECK(r == 0 && oc.error && oc.err == EINVAL && strstr(oc.detail, "write uid_map"),
	      "bad mapping: EINVAL writing uid_map (%d: %s)", oc.err, oc.detail);
	CHECK(helpers_gone(), "bad mapping: the helper exited");
	/* in a user namespace, the submount of src is locked: no bind without rbind */
	const char *maps = "0 100000 65536\n";
	p_start(&pl, 1);
	p_idmapped(&pl, src, "/mnt", 0, maps, maps, "");
	p_finish(&pl, 0, 0, "echo not reached");
	r = run(&pl, maps, &oc);
	b_free(&pl.b);
	CHECK(r == 0 && oc.error && oc.err == EINVAL && strstr(oc.detail, "without rbind"),
	      "locked submount: EINVAL with a hint (%d: %s)", oc.err, oc.detail);
	CHECK(helpers_gone(), "locked submount: the helper exited");
	/* unknown flags are refused before anything runs */
	p_start(&pl, 0);
	p_idmapped(&pl, src, "/mnt", 4, "0 5000 100\n", "0 5000 100\n", "");
	p_finish(&pl, 0, 0, "echo not reached");
	r = run(&pl, NULL, &oc);
	b_free(&pl.b);
	CHECK(r == 0 && oc.error && oc.err == EINVAL && strstr(oc.detail, "unknown flags 0x4"),
	      "unknown flags: EINVAL (%d: %s)", oc.err, oc.detail);
	CHECK(helpers_gone(), "unknown flags: the helper exited");
}

int main(void)
{
	/* `make asan` runs these against the sanitizer build of the executor */
	const char *exe = getenv("RTS_EXE");
	if (exe && *exe)
		EXE = exe;
	if (geteuid() != 0 || access(EXE, X_OK) != 0 || access("/bin/busybox", X_OK) != 0) {
		printf("idmap: SKIPPED (needs root, %s and /bin/busybox)\n", EXE);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (setup() < 0) {
		CHECK(0, "setup in %s: %s", tmp, strerror(errno));
	} else {
		test_no_userns();
		test_userns(CLONE_RECURSIVE);
		test_userns(CLONE_RECURSIVE | IDMAP_RECURSIVE);
		test_two_mounts_ro();
		test_userns_path();
		test_errors();
	}
	teardown();
	printf("idmap: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
