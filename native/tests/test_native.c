/* Unit and end-to-end tests of the runc-ts executor. Run from native/
 * (make test). The end-to-end tests need root and build/runc-ts-init. */
#include "protocol.h"

#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <pwd.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
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
static const char *GOLDEN = "testdata/golden";

/* ---- byte buffer / plan builder ------------------------------------------ */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void b_raw(struct buf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		size_t c = b->cap ? b->cap : 256;
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
	if (n)
		memcpy(b->p + b->n, d, n);
	b->n += n;
}
static void b_u8(struct buf *b, uint8_t v) { b_raw(b, &v, 1); }
static void b_u16(struct buf *b, uint16_t v)
{
	uint8_t x[2];
	rts_put16(x, v);
	b_raw(b, x, 2);
}
static void b_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4];
	rts_put32(x, v);
	b_raw(b, x, 4);
}
static void b_u64(struct buf *b, uint64_t v)
{
	uint8_t x[8];
	rts_put64(x, v);
	b_raw(b, x, 8);
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
	b_u32(&p->b, 0);
}
static void p_op(struct plan_b *p, uint16_t code, uint16_t nv)
{
	p->nops++;
	rts_put32(p->b.p, p->nops);
	b_u16(&p->b, code);
	b_u16(&p->b, nv);
}
static void v_u64(struct plan_b *p, uint64_t v)
{
	b_u8(&p->b, RTS_U64);
	b_u64(&p->b, v);
}
static void s_data(struct buf *b, const char *s)
{
	b_u32(b, (uint32_t)strlen(s));
	b_raw(b, s, strlen(s));
}
static void v_str(struct plan_b *p, const char *s)
{
	b_u8(&p->b, RTS_STR);
	s_data(&p->b, s);
}
static void v_strlist(struct plan_b *p, const char *const *l)
{
	uint32_t n = 0;
	while (l[n])
		n++;
	b_u8(&p->b, RTS_STRLIST);
	b_u32(&p->b, n);
	for (uint32_t i = 0; i < n; i++)
		s_data(&p->b, l[i]);
}

static void frame(struct buf *out, uint16_t type, const uint8_t *payload, size_t n)
{
	memset(out, 0, sizeof(*out));
	b_u32(out, RTS_MAGIC);
	b_u16(out, type);
	b_u16(out, 0);
	b_u32(out, (uint32_t)n);
	b_raw(out, payload, n);
}

static int read_file(const char *path, struct buf *out)
{
	memset(out, 0, sizeof(*out));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char tmp[65536];
	for (;;) {
		ssize_t r = read(fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		b_raw(out, tmp, (size_t)r);
	}
	close(fd);
	return 0;
}

static int decodes(const uint8_t *p, size_t n, char *err, size_t errlen)
{
	struct rts_plan plan;
	int r = rts_decode_plan_frame(p, n, &plan, err, errlen);
	if (r == 0)
		rts_plan_free(&plan);
	return r == 0;
}

static int decodes_payload(const uint8_t *p, size_t n)
{
	struct rts_plan plan;
	char err[256];
	int r = rts_decode_plan(p, n, &plan, err, sizeof(err));
	if (r == 0)
		rts_plan_free(&plan);
	return r == 0;
}

static char *dump_to_string(const struct rts_plan *plan, size_t *len)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	if (f == NULL)
		return NULL;
	int r = rts_dump_plan(f, plan);
	fclose(f);
	if (r < 0) {
		free(s);
		return NULL;
	}
	*len = n;
	return s;
}

/* ---- golden vectors -------------------------------------------------------- */

static int run_capture(char *const argv[], struct buf *out, int *status);

static void test_golden(void)
{
	DIR *d = opendir(GOLDEN);
	CHECK(d != NULL, "opendir %s: %s", GOLDEN, strerror(errno));
	if (d == NULL)
		return;
	int count = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".plan") != 0)
			continue;
		count++;
		char pp[PATH_MAX], tp[PATH_MAX];
		snprintf(pp, sizeof(pp), "%s/%s", GOLDEN, de->d_name);
		snprintf(tp, sizeof(tp), "%s/%.*s.txt", GOLDEN, (int)(l - 5), de->d_name);
		struct buf plan_bytes, want;
		CHECK(read_file(pp, &plan_bytes) == 0, "read %s", pp);
		CHECK(read_file(tp, &want) == 0, "read %s", tp);
		struct rts_plan plan;
		char err[256] = "";
		int r = rts_decode_plan_frame(plan_bytes.p, plan_bytes.n, &plan, err, sizeof(err));
		CHECK(r == 0, "golden %s: decode: %s", pp, err);
		if (r == 0) {
			size_t n = 0;
			char *s = dump_to_string(&plan, &n);
			CHECK(s && n == want.n && (n == 0 || memcmp(s, want.p, n) == 0),
			      "golden %s: dump differs from %s:\n%.*s", pp, tp, (int)n, s ? s : "");
			free(s);
			rts_plan_free(&plan);
		}
		/* the binary's --dump gives the same bytes */
		if (access(EXE, X_OK) == 0) {
			struct buf out;
			int st;
			char *argv[] = {(char *)EXE, "--dump", pp, NULL};
			CHECK(run_capture(argv, &out, &st) == 0 && WIFEXITED(st) &&
				      WEXITSTATUS(st) == 0,
			      "--dump %s failed", pp);
			CHECK(out.n == want.n && (out.n == 0 || memcmp(out.p, want.p, out.n) == 0),
			      "--dump %s output differs", pp);
			b_free(&out);
		}
		b_free(&plan_bytes);
		b_free(&want);
	}
	closedir(d);
	CHECK(count >= 3, "found %d golden plans", count);
}

/* ---- decoder rejects ----------------------------------------------------------- */

static void expect_reject(const uint8_t *p, size_t n, const char *why, const char *errpart)
{
	char err[256] = "";
	int ok = decodes(p, n, err, sizeof(err));
	CHECK(!ok, "%s: accepted", why);
	if (!ok && errpart)
		CHECK(strstr(err, errpart) != NULL, "%s: error '%s' lacks '%s'", why, err, errpart);
}

static void expect_accept(const uint8_t *p, size_t n, const char *why)
{
	char err[256] = "";
	CHECK(decodes(p, n, err, sizeof(err)), "%s: rejected: %s", why, err);
}

static void test_rejects(void)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/lifecycle.plan", GOLDEN);
	struct buf g;
	if (read_file(path, &g) < 0) {
		CHECK(0, "read %s", path);
		return;
	}
	expect_accept(g.p, g.n, "lifecycle");
	const uint8_t *payload = g.p + RTS_HDR_LEN;
	size_t plen = g.n - RTS_HDR_LEN;

	/* truncated frames at every length */
	int all = 1;
	for (size_t k = 0; k < g.n; k++) {
		char err[256];
		if (decodes(g.p, k, err, sizeof(err))) {
			all = 0;
			CHECK(0, "frame truncated to %zu bytes accepted", k);
			break;
		}
	}
	CHECK(all, "every truncated frame rejected");
	/* truncated payloads with a consistent header: exercises every decoder path */
	all = 1;
	for (size_t k = 0; k < plen; k++) {
		if (decodes_payload(payload, k)) {
			all = 0;
			CHECK(0, "payload truncated to %zu bytes accepted", k);
			break;
		}
		struct buf f;
		frame(&f, RTS_MSG_PLAN, payload, k);
		char err[256];
		if (decodes(f.p, f.n, err, sizeof(err))) {
			all = 0;
			CHECK(0, "frame with payload truncated to %zu accepted", k);
		}
		b_free(&f);
		if (!all)
			break;
	}
	CHECK(all, "every truncated payload rejected");

	struct buf m;
	memset(&m, 0, sizeof(m));
#define MUT(stmt, why, errpart)                                                          \
	do {                                                                             \
		memset(&m, 0, sizeof(m));                                                \
		b_raw(&m, g.p, g.n);                                                     \
		stmt;                                                                    \
		expect_reject(m.p, m.n, why, errpart);                                   \
		b_free(&m);                                                              \
	} while (0)
	MUT(m.p[0] ^= 1, "bad magic", "magic");
	MUT(m.p[3] = '2', "bad version (RTS2)", "magic");
	MUT(rts_put16(m.p + 4, RTS_MSG_CONTINUE), "wrong frame type", "type");
	MUT(rts_put16(m.p + 6, 1), "reserved field", "reserved");
	MUT(rts_put32(m.p + 8, RTS_MAX_PAYLOAD + 1), "payload over 16 MiB", "exceeds");
	MUT(b_u8(&m, 0), "trailing byte after frame", "trailing");
	MUT((b_u8(&m, 0), rts_put32(m.p + 8, (uint32_t)plen + 1)), "trailing byte in payload",
	    "trailing");
	/* first op: UNSHARE at payload offset 4: u16 code, u16 count, kind, u64 */
	MUT(rts_put16(m.p + 12 + 4, 0), "opcode 0", "unknown opcode");
	MUT(rts_put16(m.p + 12 + 4, OP_MAX + 1), "opcode OP_MAX + 1", "unknown opcode");
	MUT(rts_put16(m.p + 12 + 4, 0xffff), "opcode 65535", "unknown opcode");
	MUT(rts_put16(m.p + 12 + 6, 2), "value count 2", "values");
	MUT(rts_put16(m.p + 12 + 6, 0), "value count 0", "values");
	MUT(m.p[12 + 8] = RTS_STR, "value kind STR for U64", "kind");
	MUT(m.p[12 + 8] = 0, "value kind 0", "kind");
	MUT(m.p[12 + 8] = 6, "value kind 6", "kind");
	MUT(rts_put32(m.p + 12, 4097), "op count 4097", "exceeds");
	MUT(rts_put32(m.p + 12, 0xffffffffu), "op count 2^32-1", "exceeds");
	MUT(rts_put32(m.p + 12, 4096), "op count 4096 with 49 ops of data", NULL);
	MUT(rts_put32(m.p + 12, 48), "op count one short", "trailing");
	{
		/* NUL inside a STR: "/proc/1/ns/net" */
		uint8_t *s = memmem(g.p, g.n, "/proc/1/ns/net", 14);
		CHECK(s != NULL, "find SETNS path");
		if (s)
			MUT(m.p[(s - g.p) + 5] = 0, "NUL in string", "NUL");
		s = memmem(g.p, g.n, "PATH=/bin", 9);
		CHECK(s != NULL, "find env string");
		if (s)
			MUT(m.p[(s - g.p) + 4] = 0, "NUL in string list element", "NUL");
		/* string length pointing past the end */
		if (s)
			MUT(rts_put32(m.p + (s - g.p) - 4, 0x7fffffff), "huge string length", "exceeds");
	}
	b_free(&g);

	/* hand-built limit cases */
	struct plan_b p;
	/* STR of exactly 64 KiB is fine, one more byte is not */
	char *big = malloc(RTS_MAX_STR + 2);
	memset(big, 'a', RTS_MAX_STR + 1);
	big[RTS_MAX_STR] = '\0';
	p_init(&p);
	p_op(&p, OP_HOSTNAME, 1);
	v_str(&p, big);
	CHECK(decodes_payload(p.b.p, p.b.n), "64 KiB string accepted");
	b_free(&p.b);
	big[RTS_MAX_STR] = 'a';
	big[RTS_MAX_STR + 1] = '\0';
	p_init(&p);
	p_op(&p, OP_HOSTNAME, 1);
	v_str(&p, big);
	CHECK(!decodes_payload(p.b.p, p.b.n), "64 KiB + 1 string rejected");
	b_free(&p.b);
	free(big);
	/* STRLIST of 4096 accepted, 4097 rejected */
	for (uint32_t count = 4096; count <= 4097; count++) {
		p_init(&p);
		p_op(&p, OP_EXEC, 2);
		b_u8(&p.b, RTS_STRLIST);
		b_u32(&p.b, count);
		for (uint32_t i = 0; i < count; i++)
			s_data(&p.b, "x");
		b_u8(&p.b, RTS_STRLIST);
		b_u32(&p.b, 0);
		CHECK(decodes_payload(p.b.p, p.b.n) == (count == 4096), "strlist of %u", count);
		b_free(&p.b);
	}
	/* U64LIST of 4096 accepted, 4097 rejected */
	for (uint32_t count = 4096; count <= 4097; count++) {
		p_init(&p);
		p_op(&p, OP_SETGROUPS, 1);
		b_u8(&p.b, RTS_U64LIST);
		b_u32(&p.b, count);
		for (uint32_t i = 0; i < count; i++)
			b_u64(&p.b, i);
		CHECK(decodes_payload(p.b.p, p.b.n) == (count == 4096), "u64list of %u", count);
		b_free(&p.b);
	}
	/* BYTES of 1 MiB accepted, 1 MiB + 1 rejected */
	for (uint32_t len = RTS_MAX_BYTES; len <= RTS_MAX_BYTES + 1; len++) {
		p_init(&p);
		p_op(&p, OP_SECCOMP, 2);
		b_u8(&p.b, RTS_BYTES);
		b_u32(&p.b, len);
		uint8_t *z = calloc(1, len);
		b_raw(&p.b, z, len);
		free(z);
		v_u64(&p, 0);
		CHECK(decodes_payload(p.b.p, p.b.n) == (len == RTS_MAX_BYTES), "bytes of %u", len);
		b_free(&p.b);
	}
	/* 4096 ops accepted, 4097 rejected */
	for (uint32_t count = 4096; count <= 4097; count++) {
		p_init(&p);
		for (uint32_t i = 0; i < count; i++)
			p_op(&p, OP_SETSID, 0);
		CHECK(decodes_payload(p.b.p, p.b.n) == (count == 4096), "%u ops", count);
		b_free(&p.b);
	}
	/* list count larger than the data present */
	p_init(&p);
	p_op(&p, OP_SETGROUPS, 1);
	b_u8(&p.b, RTS_U64LIST);
	b_u32(&p.b, 3);
	b_u64(&p.b, 1);
	CHECK(!decodes_payload(p.b.p, p.b.n), "u64list count past the end rejected");
	b_free(&p.b);
	/* FORK's mode is a U64, not a STR */
	p_init(&p);
	p_op(&p, OP_FORK, 1);
	v_str(&p, "2");
	CHECK(!decodes_payload(p.b.p, p.b.n), "FORK with a STR mode rejected");
	b_free(&p.b);
	/* HOOK: STR, STR, STRLIST, STRLIST, U64; each value of a wrong kind */
	{
		const char *args[] = {"hook", NULL}, *none[] = {NULL};
		for (int bad = -1; bad < 5; bad++) {
			p_init(&p);
			p_op(&p, OP_HOOK, 5);
			if (bad == 0) v_u64(&p, 1); else v_str(&p, "label");
			if (bad == 1) v_strlist(&p, args); else v_str(&p, "/bin/hook");
			if (bad == 2) v_str(&p, "hook"); else v_strlist(&p, args);
			if (bad == 3) v_u64(&p, 0); else v_strlist(&p, none);
			if (bad == 4) v_str(&p, "5"); else v_u64(&p, 5);
			CHECK(decodes_payload(p.b.p, p.b.n) == (bad < 0), "HOOK with value %d of a wrong kind",
			      bad);
			b_free(&p.b);
		}
		/* WINSIZE: two U64 */
		p_init(&p);
		p_op(&p, OP_WINSIZE, 2);
		v_u64(&p, 24);
		v_str(&p, "80");
		CHECK(!decodes_payload(p.b.p, p.b.n), "WINSIZE with a STR cols rejected");
		b_free(&p.b);
		p_init(&p);
		p_op(&p, OP_WINSIZE, 1);
		v_u64(&p, 24);
		CHECK(!decodes_payload(p.b.p, p.b.n), "WINSIZE with one value rejected");
		b_free(&p.b);
	}
	/* an empty payload (no op count) */
	CHECK(!decodes_payload((const uint8_t *)"", 0), "empty payload rejected");
	/* every opcode with no values where values are expected, and vice versa */
	int sig_ok = 1;
	for (uint16_t c = 1; c <= OP_MAX; c++) {
		const struct rts_opdef *d = rts_opdef(c);
		if (d == NULL) {
			/* an unassigned code (a reserved range) is unknown; OP_MAX is not */
			if (c == OP_MAX)
				sig_ok = 0;
			continue;
		}
		p_init(&p);
		p_op(&p, c, (uint16_t)(d->nkinds + 1));
		for (unsigned i = 0; i <= d->nkinds; i++)
			v_u64(&p, 0);
		if (decodes_payload(p.b.p, p.b.n))
			sig_ok = 0;
		b_free(&p.b);
	}
	CHECK(sig_ok, "every opcode known and value count checked");
}

static void test_dump_escapes(void)
{
	struct plan_b p;
	p_init(&p);
	p_op(&p, OP_HOSTNAME, 1);
	v_str(&p, "a\"b\\c\n\t\r\b\f\x01\x1f\x7f\xc3\xa9/");
	p_op(&p, OP_SETGROUPS, 1);
	b_u8(&p.b, RTS_U64LIST);
	b_u32(&p.b, 2);
	b_u64(&p.b, 0);
	b_u64(&p.b, UINT64_MAX);
	p_op(&p, OP_SECCOMP, 2);
	b_u8(&p.b, RTS_BYTES);
	b_u32(&p.b, 3);
	b_raw(&p.b, "\x00\xab\xff", 3);
	v_u64(&p, 1);
	p_op(&p, OP_EXEC, 2);
	const char *a[] = {"x", "", NULL}, *e[] = {NULL};
	v_strlist(&p, a);
	v_strlist(&p, e);
	struct rts_plan plan;
	char err[256];
	int r = rts_decode_plan(p.b.p, p.b.n, &plan, err, sizeof(err));
	CHECK(r == 0, "escape plan decodes: %s", err);
	if (r == 0) {
		size_t n;
		char *s = dump_to_string(&plan, &n);
		const char *want = "HOSTNAME \"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\x7f\xc3\xa9/\"\n"
				   "SETGROUPS [0,18446744073709551615]\n"
				   "SECCOMP hex:00abff 1\n"
				   "EXEC [\"x\",\"\"] []\n";
		CHECK(s && strcmp(s, want) == 0, "dump escapes:\n%s", s ? s : "(null)");
		/* strlists are NULL-terminated for execve */
		CHECK(plan.ops[3].v[0].strs[2] == NULL && plan.ops[3].v[1].strs[0] == NULL,
		      "strlist NULL terminator");
		free(s);
		rts_plan_free(&plan);
	}
	b_free(&p.b);
}

/* ---- framing ------------------------------------------------------------------ */

static void test_framing(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		CHECK(0, "socketpair: %s", strerror(errno));
		return;
	}
	CHECK(rts_send_error(sv[0], 7, OP_MOUNT, EPERM, "/proc (proc)") == 0, "send error");
	CHECK(rts_send_sync(sv[0], 2, 1234) == 0, "send sync");
	CHECK(rts_write_frame(sv[0], RTS_MSG_READY, NULL, 0) == 0, "send ready");
	close(sv[0]);
	uint16_t type;
	uint8_t *pl;
	uint32_t len;
	char err[256];
	int r = rts_read_frame(sv[1], &type, &pl, &len, err, sizeof(err));
	CHECK(r == 1 && type == RTS_MSG_ERROR && len == 16 + 12, "error frame");
	if (r == 1 && len == 28) {
		CHECK(rts_get32(pl) == 7 && rts_get16(pl + 4) == OP_MOUNT && rts_get16(pl + 6) == 0 &&
			      (int32_t)rts_get32(pl + 8) == EPERM && rts_get32(pl + 12) == 12 &&
			      memcmp(pl + 16, "/proc (proc)", 12) == 0,
		      "error frame fields");
	}
	free(pl);
	r = rts_read_frame(sv[1], &type, &pl, &len, err, sizeof(err));
	CHECK(r == 1 && type == RTS_MSG_SYNC && len == 8 && rts_get32(pl) == 2 &&
		      rts_get32(pl + 4) == 1234,
	      "sync frame");
	free(pl);
	r = rts_read_frame(sv[1], &type, &pl, &len, err, sizeof(err));
	CHECK(r == 1 && type == RTS_MSG_READY && len == 0 && pl == NULL, "ready frame");
	r = rts_read_frame(sv[1], &type, &pl, &len, err, sizeof(err));
	CHECK(r == 0, "eof after frames");
	close(sv[1]);

	/* a truncated frame on the wire */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
		uint8_t h[RTS_HDR_LEN + 2];
		rts_put32(h, RTS_MAGIC);
		rts_put16(h + 4, RTS_MSG_PLAN);
		rts_put16(h + 6, 0);
		rts_put32(h + 8, 10);
		h[12] = h[13] = 0;
		CHECK(write(sv[0], h, sizeof(h)) == (ssize_t)sizeof(h), "write partial frame");
		close(sv[0]);
		r = rts_read_frame(sv[1], &type, &pl, &len, err, sizeof(err));
		CHECK(r == -1 && strstr(err, "truncated"), "truncated frame on the wire: %d %s", r,
		      err);
		close(sv[1]);
	}
}

/* ---- process helpers -------------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads everything from fd until EOF or the deadline. */
static int read_all(int fd, struct buf *out, long long deadline)
{
	char tmp[4096];
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int r = poll(&pf, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		b_raw(out, tmp, (size_t)n);
	}
}

static int run_capture(char *const argv[], struct buf *out, int *status)
{
	int p[2];
	memset(out, 0, sizeof(*out));
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	int r = read_all(p[0], out, now_ms() + 10000);
	close(p[0]);
	if (r < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return r;
}

/* Waits for pid with a deadline; kills it when the deadline passes. */
static int wait_for(pid_t pid, int *status, long long deadline)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return -1;
		}
		usleep(10000);
	}
}

/* Non-zero: start_executor_io runs the executor as this uid and gid (rootless). */
static uid_t executor_uid;

struct run {
	pid_t pid;   /* the executor */
	int sock;    /* our end of the protocol socket */
	int out;     /* the read end of the executor's stdout, or -1 */
	int err;     /* the read end of the executor's stderr, or -1 */
};

/* Starts the executor with the socket at fd 7 (argv[1] = "7"), a stray
 * inheritable fd 10 that CLOSE_FDS must close, and optional pipes for
 * stdout/stderr. */
static int start_executor_io(struct run *r, int in_fd, int out_fd, int capture_out,
			     int capture_err)
{
	int sv[2], o[2] = {-1, -1}, e[2] = {-1, -1};
	r->out = r->err = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (capture_out && pipe2(o, O_CLOEXEC) < 0)
		return -1;
	if (capture_err && pipe2(e, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* stdio first: a source fd may be 7 */
		if (in_fd >= 0 && dup2(in_fd, 0) < 0)
			_exit(126);
		if (out_fd >= 0 && dup2(out_fd, 1) < 0)
			_exit(126);
		if (o[1] >= 0 && dup2(o[1], 1) < 0)
			_exit(126);
		if (e[1] >= 0 && dup2(e[1], 2) < 0)
			_exit(126);
		if (dup2(sv[1], 7) < 0)
			_exit(126);
		if (executor_uid != 0 && (setgroups(0, NULL) < 0 || setgid(executor_uid) < 0 ||
					  setuid(executor_uid) < 0))
			_exit(126);
		int stray = open("/dev/null", O_RDONLY);
		if (stray >= 0 && stray != 10) {
			dup2(stray, 10);
			close(stray);
		}
		char *argv[] = {"runc-ts-init", "7", NULL};
		execv(EXE, argv);
		_exit(127);
	}
	close(sv[1]);
	if (o[1] >= 0)
		close(o[1]);
	if (e[1] >= 0)
		close(e[1]);
	r->pid = pid;
	r->sock = sv[0];
	r->out = o[0];
	r->err = e[0];
	return 0;
}

static int start_executor(struct run *r, int capture_out, int capture_err)
{
	return start_executor_io(r, -1, -1, capture_out, capture_err);
}

static void stop_run(struct run *r)
{
	if (r->sock >= 0)
		close(r->sock);
	if (r->out >= 0)
		close(r->out);
	if (r->err >= 0)
		close(r->err);
	r->sock = r->out = r->err = -1;
}

static int send_plan(struct run *r, struct plan_b *p)
{
	return rts_write_frame(r->sock, RTS_MSG_PLAN, p->b.p, (uint32_t)p->b.n);
}

/* Reads one frame with a deadline. 1 frame, 0 EOF, -1 error/timeout. */
static int recv_frame(int fd, uint16_t *type, uint8_t **pl, uint32_t *len, long long deadline)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	long long left = deadline - now_ms();
	*pl = NULL;
	if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
		return -1;
	char err[256];
	return rts_read_frame(fd, type, pl, len, err, sizeof(err));
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(p) < 0 && errno != ENOENT)
		fprintf(stderr, "cleanup: remove %s: %s\n", p, strerror(errno));
	return 0;
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return -1;
	}
	char b[65536];
	ssize_t n;
	int rc = 0;
	while ((n = read(in, b, sizeof(b))) > 0)
		if (write(out, b, (size_t)n) != n) {
			rc = -1;
			break;
		}
	if (n < 0)
		rc = -1;
	close(in);
	if (close(out) < 0)
		rc = -1;
	return rc;
}

static int write_text(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, s, strlen(s));
	close(fd);
	return w == (ssize_t)strlen(s) ? 0 : -1;
}

static char tmpdir[PATH_MAX];

static int mkpath(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int mkpath(const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	return mkdir(p, 0755);
}

/* ---- end-to-end: a real container -------------------------------------------------- */

static void test_e2e_container(void)
{
	char rootfs[PATH_MAX], p[PATH_MAX];
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmpdir);
	int ok = mkpath("%s", rootfs) == 0 && mkpath("%s/bin", rootfs) == 0 &&
		 mkpath("%s/etc", rootfs) == 0;
	snprintf(p, sizeof(p), "%s/bin/busybox", rootfs);
	ok = ok && copy_file("/bin/busybox", p, 0755) == 0;
	snprintf(p, sizeof(p), "%s/bin/sh", rootfs);
	ok = ok && copy_file("/bin/busybox", p, 0755) == 0;
	const char *applets[] = {"hostname", "cat", "ls", "grep", "cut", NULL};
	for (int i = 0; applets[i]; i++) {
		snprintf(p, sizeof(p), "%s/bin/%s", rootfs, applets[i]);
		ok = ok && symlink("busybox", p) == 0;
	}
	snprintf(p, sizeof(p), "%s/etc/secret", rootfs);
	ok = ok && write_text(p, "SECRET\n", 0644) == 0;
	CHECK(ok, "prepare rootfs %s: %s", rootfs, strerror(errno));
	if (!ok)
		return;

	struct plan_b pl;
	p_init(&pl);
	p_op(&pl, OP_UNSHARE, 1);
	v_u64(&pl, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID);
	p_op(&pl, OP_FORK, 1);
	v_u64(&pl, 0);
	p_op(&pl, OP_ROOTFS, 2);
	v_str(&pl, rootfs);
	v_u64(&pl, MS_SLAVE | MS_REC);
	p_op(&pl, OP_MOUNT, 6);
	v_str(&pl, "proc");
	v_str(&pl, "/proc");
	v_str(&pl, "proc");
	v_u64(&pl, MS_NOSUID | MS_NODEV | MS_NOEXEC);
	v_str(&pl, "");
	v_u64(&pl, 1);
	p_op(&pl, OP_MOUNT, 6);
	v_str(&pl, "tmpfs");
	v_str(&pl, "/dev");
	v_str(&pl, "tmpfs");
	v_u64(&pl, MS_NOSUID);
	v_str(&pl, "mode=755,size=1m");
	v_u64(&pl, 1);
	p_op(&pl, OP_MKNOD, 6);
	v_str(&pl, "/dev/null");
	v_u64(&pl, S_IFCHR | 0666);
	v_u64(&pl, 1);
	v_u64(&pl, 3);
	v_u64(&pl, 0);
	v_u64(&pl, 0);
	p_op(&pl, OP_SYMLINK, 2);
	v_str(&pl, "/proc/self/fd");
	v_str(&pl, "/dev/fd");
	p_op(&pl, OP_PIVOT_ROOT, 0);
	p_op(&pl, OP_HOSTNAME, 1);
	v_str(&pl, "t1");
	p_op(&pl, OP_MASK, 1);
	v_str(&pl, "/etc/secret");
	p_op(&pl, OP_MASK, 1);
	v_str(&pl, "/no/such/path");
	p_op(&pl, OP_READONLY, 1);
	v_str(&pl, "/proc/sys");
	p_op(&pl, OP_READONLY, 1);
	v_str(&pl, "/no/such/dir");
	p_op(&pl, OP_CHDIR, 1);
	v_str(&pl, "/");
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, "sh");
	v_str(&pl, "/bin");
	p_op(&pl, OP_READY, 0);
	p_op(&pl, OP_CLOSE_FDS, 1);
	v_u64(&pl, 3);
	p_op(&pl, OP_EXEC, 2);
	const char *argv[] = {
		"sh", "-c",
		"hostname; echo pid=$$; test -w /proc/sys/kernel/hostname && echo rw || echo ro; "
		"(echo t1 > /proc/sys/kernel/hostname) 2>/dev/null && echo write=rw || echo write=ro; "
		"grep ' /proc/sys ' /proc/self/mountinfo | cut -d' ' -f6; "
		"echo secret=$(cat /etc/secret); echo cwd=$(pwd); "
		"for f in /proc/self/fd/*; do echo fd=${f##*/}; done; "
		"test -c /dev/null && echo null=chr",
		NULL};
	const char *env[] = {"PATH=/bin", NULL};
	v_strlist(&pl, argv);
	v_strlist(&pl, env);

	struct run r;
	if (start_executor(&r, 1, 0) < 0) {
		CHECK(0, "start executor: %s", strerror(errno));
		b_free(&pl.b);
		return;
	}
	long long deadline = now_ms() + 20000;
	CHECK(send_plan(&r, &pl) == 0, "send plan");
	b_free(&pl.b);

	uint16_t type;
	uint8_t *payload;
	uint32_t len;
	pid_t cpid = -1;
	int got_ready = 0;
	for (;;) {
		int fr = recv_frame(r.sock, &type, &payload, &len, deadline);
		if (fr <= 0)
			break;
		if (type == RTS_MSG_PID && len == 4)
			cpid = (pid_t)rts_get32(payload);
		else if (type == RTS_MSG_READY)
			got_ready = 1;
		else if (type == RTS_MSG_ERROR && len >= 16)
			fprintf(stderr, "executor ERROR op %u (%s) errno %d: %.*s\n", rts_get32(payload),
				rts_opname(rts_get16(payload + 4)), (int)rts_get32(payload + 8),
				(int)(len - 16), payload + 16);
		free(payload);
	}
	CHECK(cpid > 0, "PID message received");
	CHECK(got_ready, "READY message received");
	struct buf out;
	memset(&out, 0, sizeof(out));
	CHECK(read_all(r.out, &out, deadline) == 0, "container stdout read to EOF");
	b_u8(&out, 0);
	const char *o = (const char *)out.p;
	CHECK(strstr(o, "t1\n") == o, "hostname t1 in:\n%s", o);
	CHECK(strstr(o, "\npid=1\n") != NULL, "pid 1 in:\n%s", o);
	/* busybox's test -w is always true for root: check a real write and the
	 * mount flags too */
	CHECK(strstr(o, "\nro\n") != NULL || strstr(o, "\nrw\n") != NULL, "test -w ran:\n%s", o);
	CHECK(strstr(o, "\nwrite=ro\n") != NULL, "/proc/sys write refused in:\n%s", o);
	CHECK(strstr(o, "\nro,") != NULL, "/proc/sys mounted ro in:\n%s", o);
	CHECK(strstr(o, "\nsecret=\n") != NULL, "masked file empty in:\n%s", o);
	CHECK(strstr(o, "\ncwd=/\n") != NULL, "cwd / in:\n%s", o);
	CHECK(strstr(o, "\nnull=chr") != NULL, "/dev/null char device in:\n%s", o);
	/* fds: 0,1,2 and the glob's own directory fd; never the socket (7) or stray 10 */
	int leaked = 0;
	for (const char *f = strstr(o, "fd="); f; f = strstr(f + 3, "fd=")) {
		int n = atoi(f + 3);
		if (n > 3)
			leaked = 1;
	}
	CHECK(!leaked, "no fd above 3 leaked into the container:\n%s", o);
	b_free(&out);

	int st;
	CHECK(wait_for(r.pid, &st, deadline) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "executor parent exits 0 after FORK (status 0x%x)", st);
	if (cpid > 0)
		CHECK(wait_for(cpid, &st, deadline) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "container exits 0 (status 0x%x)", st);
	stop_run(&r);
	/* the host sees no trace: rootfs/proc is not a mount point here */
	struct stat a, b;
	char pp[PATH_MAX];
	snprintf(pp, sizeof(pp), "%s/proc", rootfs);
	CHECK(stat(pp, &a) == 0 && stat(rootfs, &b) == 0 && a.st_dev == b.st_dev,
	      "container mounts not visible outside");
}

/* ---- end-to-end: errors ---------------------------------------------------------------- */

struct outcome {
	int frames_error;
	uint32_t index;
	uint16_t opcode;
	int32_t err;
	char detail[512];
	int status;
	char stderr_text[1024];
	int got_ready;
};

/* Runs a plan; SYNCs are answered with CONTINUE carrying `state` for kind 4
 * and a payload that must be ignored for the other kinds. */
static int run_plan_state(struct plan_b *pl, struct outcome *oc, int capture_err,
			  const void *state, uint32_t state_len)
{
	memset(oc, 0, sizeof(*oc));
	struct run r;
	if (start_executor(&r, 0, capture_err) < 0)
		return -1;
	long long deadline = now_ms() + 10000;
	int rc = send_plan(&r, pl);
	uint16_t type;
	uint8_t *payload;
	uint32_t len;
	while (rc == 0) {
		int fr = recv_frame(r.sock, &type, &payload, &len, deadline);
		if (fr < 0)
			rc = -1;
		if (fr <= 0)
			break;
		if (type == RTS_MSG_ERROR && len >= 16) {
			oc->frames_error++;
			oc->index = rts_get32(payload);
			oc->opcode = rts_get16(payload + 4);
			oc->err = (int32_t)rts_get32(payload + 8);
			uint32_t dl = rts_get32(payload + 12);
			if (dl == len - 16 && dl < sizeof(oc->detail))
				memcpy(oc->detail, payload + 16, dl);
		} else if (type == RTS_MSG_READY) {
			oc->got_ready = 1;
		} else if (type == RTS_MSG_SYNC && len == 8) {
			if (rts_get32(payload) == 4)
				rts_write_frame(r.sock, RTS_MSG_CONTINUE, state, state_len);
			else
				rts_write_frame(r.sock, RTS_MSG_CONTINUE, "ignored", 7);
		}
		free(payload);
	}
	if (capture_err && r.err >= 0) {
		struct buf e;
		memset(&e, 0, sizeof(e));
		read_all(r.err, &e, deadline);
		if (e.n)
			snprintf(oc->stderr_text, sizeof(oc->stderr_text), "%.*s", (int)e.n,
				 (char *)e.p);
		b_free(&e);
	}
	if (wait_for(r.pid, &oc->status, deadline) < 0)
		rc = -1;
	stop_run(&r);
	return rc;
}

static int run_plan(struct plan_b *pl, struct outcome *oc, int capture_err)
{
	return run_plan_state(pl, oc, capture_err, NULL, 0);
}

/* After PIVOT_ROOT a procfs file bind-mounted over the sysctl to write (as a
 * hook, a racing container or, during exec, the container could) must not
 * receive the write: SYSCTL goes through a private procfs (variant 0).
 * Neither SYSCTL nor a MOUNT after PIVOT_ROOT needs the container's /proc
 * at all (variant 1: there is none). Uses test_e2e_container's rootfs. */
static void test_e2e_procfs_overmount(void)
{
	char rootfs[PATH_MAX];
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmpdir);
	char domain[256] = "";
	CHECK(getdomainname(domain, sizeof(domain) - 1) == 0, "getdomainname");
	struct plan_b pl;
	struct outcome oc;
	for (int without_proc = 0; without_proc < 2; without_proc++) {
		p_init(&pl);
		p_op(&pl, OP_UNSHARE, 1);
		v_u64(&pl, CLONE_NEWNS | CLONE_NEWUTS);
		p_op(&pl, OP_ROOTFS, 2);
		v_str(&pl, rootfs);
		v_u64(&pl, MS_PRIVATE | MS_REC);
		if (!without_proc) {
			p_op(&pl, OP_MOUNT, 6);
			v_str(&pl, "proc");
			v_str(&pl, "/proc");
			v_str(&pl, "proc");
			v_u64(&pl, 0);
			v_str(&pl, "");
			v_u64(&pl, 1);
			p_op(&pl, OP_MOUNT, 6); /* the host's domainname file over hostname */
			v_str(&pl, "/proc/sys/kernel/domainname");
			v_str(&pl, "/proc/sys/kernel/hostname");
			v_str(&pl, "");
			v_u64(&pl, MS_BIND);
			v_str(&pl, "");
			v_u64(&pl, 0);
		}
		p_op(&pl, OP_PIVOT_ROOT, 0);
		if (without_proc) {
			p_op(&pl, OP_MOUNT, 6);
			v_str(&pl, "tmpfs");
			v_str(&pl, "/tmp");
			v_str(&pl, "tmpfs");
			v_u64(&pl, 0);
			v_str(&pl, "size=1m");
			v_u64(&pl, 1);
		}
		p_op(&pl, OP_SYSCTL, 2);
		v_str(&pl, "kernel.hostname");
		v_str(&pl, "viasysctl");
		p_op(&pl, OP_RESOLVE_EXEC, 2);
		v_str(&pl, "/bin/sh");
		v_str(&pl, "");
		p_op(&pl, OP_READY, 0);
		p_op(&pl, OP_EXEC, 2);
		const char *argv[] = {
			"sh", "-c", "echo \"$(hostname)/$(cat /proc/sys/kernel/domainname)\" >&2", NULL};
		const char *bare[] = {"sh", "-c", "echo \"$(hostname)\" >&2", NULL};
		const char *env[] = {NULL};
		v_strlist(&pl, without_proc ? bare : argv);
		v_strlist(&pl, env);
		CHECK(run_plan(&pl, &oc, 1) == 0, "run procfs plan %d", without_proc);
		char want[300];
		if (without_proc)
			snprintf(want, sizeof(want), "viasysctl\n");
		else
			snprintf(want, sizeof(want), "viasysctl/%s\n", domain);
		CHECK(oc.got_ready && oc.frames_error == 0 && strcmp(oc.stderr_text, want) == 0,
		      "%s: ready %d errors %d (op %u: %s) stderr '%s'",
		      without_proc ? "MOUNT and SYSCTL after PIVOT_ROOT without a /proc"
				   : "sysctl written to the file under the overmount",
		      oc.got_ready, oc.frames_error, oc.index, oc.detail, oc.stderr_text);
		b_free(&pl.b);
	}
}

/* MOUNT_TMPFS with copyup: the covered directory's files, nested
 * directories and symlinks (as links, even one pointing out of the root)
 * are in the tmpfs, with their modes; the tmpfs takes the directory's mode. */
static void test_e2e_tmpcopyup(void)
{
	char rootfs[PATH_MAX], p[PATH_MAX];
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmpdir);
	int ok = mkpath("%s/cu", rootfs) == 0 && mkpath("%s/cu/sub", rootfs) == 0;
	snprintf(p, sizeof(p), "%s/cu/sub/f", rootfs);
	ok = ok && write_text(p, "copied\n", 0640) == 0;
	snprintf(p, sizeof(p), "%s/cu/out", rootfs);
	ok = ok && symlink("../../../../etc/secret", p) == 0;
	snprintf(p, sizeof(p), "%s/cu", rootfs);
	ok = ok && chmod(p, 0710) == 0;
	snprintf(p, sizeof(p), "%s/bin/readlink", rootfs);
	ok = ok && (symlink("busybox", p) == 0 || errno == EEXIST);
	snprintf(p, sizeof(p), "%s/bin/stat", rootfs);
	ok = ok && (symlink("busybox", p) == 0 || errno == EEXIST);
	CHECK(ok, "prepare tmpcopyup rootfs: %s", strerror(errno));
	if (!ok)
		return;
	struct plan_b pl;
	struct outcome oc;
	p_init(&pl);
	p_op(&pl, OP_UNSHARE, 1);
	v_u64(&pl, CLONE_NEWNS);
	p_op(&pl, OP_ROOTFS, 2);
	v_str(&pl, rootfs);
	v_u64(&pl, MS_PRIVATE | MS_REC);
	p_op(&pl, OP_MOUNT_TMPFS, 5);
	v_str(&pl, "tmpfs");
	v_str(&pl, "/cu");
	v_u64(&pl, MS_NOSUID);
	v_str(&pl, "size=1m");
	v_u64(&pl, 1);
	p_op(&pl, OP_BIND_REMOUNT, 3);
	v_str(&pl, "/cu");
	v_u64(&pl, MS_BIND | MS_RDONLY | MS_NOSUID);
	v_u64(&pl, 0);
	p_op(&pl, OP_PIVOT_ROOT, 0);
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, "/bin/sh");
	v_str(&pl, "");
	p_op(&pl, OP_READY, 0);
	p_op(&pl, OP_EXEC, 2);
	const char *argv[] = {"sh", "-c",
			      "{ cat /cu/sub/f; readlink /cu/out; stat -c %a /cu /cu/sub/f; "
			      "(echo > /cu/new) 2>/dev/null || echo ro; } >&2",
			      NULL};
	const char *env[] = {NULL};
	v_strlist(&pl, argv);
	v_strlist(&pl, env);
	CHECK(run_plan(&pl, &oc, 1) == 0, "run tmpcopyup plan");
	const char *want = "copied\n../../../../etc/secret\n710\n640\nro\n";
	CHECK(oc.got_ready && oc.frames_error == 0 && strcmp(oc.stderr_text, want) == 0,
	      "MOUNT_TMPFS copyup + BIND_REMOUNT ro: ready %d errors %d (op %u: %s) stderr '%s'",
	      oc.got_ready, oc.frames_error, oc.index, oc.detail, oc.stderr_text);
	b_free(&pl.b);
}

static void test_e2e_errors(void)
{
	struct plan_b pl;
	struct outcome oc;

	p_init(&pl);
	p_op(&pl, OP_UMASK, 1);
	v_u64(&pl, 022);
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, "no-such-binary-rts");
	v_str(&pl, "/nonexistent-rts:/also-nonexistent-rts:");
	CHECK(run_plan(&pl, &oc, 0) == 0, "run missing-binary plan");
	CHECK(oc.frames_error == 1 && oc.index == 1 && oc.opcode == OP_RESOLVE_EXEC &&
		      oc.err == ENOENT,
	      "missing binary: ERROR index %u opcode %u errno %d", oc.index, oc.opcode, oc.err);
	CHECK(strcmp(oc.detail,
		     "exec: \"no-such-binary-rts\": executable file not found in $PATH") == 0,
	      "missing binary detail: '%s'", oc.detail);
	CHECK(WIFEXITED(oc.status) && WEXITSTATUS(oc.status) == 1, "exit 1 after ERROR");
	b_free(&pl.b);

	/* a file that is not executable: EACCES */
	char f[PATH_MAX];
	snprintf(f, sizeof(f), "%s/noexec", tmpdir);
	write_text(f, "x", 0644);
	p_init(&pl);
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, "noexec");
	v_str(&pl, tmpdir);
	CHECK(run_plan(&pl, &oc, 0) == 0, "run noexec plan");
	CHECK(oc.err == EACCES && strcmp(oc.detail, "exec: \"noexec\": permission denied") == 0,
	      "not executable: errno %d detail '%s'", oc.err, oc.detail);
	b_free(&pl.b);

	/* an undecodable plan: index 0xffffffff, opcode 0, EINVAL */
	p_init(&pl);
	p_op(&pl, 999, 0);
	CHECK(run_plan(&pl, &oc, 0) == 0, "run bad plan");
	CHECK(oc.frames_error == 1 && oc.index == 0xffffffffu && oc.opcode == 0 &&
		      oc.err == EINVAL && strstr(oc.detail, "unknown opcode 999"),
	      "decode error: index %u opcode %u errno %d '%s'", oc.index, oc.opcode, oc.err,
	      oc.detail);
	b_free(&pl.b);

	/* exec failure after READY: stderr, exit 127, no ERROR frame */
	snprintf(f, sizeof(f), "%s/badinterp", tmpdir);
	write_text(f, "#!/nonexistent-interpreter-rts\n", 0755);
	p_init(&pl);
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, f);
	v_str(&pl, "");
	p_op(&pl, OP_READY, 0);
	p_op(&pl, OP_EXEC, 2);
	const char *argv[] = {"badinterp", NULL}, *env[] = {NULL};
	v_strlist(&pl, argv);
	v_strlist(&pl, env);
	CHECK(run_plan(&pl, &oc, 1) == 0, "run exec-failure plan");
	char want[PATH_MAX + 64];
	/* runc's first line: lowercase reason, no program-name prefix */
	snprintf(want, sizeof(want), "exec %s: no such file or directory\n", f);
	CHECK(oc.got_ready && oc.frames_error == 0 && WIFEXITED(oc.status) &&
		      WEXITSTATUS(oc.status) == 127 && strcmp(oc.stderr_text, want) == 0,
	      "exec failure: ready %d errors %d status 0x%x stderr '%s'", oc.got_ready,
	      oc.frames_error, oc.status, oc.stderr_text);
	b_free(&pl.b);

	/* a file without an execute bit: the kernel refuses, 126, no check of ours */
	snprintf(f, sizeof(f), "%s/noexec", tmpdir);
	write_text(f, "#!/bin/sh\n", 0644);
	p_init(&pl);
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, f);
	v_str(&pl, "");
	p_op(&pl, OP_READY, 0);
	p_op(&pl, OP_EXEC, 2);
	v_strlist(&pl, argv);
	v_strlist(&pl, env);
	CHECK(run_plan(&pl, &oc, 1) == 0, "run noexec plan");
	snprintf(want, sizeof(want), "exec %s: permission denied\n", f);
	CHECK(oc.got_ready && oc.frames_error == 0 && WIFEXITED(oc.status) &&
		      WEXITSTATUS(oc.status) == 126 && strcmp(oc.stderr_text, want) == 0,
	      "noexec: status 0x%x stderr '%s'", oc.status, oc.stderr_text);
	b_free(&pl.b);

	/* TTY_OWNER without a terminal on fd 0 (no CONSOLE before): ENOTTY. The
	 * executor inherits our stdin: from a terminal there is nothing to test. */
	if (isatty(0)) {
		printf("skip: TTY_OWNER without a tty (stdin is a terminal)\n");
	} else {
		p_init(&pl);
		p_op(&pl, OP_TTY_OWNER, 1);
		v_u64(&pl, 1000);
		CHECK(run_plan(&pl, &oc, 0) == 0, "run TTY_OWNER plan");
		CHECK(oc.frames_error == 1 && oc.index == 0 && oc.opcode == OP_TTY_OWNER &&
			      oc.err == ENOTTY,
		      "TTY_OWNER without a tty: errors %d opcode %u errno %d '%s'", oc.frames_error,
		      oc.opcode, oc.err, oc.detail);
		b_free(&pl.b);
	}

	/* DEFAULT_HOME: an empty HOME= is replaced in place, a missing one
	 * appended, a non-empty one kept; a uid without an entry gets "/" */
	struct passwd *pw = getpwuid(0);
	const char *root_home = pw && pw->pw_dir[0] ? pw->pw_dir : "/";
	struct {
		uint64_t uid;
		const char *env[3];
		char want[PATH_MAX + 32];
	} homes[] = {
		{0, {"HOME=", "A=1", NULL}, ""},
		{0, {"A=1", NULL, NULL}, ""},
		{0, {"A=1", "HOME=/kept", NULL}, "/kept|1\n"},
		{4242424, {"A=1", NULL, NULL}, "/|1\n"},
	};
	snprintf(homes[0].want, sizeof(homes[0].want), "%s|1\n", root_home);
	snprintf(homes[1].want, sizeof(homes[1].want), "%s|1\n", root_home);
	for (size_t i = 0; i < sizeof(homes) / sizeof(homes[0]); i++) {
		const char *sh[] = {"sh", "-c", "echo \"$HOME|$A\" >&2", NULL};
		p_init(&pl);
		if (homes[i].env[1] == NULL || strcmp(homes[i].env[1], "HOME=/kept") != 0) {
			p_op(&pl, OP_DEFAULT_HOME, 1);
			v_u64(&pl, homes[i].uid);
		}
		p_op(&pl, OP_RESOLVE_EXEC, 2);
		v_str(&pl, "/bin/sh");
		v_str(&pl, "");
		p_op(&pl, OP_READY, 0);
		p_op(&pl, OP_EXEC, 2);
		v_strlist(&pl, sh);
		v_strlist(&pl, homes[i].env);
		CHECK(run_plan(&pl, &oc, 1) == 0, "run DEFAULT_HOME plan %zu", i);
		CHECK(WIFEXITED(oc.status) && WEXITSTATUS(oc.status) == 0 &&
			      strcmp(oc.stderr_text, homes[i].want) == 0,
		      "DEFAULT_HOME %zu: status 0x%x stderr '%s' want '%s'", i, oc.status,
		      oc.stderr_text, homes[i].want);
		b_free(&pl.b);
	}

	/* PIVOT_ROOT with a shared root propagation */
	char rfs[PATH_MAX];
	snprintf(rfs, sizeof(rfs), "%s/rootfs", tmpdir);
	p_init(&pl);
	p_op(&pl, OP_UNSHARE, 1);
	v_u64(&pl, CLONE_NEWNS);
	p_op(&pl, OP_ROOTFS, 2);
	v_str(&pl, rfs);
	v_u64(&pl, MS_SHARED | MS_REC);
	p_op(&pl, OP_PIVOT_ROOT, 0);
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, "no-such-binary-rts");
	v_str(&pl, "/bin");
	CHECK(run_plan(&pl, &oc, 0) == 0, "run rshared pivot plan");
	CHECK(oc.index == 3 && oc.err == ENOENT, "pivot_root with rshared /: op %u errno %d %s",
	      oc.index, oc.err, oc.detail);
	b_free(&pl.b);

	/* SYSCTL refuses a /proc that is not procfs? (here: a real write to a
	 * namespaced key in a fresh UTS namespace) */
	p_init(&pl);
	p_op(&pl, OP_UNSHARE, 1);
	v_u64(&pl, CLONE_NEWUTS);
	p_op(&pl, OP_SYSCTL, 2);
	v_str(&pl, "kernel.hostname");
	v_str(&pl, "viasysctl");
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, "no-such-binary-rts");
	v_str(&pl, "");
	CHECK(run_plan(&pl, &oc, 0) == 0, "run sysctl plan");
	CHECK(oc.index == 2 && oc.err == ENOENT, "sysctl op succeeded (next op failed: %u %d %s)",
	      oc.index, oc.err, oc.detail);
	b_free(&pl.b);
}

/* SYNC then ABORT: exit 1 quietly. Also: the executor runs from a sealed memfd. */
static void test_e2e_sync_abort(void)
{
	struct plan_b pl;
	p_init(&pl);
	p_op(&pl, OP_SYNC, 1);
	v_u64(&pl, 3);
	struct run r;
	if (start_executor(&r, 0, 0) < 0) {
		CHECK(0, "start executor");
		b_free(&pl.b);
		return;
	}
	long long deadline = now_ms() + 10000;
	CHECK(send_plan(&r, &pl) == 0, "send plan");
	b_free(&pl.b);
	uint16_t type;
	uint8_t *payload;
	uint32_t len;
	int fr = recv_frame(r.sock, &type, &payload, &len, deadline);
	CHECK(fr == 1 && type == RTS_MSG_SYNC && len == 8 && rts_get32(payload) == 3 &&
		      (pid_t)rts_get32(payload + 4) == r.pid,
	      "SYNC{3, pid}");
	free(payload);
	char link[PATH_MAX], lp[64];
	snprintf(lp, sizeof(lp), "/proc/%d/exe", r.pid);
	ssize_t n = readlink(lp, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	CHECK(strncmp(link, "/memfd:runc-ts-init", 19) == 0, "runs from a memfd: %s", link);
	snprintf(lp, sizeof(lp), "/proc/%d/exe", r.pid);
	int efd = open(lp, O_RDONLY | O_CLOEXEC);
	int seals = efd >= 0 ? fcntl(efd, F_GET_SEALS) : -1;
	CHECK(seals >= 0 && (seals & (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)) ==
				    (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE),
	      "memfd sealed (0x%x)", seals);
	if (efd >= 0) {
		CHECK(write(efd, "x", 1) < 0, "the binary cannot be written");
		close(efd);
	}
	/* non-dumpable: /proc/pid/status reports no core dumps is not exposed;
	 * check through the owner of /proc/pid/fd being root and the mm flag */
	CHECK(rts_write_frame(r.sock, RTS_MSG_ABORT, NULL, 0) == 0, "send ABORT");
	fr = recv_frame(r.sock, &type, &payload, &len, deadline);
	CHECK(fr == 0, "EOF after ABORT (no ERROR), got %d type %u", fr, fr == 1 ? type : 0);
	free(payload);
	int st;
	CHECK(wait_for(r.pid, &st, deadline) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
	      "exit 1 after ABORT (0x%x)", st);
	stop_run(&r);

	/* SYNC then CONTINUE then a failing op: the ERROR names op 1 */
	p_init(&pl);
	p_op(&pl, OP_SYNC, 1);
	v_u64(&pl, 2);
	p_op(&pl, OP_SETNS, 2);
	v_u64(&pl, CLONE_NEWNET);
	v_str(&pl, "/nonexistent-rts/ns/net");
	if (start_executor(&r, 0, 0) == 0) {
		deadline = now_ms() + 10000;
		send_plan(&r, &pl);
		fr = recv_frame(r.sock, &type, &payload, &len, deadline);
		CHECK(fr == 1 && type == RTS_MSG_SYNC, "SYNC before CONTINUE");
		free(payload);
		rts_write_frame(r.sock, RTS_MSG_CONTINUE, NULL, 0);
		fr = recv_frame(r.sock, &type, &payload, &len, deadline);
		CHECK(fr == 1 && type == RTS_MSG_ERROR && len >= 16 && rts_get32(payload) == 1 &&
			      rts_get16(payload + 4) == OP_SETNS &&
			      (int)rts_get32(payload + 8) == ENOENT,
		      "ERROR for op 1 after CONTINUE");
		free(payload);
		wait_for(r.pid, &st, deadline);
		stop_run(&r);
	}
	b_free(&pl.b);
}

/* MOUNT onto a symlink that points outside the rootfs lands inside it. */
static void test_e2e_symlink_escape(void)
{
	char rootfs[PATH_MAX], hostdir[PATH_MAX], p[PATH_MAX];
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs2", tmpdir);
	snprintf(hostdir, sizeof(hostdir), "%s/hostdir", tmpdir);
	int ok = mkpath("%s", rootfs) == 0 && mkpath("%s", hostdir) == 0;
	snprintf(p, sizeof(p), "%s/marker", hostdir);
	ok = ok && write_text(p, "host\n", 0644) == 0;
	snprintf(p, sizeof(p), "%s/escape", rootfs);
	ok = ok && symlink(hostdir, p) == 0; /* absolute */
	char rel[PATH_MAX];
	snprintf(rel, sizeof(rel), "../../../../../../../../../../%s", hostdir + 1);
	snprintf(p, sizeof(p), "%s/escape2", rootfs);
	ok = ok && symlink(rel, p) == 0; /* dot-dot */
	CHECK(ok, "prepare symlink rootfs: %s", strerror(errno));
	if (!ok)
		return;

	struct plan_b pl;
	p_init(&pl);
	p_op(&pl, OP_UNSHARE, 1);
	v_u64(&pl, CLONE_NEWNS);
	p_op(&pl, OP_ROOTFS, 2);
	v_str(&pl, rootfs);
	v_u64(&pl, MS_PRIVATE | MS_REC);
	p_op(&pl, OP_MOUNT, 6);
	v_str(&pl, "tmpfs");
	v_str(&pl, "/escape");
	v_str(&pl, "tmpfs");
	v_u64(&pl, 0);
	v_str(&pl, "");
	v_u64(&pl, 1);
	p_op(&pl, OP_MOUNT, 6);
	v_str(&pl, "tmpfs");
	v_str(&pl, "/escape2/sub");
	v_str(&pl, "tmpfs");
	v_u64(&pl, 0);
	v_str(&pl, "");
	v_u64(&pl, 1);
	p_op(&pl, OP_MKNOD, 6);
	v_str(&pl, "/escape/node");
	v_u64(&pl, S_IFIFO | 0600);
	v_u64(&pl, 0);
	v_u64(&pl, 0);
	v_u64(&pl, 0);
	v_u64(&pl, 0);
	p_op(&pl, OP_SYNC, 1);
	v_u64(&pl, 2);

	struct run r;
	if (start_executor(&r, 0, 0) < 0) {
		CHECK(0, "start executor");
		b_free(&pl.b);
		return;
	}
	long long deadline = now_ms() + 10000;
	CHECK(send_plan(&r, &pl) == 0, "send plan");
	b_free(&pl.b);
	uint16_t type;
	uint8_t *payload;
	uint32_t len;
	int fr = recv_frame(r.sock, &type, &payload, &len, deadline);
	if (fr == 1 && type == RTS_MSG_ERROR && len >= 16)
		fprintf(stderr, "executor ERROR op %u errno %d: %.*s\n", rts_get32(payload),
			(int)rts_get32(payload + 8), (int)(len - 16), payload + 16);
	CHECK(fr == 1 && type == RTS_MSG_SYNC, "SYNC reached after the mounts");
	free(payload);
	if (fr == 1 && type == RTS_MSG_SYNC) {
		/* inspect the executor's mount table */
		char mi[64], inside[PATH_MAX], inside2[PATH_MAX];
		snprintf(mi, sizeof(mi), "/proc/%d/mountinfo", r.pid);
		snprintf(inside, sizeof(inside), "%s%s", rootfs, hostdir);
		snprintf(inside2, sizeof(inside2), "%s%s/sub", rootfs, hostdir);
		FILE *f = fopen(mi, "re");
		int on_host = 0, in_root = 0, in_root2 = 0;
		char line[4096];
		while (f && fgets(line, sizeof(line), f)) {
			char mp[PATH_MAX];
			if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
				continue;
			if (strcmp(mp, hostdir) == 0 || strncmp(mp, hostdir, strlen(hostdir)) == 0)
				on_host = 1;
			if (strcmp(mp, inside) == 0)
				in_root = 1;
			if (strcmp(mp, inside2) == 0)
				in_root2 = 1;
		}
		if (f)
			fclose(f);
		CHECK(!on_host, "no mount on the host dir %s", hostdir);
		CHECK(in_root, "absolute symlink mount landed at %s", inside);
		CHECK(in_root2, "dot-dot symlink mount landed at %s", inside2);
		/* the executor's view of the host dir still shows the marker */
		snprintf(p, sizeof(p), "/proc/%d/root%s/marker", r.pid, hostdir);
		CHECK(access(p, F_OK) == 0, "host dir not covered in the executor's namespace");
	}
	rts_write_frame(r.sock, RTS_MSG_ABORT, NULL, 0);
	int st;
	wait_for(r.pid, &st, deadline);
	stop_run(&r);
	/* nothing was created in the host dir */
	DIR *d = opendir(hostdir);
	int entries = 0;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			entries++;
	if (d)
		closedir(d);
	CHECK(entries == 1, "host dir holds only its marker (%d entries)", entries);
	snprintf(p, sizeof(p), "%s%s/node", rootfs, hostdir);
	struct stat sb;
	CHECK(lstat(p, &sb) < 0 || S_ISDIR(sb.st_mode) == 0, "mknod went into the rootfs");
}


/* MOVE_ROOT and most process operations in one container. */
static void test_e2e_kitchen_sink(void)
{
	char rootfs[PATH_MAX], hostfile[PATH_MAX], fifo[PATH_MAX];
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmpdir); /* from test_e2e_container */
	snprintf(hostfile, sizeof(hostfile), "%s/hostfile", tmpdir);
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", tmpdir);
	int ok = write_text(hostfile, "from-host\n", 0644) == 0 && mkfifo(fifo, 0600) == 0;
	char p[PATH_MAX];
	const char *applets[] = {"umask", "id", NULL};
	for (int i = 0; applets[i]; i++) {
		snprintf(p, sizeof(p), "%s/bin/%s", rootfs, applets[i]);
		symlink("busybox", p);
	}
	CHECK(ok, "prepare kitchen sink: %s", strerror(errno));
	if (!ok)
		return;
	struct plan_b pl;
	p_init(&pl);
	p_op(&pl, OP_UNSHARE, 1);
	v_u64(&pl, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID);
	p_op(&pl, OP_FORK, 1);
	v_u64(&pl, 0);
	p_op(&pl, OP_OPEN_FIFO, 1);
	v_str(&pl, fifo);
	p_op(&pl, OP_ROOTFS, 2);
	v_str(&pl, rootfs);
	v_u64(&pl, MS_PRIVATE | MS_REC);
	p_op(&pl, OP_MOUNT, 6);
	v_str(&pl, "proc");
	v_str(&pl, "/proc");
	v_str(&pl, "proc");
	v_u64(&pl, 0);
	v_str(&pl, "");
	v_u64(&pl, 1);
	p_op(&pl, OP_MOUNT, 6);
	v_str(&pl, "tmpfs");
	v_str(&pl, "/dev");
	v_str(&pl, "tmpfs");
	v_u64(&pl, 0);
	v_str(&pl, "mode=755");
	v_u64(&pl, 1);
	p_op(&pl, OP_MKNOD, 6);
	v_str(&pl, "/dev/null");
	v_u64(&pl, S_IFCHR | 0666);
	v_u64(&pl, 1);
	v_u64(&pl, 3);
	v_u64(&pl, 0);
	v_u64(&pl, 0);
	p_op(&pl, OP_BIND_DEVICE, 2);
	v_str(&pl, "/dev/zero");
	v_str(&pl, "/dev/zero");
	p_op(&pl, OP_MOUNT, 6);
	v_str(&pl, hostfile);
	v_str(&pl, "/etc/sub/hostfile");
	v_str(&pl, "");
	v_u64(&pl, MS_BIND);
	v_str(&pl, "");
	v_u64(&pl, 2);
	p_op(&pl, OP_REMOUNT, 2);
	v_str(&pl, "/etc/sub/hostfile");
	v_u64(&pl, MS_BIND | MS_RDONLY);
	p_op(&pl, OP_PROPAGATE, 2);
	v_str(&pl, "/dev");
	v_u64(&pl, MS_SLAVE);
	p_op(&pl, OP_SETATTR, 4);
	v_str(&pl, "/dev");
	v_u64(&pl, MOUNT_ATTR_NOEXEC);
	v_u64(&pl, 0);
	v_u64(&pl, 1);
	p_op(&pl, OP_SYMLINK, 2);
	v_str(&pl, "/proc/self/fd");
	v_str(&pl, "/dev/fd");
	p_op(&pl, OP_MOVE_ROOT, 0);
	p_op(&pl, OP_DOMAINNAME, 1);
	v_str(&pl, "dom.test");
	p_op(&pl, OP_SYSCTL, 2);
	v_str(&pl, "kernel.hostname");
	v_str(&pl, "sysctl-host");
	p_op(&pl, OP_RLIMIT, 3);
	v_u64(&pl, RLIMIT_NOFILE);
	v_u64(&pl, 512);
	v_u64(&pl, 1024);
	p_op(&pl, OP_OOM_SCORE_ADJ, 1);
	v_str(&pl, "123");
	p_op(&pl, OP_UMASK, 1);
	v_u64(&pl, 027);
	p_op(&pl, OP_SETSID, 0);
	p_op(&pl, OP_KEYRING, 1);
	v_str(&pl, "_ses.rts-test");
	p_op(&pl, OP_PERSONALITY, 1);
	v_u64(&pl, 0);
	p_op(&pl, OP_IOPRIO, 1);
	v_u64(&pl, (2 << 13) | 4);
	p_op(&pl, OP_SCHED, 7);
	v_u64(&pl, 0);
	v_u64(&pl, 0);
	v_u64(&pl, 5);
	v_u64(&pl, 0);
	v_u64(&pl, 0);
	v_u64(&pl, 0);
	v_u64(&pl, 0);
	p_op(&pl, OP_SETGROUPS, 1);
	b_u8(&pl.b, RTS_U64LIST);
	b_u32(&pl.b, 2);
	b_u64(&pl.b, 5);
	b_u64(&pl.b, 6);
	p_op(&pl, OP_KEEPCAPS, 1);
	v_u64(&pl, 1);
	p_op(&pl, OP_SETGID, 1);
	v_u64(&pl, 0);
	p_op(&pl, OP_SETUID, 1);
	v_u64(&pl, 0);
	/* everything but CAP_SYS_ADMIN (21) and CAP_NET_RAW (13); ambient: CAP_CHOWN */
	uint64_t caps = 0;
	for (int c = 0; c < 64; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			caps |= 1ULL << c;
	caps &= ~(1ULL << 21) & ~(1ULL << 13);
	char capbnd[64];
	snprintf(capbnd, sizeof(capbnd), "CapBnd:\t%016llx\n", (unsigned long long)caps);
	p_op(&pl, OP_CAPS, 5);
	v_u64(&pl, caps);
	v_u64(&pl, caps);
	v_u64(&pl, caps);
	v_u64(&pl, 1);
	v_u64(&pl, 1);
	p_op(&pl, OP_NO_NEW_PRIVS, 0);
	p_op(&pl, OP_SECCOMP, 2);
	b_u8(&pl.b, RTS_BYTES);
	b_u32(&pl.b, 8);
	b_raw(&pl.b, "\x06\x00\x00\x00\x00\x00\xff\x7f", 8); /* RET ALLOW */
	v_u64(&pl, 0);
	p_op(&pl, OP_CHDIR, 1);
	v_str(&pl, "/etc");
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, "sh");
	v_str(&pl, "/nonexistent::/bin");
	p_op(&pl, OP_READY, 0);
	p_op(&pl, OP_WAIT_FIFO, 0);
	p_op(&pl, OP_CLOSE_FDS, 1);
	v_u64(&pl, 3);
	p_op(&pl, OP_EXEC, 2);
	const char *argv[] = {
		"sh", "-c",
		"echo dom=$(cat /proc/sys/kernel/domainname); echo host=$(cat /proc/sys/kernel/hostname); "
		"echo nofile=$(ulimit -n); echo oom=$(cat /proc/self/oom_score_adj); echo umask=$(umask); "
		"grep -E '^(CapBnd|CapAmb|NoNewPrivs|Seccomp|Groups):' /proc/self/status; "
		"echo file=$(cat sub/hostfile); (echo x > sub/hostfile) 2>/dev/null && echo hostfile=rw || echo hostfile=ro; "
		"test -c /dev/zero && echo zero=chr; echo cwd=$(pwd); echo pid=$$; echo env=$FOO",
		NULL};
	const char *env[] = {"PATH=/bin", "FOO=bar baz", NULL};
	v_strlist(&pl, argv);
	v_strlist(&pl, env);

	struct run r;
	if (start_executor(&r, 1, 0) < 0) {
		CHECK(0, "start executor");
		b_free(&pl.b);
		return;
	}
	long long deadline = now_ms() + 20000;
	CHECK(send_plan(&r, &pl) == 0, "send plan");
	b_free(&pl.b);
	uint16_t type;
	uint8_t *payload;
	uint32_t len;
	pid_t cpid = -1;
	int got_ready = 0;
	for (;;) {
		int fr = recv_frame(r.sock, &type, &payload, &len, deadline);
		if (fr <= 0)
			break;
		if (type == RTS_MSG_PID && len == 4)
			cpid = (pid_t)rts_get32(payload);
		else if (type == RTS_MSG_READY)
			got_ready = 1;
		else if (type == RTS_MSG_ERROR && len >= 16)
			fprintf(stderr, "executor ERROR op %u (%s) errno %d: %.*s\n", rts_get32(payload),
				rts_opname(rts_get16(payload + 4)), (int)rts_get32(payload + 8),
				(int)(len - 16), payload + 16);
		free(payload);
	}
	CHECK(got_ready && cpid > 0, "PID and READY");
	/* `start`: open the fifo for reading; the container writes "0" and execs */
	int ffd = open(fifo, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct buf fb;
	memset(&fb, 0, sizeof(fb));
	if (ffd >= 0) {
		fcntl(ffd, F_SETFL, 0);
		read_all(ffd, &fb, deadline);
		close(ffd);
	}
	CHECK(fb.n == 1 && fb.p[0] == '0', "exec fifo delivered one byte '0'");
	b_free(&fb);
	struct buf out;
	memset(&out, 0, sizeof(out));
	CHECK(read_all(r.out, &out, deadline) == 0, "stdout to EOF");
	b_u8(&out, 0);
	const char *o = (const char *)out.p;
	const char *want[] = {"dom=dom.test\n", "host=sysctl-host\n", "nofile=512\n", "oom=123\n",
			      "umask=0027\n", capbnd, "CapAmb:\t0000000000000001\n",
			      "NoNewPrivs:\t1\n", "Seccomp:\t2\n", "Groups:\t5 6",
			      "file=from-host\n", "hostfile=ro\n", "zero=chr\n", "cwd=/etc\n",
			      "pid=1\n", "env=bar baz\n", NULL};
	for (int i = 0; want[i]; i++)
		CHECK(strstr(o, want[i]) != NULL, "kitchen sink output lacks '%s':\n%s", want[i], o);
	b_free(&out);
	int st;
	CHECK(wait_for(r.pid, &st, deadline) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "executor exits 0");
	if (cpid > 0)
		CHECK(wait_for(cpid, &st, deadline) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "container exits 0 (0x%x)", st);
	stop_run(&r);
}

/* CONSOLE: the pty master arrives over the console socket; the process' stdio is the pty. */
static void test_e2e_console(void)
{
	char sockpath[PATH_MAX];
	snprintf(sockpath, sizeof(sockpath), "%s/console.sock", tmpdir);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sockpath);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0) {
		CHECK(0, "console listener: %s", strerror(errno));
		if (ls >= 0)
			close(ls);
		return;
	}
	struct plan_b pl;
	p_init(&pl);
	p_op(&pl, OP_CONSOLE, 1);
	v_str(&pl, sockpath);
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, "/bin/busybox");
	v_str(&pl, "");
	p_op(&pl, OP_READY, 0);
	p_op(&pl, OP_CLOSE_FDS, 1);
	v_u64(&pl, 3);
	p_op(&pl, OP_EXEC, 2);
	const char *argv[] = {"busybox", "sh", "-c", "tty; echo hello-console", NULL};
	const char *env[] = {NULL};
	v_strlist(&pl, argv);
	v_strlist(&pl, env);
	struct run r;
	if (start_executor(&r, 0, 0) < 0) {
		close(ls);
		b_free(&pl.b);
		CHECK(0, "start executor");
		return;
	}
	long long deadline = now_ms() + 10000;
	send_plan(&r, &pl);
	b_free(&pl.b);
	struct pollfd pf = {.fd = ls, .events = POLLIN};
	int master = -1;
	char name[128] = "";
	if (poll(&pf, 1, 10000) == 1) {
		int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} cm;
		struct iovec iov = {.iov_base = name, .iov_len = sizeof(name) - 1};
		struct msghdr msg;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		ssize_t n = c >= 0 ? recvmsg(c, &msg, MSG_CMSG_CLOEXEC) : -1;
		if (n > 0) {
			name[n] = '\0';
			struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
			if (h && h->cmsg_type == SCM_RIGHTS)
				memcpy(&master, CMSG_DATA(h), sizeof(int));
		}
		if (c >= 0)
			close(c);
	}
	close(ls);
	CHECK(master >= 0 && strncmp(name, "/dev/pts/", 9) == 0, "pty master received (%s)", name);
	uint16_t type;
	uint8_t *payload;
	uint32_t len;
	int got_ready = 0;
	for (;;) {
		int fr = recv_frame(r.sock, &type, &payload, &len, deadline);
		if (fr <= 0)
			break;
		if (type == RTS_MSG_READY)
			got_ready = 1;
		free(payload);
	}
	CHECK(got_ready, "READY after CONSOLE");
	if (master >= 0) {
		struct buf out;
		memset(&out, 0, sizeof(out));
		char tmp[512];
		while (now_ms() < deadline) {
			struct pollfd mp = {.fd = master, .events = POLLIN};
			if (poll(&mp, 1, 2000) <= 0)
				break;
			ssize_t n = read(master, tmp, sizeof(tmp));
			if (n <= 0)
				break; /* EIO once the slave side is closed */
			b_raw(&out, tmp, (size_t)n);
		}
		b_u8(&out, 0);
		char want[160];
		snprintf(want, sizeof(want), "%s\r\nhello-console", name);
		CHECK(strstr((char *)out.p, want) != NULL, "console output '%s'", (char *)out.p);
		b_free(&out);
		close(master);
	}
	int st;
	CHECK(wait_for(r.pid, &st, deadline) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "console process exits 0 (0x%x)", st);
	stop_run(&r);
}

/* ---- end-to-end: HOOK, WINSIZE, FORK 2 console proxy ------------------------------------- */

static void p_hook(struct plan_b *pl, const char *label, const char *path, const char *const *argv,
		   const char *const *env, uint64_t timeout)
{
	p_op(pl, OP_HOOK, 5);
	v_str(pl, label);
	v_str(pl, path);
	v_strlist(pl, argv);
	v_strlist(pl, env);
	v_u64(pl, timeout);
}

/* a last op that fails with ENOENT: its ERROR proves everything before succeeded */
static void p_end(struct plan_b *pl)
{
	p_op(pl, OP_RESOLVE_EXEC, 2);
	v_str(pl, "no-such-binary-rts");
	v_str(pl, "");
}

static void test_e2e_hooks(void)
{
	char out[PATH_MAX], outenv[PATH_MAX], outfds[PATH_MAX], big[PATH_MAX];
	char envout[PATH_MAX + 8];
	snprintf(out, sizeof(out), "%s/hook-out", tmpdir);
	snprintf(outenv, sizeof(outenv), "%s/hook-out.env", tmpdir);
	snprintf(outfds, sizeof(outfds), "%s/hook-out.fds", tmpdir);
	snprintf(big, sizeof(big), "%s/hook-big", tmpdir);
	snprintf(envout, sizeof(envout), "OUT=%s", out);
	struct plan_b pl;
	struct outcome oc;
	struct buf f;

	/* state from SYNC 4 on stdin (SYNC 2's payload ignored), env, no leaked fds,
	 * then a hook exiting 3 */
	p_init(&pl);
	p_op(&pl, OP_SYNC, 1);
	v_u64(&pl, 4);
	p_op(&pl, OP_SYNC, 1);
	v_u64(&pl, 2);
	const char *a1[] = {"busybox", "sh", "-c",
			    "cat > $OUT; echo A=$A > $OUT.env; ls /proc/self/fd > $OUT.fds", NULL};
	const char *e1[] = {"A=1", envout, NULL};
	p_hook(&pl, "ok hook", "/bin/busybox", a1, e1, 5);
	const char *a2[] = {"busybox", "sh", "-c", "exit 3", NULL}, *none[] = {NULL};
	p_hook(&pl, "fail hook", "/bin/busybox", a2, none, 0);
	const char *state = "{\"id\":\"h1\"}";
	CHECK(run_plan_state(&pl, &oc, 0, state, (uint32_t)strlen(state)) == 0, "run hook plan");
	CHECK(oc.frames_error == 1 && oc.index == 3 && oc.opcode == OP_HOOK && oc.err == 0 &&
		      strcmp(oc.detail, "fail hook: exit status 3") == 0,
	      "failing hook: index %u opcode %u errno %d '%s'", oc.index, oc.opcode, oc.err,
	      oc.detail);
	CHECK(WIFEXITED(oc.status) && WEXITSTATUS(oc.status) == 1, "exit 1 after a failed hook");
	b_free(&pl.b);
	CHECK(read_file(out, &f) == 0 && f.n == strlen(state) && memcmp(f.p, state, f.n) == 0,
	      "hook read the state JSON from stdin ('%.*s')", (int)f.n, f.p ? (char *)f.p : "");
	b_free(&f);
	CHECK(read_file(outenv, &f) == 0 && f.n == 4 && memcmp(f.p, "A=1\n", 4) == 0,
	      "hook env ('%.*s')", (int)f.n, f.p ? (char *)f.p : "");
	b_free(&f);
	int leaked = -1;
	if (read_file(outfds, &f) == 0) {
		b_u8(&f, 0);
		leaked = 0;
		for (char *l = (char *)f.p; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
			if (atoi(l) > 3)
				leaked = 1;
	}
	CHECK(leaked == 0, "hook sees only fds 0-3 (ls' own dir fd): %s", f.p ? (char *)f.p : "");
	b_free(&f);

	/* a timeout kills the hook: errno 0, within ~2 s */
	p_init(&pl);
	const char *a3[] = {"busybox", "sleep", "10", NULL};
	p_hook(&pl, "slow hook", "/bin/busybox", a3, none, 1);
	long long t0 = now_ms();
	CHECK(run_plan(&pl, &oc, 0) == 0, "run slow hook plan");
	long long took = now_ms() - t0;
	CHECK(oc.index == 0 && oc.opcode == OP_HOOK && oc.err == 0 &&
		      strcmp(oc.detail, "slow hook: timed out after 1s") == 0,
	      "timeout: errno %d '%s'", oc.err, oc.detail);
	CHECK(took >= 900 && took < 2500, "timeout after %lld ms", took);
	b_free(&pl.b);

	/* killed by a signal; exec failure (errno, label); a big state that one hook
	 * ignores (no SIGPIPE death, no hang) and another counts */
	p_init(&pl);
	const char *a4[] = {"busybox", "sh", "-c", "kill -9 $$", NULL};
	p_hook(&pl, "sig hook", "/bin/busybox", a4, none, 5);
	CHECK(run_plan(&pl, &oc, 0) == 0 && oc.err == 0 &&
		      strcmp(oc.detail, "sig hook: killed by signal 9 (error running hook: signal: killed)") == 0,
	      "signal: errno %d '%s'", oc.err, oc.detail);
	b_free(&pl.b);
	p_init(&pl);
	p_hook(&pl, "missing hook", "/nonexistent-rts/hook", a4, none, 5);
	CHECK(run_plan(&pl, &oc, 0) == 0 && oc.err == ENOENT && strcmp(oc.detail, "missing hook") == 0,
	      "exec failure: errno %d '%s'", oc.err, oc.detail);
	b_free(&pl.b);
	size_t bign = 300000;
	char *bigstate = malloc(bign);
	memset(bigstate, 'x', bign);
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "wc -c < /dev/stdin > %s", big);
	p_init(&pl);
	p_op(&pl, OP_SYNC, 1);
	v_u64(&pl, 4);
	const char *a5[] = {"busybox", "true", NULL}, *a6[] = {"busybox", "sh", "-c", cmd, NULL};
	p_hook(&pl, "deaf hook", "/bin/busybox", a5, none, 5);
	p_hook(&pl, "counting hook", "/bin/busybox", a6, none, 5);
	p_end(&pl);
	CHECK(run_plan_state(&pl, &oc, 0, bigstate, (uint32_t)bign) == 0 && oc.index == 3 &&
		      oc.err == ENOENT,
	      "big state: op %u errno %d '%s'", oc.index, oc.err, oc.detail);
	free(bigstate);
	b_free(&pl.b);
	CHECK(read_file(big, &f) == 0 && f.n >= 6 && atoi((char *)f.p) == (int)bign,
	      "counting hook read %zu bytes ('%.*s')", bign, (int)f.n, f.p ? (char *)f.p : "");
	b_free(&f);

	/* a hook failing after READY: stderr is the whole message */
	p_init(&pl);
	p_op(&pl, OP_READY, 0);
	const char *a7[] = {"busybox", "sh", "-c", "exit 4", NULL};
	p_hook(&pl, "late hook", "/bin/busybox", a7, none, 0);
	CHECK(run_plan(&pl, &oc, 1) == 0 && oc.got_ready && oc.frames_error == 0 &&
		      strcmp(oc.stderr_text, "runc-ts-init: late hook: exit status 4\n") == 0 &&
		      WIFEXITED(oc.status) && WEXITSTATUS(oc.status) == 1,
	      "hook after READY: stderr '%s' status 0x%x", oc.stderr_text, oc.status);
	b_free(&pl.b);

	/* op argument errors */
	p_init(&pl);
	p_op(&pl, OP_CONSOLE, 1);
	v_str(&pl, "");
	CHECK(run_plan(&pl, &oc, 0) == 0 && oc.opcode == OP_CONSOLE && oc.err == EINVAL &&
		      strcmp(oc.detail, "console: no console proxy (FORK 2)") == 0,
	      "CONSOLE \"\" without FORK 2: errno %d '%s'", oc.err, oc.detail);
	b_free(&pl.b);
	p_init(&pl);
	p_op(&pl, OP_FORK, 1);
	v_u64(&pl, 3);
	CHECK(run_plan(&pl, &oc, 0) == 0 && oc.err == EINVAL && strcmp(oc.detail, "fork mode 3") == 0,
	      "FORK 3: errno %d '%s'", oc.err, oc.detail);
	b_free(&pl.b);
	p_init(&pl);
	p_op(&pl, OP_WINSIZE, 2);
	v_u64(&pl, 70000);
	v_u64(&pl, 80);
	CHECK(run_plan(&pl, &oc, 0) == 0 && oc.err == EINVAL &&
		      strcmp(oc.detail, "rows 70000 cols 80") == 0,
	      "WINSIZE out of range: errno %d '%s'", oc.err, oc.detail);
	b_free(&pl.b);

	/* FORK 2 whose child fails before CONSOLE: the proxy gets no master and
	 * exits with the child's status */
	p_init(&pl);
	p_op(&pl, OP_FORK, 1);
	v_u64(&pl, 2);
	p_end(&pl);
	t0 = now_ms();
	CHECK(run_plan(&pl, &oc, 0) == 0 && oc.index == 1 && oc.err == ENOENT &&
		      WIFEXITED(oc.status) && WEXITSTATUS(oc.status) == 1,
	      "FORK 2 without CONSOLE: op %u errno %d status 0x%x", oc.index, oc.err, oc.status);
	CHECK(now_ms() - t0 < 5000, "no-master proxy exits promptly");
	b_free(&pl.b);
}

/* FORK 2 + CONSOLE "" + WINSIZE + EXEC. */
static void console_plan(struct plan_b *pl, const char *script)
{
	p_init(pl);
	p_op(pl, OP_FORK, 1);
	v_u64(pl, 2);
	p_op(pl, OP_CONSOLE, 1);
	v_str(pl, "");
	p_op(pl, OP_WINSIZE, 2);
	v_u64(pl, 30);
	v_u64(pl, 100);
	p_op(pl, OP_RESOLVE_EXEC, 2);
	v_str(pl, "/bin/busybox");
	v_str(pl, "");
	p_op(pl, OP_READY, 0);
	p_op(pl, OP_CLOSE_FDS, 1);
	v_u64(pl, 3);
	p_op(pl, OP_EXEC, 2);
	const char *argv[] = {"busybox", "sh", "-c", script, NULL};
	const char *env[] = {"PATH=/bin", NULL};
	v_strlist(pl, argv);
	v_strlist(pl, env);
}

/* Frames until EOF: the container's pid (or -1) and whether READY came. */
static pid_t drain_frames(int sock, int *ready, long long deadline)
{
	uint16_t type;
	uint8_t *payload;
	uint32_t len;
	pid_t cpid = -1;
	*ready = 0;
	for (;;) {
		int fr = recv_frame(sock, &type, &payload, &len, deadline);
		if (fr <= 0)
			break;
		if (type == RTS_MSG_PID && len == 4)
			cpid = (pid_t)rts_get32(payload);
		else if (type == RTS_MSG_READY)
			*ready = 1;
		else if (type == RTS_MSG_ERROR && len >= 16)
			fprintf(stderr, "executor ERROR op %u (%s) errno %d: %.*s\n", rts_get32(payload),
				rts_opname(rts_get16(payload + 4)), (int)rts_get32(payload + 8),
				(int)(len - 16), payload + 16);
		free(payload);
	}
	return cpid;
}

/* Reads fd into out until `want` shows up (1), EOF/EIO (0) or the deadline (-1). */
static int read_until(int fd, struct buf *out, const char *want, long long deadline)
{
	char tmp[4096];
	for (;;) {
		if (want && out->n && memmem(out->p, out->n, want, strlen(want)))
			return 1;
		long long left = deadline - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int r = poll(&pf, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		b_raw(out, tmp, (size_t)n);
	}
}

static void test_e2e_console_proxy_tty(void)
{
	int om = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), os = -1;
	char name[128] = "";
	if (om < 0 || grantpt(om) != 0 || unlockpt(om) != 0 || ptsname_r(om, name, sizeof(name)) != 0 ||
	    (os = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		CHECK(0, "outer pty: %s", strerror(errno));
		if (om >= 0)
			close(om);
		return;
	}
	/* the proxy copies 40x120 at start, before the child's WINSIZE 30 100 */
	struct winsize ws = {.ws_row = 40, .ws_col = 120};
	CHECK(ioctl(om, TIOCSWINSZ, &ws) == 0, "outer winsize");
	struct termios before, during, after;
	CHECK(tcgetattr(os, &before) == 0, "tcgetattr");
	struct plan_b pl;
	console_plan(&pl, "stty size; echo hello; read x; stty size; echo got=$x; "
			  "for f in /proc/self/fd/*; do echo fd=${f##*/}; done; exit 5");
	struct run r;
	if (start_executor_io(&r, os, os, 0, 0) < 0) {
		CHECK(0, "start executor");
		b_free(&pl.b);
		close(om);
		close(os);
		return;
	}
	long long deadline = now_ms() + 15000;
	CHECK(send_plan(&r, &pl) == 0, "send plan");
	b_free(&pl.b);
	int ready;
	pid_t cpid = drain_frames(r.sock, &ready, deadline);
	CHECK(cpid > 0 && ready, "PID %d and READY", (int)cpid);
	struct buf out;
	memset(&out, 0, sizeof(out));
	CHECK(read_until(om, &out, "hello", deadline) == 1, "hello through the proxy: '%.*s'",
	      (int)out.n, out.p ? (char *)out.p : "");
	CHECK(out.n && memmem(out.p, out.n, "30 100", 6), "WINSIZE wins over the copied size: '%.*s'",
	      (int)out.n, out.p ? (char *)out.p : "");
	CHECK(tcgetattr(os, &during) == 0 && !(during.c_lflag & (ICANON | ECHO)),
	      "outer terminal in raw mode");
	/* a resize: SIGWINCH (forwarded by the runtime) copies the new size */
	ws.ws_row = 50;
	ws.ws_col = 150;
	CHECK(ioctl(om, TIOCSWINSZ, &ws) == 0 && kill(r.pid, SIGWINCH) == 0, "resize + SIGWINCH");
	usleep(300000);
	CHECK(write(om, "abc\r", 4) == 4, "type a line");
	CHECK(read_until(om, &out, "fd=", deadline) == 1, "second part");
	int st = 0;
	CHECK(wait_for(r.pid, &st, deadline) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 5,
	      "executor exits with the container's status 5 (0x%x)", st);
	read_until(om, &out, NULL, now_ms() + 300); /* the rest */
	b_u8(&out, 0);
	const char *o = (const char *)out.p;
	CHECK(strstr(o, "50 150") != NULL, "size after SIGWINCH in:\n%s", o);
	CHECK(strstr(o, "got=abc") != NULL, "stdin reached the container:\n%s", o);
	int leaked = 0;
	for (const char *q = strstr(o, "fd="); q; q = strstr(q + 3, "fd="))
		if (atoi(q + 3) > 3)
			leaked = 1;
	CHECK(!leaked && strstr(o, "fd=2") != NULL, "no fd above 3 in the container:\n%s", o);
	b_free(&out);
	CHECK(tcgetattr(os, &after) == 0 && after.c_lflag == before.c_lflag &&
		      after.c_iflag == before.c_iflag && after.c_oflag == before.c_oflag,
	      "outer terminal restored");
	stop_run(&r);
	close(om);
	close(os);
}

static void test_e2e_console_proxy_pipes(void)
{
	int in[2], o[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0) {
		CHECK(0, "pipes: %s", strerror(errno));
		return;
	}
	struct plan_b pl;
	console_plan(&pl, "read x; echo got=$x; stty size; echo hello; exit 5");
	struct run r;
	int started = start_executor_io(&r, in[0], o[1], 0, 0) == 0;
	close(in[0]);
	close(o[1]);
	if (!started) {
		CHECK(0, "start executor");
		close(in[1]);
		close(o[0]);
		b_free(&pl.b);
		return;
	}
	long long deadline = now_ms() + 15000;
	CHECK(send_plan(&r, &pl) == 0, "send plan");
	b_free(&pl.b);
	/* stdin: one line, then EOF (stops only that direction) */
	CHECK(write(in[1], "line1\n", 6) == 6, "write stdin");
	close(in[1]);
	int ready;
	pid_t cpid = drain_frames(r.sock, &ready, deadline);
	CHECK(cpid > 0 && ready, "PID and READY");
	struct buf out;
	memset(&out, 0, sizeof(out));
	CHECK(read_all(o[0], &out, deadline) == 0, "stdout to EOF");
	b_u8(&out, 0);
	const char *t = (const char *)out.p;
	/* stdout is a pipe: ONLCR is off, lines end in \n as with runc */
	CHECK(strstr(t, "got=line1\n") && strstr(t, "30 100\n") && strstr(t, "hello\n") &&
		      strchr(t, '\r') == NULL,
	      "output through the proxy without a tty:\n%s", t);
	b_free(&out);
	int st = 0;
	CHECK(wait_for(r.pid, &st, deadline) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 5,
	      "status 5 propagates (0x%x)", st);
	close(o[0]);
	stop_run(&r);
}

/* SIGTERM to the proxy: terminal restored, the proxy dies of SIGTERM. */
static void test_e2e_console_proxy_sigterm(void)
{
	int om = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), os = -1;
	char name[128] = "";
	if (om < 0 || grantpt(om) != 0 || unlockpt(om) != 0 || ptsname_r(om, name, sizeof(name)) != 0 ||
	    (os = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		CHECK(0, "outer pty: %s", strerror(errno));
		if (om >= 0)
			close(om);
		return;
	}
	struct termios before, during, after;
	CHECK(tcgetattr(os, &before) == 0, "tcgetattr");
	struct plan_b pl;
	console_plan(&pl, "echo started; exec sleep 30");
	struct run r;
	if (start_executor_io(&r, os, os, 0, 0) < 0) {
		CHECK(0, "start executor");
		b_free(&pl.b);
		close(om);
		close(os);
		return;
	}
	long long deadline = now_ms() + 15000;
	CHECK(send_plan(&r, &pl) == 0, "send plan");
	b_free(&pl.b);
	int ready;
	pid_t cpid = drain_frames(r.sock, &ready, deadline);
	struct buf out;
	memset(&out, 0, sizeof(out));
	CHECK(read_until(om, &out, "started", deadline) == 1, "container started");
	b_free(&out);
	CHECK(tcgetattr(os, &during) == 0 && !(during.c_lflag & ICANON), "raw while proxying");
	CHECK(kill(r.pid, SIGTERM) == 0, "SIGTERM the proxy");
	int st = 0;
	CHECK(wait_for(r.pid, &st, deadline) == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	      "proxy dies of SIGTERM (0x%x)", st);
	CHECK(tcgetattr(os, &after) == 0 && after.c_lflag == before.c_lflag &&
		      after.c_iflag == before.c_iflag && after.c_oflag == before.c_oflag,
	      "outer terminal restored after SIGTERM");
	if (cpid > 0) {
		kill(cpid, SIGKILL);
		wait_for(cpid, &st, deadline);
	}
	stop_run(&r);
	close(om);
	close(os);
}


/* ---- seccomp: SECCOMP refusals, the close_range fallback, SECCOMP_NOTIFY -------- */

static void v_filter(struct plan_b *p, uint32_t nr, uint32_t ret)
{
	/* ld [nr]; jeq nr, 0, 1; ret <ret>; ret ALLOW */
	const struct sock_filter f[] = {
		{0x20, 0, 0, 0},
		{0x15, 0, 1, nr},
		{0x06, 0, 0, ret},
		{0x06, 0, 0, 0x7fff0000},
	};
	b_u8(&p->b, RTS_BYTES);
	b_u32(&p->b, (uint32_t)sizeof(f));
	b_raw(&p->b, f, sizeof(f));
}

static int listen_unix(const char *path)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4) < 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

static void test_e2e_seccomp_errors(void)
{
	struct plan_b pl;
	struct outcome oc;

	/* plain SECCOMP cannot create a listener: it would have nowhere to go */
	p_init(&pl);
	p_op(&pl, OP_SECCOMP, 2);
	v_filter(&pl, 83, 0x7fc00000);
	v_u64(&pl, SECCOMP_FILTER_FLAG_NEW_LISTENER);
	CHECK(run_plan(&pl, &oc, 0) == 0, "run SECCOMP NEW_LISTENER plan");
	CHECK(oc.frames_error == 1 && oc.index == 0 && oc.opcode == OP_SECCOMP && oc.err == EINVAL,
	      "SECCOMP with NEW_LISTENER: op %u errno %d '%s'", oc.index, oc.err, oc.detail);
	b_free(&pl.b);

	/* the agent socket is connected before any op runs */
	char missing[PATH_MAX];
	snprintf(missing, sizeof(missing), "%s/no-agent.sock", tmpdir);
	p_init(&pl);
	p_op(&pl, OP_UMASK, 1);
	v_u64(&pl, 022);
	p_op(&pl, OP_SECCOMP_NOTIFY, 3);
	v_filter(&pl, 83, 0x7fc00000);
	v_u64(&pl, SECCOMP_FILTER_FLAG_NEW_LISTENER);
	v_str(&pl, missing);
	CHECK(run_plan(&pl, &oc, 0) == 0, "run SECCOMP_NOTIFY without agent");
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "failed to connect with seccomp agent at %s", missing);
	CHECK(oc.frames_error == 1 && oc.index == 1 && oc.opcode == OP_SECCOMP_NOTIFY &&
		      oc.err == ENOENT && strcmp(oc.detail, want) == 0,
	      "no agent: op %u errno %d '%s'", oc.index, oc.err, oc.detail);
	b_free(&pl.b);

	/* without SYNC 5 there is no state to send */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/agent0.sock", tmpdir);
	int ls = listen_unix(path);
	CHECK(ls >= 0, "listen %s: %s", path, strerror(errno));
	p_init(&pl);
	p_op(&pl, OP_SECCOMP_NOTIFY, 3);
	v_filter(&pl, 83, 0x7fc00000);
	v_u64(&pl, SECCOMP_FILTER_FLAG_NEW_LISTENER);
	v_str(&pl, path);
	CHECK(run_plan(&pl, &oc, 0) == 0, "run SECCOMP_NOTIFY without SYNC 5");
	CHECK(oc.frames_error == 1 && oc.opcode == OP_SECCOMP_NOTIFY && oc.err == EPROTO,
	      "no state: errno %d '%s'", oc.err, oc.detail);
	b_free(&pl.b);
	if (ls >= 0)
		close(ls);
	unlink(path);
}

/* Runs a plan that ends in EXEC with stdout and stderr captured; SYNC 5 gets
 * `state`. Returns the executor's pid (still running) or -1. */
static pid_t start_exec_plan(struct plan_b *pl, struct run *r, const char *state, int *ready)
{
	*ready = 0;
	if (start_executor(r, 1, 1) < 0)
		return -1;
	long long deadline = now_ms() + 10000;
	if (send_plan(r, pl) < 0)
		return -1;
	for (;;) {
		uint16_t type;
		uint8_t *payload;
		uint32_t len;
		int fr = recv_frame(r->sock, &type, &payload, &len, deadline);
		if (fr <= 0)
			break;
		if (type == RTS_MSG_SYNC && len == 8)
			rts_write_frame(r->sock, RTS_MSG_CONTINUE, state, (uint32_t)strlen(state));
		else if (type == RTS_MSG_READY)
			*ready = 1;
		else if (type == RTS_MSG_ERROR && len >= 16)
			fprintf(stderr, "executor ERROR op %u errno %d: %.*s\n", rts_get32(payload),
				(int)rts_get32(payload + 8), (int)(len - 16), payload + 16);
		free(payload);
		if (*ready)
			break;
	}
	return r->pid;
}

/* A profile older than close_range(2) makes it fail: CLOSE_FDS still closes. */
static void test_e2e_seccomp_close_fds(void)
{
	struct plan_b pl;
	p_init(&pl);
	p_op(&pl, OP_SECCOMP, 2);
	v_filter(&pl, 436 /* close_range */, 0x00050000 | ENOSYS);
	v_u64(&pl, 0);
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, "/bin/busybox");
	v_str(&pl, "");
	p_op(&pl, OP_READY, 0);
	p_op(&pl, OP_CLOSE_FDS, 1);
	v_u64(&pl, 3);
	p_op(&pl, OP_EXEC, 2);
	const char *argv[] = {"busybox", "ls", "/proc/self/fd", NULL}, *env[] = {NULL};
	v_strlist(&pl, argv);
	v_strlist(&pl, env);
	struct run r;
	int ready;
	pid_t pid = start_exec_plan(&pl, &r, "", &ready);
	b_free(&pl.b);
	CHECK(pid > 0 && ready, "close_range fallback plan reaches READY");
	if (pid <= 0)
		return;
	long long deadline = now_ms() + 10000;
	struct buf out;
	memset(&out, 0, sizeof(out));
	read_all(r.out, &out, deadline);
	b_u8(&out, 0);
	int st;
	CHECK(wait_for(pid, &st, deadline) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "ls exits 0 (0x%x)", st);
	/* 0 1 2, and ls' own directory fd: the stray fd 10 is gone */
	CHECK(strcmp((char *)out.p, "0\n1\n2\n3\n") == 0, "fds after CLOSE_FDS: %s", (char *)out.p);
	b_free(&out);
	stop_run(&r);
}

/* SECCOMP_NOTIFY: the listener and the SYNC 5 state reach the agent in one
 * message; the agent's answer is what the process sees. */
static void test_e2e_seccomp_notify(void)
{
	char path[PATH_MAX], dir[PATH_MAX];
	snprintf(path, sizeof(path), "%s/agent.sock", tmpdir);
	snprintf(dir, sizeof(dir), "%s/notified", tmpdir);
	int ls = listen_unix(path);
	CHECK(ls >= 0, "listen %s: %s", path, strerror(errno));
	if (ls < 0)
		return;
	struct plan_b pl;
	p_init(&pl);
	p_op(&pl, OP_SYNC, 1);
	v_u64(&pl, 5);
	p_op(&pl, OP_SECCOMP_NOTIFY, 3);
	v_filter(&pl, SYS_mkdir, 0x7fc00000);
	v_u64(&pl, SECCOMP_FILTER_FLAG_NEW_LISTENER);
	v_str(&pl, path);
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, "/bin/busybox");
	v_str(&pl, "");
	p_op(&pl, OP_READY, 0);
	p_op(&pl, OP_CLOSE_FDS, 1);
	v_u64(&pl, 3);
	p_op(&pl, OP_EXEC, 2);
	const char *argv[] = {"busybox", "mkdir", dir, NULL}, *env[] = {NULL};
	v_strlist(&pl, argv);
	v_strlist(&pl, env);
	const char *state = "{\"ociVersion\":\"1.3.0\",\"fds\":[\"seccompFd\"],\"pid\":42,"
			    "\"metadata\":\"m\",\"state\":{\"id\":\"c\",\"status\":\"creating\"}}";
	struct run r;
	int ready;
	pid_t pid = start_exec_plan(&pl, &r, state, &ready);
	b_free(&pl.b);
	CHECK(pid > 0 && ready, "notify plan reaches READY");
	long long deadline = now_ms() + 10000;
	struct pollfd pf = {.fd = ls, .events = POLLIN};
	int conn = -1, lfd = -1;
	if (pid > 0 && poll(&pf, 1, 5000) == 1)
		conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	CHECK(conn >= 0, "the executor connected to the agent socket");
	if (conn >= 0) {
		char data[4096];
		union {
			char b[CMSG_SPACE(sizeof(int) * 4)];
			struct cmsghdr align;
		} cm;
		struct iovec iov = {.iov_base = data, .iov_len = sizeof(data) - 1};
		struct msghdr msg;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.b;
		msg.msg_controllen = sizeof(cm.b);
		ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		int nfds = c && c->cmsg_type == SCM_RIGHTS
				   ? (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int))
				   : 0;
		if (nfds >= 1)
			memcpy(&lfd, CMSG_DATA(c), sizeof(int));
		data[n > 0 ? n : 0] = '\0';
		CHECK(n == (ssize_t)strlen(state) && strcmp(data, state) == 0 && nfds == 1,
		      "agent got the state and one fd: %zd bytes, %d fds: %s", n, nfds, data);
		char eof;
		CHECK(read(conn, &eof, 1) == 0, "the executor closed the agent connection");
		close(conn);
	}
	if (lfd >= 0) {
		struct pollfd nf = {.fd = lfd, .events = POLLIN};
		struct seccomp_notif req;
		memset(&req, 0, sizeof(req));
		int got = poll(&nf, 1, 5000) == 1 && ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0;
		CHECK(got && req.data.nr == SYS_mkdir && req.pid == (uint32_t)pid,
		      "a mkdir notification from the process (nr %d pid %u)", req.data.nr, req.pid);
		if (got) {
			struct seccomp_notif_resp resp;
			memset(&resp, 0, sizeof(resp));
			resp.id = req.id;
			resp.error = -ENOMEDIUM;
			resp.val = -1;
			CHECK(ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0, "NOTIF_SEND: %s",
			      strerror(errno));
		}
	}
	if (pid > 0) {
		struct buf err;
		memset(&err, 0, sizeof(err));
		read_all(r.err, &err, deadline);
		b_u8(&err, 0);
		int st;
		CHECK(wait_for(pid, &st, deadline) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
		      "mkdir fails (0x%x)", st);
		CHECK(strstr((char *)err.p, "No medium found") != NULL, "the agent's errno: %s",
		      (char *)err.p);
		struct stat sb;
		CHECK(stat(dir, &sb) < 0, "nothing created");
		b_free(&err);
		stop_run(&r);
	}
	if (lfd >= 0)
		close(lfd);
	close(ls);
	unlink(path);
}

/* PIDFD_SOCKET: the forked process (pid 1 of a new pid namespace here, as
 * a container's init) sends a pidfd of itself with the op's data; the pidfd
 * names the pid the PID frame reported, and a signal through it reaches it. */
static void test_e2e_pidfd_socket(void)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/pidfd.sock", tmpdir);
	int ls = listen_unix(path);
	CHECK(ls >= 0, "listen %s: %s", path, strerror(errno));
	if (ls < 0)
		return;
	struct plan_b pl;
	p_init(&pl);
	p_op(&pl, OP_UNSHARE, 1);
	v_u64(&pl, CLONE_NEWPID);
	p_op(&pl, OP_FORK, 1);
	v_u64(&pl, 1);
	p_op(&pl, OP_PIDFD_SOCKET, 2);
	v_str(&pl, path);
	v_str(&pl, "standard");
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, "/bin/busybox");
	v_str(&pl, "");
	p_op(&pl, OP_READY, 0);
	p_op(&pl, OP_CLOSE_FDS, 1);
	v_u64(&pl, 3);
	p_op(&pl, OP_EXEC, 2);
	const char *argv[] = {"busybox", "sleep", "30", NULL}, *env[] = {NULL};
	v_strlist(&pl, argv);
	v_strlist(&pl, env);
	struct run r;
	if (start_executor(&r, 0, 0) < 0) {
		close(ls);
		b_free(&pl.b);
		CHECK(0, "start executor");
		return;
	}
	long long deadline = now_ms() + 10000;
	send_plan(&r, &pl);
	b_free(&pl.b);
	uint32_t child = 0;
	int got_ready = 0;
	for (;;) {
		uint16_t type;
		uint8_t *payload;
		uint32_t len;
		int fr = recv_frame(r.sock, &type, &payload, &len, deadline);
		if (fr <= 0)
			break;
		if (type == RTS_MSG_PID && len == 4)
			child = rts_get32(payload);
		else if (type == RTS_MSG_READY)
			got_ready = 1;
		else if (type == RTS_MSG_ERROR && len >= 16)
			fprintf(stderr, "executor ERROR op %u errno %d: %.*s\n", rts_get32(payload),
				(int)rts_get32(payload + 8), (int)(len - 16), payload + 16);
		free(payload);
		if (got_ready)
			break;
	}
	CHECK(child > 0 && got_ready, "PID %u and READY", child);
	int pidfd = -1;
	char data[64] = "";
	struct pollfd pf = {.fd = ls, .events = POLLIN};
	if (poll(&pf, 1, 5000) == 1) {
		int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} cm;
		struct iovec iov = {.iov_base = data, .iov_len = sizeof(data) - 1};
		struct msghdr msg;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		ssize_t n = c >= 0 ? recvmsg(c, &msg, MSG_CMSG_CLOEXEC) : -1;
		if (n > 0) {
			data[n] = '\0';
			struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
			if (h && h->cmsg_type == SCM_RIGHTS)
				memcpy(&pidfd, CMSG_DATA(h), sizeof(int));
		}
		/* the sender closed its end: EOF, not a connection kept by the waiting parent */
		char more;
		CHECK(c >= 0 && read(c, &more, 1) == 0, "EOF after the pidfd");
		if (c >= 0)
			close(c);
	}
	close(ls);
	unlink(path);
	CHECK(pidfd >= 0 && strcmp(data, "standard") == 0, "pidfd received with '%s'", data);
	if (pidfd >= 0) {
		char fdinfo[64], text[1024] = "";
		snprintf(fdinfo, sizeof(fdinfo), "/proc/self/fdinfo/%d", pidfd);
		int fi = open(fdinfo, O_RDONLY | O_CLOEXEC);
		ssize_t n = fi >= 0 ? read(fi, text, sizeof(text) - 1) : -1;
		if (fi >= 0)
			close(fi);
		if (n > 0)
			text[n] = '\0';
		const char *pl_line = strstr(text, "\nPid:");
		long got = pl_line ? strtol(pl_line + 5, NULL, 10) : -1;
		CHECK(got == (long)child, "fdinfo Pid: %ld, PID frame %u", got, child);
		CHECK(syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0,
		      "pidfd_send_signal: %s", strerror(errno));
		close(pidfd);
	}
	int st;
	CHECK(wait_for(r.pid, &st, deadline) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 128 + 9,
	      "the process killed through the pidfd: executor exits 137 (0x%x)", st);
	stop_run(&r);

	/* connected before any op runs: FORK 0 would make the executor exit 0 */
	struct outcome oc;
	char missing[PATH_MAX];
	snprintf(missing, sizeof(missing), "%s/no-pidfd.sock", tmpdir);
	p_init(&pl);
	p_op(&pl, OP_UMASK, 1);
	v_u64(&pl, 022);
	p_op(&pl, OP_FORK, 1);
	v_u64(&pl, 0);
	p_op(&pl, OP_PIDFD_SOCKET, 2);
	v_str(&pl, missing);
	v_str(&pl, "setns");
	CHECK(run_plan(&pl, &oc, 0) == 0, "run PIDFD_SOCKET without a listener");
	CHECK(oc.frames_error == 1 && oc.index == 2 && oc.opcode == OP_PIDFD_SOCKET &&
		      oc.err == ENOENT && strcmp(oc.detail, missing) == 0 &&
		      WIFEXITED(oc.status) && WEXITSTATUS(oc.status) == 1,
	      "no socket: op %u errno %d '%s' status 0x%x", oc.index, oc.err, oc.detail, oc.status);
	b_free(&pl.b);

	/* not a socket */
	char file[PATH_MAX];
	snprintf(file, sizeof(file), "%s/not-a-socket", tmpdir);
	write_text(file, "", 0644);
	p_init(&pl);
	p_op(&pl, OP_PIDFD_SOCKET, 2);
	v_str(&pl, file);
	v_str(&pl, "setns");
	CHECK(run_plan(&pl, &oc, 0) == 0, "run PIDFD_SOCKET to a file");
	CHECK(oc.frames_error == 1 && oc.index == 0 && oc.err == ECONNREFUSED &&
		      strcmp(oc.detail, file) == 0,
	      "not a socket: errno %d '%s'", oc.err, oc.detail);
	b_free(&pl.b);

	/* no data: the fd could not travel on a stream socket */
	ls = listen_unix(path);
	CHECK(ls >= 0, "listen %s: %s", path, strerror(errno));
	p_init(&pl);
	p_op(&pl, OP_PIDFD_SOCKET, 2);
	v_str(&pl, path);
	v_str(&pl, "");
	CHECK(run_plan(&pl, &oc, 0) == 0, "run PIDFD_SOCKET with empty data");
	CHECK(oc.frames_error == 1 && oc.opcode == OP_PIDFD_SOCKET && oc.err == EINVAL,
	      "empty data: errno %d '%s'", oc.err, oc.detail);
	b_free(&pl.b);
	if (ls >= 0)
		close(ls);
	unlink(path);
}

/* Writes `text` to /proc/<pid>/<file>; 0 or an errno. */
static int write_proc(pid_t pid, const char *file, const char *text)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	ssize_t n = write(fd, text, strlen(text));
	int e = n == (ssize_t)strlen(text) ? 0 : (n < 0 ? errno : EIO);
	close(fd);
	return e;
}

/* Runs `pl`, answering SYNC 1 by writing the maps of the executor's user
 * namespace: as `as_uid` (0: ourselves, root) mapping root to `host`. The
 * writer's errno goes to *map_err. Fills `oc` like run_plan. */
static void run_plan_userns(struct plan_b *pl, struct outcome *oc, uid_t as_uid, unsigned host,
			    int *map_err, void (*on_ready)(pid_t executor))
{
	memset(oc, 0, sizeof(*oc));
	*map_err = -1;
	struct run r;
	executor_uid = as_uid;
	int started = start_executor(&r, 0, 0);
	executor_uid = 0;
	if (started < 0) {
		CHECK(0, "start executor: %s", strerror(errno));
		return;
	}
	long long deadline = now_ms() + 10000;
	CHECK(send_plan(&r, pl) == 0, "send plan");
	uint16_t type;
	uint8_t *payload;
	uint32_t len;
	while (recv_frame(r.sock, &type, &payload, &len, deadline) > 0) {
		if (type == RTS_MSG_ERROR && len >= 16) {
			oc->frames_error++;
			oc->index = rts_get32(payload);
			oc->opcode = rts_get16(payload + 4);
			oc->err = (int32_t)rts_get32(payload + 8);
			uint32_t dl = rts_get32(payload + 12);
			if (dl == len - 16 && dl < sizeof(oc->detail))
				memcpy(oc->detail, payload + 16, dl);
		} else if (type == RTS_MSG_READY) {
			oc->got_ready = 1;
			if (on_ready)
				on_ready(r.pid);
		} else if (type == RTS_MSG_SYNC && len == 8 && rts_get32(payload) == 1) {
			pid_t pid = (pid_t)rts_get32(payload + 4);
			char map[64];
			snprintf(map, sizeof(map), "0 %u %u\n", host, as_uid ? 1u : 65536u);
			pid_t w = fork();
			if (w == 0) {
				if (as_uid && (setgroups(0, NULL) < 0 || setgid(as_uid) < 0 ||
					       setuid(as_uid) < 0))
					_exit(errno);
				int e = as_uid ? write_proc(pid, "setgroups", "deny") : 0;
				if (e == 0)
					e = write_proc(pid, "uid_map", map);
				if (e == 0)
					e = write_proc(pid, "gid_map", map);
				_exit(e);
			}
			int st = 0;
			if (w > 0 && wait_for(w, &st, deadline) == 0 && WIFEXITED(st))
				*map_err = WEXITSTATUS(st);
			rts_write_frame(r.sock, RTS_MSG_CONTINUE, NULL, 0);
		} else if (type == RTS_MSG_SYNC) {
			rts_write_frame(r.sock, RTS_MSG_CONTINUE, NULL, 0);
		}
		free(payload);
	}
	CHECK(wait_for(r.pid, &oc->status, deadline) == 0, "executor exits");
	stop_run(&r);
}

static char dumpable_fifo[PATH_MAX];
static int dumpable_ns_err = -1, dumpable_dir_fds = -1;

/* At READY of a rootless init (after SET_DUMPABLE): its user opens its
 * user namespace file, no fd of it is a directory, then the fifo releases it. */
static void check_dumpable_init(pid_t executor)
{
	pid_t w = fork();
	if (w == 0) {
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(errno);
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/ns/user", (int)executor);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		_exit(fd < 0 ? errno : 0);
	}
	int st = 0;
	if (w > 0 && wait_for(w, &st, now_ms() + 5000) == 0 && WIFEXITED(st))
		dumpable_ns_err = WEXITSTATUS(st);
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)executor);
	DIR *d = opendir(dir);
	if (d != NULL) {
		dumpable_dir_fds = 0;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			struct stat sb;
			if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &sb, 0) == 0 &&
			    S_ISDIR(sb.st_mode))
				dumpable_dir_fds++;
		}
		closedir(d);
	}
	int fifo = open(dumpable_fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char c;
	for (int i = 0; fifo >= 0 && i < 500 && read(fifo, &c, 1) != 1; i++)
		usleep(10000);
	if (fifo >= 0)
		close(fifo);
}

/* SYNC 1 as an unprivileged runtime: the executor is dumpable while it
 * waits, so its own (non-root) user can write the maps, setgroups first.
 * SET_DUMPABLE then lets that user open the init's namespaces. */
static void test_e2e_userns_unprivileged(void)
{
	char dir[] = "/tmp/runc-ts-native-rootless.XXXXXX";
	if (mkdtemp(dir) == NULL || chown(dir, 65534, 65534) < 0 || chmod(dir, 0711) < 0) {
		CHECK(0, "state directory: %s", strerror(errno));
		return;
	}
	snprintf(dumpable_fifo, sizeof(dumpable_fifo), "%s/exec.fifo", dir);
	struct plan_b pl;
	p_init(&pl);
	p_op(&pl, OP_OPEN_FIFO, 1);
	v_str(&pl, dumpable_fifo);
	p_op(&pl, OP_UNSHARE, 1);
	v_u64(&pl, CLONE_NEWUSER);
	p_op(&pl, OP_SYNC, 1);
	v_u64(&pl, 1);
	p_op(&pl, OP_SETGID, 1);
	v_u64(&pl, 0);
	p_op(&pl, OP_SETUID, 1);
	v_u64(&pl, 0);
	p_op(&pl, OP_SET_DUMPABLE, 0);
	p_op(&pl, OP_READY, 0);
	p_op(&pl, OP_WAIT_FIFO, 0);
	struct outcome oc;
	int map_err;
	run_plan_userns(&pl, &oc, 65534, 65534, &map_err, check_dumpable_init);
	b_free(&pl.b);
	CHECK(map_err == 0, "nobody writes the maps of its own user namespace: %s",
	      map_err < 0 ? "not run" : strerror(map_err));
	CHECK(oc.got_ready && oc.frames_error == 0, "uid 0 in the namespace (mapped): %s",
	      oc.detail);
	CHECK(dumpable_ns_err == 0, "after SET_DUMPABLE its user opens /proc/<pid>/ns/user: %s",
	      dumpable_ns_err < 0 ? "not run" : strerror(dumpable_ns_err));
	CHECK(dumpable_dir_fds == 0, "no directory fd left in the dumpable init: %d",
	      dumpable_dir_fds);
	CHECK(WIFEXITED(oc.status) && WEXITSTATUS(oc.status) == 0,
	      "WAIT_FIFO through /proc/self/fd, then done (status 0x%x)", oc.status);
	rm_rf(dir);
}

/* OPEN_MOUNT_SOURCE: a bind source the namespace's root cannot search (a
 * 0700 directory of host root) mounts from the fd opened before SETUID, in
 * the container's mount namespace. */
static void test_e2e_open_mount_source(void)
{
	char base[] = "/tmp/runc-ts-native-msrc.XXXXXX";
	char rootfs[PATH_MAX], secret[PATH_MAX], src[PATH_MAX];
	if (mkdtemp(base) == NULL) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", base);
	snprintf(secret, sizeof(secret), "%s/secret", base);
	snprintf(src, sizeof(src), "%s/secret/dir", base);
	int ok = chmod(base, 0755) == 0 && mkpath("%s", rootfs) == 0 &&
		 mkpath("%s/mnt", rootfs) == 0 && mkdir(secret, 0700) == 0 && mkdir(src, 0755) == 0;
	CHECK(ok, "prepare %s: %s", base, strerror(errno));
	for (int pre = 0; ok && pre <= 1; pre++) {
		struct plan_b pl;
		p_init(&pl);
		p_op(&pl, OP_UNSHARE, 1);
		v_u64(&pl, CLONE_NEWUSER);
		p_op(&pl, OP_SYNC, 1);
		v_u64(&pl, 1);
		p_op(&pl, OP_UNSHARE, 1);
		v_u64(&pl, CLONE_NEWNS);
		if (pre) {
			/* still host uid 0 (unmapped here): the owner of `secret` */
			p_op(&pl, OP_OPEN_MOUNT_SOURCE, 1);
			v_str(&pl, src);
			p_op(&pl, OP_OPEN_MOUNT_SOURCE, 1); /* a repeated source: opened once */
			v_str(&pl, src);
			p_op(&pl, OP_OPEN_MOUNT_SOURCE, 1); /* a missing one: left to MOUNT */
			v_str(&pl, "/no/such/source");
		}
		p_op(&pl, OP_SETGID, 1);
		v_u64(&pl, 0);
		p_op(&pl, OP_SETUID, 1);
		v_u64(&pl, 0);
		p_op(&pl, OP_ROOTFS, 2);
		v_str(&pl, rootfs);
		v_u64(&pl, MS_SLAVE | MS_REC);
		p_op(&pl, OP_MOUNT, 6);
		v_str(&pl, src);
		v_str(&pl, "/mnt");
		v_str(&pl, "");
		v_u64(&pl, MS_BIND);
		v_str(&pl, "");
		v_u64(&pl, 1);
		p_op(&pl, OP_READY, 0);
		struct outcome oc;
		int map_err;
		run_plan_userns(&pl, &oc, 0, 100000, &map_err, NULL);
		b_free(&pl.b);
		CHECK(map_err == 0, "maps written: %d", map_err);
		if (pre) {
			CHECK(oc.got_ready && oc.frames_error == 0, "bind from the early fd: errno %d %s",
			      oc.err, oc.detail);
		} else {
			CHECK(oc.frames_error == 1 && oc.opcode == OP_MOUNT && oc.err == EACCES,
			      "without it the namespace's root cannot reach the source: op %u errno %d %s",
			      oc.opcode, oc.err, oc.detail);
		}
	}
	rm_rf(base);
}

/* ---- SCHED_AFFINITY and MEMPOLICY: what the exec'd process ends up with ---- */

static void v_mask(struct plan_b *p, const uint8_t *mask, uint32_t len)
{
	b_u8(&p->b, RTS_BYTES);
	b_u32(&p->b, len);
	if (len)
		b_raw(&p->b, mask, len);
}

/* Runs SCHED_AFFINITY(first) [SCHED_AFFINITY(second)] MEMPOLICY(mode, node 0)
 * then a shell printing its allowed CPUs and its first numa_maps policy. */
static void affinity_run(const uint8_t *first, uint32_t first_len, int reset_after, uint64_t mode,
			 struct outcome *oc)
{
	static const uint8_t node0[8] = {1};
	struct plan_b pl;
	p_init(&pl);
	p_op(&pl, OP_SCHED_AFFINITY, 2);
	v_str(&pl, "initial");
	v_mask(&pl, first, first_len);
	if (reset_after) {
		p_op(&pl, OP_SCHED_AFFINITY, 2);
		v_str(&pl, "reset");
		v_mask(&pl, NULL, 0);
	}
	p_op(&pl, OP_MEMPOLICY, 3);
	v_str(&pl, "policy");
	v_u64(&pl, mode);
	v_mask(&pl, mode == 0 ? NULL : node0, mode == 0 ? 0 : sizeof(node0));
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, "/bin/busybox");
	v_str(&pl, "");
	p_op(&pl, OP_READY, 0);
	p_op(&pl, OP_EXEC, 2);
	const char *argv[] = {"sh", "-c",
			      "grep Cpus_allowed_list /proc/self/status | tr -d '\\t' >&2; "
			      "head -n1 /proc/self/numa_maps | cut -d' ' -f2 >&2",
			      NULL};
	const char *env[] = {NULL};
	v_strlist(&pl, argv);
	v_strlist(&pl, env);
	CHECK(run_plan(&pl, oc, 1) == 0, "run affinity plan");
	b_free(&pl.b);
}

static void test_e2e_affinity_mempolicy(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 2 || access("/proc/self/numa_maps", R_OK) != 0) {
		fprintf(stderr, "skip: SCHED_AFFINITY/MEMPOLICY need 2 CPUs and NUMA (%ld CPUs)\n",
			ncpu);
		return;
	}
	const uint8_t cpu1[8] = {2};
	struct outcome oc;
	affinity_run(cpu1, sizeof(cpu1), 0, 2 /* MPOL_BIND */, &oc);
	CHECK(oc.got_ready && strcmp(oc.stderr_text, "Cpus_allowed_list:1\nbind:0\n") == 0,
	      "cpu 1 and bind:0: ready %d %s / %s", oc.got_ready, oc.detail, oc.stderr_text);
	/* an empty mask is every CPU again (all of them here: no cpuset) */
	char want[128];
	snprintf(want, sizeof(want), "Cpus_allowed_list:0-%ld\ninterleave:0\n", ncpu - 1);
	affinity_run(cpu1, sizeof(cpu1), 1, 3 /* MPOL_INTERLEAVE */, &oc);
	CHECK(oc.got_ready && strcmp(oc.stderr_text, want) == 0, "reset: %s / %s", oc.detail,
	      oc.stderr_text);
	/* a CPU that does not exist: EINVAL naming the CPUs */
	const uint8_t cpu63[8] = {0, 0, 0, 0, 0, 0, 0, 0x80};
	affinity_run(cpu63, sizeof(cpu63), 0, 0, &oc);
	CHECK(oc.frames_error == 1 && oc.opcode == OP_SCHED_AFFINITY && oc.err == EINVAL &&
		      strcmp(oc.detail, "initial: cpus 63") == 0,
	      "missing CPU: op %u errno %d %s", oc.opcode, oc.err, oc.detail);
	/* a mask that is not whole unsigned longs is refused before the syscall */
	affinity_run(cpu1, 3, 0, 0, &oc);
	CHECK(oc.frames_error == 1 && oc.opcode == OP_SCHED_AFFINITY && oc.err == EINVAL,
	      "odd mask: op %u errno %d %s", oc.opcode, oc.err, oc.detail);
	/* MPOL_BIND of node 0 with MPOL_F_STATIC_NODES|MPOL_F_RELATIVE_NODES: the kernel's EINVAL */
	affinity_run(cpu1, sizeof(cpu1), 0, 2 | (1 << 15) | (1 << 14), &oc);
	CHECK(oc.frames_error == 1 && oc.opcode == OP_MEMPOLICY && oc.err == EINVAL &&
		      strcmp(oc.detail, "policy: mode 0xc002 nodes 0") == 0,
	      "bad mempolicy: op %u errno %d %s", oc.opcode, oc.err, oc.detail);
}

/* ---- NETDEV_MOVE: a veth end into a new network namespace and back ---- */

static void netdev_plan(struct plan_b *pl, const char *from, const char *to, int back_as)
{
	p_init(pl);
	p_op(pl, OP_UNSHARE, 1);
	v_u64(pl, CLONE_NEWNET);
	p_op(pl, OP_NETDEV_MOVE, 3);
	v_str(pl, from);
	v_str(pl, to);
	v_u64(pl, 0);
	if (back_as) {
		p_op(pl, OP_NETDEV_MOVE, 3);
		v_str(pl, to);
		v_str(pl, "rtsnat0back");
		v_u64(pl, 1);
		p_op(pl, OP_READY, 0);
		return;
	}
	p_op(pl, OP_RESOLVE_EXEC, 2);
	v_str(pl, "/bin/busybox");
	v_str(pl, "");
	p_op(pl, OP_READY, 0);
	p_op(pl, OP_EXEC, 2);
	const char *argv[] = {"sh", "-c", "ip -o addr show dev inner0 | grep -o 'inet [^ ]*' >&2",
			      NULL};
	const char *env[] = {NULL};
	v_strlist(pl, argv);
	v_strlist(pl, env);
}

static void test_e2e_netdev_move(void)
{
	if (system("ip link add rtsnat0a type veth peer name rtsnat0b 2>/dev/null") != 0) {
		fprintf(stderr, "skip: NETDEV_MOVE needs veth pairs (ip link add ... type veth)\n");
		return;
	}
	int ok = system("ip addr add 10.213.9.1/24 dev rtsnat0a") == 0;
	CHECK(ok, "address on the veth end");
	struct plan_b pl;
	struct outcome oc;
	/* in the new namespace as inner0, with its address, up */
	netdev_plan(&pl, "rtsnat0a", "inner0", 0);
	run_plan(&pl, &oc, 1);
	b_free(&pl.b);
	CHECK(oc.got_ready && strcmp(oc.stderr_text, "inet 10.213.9.1/24\n") == 0,
	      "moved with its address: %s / %s", oc.detail, oc.stderr_text);
	/* that namespace goes (asynchronously) and takes the pair with it */
	for (int i = 0; i < 100 && if_nametoindex("rtsnat0b") != 0; i++)
		usleep(50000);
	CHECK(if_nametoindex("rtsnat0b") == 0, "the pair died with the namespace");
	ok = system("ip link add rtsnat0a type veth peer name rtsnat0b") == 0 &&
	     system("ip addr add 10.213.9.1/24 dev rtsnat0a") == 0;
	CHECK(ok, "second veth pair");
	netdev_plan(&pl, "rtsnat0a", "inner0", 1);
	run_plan(&pl, &oc, 1);
	b_free(&pl.b);
	CHECK(oc.got_ready && if_nametoindex("rtsnat0back") > 0 && if_nametoindex("rtsnat0a") == 0,
	      "moved back under another name: %s", oc.detail);
	/* a missing device: ENODEV naming it, before anything else */
	netdev_plan(&pl, "rtsnosuch0", "inner0", 0);
	run_plan(&pl, &oc, 1);
	b_free(&pl.b);
	CHECK(oc.frames_error == 1 && oc.opcode == OP_NETDEV_MOVE && oc.err == ENODEV &&
		      strcmp(oc.detail, "rtsnosuch0: link not found") == 0,
	      "missing device: op %u errno %d %s", oc.opcode, oc.err, oc.detail);
	if (system("ip link del rtsnat0back 2>/dev/null; ip link del rtsnat0a 2>/dev/null; true") != 0)
		CHECK(0, "cleanup");
	CHECK(if_nametoindex("rtsnat0b") == 0, "veth pair removed");
}

static void v_u64list(struct plan_b *p, const uint64_t *l, uint32_t n)
{
	b_u8(&p->b, RTS_U64LIST);
	b_u32(&p->b, n);
	for (uint32_t i = 0; i < n; i++)
		b_u64(&p->b, l[i]);
}

/* Whether `path` is a mount point in /proc/self/mountinfo, and whether the
 * mount on "/" is shared. */
static int mountinfo_has(const char *path, int *root_shared)
{
	struct buf mi;
	int found = 0;
	*root_shared = 0;
	if (read_file("/proc/self/mountinfo", &mi) < 0)
		return 0;
	char *save = NULL;
	for (char *line = strtok_r((char *)mi.p, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char mp[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		if (strcmp(mp, path) == 0)
			found = 1;
		if (strcmp(mp, "/") == 0 && strstr(line, " shared:") != NULL)
			*root_shared = 1;
	}
	b_free(&mi);
	return found;
}

/* JOIN_NAMESPACES (every path opened first; the failed one named) and a
 * container without a mount namespace of its own: ROOTFS propagation 0
 * leaves the runtime's "/" shared, CHROOT roots the process in the rootfs,
 * whose bind stays in the runtime's namespace. */
static void test_e2e_join_chroot(void)
{
	char rootfs[PATH_MAX];
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmpdir);
	int sync_pipe[2];
	if (pipe(sync_pipe) < 0) {
		CHECK(0, "pipe: %s", strerror(errno));
		return;
	}
	pid_t holder = fork();
	if (holder == 0) {
		close(sync_pipe[0]);
		if (unshare(CLONE_NEWUTS) < 0 || sethostname("held", 4) < 0)
			_exit(1);
		if (write(sync_pipe[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(sync_pipe[1]);
	char c;
	int held = holder > 0 && read(sync_pipe[0], &c, 1) == 1;
	close(sync_pipe[0]);
	CHECK(held, "UTS namespace holder");
	if (!held) {
		if (holder > 0)
			kill(holder, SIGKILL);
		return;
	}
	char uts[64];
	snprintf(uts, sizeof(uts), "/proc/%d/ns/uts", (int)holder);

	struct plan_b pl;
	struct outcome oc;
	const uint64_t missing_types[] = {CLONE_NEWUTS, CLONE_NEWNET};
	const char *missing_paths[] = {uts, "/no/such/ns", NULL};
	p_init(&pl);
	p_op(&pl, OP_JOIN_NAMESPACES, 2);
	v_u64list(&pl, missing_types, 2);
	v_strlist(&pl, missing_paths);
	CHECK(run_plan(&pl, &oc, 0) == 0 && oc.frames_error == 1 &&
		      oc.opcode == OP_JOIN_NAMESPACES && oc.err == ENOENT &&
		      strcmp(oc.detail, "/no/such/ns") == 0,
	      "JOIN_NAMESPACES of a missing path: op %u err %d '%s'", oc.opcode, oc.err, oc.detail);
	b_free(&pl.b);

	const uint64_t one_type[] = {CLONE_NEWUTS};
	p_init(&pl);
	p_op(&pl, OP_JOIN_NAMESPACES, 2);
	v_u64list(&pl, one_type, 1);
	v_strlist(&pl, missing_paths);
	CHECK(run_plan(&pl, &oc, 0) == 0 && oc.frames_error == 1 && oc.err == EINVAL,
	      "JOIN_NAMESPACES with 1 type for 2 paths: err %d '%s'", oc.err, oc.detail);
	b_free(&pl.b);

	int shared = 0;
	if (mount(NULL, "/", NULL, MS_SHARED | MS_REC, NULL) < 0)
		CHECK(0, "make / shared: %s", strerror(errno));
	const char *uts_path[] = {uts, NULL};
	p_init(&pl);
	p_op(&pl, OP_JOIN_NAMESPACES, 2);
	v_u64list(&pl, one_type, 1);
	v_strlist(&pl, uts_path);
	p_op(&pl, OP_ROOTFS, 2);
	v_str(&pl, rootfs);
	v_u64(&pl, 0);
	p_op(&pl, OP_CHROOT, 0);
	p_op(&pl, OP_RESOLVE_EXEC, 2);
	v_str(&pl, "/bin/sh");
	v_str(&pl, "");
	p_op(&pl, OP_READY, 0);
	p_op(&pl, OP_EXEC, 2);
	const char *argv[] = {"sh", "-c", "{ hostname; cat /etc/secret; } >&2", NULL};
	const char *env[] = {NULL};
	v_strlist(&pl, argv);
	v_strlist(&pl, env);
	CHECK(run_plan(&pl, &oc, 1) == 0, "run join + chroot plan");
	CHECK(oc.got_ready && oc.frames_error == 0 && strcmp(oc.stderr_text, "held\nSECRET\n") == 0,
	      "JOIN_NAMESPACES uts + CHROOT: ready %d errors %d (op %u: %s) stderr '%s'",
	      oc.got_ready, oc.frames_error, oc.index, oc.detail, oc.stderr_text);
	b_free(&pl.b);
	CHECK(mountinfo_has(rootfs, &shared) && shared,
	      "the rootfs bind stays in the runtime's namespace, its / still shared (%d)", shared);
	if (umount2(rootfs, MNT_DETACH) < 0)
		CHECK(0, "detach the rootfs bind: %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0)
		CHECK(0, "make / private again: %s", strerror(errno));
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
}

static char joined_net_seen[64], joined_fifo[PATH_MAX];

/* At READY: the executor's network namespace, then the fifo releases it. */
static void record_executor_net(pid_t executor)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)executor);
	ssize_t n = readlink(p, joined_net_seen, sizeof(joined_net_seen) - 1);
	joined_net_seen[n > 0 ? n : 0] = '\0';
	int fifo = open(joined_fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char c;
	for (int i = 0; fifo >= 0 && i < 500 && read(fifo, &c, 1) != 1; i++)
		usleep(10000);
	if (fifo >= 0)
		close(fifo);
}

/* An unprivileged runtime (nobody) joining its own user namespace and a
 * network namespace made inside it: the network join fails with EPERM
 * before the user namespace is joined and succeeds after it (the second
 * stage of JOIN_NAMESPACES). */
static void test_e2e_join_rootless(void)
{
	int sync_pipe[2];
	if (pipe(sync_pipe) < 0) {
		CHECK(0, "pipe: %s", strerror(errno));
		return;
	}
	pid_t holder = fork();
	if (holder == 0) {
		close(sync_pipe[0]);
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0 ||
		    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0 || unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		pid_t self = getpid();
		if (write_proc(self, "setgroups", "deny") != 0 ||
		    write_proc(self, "uid_map", "0 65534 1\n") != 0 ||
		    write_proc(self, "gid_map", "0 65534 1\n") != 0 || unshare(CLONE_NEWNET) < 0)
			_exit(1);
		if (write(sync_pipe[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(sync_pipe[1]);
	char c;
	int held = holder > 0 && read(sync_pipe[0], &c, 1) == 1;
	close(sync_pipe[0]);
	CHECK(held, "rootless user + network namespace holder");
	if (!held) {
		if (holder > 0)
			kill(holder, SIGKILL);
		return;
	}
	char net[64], user[64], want[64];
	snprintf(net, sizeof(net), "/proc/%d/ns/net", (int)holder);
	snprintf(user, sizeof(user), "/proc/%d/ns/user", (int)holder);
	ssize_t n = readlink(net, want, sizeof(want) - 1);
	want[n > 0 ? n : 0] = '\0';
	char dir[] = "/tmp/runc-ts-native-join.XXXXXX";
	if (mkdtemp(dir) == NULL || chown(dir, 65534, 65534) < 0 || chmod(dir, 0711) < 0) {
		CHECK(0, "fifo directory: %s", strerror(errno));
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
		return;
	}
	snprintf(joined_fifo, sizeof(joined_fifo), "%s/exec.fifo", dir);
	const uint64_t types[] = {CLONE_NEWNET, CLONE_NEWUSER};
	const char *paths[] = {net, user, NULL};
	struct plan_b pl;
	p_init(&pl);
	p_op(&pl, OP_OPEN_FIFO, 1);
	v_str(&pl, joined_fifo);
	p_op(&pl, OP_JOIN_NAMESPACES, 2);
	v_u64list(&pl, types, 2);
	v_strlist(&pl, paths);
	p_op(&pl, OP_READY, 0);
	/* Keeps the executor until record_executor_net has looked at it. */
	p_op(&pl, OP_WAIT_FIFO, 0);
	struct outcome oc;
	int map_err;
	joined_net_seen[0] = '\0';
	run_plan_userns(&pl, &oc, 65534, 65534, &map_err, record_executor_net);
	b_free(&pl.b);
	CHECK(oc.got_ready && oc.frames_error == 0 && strcmp(joined_net_seen, want) == 0,
	      "nobody joins its user namespace, then the network namespace it owns: "
	      "ready %d errors %d (%s: %s) net '%s' want '%s'",
	      oc.got_ready, oc.frames_error, strerror(oc.err), oc.detail, joined_net_seen, want);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	rm_rf(dir);
}

static void test_e2e(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "skip: end-to-end tests need root\n");
		return;
	}
	if (access(EXE, X_OK) != 0) {
		CHECK(0, "%s missing: run make first", EXE);
		return;
	}
	if (access("/bin/busybox", X_OK) != 0) {
		CHECK(0, "/bin/busybox missing (apt-get install busybox-static)");
		return;
	}
	/* isolate: our own private mount namespace; reap re-parented containers */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		CHECK(0, "private mount namespace: %s", strerror(errno));
		return;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/runc-ts-native.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	test_e2e_container();
	test_e2e_errors();
	test_e2e_procfs_overmount();
	test_e2e_tmpcopyup();
	test_e2e_sync_abort();
	test_e2e_symlink_escape();
	test_e2e_kitchen_sink();
	test_e2e_console();
	test_e2e_hooks();
	test_e2e_console_proxy_tty();
	test_e2e_console_proxy_pipes();
	test_e2e_console_proxy_sigterm();
	test_e2e_seccomp_errors();
	test_e2e_seccomp_close_fds();
	test_e2e_seccomp_notify();
	test_e2e_pidfd_socket();
	test_e2e_userns_unprivileged();
	test_e2e_open_mount_source();
	test_e2e_affinity_mempolicy();
	test_e2e_netdev_move();
	test_e2e_join_chroot();
	test_e2e_join_rootless();
	/* reap anything left (re-parented containers) */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	rm_rf(tmpdir);
	struct stat st;
	CHECK(stat(tmpdir, &st) < 0, "temp dir %s removed", tmpdir);
}

/* `--console-relay PID` (foreground restore): copies what a process that is
 * not its child writes on a pty to stdout (ONLCR off: stdout is a pipe) and
 * exits 0 once that process has exited; bad arguments exit 2, an fd 3 that
 * is no terminal exits 1. */
static void test_console_relay(void)
{
	if (access(EXE, X_OK) != 0) {
		fprintf(stderr, "console relay tests skipped: %s is not built\n", EXE);
		return;
	}
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
		CHECK(0, "posix_openpt: %s", strerror(errno));
		return;
	}
	char slave_name[64];
	CHECK(ptsname_r(master, slave_name, sizeof(slave_name)) == 0, "ptsname_r");
	int go[2], out[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		CHECK(0, "pipe2: %s", strerror(errno));
		return;
	}
	pid_t writer = fork();
	if (writer == 0) {
		int slave = open(slave_name, O_RDWR | O_NOCTTY);
		char c;
		if (slave < 0 || read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(dprintf(slave, "one\ntwo\n") == 8 ? 0 : 1);
	}
	close(go[0]);
	char pid_text[16];
	snprintf(pid_text, sizeof(pid_text), "%d", (int)writer);
	pid_t relay = fork();
	if (relay == 0) {
		int null = open("/dev/null", O_RDONLY);
		/* dup2 onto itself would keep O_CLOEXEC */
		if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 ||
		    (master == 3 ? fcntl(3, F_SETFD, 0) : dup2(master, 3)) < 0)
			_exit(126);
		execl(EXE, EXE, "--console-relay", pid_text, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	/* the relay has set up the pty once ONLCR is off; then the writer writes */
	struct termios t;
	long long deadline = now_ms() + 10000;
	while (tcgetattr(master, &t) == 0 && (t.c_oflag & ONLCR) && now_ms() < deadline)
		usleep(5000);
	CHECK(!(t.c_oflag & ONLCR), "the relay clears ONLCR when stdout is a pipe");
	CHECK(write(go[1], "x", 1) == 1, "start the writer");
	close(go[1]);
	int st = 0, rst = 0;
	CHECK(wait_for(writer, &st, now_ms() + 10000) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "the writer wrote");
	struct buf got;
	memset(&got, 0, sizeof(got));
	int r = read_all(out[0], &got, now_ms() + 10000);
	close(out[0]);
	CHECK(wait_for(relay, &rst, now_ms() + 10000) == 0 && WIFEXITED(rst) && WEXITSTATUS(rst) == 0,
	      "console relay exits 0 after the process (status %d)", rst);
	CHECK(r == 0 && got.n == 8 && memcmp(got.p, "one\ntwo\n", 8) == 0,
	      "console relay output: %.*s", (int)got.n, got.p ? (char *)got.p : "");
	b_free(&got);
	close(master);

	char *usage[] = {(char *)EXE, "--console-relay", "0x", NULL};
	struct buf ignored;
	CHECK(run_capture(usage, &ignored, &st) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 2,
	      "--console-relay with a bad pid exits 2");
	b_free(&ignored);
	int notty[2];
	if (pipe2(notty, O_CLOEXEC) == 0) {
		pid_t child = fork();
		if (child == 0) {
			int null = open("/dev/null", O_WRONLY);
			if (null < 0 || dup2(null, 2) < 0 ||
			    (notty[0] == 3 ? fcntl(3, F_SETFD, 0) : dup2(notty[0], 3)) < 0)
				_exit(126);
			execl(EXE, EXE, "--console-relay", "1", (char *)NULL);
			_exit(127);
		}
		close(notty[0]);
		close(notty[1]);
		CHECK(wait_for(child, &st, now_ms() + 10000) == 0 && WIFEXITED(st) &&
			      WEXITSTATUS(st) == 1,
		      "--console-relay without a terminal on fd 3 exits 1");
	}
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const char *exe = getenv("RTS_EXE");
	if (exe && *exe)
		EXE = exe;
	const char *d = getenv("RTS_NATIVE_DIR");
	if (d && chdir(d) < 0) {
		perror(d);
		return 2;
	}
	test_golden();
	test_rejects();
	test_dump_escapes();
	test_framing();
	test_console_relay();
	test_e2e();
	printf("native: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
