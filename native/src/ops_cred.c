/* Credential and confinement ops: groups, uid/gid, capabilities,
 * no_new_privs, seccomp, AppArmor and SELinux labels. */
#include "executor.h"

#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

static int u32_arg(struct ex *ex, uint64_t v, const char *what)
{
	if (v > UINT32_MAX - 1)
		return ex_fail(ex, EINVAL, "%s %llu", what, (unsigned long long)v);
	return 0;
}

/* ---- op handlers (the dispatch table in main.c) ---- */

OP_RUN(keepcaps)
{
	const struct rts_value *v = op->v;
	if (prctl(PR_SET_KEEPCAPS, (unsigned long)v[0].u64, 0, 0, 0) < 0)
		return ex_fail(ex, errno, "%llu", (unsigned long long)v[0].u64);
	return 0;
}

OP_RUN(setgroups)
{
	const struct rts_value *v = op->v;
	gid_t *g = NULL;
	if (v[0].len) {
		g = calloc(v[0].len, sizeof(gid_t));
		if (g == NULL)
			return ex_fail(ex, ENOMEM, "%u groups", v[0].len);
	}
	for (uint32_t i = 0; i < v[0].len; i++) {
		if (u32_arg(ex, v[0].u64s[i], "gid")) {
			free(g);
			return -1;
		}
		g[i] = (gid_t)v[0].u64s[i];
	}
	int r = setgroups(v[0].len, g);
	int e = errno;
	free(g);
	if (r < 0)
		return ex_fail(ex, e, "%u groups", v[0].len);
	return 0;
}

OP_RUN(setgid)
{
	const struct rts_value *v = op->v;
	if (u32_arg(ex, v[0].u64, "gid"))
		return -1;
	if (setresgid((gid_t)v[0].u64, (gid_t)v[0].u64, (gid_t)v[0].u64) < 0)
		return ex_fail(ex, errno, "gid %llu", (unsigned long long)v[0].u64);
	return 0;
}

OP_RUN(setuid)
{
	const struct rts_value *v = op->v;
	if (u32_arg(ex, v[0].u64, "uid"))
		return -1;
	if (setresuid((uid_t)v[0].u64, (uid_t)v[0].u64, (uid_t)v[0].u64) < 0)
		return ex_fail(ex, errno, "uid %llu", (unsigned long long)v[0].u64);
	return 0;
}

OP_RUN(caps)
{
	const struct rts_value *v = op->v;
	return op_caps(ex, v[0].u64, v[1].u64, v[2].u64, v[3].u64, v[4].u64);
}

OP_RUN(no_new_privs)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return ex_fail(ex, errno, "no_new_privs");
	return 0;
}

OP_RUN(setgroups_deny)
{
	return op_setgroups_deny(ex);
}

OP_RUN(seccomp)
{
	const struct rts_value *v = op->v;
	return op_seccomp(ex, v[0].bytes, v[0].len, v[1].u64);
}

OP_RUN(seccomp_notify)
{
	const struct rts_value *v = op->v;
	int s = -1;
	if (index == ex->notify_index) {
		s = ex->notify_sock;
		ex->notify_sock = -1;
	}
	return op_seccomp_notify(ex, v[0].bytes, v[0].len, v[1].u64, v[2].str, s);
}

OP_RUN(apparmor)
{
	const struct rts_value *v = op->v;
	return op_apparmor(ex, v[0].str);
}

OP_RUN(selinux_label)
{
	const struct rts_value *v = op->v;
	return op_selinux_label(ex, v[0].str);
}
