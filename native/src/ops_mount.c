/* Filesystem operations: rootfs, mounts, devices, symlinks, root switch,
 * masked and read-only paths. Every mount targets /proc/self/fd/<fd> of a
 * target opened through cpath_* (RESOLVE_IN_ROOT), never a host string. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define FILE_MODE 0644
#define FDP 64

static const char *nz(const char *s)
{
	return (s && *s) ? s : NULL;
}

static void xclose(int fd)
{
	if (fd >= 0) {
		int e = errno;
		close(fd);
		errno = e;
	}
}

/* MS_* flags a bind remount must keep (they are locked in user namespaces). */
static unsigned long locked_flags(int fd)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (fstatvfs(fd, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* Decodes mountinfo's octal escapes (\040 etc.) in place. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* The mount point of the mount that contains `path` (canonical), into mp. */
static int containing_mount(const char *path, char *mp, size_t mpsz)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	size_t best = 0;
	int found = 0;
	while (getline(&line, &cap, f) > 0) {
		/* id parent major:minor root mountpoint ... */
		char *save = NULL, *tok = strtok_r(line, " ", &save);
		for (int i = 0; tok && i < 4; i++)
			tok = strtok_r(NULL, " ", &save);
		if (tok == NULL)
			continue;
		unescape(tok);
		size_t l = strlen(tok);
		int prefix = strcmp(tok, "/") == 0 ||
			     (strncmp(path, tok, l) == 0 && (path[l] == '/' || path[l] == '\0'));
		if (prefix && l >= best && l < mpsz) {
			best = l;
			strcpy(mp, tok);
			found = 1;
		}
	}
	free(line);
	fclose(f);
	if (!found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

int op_rootfs(struct ex *ex, const char *rootfs, uint64_t prop)
{
	if (prop && mount(NULL, "/", NULL, (unsigned long)prop, NULL) < 0)
		return ex_fail(ex, errno, "/ (propagation 0x%llx)", (unsigned long long)prop);
	if (prop & MS_SHARED) {
		/* pivot_root refuses a shared parent mount, and the rootfs bind
		 * must not propagate to the host: make the parent mount private */
		char real[PATH_MAX], mp[PATH_MAX];
		if (realpath(rootfs, real) == NULL)
			return ex_fail(ex, errno, "%s", rootfs);
		if (containing_mount(real, mp, sizeof(mp)) < 0)
			return ex_fail(ex, errno, "%s (find its mount)", rootfs);
		if (mount(NULL, mp, NULL, MS_PRIVATE, NULL) < 0)
			return ex_fail(ex, errno, "%s (make %s private)", rootfs, mp);
	}
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return ex_fail(ex, errno, "%s", rootfs);
	int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ex_fail(ex, errno, "%s", rootfs);
	if (ex->rootfd >= 0)
		close(ex->rootfd);
	ex->rootfd = fd;
	ex->pivoted = 0;
	return 0;
}

/* Opens dest (O_PATH), creating it as `create` says. */
static int open_target(struct ex *ex, const char *dest, uint64_t create)
{
	int fd = cpath_open(ex, dest, O_PATH, 0);
	if (fd >= 0 || errno != ENOENT || create == 0)
		return fd;
	if (create == 1)
		return cpath_mkdirs(ex, dest);
	if (create != 2) {
		errno = EINVAL;
		return -1;
	}
	return cpath_create_file(ex, dest, FILE_MODE);
}

/* OPEN_MOUNT_SOURCE: opened with the executor's first credentials, before a
 * user namespace whose root may not search the path (runc passes such fds
 * too). Best effort: a path that cannot be opened now is left to MOUNT,
 * which then reports its own error. */
int op_open_mount_source(struct ex *ex, const char *path)
{
	for (size_t i = 0; i < ex->nsources; i++)
		if (strcmp(ex->sources[i].path, path) == 0)
			return 0;
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct mount_source *grown = realloc(ex->sources, (ex->nsources + 1) * sizeof(*grown));
	if (grown != NULL)
		ex->sources = grown;
	char *copy = strdup(path);
	if (grown == NULL || copy == NULL) {
		free(copy);
		close(fd);
		return ex_fail(ex, ENOMEM, "%s", path);
	}
	ex->sources[ex->nsources].path = copy;
	ex->sources[ex->nsources].fd = fd;
	ex->nsources++;
	return 0;
}

void close_mount_sources(struct ex *ex)
{
	for (size_t i = 0; i < ex->nsources; i++) {
		close(ex->sources[i].fd);
		free(ex->sources[i].path);
	}
	free(ex->sources);
	ex->sources = NULL;
	ex->nsources = 0;
}

/* The fd OPEN_MOUNT_SOURCE opened for `path`, or -1. */
static int mount_source_fd(const struct ex *ex, const char *path)
{
	for (size_t i = 0; path != NULL && i < ex->nsources; i++)
		if (strcmp(ex->sources[i].path, path) == 0)
			return ex->sources[i].fd;
	return -1;
}

int op_mount(struct ex *ex, const char *src, const char *dest, const char *fstype, uint64_t flags,
	     const char *data, uint64_t create)
{
	const char *what = nz(fstype) ? fstype : src;
	/* procfs and sysfs only on a real directory: an image must not point
	 * /proc or /sys elsewhere with a symlink (the masks and read-only paths
	 * below them would then protect the wrong place). Checked before
	 * anything is created. */
	if (fstype != NULL && (strcmp(fstype, "proc") == 0 || strcmp(fstype, "sysfs") == 0)) {
		int plain = cpath_open_nosymlinks(ex, dest, O_PATH);
		if (plain < 0 && errno != ENOENT)
			return ex_fail(ex, errno, "%s (%s): must be mounted on ordinary directory", dest,
				       what);
		if (plain >= 0)
			close(plain);
	}
	int fd = open_target(ex, dest, create);
	if (fd < 0)
		return ex_fail(ex, errno, "%s (%s)", dest, what);
	char p[FDP], s[FDP];
	fdpath(p, sizeof(p), fd);
	const char *source = nz(src);
	int sfd = (flags & MS_BIND) ? mount_source_fd(ex, src) : -1;
	if (sfd >= 0) {
		fdpath(s, sizeof(s), sfd);
		source = s;
	}
	int r = mount(source, p, nz(fstype), (unsigned long)flags, nz(data));
	int e = errno;
	close(fd);
	if (r < 0)
		return ex_fail(ex, e, "%s (%s)", dest, what);
	return 0;
}

int op_remount(struct ex *ex, const char *dest, uint64_t flags)
{
	int fd = cpath_open(ex, dest, O_PATH, 0);
	if (fd < 0)
		return ex_fail(ex, errno, "%s", dest);
	char p[FDP];
	fdpath(p, sizeof(p), fd);
	unsigned long f = MS_REMOUNT | (unsigned long)flags;
	int r = mount(NULL, p, NULL, f, NULL);
	if (r < 0 && errno == EPERM && (f & MS_BIND)) {
		/* a user namespace cannot drop locked flags: keep them and retry */
		unsigned long locked = locked_flags(fd);
		if ((f | locked) != f)
			r = mount(NULL, p, NULL, f | locked, NULL);
		else
			errno = EPERM;
	}
	int e = errno;
	close(fd);
	if (r < 0)
		return ex_fail(ex, e, "%s", dest);
	return 0;
}

int op_propagate(struct ex *ex, const char *dest, uint64_t flags)
{
	int fd = cpath_open(ex, dest, O_PATH, 0);
	if (fd < 0)
		return ex_fail(ex, errno, "%s", dest);
	char p[FDP];
	fdpath(p, sizeof(p), fd);
	int r = mount(NULL, p, NULL, (unsigned long)flags, NULL);
	int e = errno;
	close(fd);
	if (r < 0)
		return ex_fail(ex, e, "%s", dest);
	return 0;
}

int op_setattr(struct ex *ex, const char *dest, uint64_t set, uint64_t clr, uint64_t rec)
{
	int fd = cpath_open(ex, dest, O_PATH, 0);
	if (fd < 0)
		return ex_fail(ex, errno, "%s", dest);
	struct mount_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.attr_set = set;
	attr.attr_clr = clr;
	int r = mount_setattr(fd, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &attr, sizeof(attr));
	int e = errno;
	close(fd);
	if (r < 0)
		return ex_fail(ex, e, "%s", dest);
	return 0;
}

int op_mknod(struct ex *ex, const char *path, uint64_t mode, uint64_t major, uint64_t minor,
	     uint64_t uid, uint64_t gid)
{
	if (mode > UINT32_MAX || major > UINT32_MAX || minor > UINT32_MAX || uid > UINT32_MAX ||
	    gid > UINT32_MAX)
		return ex_fail(ex, EINVAL, "%s", path);
	char base[NAME_MAX + 1];
	int pfd = cpath_parent(ex, path, 1, base, sizeof(base));
	if (pfd < 0)
		return ex_fail(ex, errno, "%s", path);
	if (unlinkat(pfd, base, 0) < 0 && errno != ENOENT) {
		int e = errno;
		close(pfd);
		return ex_fail(ex, e, "%s", path);
	}
	/* the plan's mode is exact: do not let the umask trim it */
	mode_t old = umask(0);
	int r = mknodat(pfd, base, (mode_t)mode, makedev((unsigned)major, (unsigned)minor));
	int e = errno;
	umask(old);
	if (r == 0) {
		r = fchownat(pfd, base, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW);
		e = errno;
	}
	close(pfd);
	if (r < 0)
		return ex_fail(ex, e, "%s", path);
	return 0;
}

int op_bind_device(struct ex *ex, const char *hostpath, const char *path)
{
	/* create=2: only a missing path is created; an existing node is not opened */
	int fd = open_target(ex, path, 2);
	if (fd < 0)
		return ex_fail(ex, errno, "%s", path);
	char p[FDP];
	fdpath(p, sizeof(p), fd);
	int r = mount(hostpath, p, NULL, MS_BIND, NULL);
	int e = errno;
	close(fd);
	if (r < 0)
		return ex_fail(ex, e, "%s (%s)", path, hostpath);
	return 0;
}

int op_symlink(struct ex *ex, const char *target, const char *path)
{
	char base[NAME_MAX + 1];
	int pfd = cpath_parent(ex, path, 1, base, sizeof(base));
	if (pfd < 0)
		return ex_fail(ex, errno, "%s", path);
	int r = symlinkat(target, pfd, base);
	int e = errno;
	close(pfd);
	if (r < 0 && e != EEXIST)
		return ex_fail(ex, e, "%s -> %s", path, target);
	return 0;
}

int op_pivot_root(struct ex *ex)
{
	if (ex->rootfd < 0)
		return ex_fail(ex, EINVAL, "no rootfs (ROOTFS must come first)");
	if (fchdir(ex->rootfd) < 0)
		return ex_fail(ex, errno, "chdir to the rootfs");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return ex_fail(ex, errno, "pivot_root");
	/* the old root is now stacked on "."; keep its unmount from propagating */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return ex_fail(ex, errno, "make the old root rslave");
	if (umount2(".", MNT_DETACH) < 0)
		return ex_fail(ex, errno, "unmount the old root");
	if (chdir("/") < 0)
		return ex_fail(ex, errno, "chdir /");
	close(ex->rootfd);
	ex->rootfd = -1;
	ex->pivoted = 1;
	return 0;
}

int op_move_root(struct ex *ex)
{
	if (ex->rootfd < 0)
		return ex_fail(ex, EINVAL, "no rootfs (ROOTFS must come first)");
	if (fchdir(ex->rootfd) < 0)
		return ex_fail(ex, errno, "chdir to the rootfs");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return ex_fail(ex, errno, "move the rootfs to /");
	if (chroot(".") < 0)
		return ex_fail(ex, errno, "chroot");
	if (chdir("/") < 0)
		return ex_fail(ex, errno, "chdir /");
	close(ex->rootfd);
	ex->rootfd = -1;
	ex->pivoted = 1;
	return 0;
}

int op_mask(struct ex *ex, const char *path)
{
	int fd = cpath_open(ex, path, O_PATH, 0);
	if (fd < 0)
		return errno == ENOENT ? 0 : ex_fail(ex, errno, "%s", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return ex_fail(ex, e, "%s", path);
	}
	char p[FDP];
	fdpath(p, sizeof(p), fd);
	int r, e;
	if (S_ISDIR(st.st_mode)) {
		r = mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL);
		e = errno;
	} else {
		/* the container's /dev/null, checked to be the real null device */
		int nfd = cpath_open(ex, "/dev/null", O_PATH, 0);
		struct stat ns;
		if (nfd < 0 || fstat(nfd, &ns) < 0) {
			e = errno;
			xclose(nfd);
			close(fd);
			return ex_fail(ex, e, "%s (/dev/null)", path);
		}
		if (!S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3)) {
			close(nfd);
			close(fd);
			return ex_fail(ex, ENODEV, "%s (/dev/null is not the null device)", path);
		}
		char np[FDP];
		fdpath(np, sizeof(np), nfd);
		r = mount(np, p, NULL, MS_BIND, NULL);
		e = errno;
		close(nfd);
	}
	close(fd);
	if (r < 0)
		return ex_fail(ex, e, "%s", path);
	return 0;
}

int op_readonly(struct ex *ex, const char *path)
{
	int fd = cpath_open(ex, path, O_PATH, 0);
	if (fd < 0)
		return errno == ENOENT ? 0 : ex_fail(ex, errno, "%s", path);
	char p[FDP];
	fdpath(p, sizeof(p), fd);
	int r = mount(p, p, NULL, MS_BIND | MS_REC, NULL);
	int e = errno;
	close(fd);
	if (r < 0)
		return ex_fail(ex, e, "%s", path);
	/* reopen: the old fd still refers to the mount under the new bind */
	fd = cpath_open(ex, path, O_PATH, 0);
	if (fd < 0)
		return ex_fail(ex, errno, "%s", path);
	fdpath(p, sizeof(p), fd);
	unsigned long f = MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(fd);
	r = mount(NULL, p, NULL, f, NULL);
	e = errno;
	close(fd);
	if (r < 0)
		return ex_fail(ex, e, "%s", path);
	return 0;
}

int mount_target_open(struct ex *ex, const char *dest, uint64_t create)
{
	return open_target(ex, dest, create);
}
