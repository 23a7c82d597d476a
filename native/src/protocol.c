/* Plan decoder and message framing (PROTOCOL.md). */
#include "protocol.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const struct rts_opdef *rts_opdef(uint16_t code)
{
	if (code == 0 || code > OP_MAX || rts_opdefs[code].name == NULL)
		return NULL;
	return &rts_opdefs[code];
}

const char *rts_opname(uint16_t code)
{
	const struct rts_opdef *d = rts_opdef(code);
	return d ? d->name : "op";
}

/* ---- decoder ---------------------------------------------------------- */

struct cursor {
	const uint8_t *p;
	size_t n;
	size_t off;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int derr(struct cursor *c, const char *fmt, ...)
{
	if (c->err && c->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int need(struct cursor *c, size_t k, const char *what)
{
	if (c->n - c->off < k)
		return derr(c, "truncated plan: %s needs %zu bytes at offset %zu, %zu left", what,
			    k, c->off, c->n - c->off);
	return 0;
}

static int rd8(struct cursor *c, uint8_t *v, const char *what)
{
	if (need(c, 1, what))
		return -1;
	*v = c->p[c->off++];
	return 0;
}

static int rd16(struct cursor *c, uint16_t *v, const char *what)
{
	if (need(c, 2, what))
		return -1;
	*v = rts_get16(c->p + c->off);
	c->off += 2;
	return 0;
}

static int rd32(struct cursor *c, uint32_t *v, const char *what)
{
	if (need(c, 4, what))
		return -1;
	*v = rts_get32(c->p + c->off);
	c->off += 4;
	return 0;
}

static int rd64(struct cursor *c, uint64_t *v, const char *what)
{
	if (need(c, 8, what))
		return -1;
	*v = rts_get64(c->p + c->off);
	c->off += 8;
	return 0;
}

/* A STR's data: u32 length + bytes, no NUL, <= 64 KiB. Returns a copy. */
static int rdstr(struct cursor *c, char **out, uint32_t *outlen, const char *what)
{
	uint32_t len;
	if (rd32(c, &len, what))
		return -1;
	if (len > RTS_MAX_STR)
		return derr(c, "%s: string length %u exceeds %u", what, len, RTS_MAX_STR);
	if (need(c, len, what))
		return -1;
	if (memchr(c->p + c->off, 0, len) != NULL)
		return derr(c, "%s: NUL byte inside a string at offset %zu", what, c->off);
	char *s = malloc((size_t)len + 1);
	if (s == NULL)
		return derr(c, "%s: out of memory", what);
	memcpy(s, c->p + c->off, len);
	s[len] = '\0';
	c->off += len;
	*out = s;
	if (outlen)
		*outlen = len;
	return 0;
}

static void value_free(struct rts_value *v)
{
	free(v->str);
	if (v->strs) {
		for (uint32_t i = 0; i < v->len; i++)
			free(v->strs[i]);
		free(v->strs);
	}
	free(v->bytes);
	free(v->u64s);
	memset(v, 0, sizeof(*v));
}

static int rdvalue(struct cursor *c, uint8_t want, struct rts_value *v, uint32_t opi, unsigned vi)
{
	char what[64];
	uint8_t kind;
	snprintf(what, sizeof(what), "op %u value %u", opi, vi);
	if (rd8(c, &kind, what))
		return -1;
	if (kind != want)
		return derr(c, "%s: kind %u, expected %u", what, kind, want);
	v->kind = kind;
	switch (kind) {
	case RTS_U64:
		return rd64(c, &v->u64, what);
	case RTS_STR:
		return rdstr(c, &v->str, &v->len, what);
	case RTS_STRLIST: {
		uint32_t count;
		if (rd32(c, &count, what))
			return -1;
		if (count > RTS_MAX_LIST)
			return derr(c, "%s: list count %u exceeds %u", what, count, RTS_MAX_LIST);
		/* every element takes at least 4 bytes: bound the allocation */
		if (need(c, (size_t)count * 4, what))
			return -1;
		v->strs = calloc((size_t)count + 1, sizeof(char *));
		if (v->strs == NULL)
			return derr(c, "%s: out of memory", what);
		for (uint32_t i = 0; i < count; i++) {
			if (rdstr(c, &v->strs[i], NULL, what))
				return -1;
			v->len = i + 1; /* so value_free frees what was read */
		}
		v->len = count;
		return 0;
	}
	case RTS_BYTES: {
		uint32_t len;
		if (rd32(c, &len, what))
			return -1;
		if (len > RTS_MAX_BYTES)
			return derr(c, "%s: bytes length %u exceeds %u", what, len, RTS_MAX_BYTES);
		if (need(c, len, what))
			return -1;
		if (len) {
			v->bytes = malloc(len);
			if (v->bytes == NULL)
				return derr(c, "%s: out of memory", what);
			memcpy(v->bytes, c->p + c->off, len);
		}
		c->off += len;
		v->len = len;
		return 0;
	}
	case RTS_U64LIST: {
		uint32_t count;
		if (rd32(c, &count, what))
			return -1;
		if (count > RTS_MAX_LIST)
			return derr(c, "%s: list count %u exceeds %u", what, count, RTS_MAX_LIST);
		if (need(c, (size_t)count * 8, what))
			return -1;
		if (count) {
			v->u64s = calloc(count, sizeof(uint64_t));
			if (v->u64s == NULL)
				return derr(c, "%s: out of memory", what);
			for (uint32_t i = 0; i < count; i++)
				v->u64s[i] = rts_get64(c->p + c->off + (size_t)i * 8);
		}
		c->off += (size_t)count * 8;
		v->len = count;
		return 0;
	}
	}
	return derr(c, "%s: unknown kind %u", what, kind);
}

void rts_plan_free(struct rts_plan *plan)
{
	if (plan == NULL)
		return;
	if (plan->ops) {
		for (uint32_t i = 0; i < plan->nops; i++)
			for (unsigned j = 0; j < RTS_MAX_VALUES; j++)
				value_free(&plan->ops[i].v[j]);
		free(plan->ops);
	}
	plan->ops = NULL;
	plan->nops = 0;
}

int rts_decode_plan(const uint8_t *p, size_t n, struct rts_plan *out, char *err, size_t errlen)
{
	struct cursor c = {.p = p, .n = n, .off = 0, .err = err, .errlen = errlen};
	struct rts_plan plan = {0, NULL};
	uint32_t count;

	out->nops = 0;
	out->ops = NULL;
	if (p == NULL && n != 0)
		return derr(&c, "no plan data");
	if (rd32(&c, &count, "op count"))
		return -1;
	if (count > RTS_MAX_OPS)
		return derr(&c, "op count %u exceeds %u", count, RTS_MAX_OPS);
	if (need(&c, (size_t)count * 4, "ops")) /* each op is at least 4 bytes */
		return -1;
	if (count) {
		plan.ops = calloc(count, sizeof(struct rts_op));
		if (plan.ops == NULL)
			return derr(&c, "out of memory");
	}
	for (uint32_t i = 0; i < count; i++) {
		struct rts_op *op = &plan.ops[i];
		uint16_t code, nv;
		char what[32];
		plan.nops = i + 1; /* so rts_plan_free sees this op */
		snprintf(what, sizeof(what), "op %u", i);
		if (rd16(&c, &code, what) || rd16(&c, &nv, what))
			goto fail;
		const struct rts_opdef *d = rts_opdef(code);
		if (d == NULL) {
			derr(&c, "op %u: unknown opcode %u", i, code);
			goto fail;
		}
		if (nv != d->nkinds) {
			derr(&c, "op %u (%s): %u values, expected %u", i, d->name, nv, d->nkinds);
			goto fail;
		}
		op->code = code;
		op->nvalues = nv;
		for (unsigned j = 0; j < nv; j++)
			if (rdvalue(&c, d->kinds[j], &op->v[j], i, j))
				goto fail;
	}
	if (c.off != c.n) {
		derr(&c, "trailing bytes: %zu after the last op", c.n - c.off);
		goto fail;
	}
	plan.nops = count;
	*out = plan;
	return 0;
fail:
	rts_plan_free(&plan);
	return -1;
}

int rts_decode_plan_frame(const uint8_t *p, size_t n, struct rts_plan *out, char *err, size_t errlen)
{
	struct cursor c = {.p = p, .n = n, .off = 0, .err = err, .errlen = errlen};
	out->nops = 0;
	out->ops = NULL;
	if (n < RTS_HDR_LEN)
		return derr(&c, "truncated frame: %zu bytes, header needs %u", n, RTS_HDR_LEN);
	uint32_t magic = rts_get32(p);
	uint16_t type = rts_get16(p + 4), reserved = rts_get16(p + 6);
	uint32_t len = rts_get32(p + 8);
	if (magic != RTS_MAGIC)
		return derr(&c, "bad magic 0x%08x (want 0x%08x)", magic, RTS_MAGIC);
	if (type != RTS_MSG_PLAN)
		return derr(&c, "frame type %u, expected PLAN (%u)", type, RTS_MSG_PLAN);
	if (reserved != 0)
		return derr(&c, "reserved header field is %u, expected 0", reserved);
	if (len > RTS_MAX_PAYLOAD)
		return derr(&c, "payload length %u exceeds %u", len, RTS_MAX_PAYLOAD);
	if (n - RTS_HDR_LEN < len)
		return derr(&c, "truncated frame: payload length %u, %zu bytes present", len,
			    n - RTS_HDR_LEN);
	if (n - RTS_HDR_LEN > len)
		return derr(&c, "trailing bytes: %zu after the frame", n - RTS_HDR_LEN - len);
	return rts_decode_plan(p + RTS_HDR_LEN, len, out, err, errlen);
}

/* ---- framing ------------------------------------------------------------ */

static int write_all(int fd, const uint8_t *p, size_t n)
{
	int use_send = 1;
	while (n > 0) {
		ssize_t w;
		if (use_send) {
			w = send(fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && errno == ENOTSOCK) {
				use_send = 0;
				continue;
			}
		} else {
			w = write(fd, p, n);
		}
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Returns bytes read (< n only at EOF), or -1. */
static ssize_t read_full(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int rts_read_frame(int fd, uint16_t *type, uint8_t **payload, uint32_t *len, char *err,
		   size_t errlen)
{
	uint8_t hdr[RTS_HDR_LEN];
	*payload = NULL;
	*len = 0;
	ssize_t r = read_full(fd, hdr, sizeof(hdr));
	if (r < 0) {
		int e = errno;
		snprintf(err, errlen, "read frame header: %s", strerror(e));
		errno = e;
		return -1;
	}
	if (r == 0)
		return 0;
	if ((size_t)r < sizeof(hdr)) {
		snprintf(err, errlen, "truncated frame header: %zd bytes", r);
		errno = EINVAL;
		return -1;
	}
	uint32_t magic = rts_get32(hdr), n = rts_get32(hdr + 8);
	if (magic != RTS_MAGIC) {
		snprintf(err, errlen, "bad magic 0x%08x (want 0x%08x)", magic, RTS_MAGIC);
		errno = EINVAL;
		return -1;
	}
	if (rts_get16(hdr + 6) != 0) {
		snprintf(err, errlen, "reserved header field is %u, expected 0", rts_get16(hdr + 6));
		errno = EINVAL;
		return -1;
	}
	if (n > RTS_MAX_PAYLOAD) {
		snprintf(err, errlen, "payload length %u exceeds %u", n, RTS_MAX_PAYLOAD);
		errno = EINVAL;
		return -1;
	}
	*type = rts_get16(hdr + 4);
	if (n == 0)
		return 1;
	uint8_t *buf = malloc(n);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory for a %u byte payload", n);
		errno = ENOMEM;
		return -1;
	}
	r = read_full(fd, buf, n);
	if (r < 0 || (size_t)r < n) {
		int e = r < 0 ? errno : EINVAL;
		if (r < 0)
			snprintf(err, errlen, "read frame payload: %s", strerror(e));
		else
			snprintf(err, errlen, "truncated frame: payload length %u, %zd bytes read", n, r);
		free(buf);
		errno = e;
		return -1;
	}
	*payload = buf;
	*len = n;
	return 1;
}

int rts_write_frame(int fd, uint16_t type, const void *payload, uint32_t len)
{
	uint8_t hdr[RTS_HDR_LEN];
	if (len > RTS_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	rts_put32(hdr, RTS_MAGIC);
	rts_put16(hdr + 4, type);
	rts_put16(hdr + 6, 0);
	rts_put32(hdr + 8, len);
	if (write_all(fd, hdr, sizeof(hdr)))
		return -1;
	if (len && write_all(fd, payload, len))
		return -1;
	return 0;
}

int rts_send_sync(int fd, uint32_t kind, uint32_t pid)
{
	uint8_t b[8];
	rts_put32(b, kind);
	rts_put32(b + 4, pid);
	return rts_write_frame(fd, RTS_MSG_SYNC, b, sizeof(b));
}

int rts_send_pid(int fd, uint32_t pid)
{
	uint8_t b[4];
	rts_put32(b, pid);
	return rts_write_frame(fd, RTS_MSG_PID, b, sizeof(b));
}

#define RTS_MAX_DETAIL 4096u

int rts_send_error(int fd, uint32_t index, uint16_t opcode, int32_t err, const char *detail)
{
	uint8_t b[16 + RTS_MAX_DETAIL];
	size_t dl = detail ? strnlen(detail, RTS_MAX_DETAIL) : 0;
	rts_put32(b, index);
	rts_put16(b + 4, opcode);
	rts_put16(b + 6, 0);
	rts_put32(b + 8, (uint32_t)err);
	rts_put32(b + 12, (uint32_t)dl);
	if (dl)
		memcpy(b + 16, detail, dl);
	return rts_write_frame(fd, RTS_MSG_ERROR, b, (uint32_t)(16 + dl));
}
