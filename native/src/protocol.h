/* runc-ts executor protocol (version 1): framing and plan decoder.
 * See native/PROTOCOL.md; this header is the C side of that contract. */
#ifndef RTS_PROTOCOL_H
#define RTS_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RTS_HDR_LEN 12u
#define RTS_MAX_PAYLOAD (16u << 20)
#define RTS_MAX_STR (64u << 10)
#define RTS_MAX_LIST 4096u
#define RTS_MAX_BYTES (1u << 20)
#define RTS_MAX_OPS 4096u

/* RTS_MAGIC, RTS_MAX_VALUES, message types, value kinds, sync kinds, opcodes */
#include "protocol.gen.h"

/* One decoded value. Only the fields of its kind are meaningful.
 * STR: str (NUL-terminated copy), len = byte length.
 * STRLIST: strs (len entries + a NULL terminator, usable as argv).
 * BYTES: bytes (len bytes; NULL when len == 0).
 * U64LIST: u64s (len entries; NULL when len == 0). */
struct rts_value {
	uint8_t kind;
	uint32_t len;
	uint64_t u64;
	char *str;
	char **strs;
	uint8_t *bytes;
	uint64_t *u64s;
};

struct rts_op {
	uint16_t code;
	uint16_t nvalues;
	struct rts_value v[RTS_MAX_VALUES];
};

struct rts_plan {
	uint32_t nops;
	struct rts_op *ops;
};

struct rts_opdef {
	const char *name;
	uint8_t nkinds;
	uint8_t kinds[RTS_MAX_VALUES];
};

/* protocol.gen.c: indexed by opcode; name NULL for an unassigned code */
extern const struct rts_opdef rts_opdefs[OP_MAX + 1];

/* Signature of an opcode, or NULL when unknown. */
const struct rts_opdef *rts_opdef(uint16_t code);
const char *rts_opname(uint16_t code);

/* Decode a plan payload (op count + ops). Returns 0, or -1 with a
 * description in err. On failure *out is left empty (nothing to free). */
int rts_decode_plan(const uint8_t *p, size_t n, struct rts_plan *out, char *err, size_t errlen);
/* Decode a whole PLAN frame (header + payload, nothing after it). */
int rts_decode_plan_frame(const uint8_t *p, size_t n, struct rts_plan *out, char *err, size_t errlen);
void rts_plan_free(struct rts_plan *plan);

/* Canonical text dump (PROTOCOL.md, "Golden vectors"). Returns 0 or -1. */
int rts_dump_plan(FILE *f, const struct rts_plan *plan);

/* Framing over a stream fd. rts_read_frame returns 1 with a frame
 * (*payload malloc'ed, NULL when empty; caller frees), 0 on a clean EOF
 * before any header byte, -1 on error (errno set; err describes it). */
int rts_read_frame(int fd, uint16_t *type, uint8_t **payload, uint32_t *len, char *err,
		   size_t errlen);
/* Writes a whole frame; retries short writes and EINTR; never raises
 * SIGPIPE on sockets. Returns 0 or -1 (errno set). */
int rts_write_frame(int fd, uint16_t type, const void *payload, uint32_t len);
int rts_send_sync(int fd, uint32_t kind, uint32_t pid);
int rts_send_pid(int fd, uint32_t pid);
int rts_send_error(int fd, uint32_t index, uint16_t opcode, int32_t err, const char *detail);

/* Little-endian helpers. */
static inline uint16_t rts_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t rts_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t rts_get64(const uint8_t *p)
{
	return (uint64_t)rts_get32(p) | ((uint64_t)rts_get32(p + 4) << 32);
}
static inline void rts_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void rts_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void rts_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
