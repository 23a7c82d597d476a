/* The container process' environment and terminal: DEFAULT_HOME (HOME from
 * the container's /etc/passwd), TTY_OWNER, and how EXEC reports a program
 * the kernel refuses to run. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest /etc/passwd line considered; longer ones are skipped. */
#define PASSWD_LINE_MAX 4096
/* How much of /etc/passwd is read at most (the container owns the file). */
#define PASSWD_READ_MAX (16L << 20)

/* The home directory field of `uid`'s entry in the open passwd stream, or
 * NULL (none, or an empty field). The result is malloc'd. */
static char *passwd_home(FILE *f, uint64_t uid)
{
	char line[PASSWD_LINE_MAX];
	long seen = 0;
	while (seen < PASSWD_READ_MAX && fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);
		seen += (long)n;
		if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
			int c; /* too long: skip to the end of the line */
			while (seen < PASSWD_READ_MAX && (c = fgetc(f)) != EOF && c != '\n')
				seen++;
			continue;
		}
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		/* name:password:uid:gid:gecos:home:shell */
		char *field[7] = {0};
		char *p = line;
		int k = 0;
		for (; k < 7 && p != NULL; k++) {
			field[k] = p;
			p = strchr(p, ':');
			if (p != NULL)
				*p++ = '\0';
		}
		if (k < 6 || field[2][0] == '\0')
			continue;
		char *end;
		errno = 0;
		unsigned long long id = strtoull(field[2], &end, 10);
		if (errno != 0 || *end != '\0' || field[2][0] == '-' || id != uid)
			continue;
		return field[5][0] ? strdup(field[5]) : NULL;
	}
	return NULL;
}

int op_default_home(struct ex *ex, uint64_t uid)
{
	char *home = NULL;
	/* O_NONBLOCK: a fifo planted at /etc/passwd must not hang the setup */
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			FILE *f = fdopen(fd, "r");
			if (f == NULL) {
				int e = errno;
				close(fd);
				return ex_fail(ex, e, "/etc/passwd");
			}
			fd = -1;
			errno = 0;
			home = passwd_home(f, uid);
			int e = errno;
			int bad = ferror(f);
			fclose(f);
			if (home == NULL && e == ENOMEM)
				return ex_fail(ex, ENOMEM, "/etc/passwd");
			if (bad && home == NULL)
				return ex_fail(ex, EIO, "/etc/passwd (read)");
		}
		if (fd >= 0)
			close(fd);
	}
	/* no passwd file, or no entry for the user: "/" (as runc) */
	if (home == NULL && (home = strdup("/")) == NULL)
		return ex_fail(ex, ENOMEM, "/etc/passwd");
	free(ex->home);
	ex->home = home;
	return 0;
}

int op_tty_owner(struct ex *ex, uint64_t uid)
{
	if (!isatty(0))
		return ex_fail(ex, ENOTTY, "fd 0 (no CONSOLE before)");
	/* the group stays devpts' (gid= of its mount: the tty group) */
	if (fchown(0, (uid_t)uid, (gid_t)-1) < 0)
		return ex_fail(ex, errno, "uid %llu", (unsigned long long)uid);
	return 0;
}

int env_with_home(struct ex *ex, char **env, char ***out)
{
	*out = env;
	if (ex->home == NULL)
		return 0;
	size_t n = 0;
	long empty = -1;
	for (; env[n] != NULL; n++) {
		if (strncmp(env[n], "HOME=", 5) != 0)
			continue;
		if (env[n][5] != '\0')
			return 0; /* a HOME of the process' own is kept */
		empty = (long)n;
	}
	char **copy = calloc(n + 2, sizeof(*copy));
	if (copy == NULL)
		return -1;
	memcpy(copy, env, n * sizeof(*copy));
	size_t at = empty >= 0 ? (size_t)empty : n;
	size_t len = strlen(ex->home);
	char *entry = malloc(5 + len + 1);
	if (entry == NULL) {
		free(copy);
		return -1;
	}
	memcpy(entry, "HOME=", 5);
	memcpy(entry + 5, ex->home, len + 1);
	copy[at] = entry;
	*out = copy;
	return 0;
}

void env_free(char **env, char **orig)
{
	if (env == orig)
		return;
	for (size_t i = 0; env[i] != NULL; i++) {
		if (env[i] != orig[i] || orig[i] == NULL) {
			free(env[i]);
			break;
		}
	}
	free(env);
}

/* The kernel's reason in runc's words: strerror with a lowercase first
 * letter ("no such file or directory"). */
static void lower_reason(int e, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
}

int exec_failed(struct ex *ex, const char *path, int e)
{
	char reason[128];
	lower_reason(e, reason, sizeof(reason));
	/* the first line of the container's stderr, as runc's; a missing program
	 * is 127 and one the kernel refuses to run 126, as in a shell */
	fprintf(stderr, "exec %s: %s\n", path, reason);
	fflush(stderr);
	ex->exit_code = e == ENOENT ? 127 : 126;
	if (ex->sock < 0)
		ex->quiet = 1; /* reported on stderr */
	return ex_fail(ex, e, "%s", path);
}

/* ---- op handlers (the dispatch table in main.c) ---- */

OP_RUN(chdir)
{
	const struct rts_value *v = op->v;
	int fd = cpath_open(ex, v[0].str, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return ex_fail(ex, errno, "%s", v[0].str);
	int r = fchdir(fd);
	int e = errno;
	close(fd);
	if (r < 0)
		return ex_fail(ex, e, "%s", v[0].str);
	return 0;
}

OP_RUN(exec)
{
	const struct rts_value *v = op->v;
	const char *path = ex->resolved;
	if (path == NULL) {
		ex->exit_code = 127;
		return ex_fail(ex, ENOENT, "no RESOLVE_EXEC before EXEC");
	}
	char **env;
	if (env_with_home(ex, v[1].strs, &env) < 0)
		return ex_fail(ex, ENOMEM, "environment");
	execve(path, v[0].strs, env);
	int e = errno;
	env_free(env, v[1].strs);
	return exec_failed(ex, path, e);
}

OP_RUN(default_home)
{
	const struct rts_value *v = op->v;
	return op_default_home(ex, v[0].u64);
}

OP_RUN(tty_owner)
{
	const struct rts_value *v = op->v;
	return op_tty_owner(ex, v[0].u64);
}
