/* Process attribute ops: host and domain name, rlimits, umask, session,
 * personality, I/O priority, session keyring. */
#include "executor.h"

#include <errno.h>
#include <limits.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

static int simple_errno(struct ex *ex, int r, const char *fmt, const char *s)
{
	if (r < 0)
		return ex_fail(ex, errno, fmt, s);
	return 0;
}

/* ---- op handlers (the dispatch table in main.c) ---- */

OP_RUN(hostname)
{
	const struct rts_value *v = op->v;
	return simple_errno(ex, sethostname(v[0].str, v[0].len), "%s", v[0].str);
}

OP_RUN(domainname)
{
	const struct rts_value *v = op->v;
	return simple_errno(ex, setdomainname(v[0].str, v[0].len), "%s", v[0].str);
}

OP_RUN(rlimit)
{
	const struct rts_value *v = op->v;
	if (v[0].u64 > INT_MAX)
		return ex_fail(ex, EINVAL, "resource %llu", (unsigned long long)v[0].u64);
	struct rlimit rl = {.rlim_cur = v[1].u64, .rlim_max = v[2].u64};
	if (prlimit(0, (int)v[0].u64, &rl, NULL) < 0)
		return ex_fail(ex, errno, "resource %llu soft %llu hard %llu",
			       (unsigned long long)v[0].u64, (unsigned long long)v[1].u64,
			       (unsigned long long)v[2].u64);
	return 0;
}

OP_RUN(umask)
{
	const struct rts_value *v = op->v;
	umask((mode_t)(v[0].u64 & 0777));
	return 0;
}

OP_RUN(setsid)
{
	return simple_errno(ex, setsid() < 0 ? -1 : 0, "%s", "setsid");
}

OP_RUN(personality)
{
	const struct rts_value *v = op->v;
	if (personality((unsigned long)v[0].u64) == -1)
		return ex_fail(ex, errno, "0x%llx", (unsigned long long)v[0].u64);
	return 0;
}

OP_RUN(ioprio)
{
	const struct rts_value *v = op->v;
	if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (int)v[0].u64) < 0)
		return ex_fail(ex, errno, "%llu", (unsigned long long)v[0].u64);
	return 0;
}

OP_RUN(keyring)
{
	const struct rts_value *v = op->v;
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, v[0].str) < 0 && errno != ENOSYS &&
	    errno != EACCES)
		return ex_fail(ex, errno, "%s", v[0].str);
	return 0;
}
