/* MOUNT_TMPFS: a tmpfs of a mounts[] entry. Its root takes the mode of the
 * directory it covers unless the data gives one (runc >= 1.1.8), and with
 * `copyup` (runc's "tmpcopyup" extension) the covered directory's content is
 * copied into the new filesystem before it is attached: the copy is made
 * into the detached mount (fsmount's fd), so nothing in the container ever
 * sees a half-filled directory, and it reads the original through the fd of
 * the mount target, one name at a time, never following a symlink. */
#include "executor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds of one copy: directory depth (two fds per level stay open) and
 * entries; the bytes are bounded by the tmpfs' own size. */
#define COPYUP_MAX_DEPTH 128
#define COPYUP_MAX_ENTRIES (1u << 20)
#define COPYUP_BUF (64u << 10)

struct copyup {
	char rel[PATH_MAX]; /* the entry being copied, relative to the target */
	const char *step;   /* the syscall that failed */
	unsigned entries;
	char *buf;
};

static void xclose(int fd)
{
	if (fd >= 0) {
		int e = errno;
		close(fd);
		errno = e;
	}
}

static int fail_step(struct copyup *cu, const char *step)
{
	cu->step = step;
	return -1;
}

/* The owner of a copy: ids without a mapping in this user namespace
 * (EINVAL) cannot be given; the copy keeps its creator's. */
static int copy_owner(struct copyup *cu, int dfd, const char *name, const struct stat *st)
{
	int r = fchownat(dfd, name, st->st_uid, st->st_gid,
			 AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH));
	if (r < 0 && errno != EINVAL)
		return fail_step(cu, "chown");
	return 0;
}

/* Owner, then mode (a chown clears set-id bits), then times of a copy. */
static int copy_meta_fd(struct copyup *cu, int fd, const struct stat *st)
{
	if (copy_owner(cu, fd, "", st) < 0)
		return -1;
	if (fchmod(fd, st->st_mode & 07777) < 0)
		return fail_step(cu, "chmod");
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (futimens(fd, times) < 0)
		return fail_step(cu, "utimens");
	return 0;
}

static int copy_file(struct copyup *cu, int sdir, int ddir, const char *name,
		     const struct stat *st)
{
	int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (in < 0)
		return fail_step(cu, "open");
	struct stat now;
	if (fstat(in, &now) < 0) {
		xclose(in);
		return fail_step(cu, "fstat");
	}
	/* replaced since it was listed: copy nothing but what was seen */
	if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev) {
		close(in);
		errno = EAGAIN;
		return fail_step(cu, "open (the file changed while it was copied)");
	}
	int out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		xclose(in);
		return fail_step(cu, "create");
	}
	int r = 0;
	for (;;) {
		ssize_t n = read(in, cu->buf, COPYUP_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = fail_step(cu, "read");
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, cu->buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				r = fail_step(cu, "write");
				break;
			}
			off += w;
		}
		if (r < 0)
			break;
	}
	if (r == 0)
		r = copy_meta_fd(cu, out, &now);
	xclose(in);
	xclose(out);
	return r;
}

static int copy_symlink(struct copyup *cu, int sdir, int ddir, const char *name,
			const struct stat *st)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
	if (n < 0)
		return fail_step(cu, "readlink");
	target[n] = '\0';
	if (symlinkat(target, ddir, name) < 0)
		return fail_step(cu, "symlink");
	if (copy_owner(cu, ddir, name, st) < 0)
		return -1;
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		return fail_step(cu, "utimens");
	return 0;
}

/* Device nodes, fifos and sockets: a node of the same type and number. */
static int copy_node(struct copyup *cu, int ddir, const char *name, const struct stat *st)
{
	if (mknodat(ddir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
		return fail_step(cu, "mknod");
	if (copy_owner(cu, ddir, name, st) < 0)
		return -1;
	if (fchmodat(ddir, name, st->st_mode & 07777, 0) < 0)
		return fail_step(cu, "chmod");
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		return fail_step(cu, "utimens");
	return 0;
}

static int copy_dir(struct copyup *cu, int sdir, int ddir, unsigned depth);

static int copy_entry(struct copyup *cu, int sdir, int ddir, const char *name, unsigned depth)
{
	struct stat st;
	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail_step(cu, "stat");
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		return copy_file(cu, sdir, ddir, name, &st);
	case S_IFLNK:
		return copy_symlink(cu, sdir, ddir, name, &st);
	case S_IFDIR:
		break;
	default:
		return copy_node(cu, ddir, name, &st);
	}
	if (depth >= COPYUP_MAX_DEPTH) {
		errno = ELOOP;
		return fail_step(cu, "copy (directories nested too deep)");
	}
	if (mkdirat(ddir, name, 0700) < 0)
		return fail_step(cu, "mkdir");
	int s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s < 0)
		return fail_step(cu, "open");
	int d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0) {
		xclose(s);
		return fail_step(cu, "open");
	}
	int r = copy_dir(cu, s, d, depth + 1);
	struct stat now;
	/* the metadata of the directory opened (it may have been swapped) */
	if (r == 0 && fstat(s, &now) < 0)
		r = fail_step(cu, "fstat");
	if (r == 0)
		r = copy_meta_fd(cu, d, &now);
	xclose(s);
	xclose(d);
	return r;
}

/* Copies the entries of directory sdir into ddir (both O_RDONLY fds). */
static int copy_dir(struct copyup *cu, int sdir, int ddir, unsigned depth)
{
	int lfd = dup(sdir);
	if (lfd < 0)
		return fail_step(cu, "dup");
	DIR *dir = fdopendir(lfd);
	if (dir == NULL) {
		xclose(lfd);
		return fail_step(cu, "opendir");
	}
	size_t len = strlen(cu->rel);
	int r = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(dir);
		if (de == NULL) {
			if (errno != 0)
				r = fail_step(cu, "readdir");
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (++cu->entries > COPYUP_MAX_ENTRIES) {
			errno = EFBIG;
			r = fail_step(cu, "copy (too many entries)");
			break;
		}
		int n = snprintf(cu->rel + len, sizeof(cu->rel) - len, "/%s", de->d_name);
		if (n < 0 || (size_t)n >= sizeof(cu->rel) - len) {
			errno = ENAMETOOLONG;
			r = fail_step(cu, "copy");
			break;
		}
		r = copy_entry(cu, sdir, ddir, de->d_name, depth);
		if (r < 0)
			break;
		cu->rel[len] = '\0';
	}
	int e = errno;
	closedir(dir);
	errno = e;
	return r;
}

/* Whether the comma-separated mount data has a mode= option. */
static int has_mode(const char *data)
{
	for (const char *p = data; p && *p;) {
		if (strncmp(p, "mode=", 5) == 0)
			return 1;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

int op_mount_tmpfs(struct ex *ex, const char *src, const char *dest, uint64_t flags,
		   const char *data, uint64_t copyup)
{
	/* does the target exist (its mode is the default), else create it */
	int fd = mount_target_open(ex, dest, 0, "tmpfs");
	int existed = fd >= 0;
	if (fd < 0 && ex->err == ENOENT) {
		fd = mount_target_open(ex, dest, 1, "tmpfs");
		if (fd >= 0) {
			ex->err = 0;
			ex->detail[0] = '\0';
		}
	}
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return ex_fail(ex, e, "%s (tmpfs)", dest);
	}
	char *opts = NULL;
	if (existed && !has_mode(data)) {
		if (asprintf(&opts, "mode=%o%s%s", (unsigned)(st.st_mode & 07777),
			     (data && *data) ? "," : "", data ? data : "") < 0) {
			close(fd);
			return ex_fail(ex, ENOMEM, "%s (tmpfs)", dest);
		}
	}
	/* a read-only tmpfs is filled first and made read-only after */
	unsigned long mflags = (unsigned long)flags;
	if (copyup)
		mflags &= ~(unsigned long)MS_RDONLY;
	int mnt = mount_new_detached(src, "tmpfs", mflags, opts ? opts : data);
	free(opts);
	if (mnt < 0) {
		int e = errno;
		close(fd);
		return ex_fail(ex, e, "%s (tmpfs)", dest);
	}
	if (copyup) {
		struct copyup cu = {.rel = "", .step = NULL, .entries = 0, .buf = NULL};
		cu.buf = malloc(COPYUP_BUF);
		int r = cu.buf ? 0 : -1;
		if (r < 0) {
			errno = ENOMEM;
			cu.step = "malloc";
		}
		int s = -1, d = -1;
		if (r == 0 && (s = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			r = fail_step(&cu, "open");
		if (r == 0 && (d = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			r = fail_step(&cu, "open the new tmpfs");
		if (r == 0)
			r = copy_dir(&cu, s, d, 0);
		if (r == 0 && (flags & MS_RDONLY) && mount_reconfigure(mnt, (unsigned long)flags) < 0)
			r = fail_step(&cu, "make the tmpfs read-only");
		int e = errno;
		xclose(s);
		xclose(d);
		free(cu.buf);
		if (r < 0) {
			close(mnt);
			close(fd);
			return ex_fail(ex, e, "%s (tmpcopyup of %s%s: %s)", dest, dest, cu.rel,
				       cu.step);
		}
	}
	int r = mount_attach(mnt, fd);
	int e = errno;
	close(fd);
	if (r < 0)
		return ex_fail(ex, e, "%s (tmpfs)", dest);
	return 0;
}

/* ---- op handlers (the dispatch table in main.c) ---- */

OP_RUN(mount_tmpfs)
{
	const struct rts_value *v = op->v;
	return op_mount_tmpfs(ex, v[0].str, v[1].str, v[2].u64, v[3].str, v[4].u64);
}
