/* Container path resolution: openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
 * relative to the rootfs fd (after ROOTFS) or to "/" (before ROOTFS and after
 * PIVOT_ROOT / MOVE_ROOT). Missing directories are created with mkdirat on
 * the fd of the resolved parent, never through a re-resolved string. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define DIR_MODE 0755

static int oa2_resolve(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.mode = (flags & O_CREAT) ? mode : 0;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve;
	/* EAGAIN: a concurrent rename or mount raced the lookup; retry a few times */
	for (int tries = 0;; tries++) {
		long r = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (r >= 0)
			return (int)r;
		if ((errno == EINTR || errno == EAGAIN) && tries < 32)
			continue;
		return -1;
	}
}

static int oa2(int dirfd, const char *path, int flags, mode_t mode)
{
	return oa2_resolve(dirfd, path, flags, mode, 0);
}

/* The fd paths resolve under. *tmp receives an fd the caller must close. */
static int res_base(struct ex *ex, int *tmp)
{
	*tmp = -1;
	if (ex->rootfd >= 0)
		return ex->rootfd;
	*tmp = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return *tmp;
}

static void close_keep_errno(int fd)
{
	if (fd >= 0) {
		int e = errno;
		close(fd);
		errno = e;
	}
}

int cpath_open_nosymlinks(struct ex *ex, const char *path, int flags)
{
	int tmp, base = res_base(ex, &tmp);
	if (base < 0)
		return -1;
	int fd = oa2_resolve(base, path, flags, 0, RESOLVE_NO_SYMLINKS);
	close_keep_errno(tmp);
	return fd;
}

int cpath_open(struct ex *ex, const char *path, int flags, mode_t mode)
{
	int tmp, base = res_base(ex, &tmp);
	if (base < 0)
		return -1;
	int fd = oa2(base, path, flags, mode);
	close_keep_errno(tmp);
	return fd;
}

#define MAX_SYMLINKS 40

/* Splits the first component off *rest into comp. Returns 0 when done. */
static int next_component(const char **rest, char *comp)
{
	const char *p = *rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0') {
			*rest = p;
			return 0;
		}
		const char *end = strchr(p, '/');
		size_t clen = end ? (size_t)(end - p) : strlen(p);
		if (clen > NAME_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, clen);
		comp[clen] = '\0';
		p += clen;
		if (strcmp(comp, ".") != 0) {
			*rest = p;
			return 1;
		}
	}
}

/* mkdir -p inside the root `base`. Each step resolves the path walked so far
 * with openat2(RESOLVE_IN_ROOT) and creates a missing component with mkdirat
 * on that resolved fd. A dangling symlink is followed the way the kernel
 * would inside the root: its target is created (absolute targets restart at
 * the root, ".." cannot climb above it). */
static int mkdirs_at(int base, const char *path)
{
	int fd = oa2(base, path, O_PATH | O_DIRECTORY, 0);
	if (fd >= 0 || errno != ENOENT)
		return fd;

	char done[PATH_MAX] = "";       /* components resolved so far */
	char rest_buf[2][PATH_MAX];     /* what is left; two buffers to splice into */
	int tb = 0, links = 0;
	if (strlen(path) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(rest_buf[tb], path);
	const char *rest = rest_buf[tb];
	int cur = oa2(base, "/", O_PATH | O_DIRECTORY, 0);
	if (cur < 0)
		return -1;
	for (;;) {
		char comp[NAME_MAX + 1];
		int r = next_component(&rest, comp);
		if (r < 0) {
			close_keep_errno(cur);
			return -1;
		}
		if (r == 0)
			return cur;
		size_t dl = strlen(done);
		if (dl + 1 + strlen(comp) + 1 > sizeof(done)) {
			close(cur);
			errno = ENAMETOOLONG;
			return -1;
		}
		char cand[PATH_MAX];
		size_t cl = strlen(comp);
		memcpy(cand, done, dl);
		cand[dl] = '/';
		memcpy(cand + dl + 1, comp, cl + 1);
		int next = oa2(base, cand, O_PATH | O_DIRECTORY, 0);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(cur, comp, DIR_MODE) == 0) {
				next = oa2(base, cand, O_PATH | O_DIRECTORY, 0);
			} else if (errno == EEXIST) {
				/* a dangling symlink: continue with its target */
				char tgt[PATH_MAX];
				ssize_t n = readlinkat(cur, comp, tgt, sizeof(tgt) - 1);
				if (n < 0) {
					close(cur);
					errno = ENOENT;
					return -1;
				}
				tgt[n] = '\0';
				if (++links > MAX_SYMLINKS) {
					close(cur);
					errno = ELOOP;
					return -1;
				}
				int nb = 1 - tb;
				int w = snprintf(rest_buf[nb], PATH_MAX, "%s/%s", tgt, rest);
				if (w < 0 || w >= PATH_MAX) {
					close(cur);
					errno = ENAMETOOLONG;
					return -1;
				}
				tb = nb;
				rest = rest_buf[tb];
				if (tgt[0] == '/') {
					done[0] = '\0';
					close(cur);
					cur = oa2(base, "/", O_PATH | O_DIRECTORY, 0);
					if (cur < 0)
						return -1;
				}
				continue;
			} else {
				close_keep_errno(cur);
				return -1;
			}
		}
		close_keep_errno(cur);
		if (next < 0)
			return -1;
		cur = next;
		memcpy(done, cand, strlen(cand) + 1);
	}
}

int cpath_mkdirs(struct ex *ex, const char *path)
{
	int tmp, base = res_base(ex, &tmp);
	if (base < 0)
		return -1;
	int fd = mkdirs_at(base, path);
	close_keep_errno(tmp);
	return fd;
}

int cpath_parent(struct ex *ex, const char *path, int create, char *basebuf, size_t basesz)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n + 1);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		errno = EINVAL;
		return -1;
	}
	if (strlen(base) >= basesz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(basebuf, base);
	if (slash == NULL)
		strcpy(dir, "/");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';

	int tmp, rb = res_base(ex, &tmp);
	if (rb < 0)
		return -1;
	int fd = create ? mkdirs_at(rb, dir) : oa2(rb, dir, O_PATH | O_DIRECTORY, 0);
	close_keep_errno(tmp);
	return fd;
}

int cpath_create_file(struct ex *ex, const char *path, mode_t mode)
{
	char cur[PATH_MAX], next[PATH_MAX];
	if (strlen(path) >= sizeof(cur)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(cur, path);
	for (int links = 0; links <= MAX_SYMLINKS; links++) {
		int fd = cpath_open(ex, cur, O_PATH, 0);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		char base[NAME_MAX + 1];
		int pfd = cpath_parent(ex, cur, 1, base, sizeof(base));
		if (pfd < 0)
			return -1;
		int f = openat(pfd, base, O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, mode);
		if (f >= 0 || errno != EEXIST) {
			close_keep_errno(pfd);
			if (f < 0)
				return -1;
			close(f);
			return cpath_open(ex, cur, O_PATH, 0);
		}
		/* EEXIST but unresolvable: a dangling symlink; create its target */
		char tgt[PATH_MAX];
		ssize_t n = readlinkat(pfd, base, tgt, sizeof(tgt) - 1);
		close_keep_errno(pfd);
		if (n < 0) {
			errno = ENOENT;
			return -1;
		}
		tgt[n] = '\0';
		int w;
		if (tgt[0] == '/') {
			w = snprintf(next, sizeof(next), "%s", tgt);
		} else {
			/* relative to the link's directory (textual; resolved in root) */
			char *slash = strrchr(cur, '/');
			if (slash)
				slash[1] = '\0';
			else
				cur[0] = '\0';
			w = snprintf(next, sizeof(next), "%s%s", cur, tgt);
		}
		if (w < 0 || (size_t)w >= sizeof(next)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		strcpy(cur, next);
	}
	errno = ELOOP;
	return -1;
}
