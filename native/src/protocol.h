/* runc-ts executor protocol (version 1): framing and plan decoder.
 * See native/PROTOCOL.md; this header is the C side of that contract. */
#ifndef RTS_PROTOCOL_H
#define RTS_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RTS_MAGIC 0x31535452u /* "RTS1" little-endian */
#define RTS_HDR_LEN 12u
#define RTS_MAX_PAYLOAD (16u << 20)
#define RTS_MAX_STR (64u << 10)
#define RTS_MAX_LIST 4096u
#define RTS_MAX_BYTES (1u << 20)
#define RTS_MAX_OPS 4096u
#define RTS_MAX_VALUES 7u

enum rts_msg {
	RTS_MSG_PLAN = 1,
	RTS_MSG_CONTINUE = 2,
	RTS_MSG_ABORT = 3,
	RTS_MSG_SYNC = 16,
	RTS_MSG_PID = 17,
	RTS_MSG_READY = 18,
	RTS_MSG_ERROR = 19,
};

enum rts_kind {
	RTS_U64 = 1,
	RTS_STR = 2,
	RTS_STRLIST = 3,
	RTS_BYTES = 4,
	RTS_U64LIST = 5,
};

enum rts_opcode {
	OP_UNSHARE = 1,
	OP_SETNS = 2,
	OP_SYNC = 3,
	OP_FORK = 4,
	OP_ROOTFS = 5,
	OP_MOUNT = 6,
	OP_REMOUNT = 7,
	OP_PROPAGATE = 8,
	OP_SETATTR = 9,
	OP_MKNOD = 10,
	OP_BIND_DEVICE = 11,
	OP_SYMLINK = 12,
	OP_PIVOT_ROOT = 13,
	OP_MOVE_ROOT = 14,
	OP_MASK = 15,
	OP_READONLY = 16,
	OP_SYSCTL = 17,
	OP_HOSTNAME = 18,
	OP_DOMAINNAME = 19,
	OP_RLIMIT = 20,
	OP_OOM_SCORE_ADJ = 21,
	OP_UMASK = 22,
	OP_SETSID = 23,
	OP_KEEPCAPS = 24,
	OP_SETGROUPS = 25,
	OP_SETGID = 26,
	OP_SETUID = 27,
	OP_CAPS = 28,
	OP_NO_NEW_PRIVS = 29,
	OP_SECCOMP = 30,
	OP_CHDIR = 31,
	OP_RESOLVE_EXEC = 32,
	OP_OPEN_FIFO = 33,
	OP_READY = 34,
	OP_WAIT_FIFO = 35,
	OP_CLOSE_FDS = 36,
	OP_EXEC = 37,
	OP_PERSONALITY = 38,
	OP_IOPRIO = 39,
	OP_SCHED = 40,
	OP_SETGROUPS_DENY = 41,
	OP_KEYRING = 42,
	OP_CONSOLE = 43,
	OP_APPARMOR = 44,
	OP_SELINUX_LABEL = 45,
	OP_WINSIZE = 46,
	OP_HOOK = 47,
	OP_SECCOMP_NOTIFY = 48,
	OP_TIMENS_OFFSETS = 49,
	OP_PIDFD_SOCKET = 50,
	OP_MOUNT_IDMAPPED = 51,
	OP_OPEN_MOUNT_SOURCE = 52,
	OP_SET_DUMPABLE = 53,
	OP_DEFAULT_HOME = 54,
	OP_TTY_OWNER = 55,
	OP_MOUNT_CONSOLE = 56,
	OP_SETNS_PID = 57,
	OP_SCHED_AFFINITY = 58,
	OP_MEMPOLICY = 59,
	OP_NETDEV_MOVE = 60,
	OP_MOUNT_TMPFS = 61,
	OP_BIND_REMOUNT = 62,
	OP_JOIN_NAMESPACES = 63,
	OP_CHROOT = 64,
	OP_MAX = 64,
};

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
