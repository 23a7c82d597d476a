/* Canonical text dump of a plan (PROTOCOL.md, "Golden vectors"): strings are
 * rendered exactly as JavaScript's JSON.stringify renders them. */
#include "protocol.h"

#include <inttypes.h>

static int dump_str(FILE *f, const char *s)
{
	if (fputc('"', f) == EOF)
		return -1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int r;
		switch (*p) {
		case '"': r = fputs("\\\"", f); break;
		case '\\': r = fputs("\\\\", f); break;
		case '\b': r = fputs("\\b", f); break;
		case '\f': r = fputs("\\f", f); break;
		case '\n': r = fputs("\\n", f); break;
		case '\r': r = fputs("\\r", f); break;
		case '\t': r = fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				r = fprintf(f, "\\u%04x", *p);
			else
				r = fputc(*p, f);
		}
		if (r < 0)
			return -1;
	}
	return fputc('"', f) == EOF ? -1 : 0;
}

static int dump_value(FILE *f, const struct rts_value *v)
{
	switch (v->kind) {
	case RTS_U64:
		return fprintf(f, "%" PRIu64, v->u64) < 0 ? -1 : 0;
	case RTS_STR:
		return dump_str(f, v->str);
	case RTS_STRLIST:
		if (fputc('[', f) == EOF)
			return -1;
		for (uint32_t i = 0; i < v->len; i++) {
			if (i && fputc(',', f) == EOF)
				return -1;
			if (dump_str(f, v->strs[i]))
				return -1;
		}
		return fputc(']', f) == EOF ? -1 : 0;
	case RTS_BYTES:
		if (fputs("hex:", f) < 0)
			return -1;
		for (uint32_t i = 0; i < v->len; i++)
			if (fprintf(f, "%02x", v->bytes[i]) < 0)
				return -1;
		return 0;
	case RTS_U64LIST:
		if (fputc('[', f) == EOF)
			return -1;
		for (uint32_t i = 0; i < v->len; i++)
			if (fprintf(f, i ? ",%" PRIu64 : "%" PRIu64, v->u64s[i]) < 0)
				return -1;
		return fputc(']', f) == EOF ? -1 : 0;
	}
	return -1;
}

int rts_dump_plan(FILE *f, const struct rts_plan *plan)
{
	for (uint32_t i = 0; i < plan->nops; i++) {
		const struct rts_op *op = &plan->ops[i];
		if (fputs(rts_opname(op->code), f) < 0)
			return -1;
		for (unsigned j = 0; j < op->nvalues; j++) {
			if (fputc(' ', f) == EOF || dump_value(f, &op->v[j]))
				return -1;
		}
		if (fputc('\n', f) == EOF)
			return -1;
	}
	return 0;
}
