/* Fuzz target for the plan decoder and the dump.
 *
 * With -DRTS_LIBFUZZER (clang -fsanitize=fuzzer) this is a libFuzzer target.
 * Otherwise it is a standalone driver: it feeds seeded random mutations of the
 * given seed files (the golden .plan frames) through the decoder, for -n
 * iterations or -t seconds, whichever comes first; build it with ASan/UBSan. */
#include "protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static FILE *sink;

static void one(const uint8_t *data, size_t size)
{
	struct rts_plan plan;
	char err[256];
	if (rts_decode_plan_frame(data, size, &plan, err, sizeof(err)) == 0) {
		rts_dump_plan(sink, &plan);
		rts_plan_free(&plan);
	} else if (plan.ops != NULL || plan.nops != 0) {
		fprintf(stderr, "decoder left a partial plan after an error\n");
		abort();
	}
	/* the payload-level decoder on the raw bytes too */
	if (rts_decode_plan(data, size, &plan, err, sizeof(err)) == 0)
		rts_plan_free(&plan);
}

#ifdef RTS_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sink == NULL)
		sink = fopen("/dev/null", "we");
	one(data, size);
	return 0;
}
#else

static uint64_t rng_state;
static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

struct seed {
	uint8_t *p;
	size_t n;
};

#define MAXLEN (1u << 16)

static size_t mutate(uint8_t *b, size_t n, const struct seed *seeds, int nseeds)
{
	int rounds = 1 + (int)(rnd() % 4);
	for (int r = 0; r < rounds; r++) {
		uint64_t k = rnd() % 10;
		size_t pos = n ? (size_t)(rnd() % n) : 0;
		switch (k) {
		case 0: /* bit flip */
			if (n)
				b[pos] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1: /* random byte */
			if (n)
				b[pos] = (uint8_t)rnd();
			break;
		case 2: { /* interesting u32 */
			static const uint32_t vals[] = {0, 1, 2, 3, 4, 5, 6, 0xff, 0x7fffffff,
							0xffffffff, 4096, 4097, 65536, 65537,
							1u << 20, (1u << 20) + 1, 16u << 20};
			if (n >= 4) {
				pos = (size_t)(rnd() % (n - 3));
				rts_put32(b + pos, vals[rnd() % (sizeof(vals) / sizeof(vals[0]))]);
			}
			break;
		}
		case 3: /* truncate */
			n = n ? (size_t)(rnd() % n) : 0;
			break;
		case 4: { /* insert random bytes */
			size_t k2 = 1 + (size_t)(rnd() % 16);
			if (n + k2 <= MAXLEN) {
				memmove(b + pos + k2, b + pos, n - pos);
				for (size_t i = 0; i < k2; i++)
					b[pos + i] = (uint8_t)rnd();
				n += k2;
			}
			break;
		}
		case 5: { /* delete a range */
			if (n) {
				size_t k2 = 1 + (size_t)(rnd() % 16);
				if (pos + k2 > n)
					k2 = n - pos;
				memmove(b + pos, b + pos + k2, n - pos - k2);
				n -= k2;
			}
			break;
		}
		case 6: { /* splice a chunk of another seed */
			const struct seed *s = &seeds[rnd() % (uint64_t)nseeds];
			if (s->n) {
				size_t from = (size_t)(rnd() % s->n);
				size_t k2 = 1 + (size_t)(rnd() % 64);
				if (from + k2 > s->n)
					k2 = s->n - from;
				if (pos + k2 <= MAXLEN) {
					memcpy(b + pos, s->p + from, k2);
					if (pos + k2 > n)
						n = pos + k2;
				}
			}
			break;
		}
		case 7: /* fix the header length so the payload decoder is reached */
			if (n >= RTS_HDR_LEN)
				rts_put32(b + 8, (uint32_t)(n - RTS_HDR_LEN));
			break;
		case 8: /* value kind byte 0..6 */
			if (n)
				b[pos] = (uint8_t)(rnd() % 7);
			break;
		default: /* u16 opcode-ish */
			if (n >= 2) {
				pos = (size_t)(rnd() % (n - 1));
				rts_put16(b + pos, (uint16_t)(rnd() % 48));
			}
		}
	}
	return n;
}

static int load(const char *path, struct seed *s)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	s->p = malloc(MAXLEN);
	if (s->p == NULL) {
		close(fd);
		return -1;
	}
	ssize_t r = read(fd, s->p, MAXLEN);
	close(fd);
	if (r < 0)
		return -1;
	s->n = (size_t)r;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, iters = 0;
	double secs = 10;
	int opt;
	while ((opt = getopt(argc, argv, "s:t:n:")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': secs = strtod(optarg, NULL); break;
		case 'n': iters = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: %s [-s seed] [-t seconds] [-n iterations] seed.plan...\n",
				argv[0]);
			return 2;
		}
	}
	int nseeds = argc - optind;
	if (nseeds <= 0) {
		fprintf(stderr, "no seed files\n");
		return 2;
	}
	struct seed *seeds = calloc((size_t)nseeds, sizeof(*seeds));
	if (seeds == NULL)
		return 2;
	for (int i = 0; i < nseeds; i++)
		if (load(argv[optind + i], &seeds[i]) < 0) {
			fprintf(stderr, "%s: %s\n", argv[optind + i], strerror(errno));
			return 2;
		}
	sink = fopen("/dev/null", "we");
	if (sink == NULL)
		return 2;
	rng_state = seed ? seed : 1;
	uint8_t *buf = malloc(MAXLEN);
	if (buf == NULL)
		return 2;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t n = 0, accepted = 0;
	for (;; n++) {
		if (iters && n >= iters)
			break;
		if ((n & 255) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			double el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
			if (el >= secs)
				break;
		}
		const struct seed *s = &seeds[rnd() % (uint64_t)nseeds];
		memcpy(buf, s->p, s->n);
		size_t len = mutate(buf, s->n, seeds, nseeds);
		/* an exact-size heap copy so ASan catches any over-read */
		uint8_t *exact = malloc(len ? len : 1);
		if (exact == NULL)
			return 2;
		memcpy(exact, buf, len);
		struct rts_plan plan;
		char err[256];
		if (rts_decode_plan_frame(exact, len, &plan, err, sizeof(err)) == 0) {
			accepted++;
			rts_plan_free(&plan);
		}
		one(exact, len);
		free(exact);
	}
	printf("fuzz-decoder: %llu inputs (%llu decoded), seed %llu, no crash\n",
	       (unsigned long long)n, (unsigned long long)accepted, (unsigned long long)seed);
	free(buf);
	for (int i = 0; i < nseeds; i++)
		free(seeds[i].p);
	free(seeds);
	fclose(sink);
	return 0;
}
#endif
