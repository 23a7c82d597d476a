/* Filesystem operations: rootfs, mounts, devices, symlinks, root switch,
 * masked and read-only paths, the console. Every target is an fd opened
 * through cpath_* (RESOLVE_IN_ROOT), never a string resolved again later.
 * Mounts, binds, remounts, propagation, masks and read-only paths use the
 * fd-based mount API (open_tree, move_mount, mount_setattr, fsmount, fspick): no
 * "/proc/self/fd/N" string, which after PIVOT_ROOT would resolve through
 * the container's own /proc (CVE-2025-31133 class). A new filesystem is
 * made detached (fsopen/fsconfig/fsmount) and moved onto its target. */
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
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define FILE_MODE 0644
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000 /* statfs f_flags (Linux 5.10) */
#endif

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
	if (sv.f_flag & ST_NOSYMFOLLOW)
		f |= MS_NOSYMFOLLOW;
	return f;
}

/* MOUNT_ATTR_* set/clear that make a mount's flags exactly what
 * mount(MS_REMOUNT | MS_BIND | flags) would: the flags not given are
 * cleared; the access-time mode changes only when one is given. */
static void remount_attrs(unsigned long flags, struct mount_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	static const struct {
		unsigned long ms;
		uint64_t attr;
	} plain[] = {{MS_RDONLY, MOUNT_ATTR_RDONLY},
		     {MS_NOSUID, MOUNT_ATTR_NOSUID},
		     {MS_NODEV, MOUNT_ATTR_NODEV},
		     {MS_NOEXEC, MOUNT_ATTR_NOEXEC},
		     {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME},
		     {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW}};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		if (flags & plain[i].ms)
			attr->attr_set |= plain[i].attr;
		else
			attr->attr_clr |= plain[i].attr;
	}
	if (flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME | MS_NODIRATIME)) {
		attr->attr_clr |= MOUNT_ATTR__ATIME;
		attr->attr_set |= (flags & MS_NOATIME)	   ? MOUNT_ATTR_NOATIME
				  : (flags & MS_STRICTATIME) ? MOUNT_ATTR_STRICTATIME
							     : MOUNT_ATTR_RELATIME;
	}
}

/* The MOUNT_ATTR_* form of the per-mount MS_* flags in `ms`. */
static uint64_t attrs_of(unsigned long ms)
{
	uint64_t a = 0;
	if (ms & MS_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	if (ms & MS_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (ms & MS_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (ms & MS_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	if (ms & MS_NODIRATIME)
		a |= MOUNT_ATTR_NODIRATIME;
	if (ms & MS_NOSYMFOLLOW)
		a |= MOUNT_ATTR_NOSYMFOLLOW;
	return a;
}

/* mount(NULL, <fd>, NULL, MS_REMOUNT | flags, NULL) with the fd-based API:
 * without MS_BIND the superblock flags a remount resets too (fspick). */
int mount_reconfigure(int fd, unsigned long flags)
{
	if (!(flags & MS_BIND)) {
		int fs = fspick(fd, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC);
		if (fs < 0)
			return -1;
		const char *sb[] = {(flags & MS_RDONLY) ? "ro" : "rw",
				    (flags & MS_SYNCHRONOUS) ? "sync" : "async",
				    (flags & MS_LAZYTIME) ? "lazytime" : "nolazytime"};
		int r = 0;
		for (size_t i = 0; r == 0 && i < sizeof(sb) / sizeof(sb[0]); i++)
			r = fsconfig(fs, FSCONFIG_SET_FLAG, sb[i], NULL, 0);
		if (r == 0)
			r = fsconfig(fs, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0);
		xclose(fs);
		if (r < 0)
			return -1;
	}
	struct mount_attr attr;
	remount_attrs(flags, &attr);
	int r = mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr));
	if (r < 0 && errno == EPERM) {
		/* a user namespace cannot clear locked flags: keep what is set */
		uint64_t keep = attrs_of(locked_flags(fd));
		if (attr.attr_clr & keep) {
			attr.attr_clr &= ~keep;
			attr.attr_set |= keep;
			r = mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr));
		} else {
			errno = EPERM;
		}
	}
	return r;
}

/* A detached copy of the mount(s) at fd (a bind mount waiting for attach). */
static int clone_at(int fd, int recursive)
{
	return open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
					 (recursive ? AT_RECURSIVE : 0));
}

/* Attaches the detached tree on the target fd, and closes the tree. */
int mount_attach(int tree, int target)
{
	int r = move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	xclose(tree);
	return r;
}

/* Bind-mounts what fd is (file or directory) onto target. */
static int bind_fd(int fd, int target, int recursive)
{
	int tree = clone_at(fd, recursive);
	if (tree < 0)
		return -1;
	return mount_attach(tree, target);
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

/* Makes the propagation of the runtime's namespace fit the rootfs bind. */
static int rootfs_propagation(struct ex *ex, const char *rootfs, uint64_t prop)
{
	if (mount(NULL, "/", NULL, (unsigned long)prop, NULL) < 0)
		return ex_fail(ex, errno, "/ (propagation 0x%llx)", (unsigned long long)prop);
	/* pivot_root refuses a shared parent mount, and the rootfs bind must
	 * not propagate to the host: the mount holding the rootfs becomes a
	 * slave for a slave propagation (host mounts below the rootfs still
	 * reach the container, runc >= 1.5), private otherwise. A recursive
	 * private or slave "/" has made it so already. */
	unsigned long parent = (prop & MS_SLAVE) ? MS_SLAVE : MS_PRIVATE;
	if (!((prop & MS_REC) && (prop & (MS_SLAVE | MS_PRIVATE)))) {
		char real[PATH_MAX], mp[PATH_MAX];
		if (realpath(rootfs, real) == NULL)
			return ex_fail(ex, errno, "%s", rootfs);
		if (containing_mount(real, mp, sizeof(mp)) < 0)
			return ex_fail(ex, errno, "%s (find its mount)", rootfs);
		if (mount(NULL, mp, NULL, parent, NULL) < 0)
			return ex_fail(ex, errno, "%s (make %s %s)", rootfs, mp,
				       parent == MS_SLAVE ? "a slave" : "private");
	}
	return 0;
}

int op_rootfs(struct ex *ex, const char *rootfs, uint64_t prop)
{
	/* 0: the container shares the runtime's mount namespace (CHROOT
	 * follows): the host's propagation is not the container's to change. */
	if (prop != 0 && rootfs_propagation(ex, rootfs, prop) < 0)
		return -1;
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return ex_fail(ex, errno, "%s", rootfs);
	/* In the runtime's namespace, the bind (a tree of new mounts) is made
	 * a slave: the container's mounts below it must not propagate to the
	 * peers of a shared parent, host mounts below the rootfs still reach it. */
	if (prop == 0 && mount(NULL, rootfs, NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return ex_fail(ex, errno, "%s (make the bind a slave)", rootfs);
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
static int open_target_as_told(struct ex *ex, const char *dest, uint64_t create)
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

static int is_under_proc_text(const char *dest)
{
	return strncmp(dest, "/proc", 5) == 0 && (dest[5] == '\0' || dest[5] == '/');
}

/* Opens a mount target. The planner refuses mounts inside /proc by the
 * config's text; the image can still route another destination there with
 * a symlink, so the resolved target is judged too: on procfs, it is refused
 * (EXDEV, with *into_proc set) unless the text itself names /proc. */
static int open_target(struct ex *ex, const char *dest, uint64_t create, int *into_proc)
{
	*into_proc = 0;
	int fd = open_target_as_told(ex, dest, create);
	if (fd < 0 || is_under_proc_text(dest))
		return fd;
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0) {
		xclose(fd);
		return -1;
	}
	if (sf.f_type == PROC_SUPER_MAGIC) {
		close(fd);
		*into_proc = 1;
		errno = EXDEV;
		return -1;
	}
	return fd;
}

static int fail_target(struct ex *ex, int into_proc, const char *dest, const char *what)
{
	if (into_proc)
		return ex_fail_msg(ex,
				   "mount %s (%s): \"%s\" cannot be mounted because it resolves to a "
				   "path inside /proc (a symbolic link in the rootfs)",
				   dest, what, dest);
	return ex_fail(ex, errno, "%s (%s)", dest, what);
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

/* mount(2)'s flags that are superblock flags, by their fsconfig names */
static const struct {
	unsigned long ms;
	const char *name;
} sb_flags[] = {{MS_RDONLY, "ro"},
		{MS_SYNCHRONOUS, "sync"},
		{MS_DIRSYNC, "dirsync"},
		{MS_LAZYTIME, "lazytime"},
		{MS_MANDLOCK, "mand"}};

/* What mount(src, <target>, fstype, flags, data) would mount, detached:
 * fsopen + fsconfig (the source, each comma-separated `key=value` or `flag`
 * of data as mount(2) splits it, the superblock flags) + fsmount with the
 * per-mount flags. Flags that make mount(2) do something else than a new
 * mount (remount, move, propagation) are EINVAL. */
int mount_new_detached(const char *src, const char *fstype, unsigned long flags, const char *data)
{
	const unsigned long other = MS_REMOUNT | MS_MOVE | MS_SHARED | MS_SLAVE | MS_PRIVATE |
				    MS_UNBINDABLE;
	if (nz(fstype) == NULL || (flags & other)) {
		errno = EINVAL;
		return -1;
	}
	int fs = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	int r = 0;
	if (nz(src))
		r = fsconfig(fs, FSCONFIG_SET_STRING, "source", src, 0);
	char *copy = nz(data) ? strdup(data) : NULL;
	if (r == 0 && nz(data) && copy == NULL) {
		errno = ENOMEM;
		r = -1;
	}
	for (char *rest = copy, *opt; r == 0 && (opt = strsep(&rest, ",")) != NULL;) {
		if (*opt == '\0')
			continue;
		char *eq = strchr(opt, '=');
		if (eq != NULL) {
			*eq = '\0';
			r = fsconfig(fs, FSCONFIG_SET_STRING, opt, eq + 1, 0);
		} else {
			r = fsconfig(fs, FSCONFIG_SET_FLAG, opt, NULL, 0);
		}
	}
	free(copy);
	for (size_t i = 0; r == 0 && i < sizeof(sb_flags) / sizeof(sb_flags[0]); i++)
		if (flags & sb_flags[i].ms)
			r = fsconfig(fs, FSCONFIG_SET_FLAG, sb_flags[i].name, NULL, 0);
	if (r == 0)
		r = fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
	int mnt = -1;
	if (r == 0) {
		struct mount_attr attr;
		remount_attrs(flags, &attr);
		mnt = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned int)attr.attr_set);
	}
	xclose(fs);
	return mnt;
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
	int into_proc;
	int fd = open_target(ex, dest, create, &into_proc);
	if (fd < 0)
		return fail_target(ex, into_proc, dest, what);
	int r;
	if (flags & MS_BIND) {
		/* The host path now, in this mount namespace: it sees what the
		 * earlier mounts put there (a source under an earlier mount's
		 * destination, runc >= 1.2). When the namespace's root may not
		 * search it, the fd OPEN_MOUNT_SOURCE opened before. */
		unsigned int otflags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
				       ((flags & MS_REC) ? AT_RECURSIVE : 0);
		int sfd = mount_source_fd(ex, src);
		int tree = open_tree(AT_FDCWD, src, otflags);
		if (tree < 0 && sfd >= 0 && (errno == EACCES || errno == EPERM))
			tree = open_tree(sfd, "", otflags | AT_EMPTY_PATH);
		r = tree < 0 ? -1 : mount_attach(tree, fd);
	} else {
		int mnt = mount_new_detached(src, fstype, (unsigned long)flags, data);
		r = mnt < 0 ? -1 : mount_attach(mnt, fd);
	}
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
	int r = mount_reconfigure(fd, (unsigned long)flags);
	int e = errno;
	close(fd);
	if (r < 0)
		return ex_fail(ex, e, "%s", dest);
	return 0;
}

#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

/* "ro,nosuid,..." for the per-mount flags in f. */
static const char *flag_names(unsigned long f, char *buf, size_t n)
{
	static const struct {
		unsigned long ms;
		const char *name;
	} names[] = {{MS_RDONLY, "ro"},		{MS_NOSUID, "nosuid"},	   {MS_NODEV, "nodev"},
		     {MS_NOEXEC, "noexec"},	{MS_NOATIME, "noatime"},   {MS_NODIRATIME, "nodiratime"},
		     {MS_RELATIME, "relatime"}, {MS_STRICTATIME, "strictatime"}};
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(f & names[i].ms))
			continue;
		int w = snprintf(buf + used, n - used, "%s%s", used ? "," : "", names[i].name);
		if (w < 0 || (size_t)w >= n - used)
			break;
		used += (size_t)w;
	}
	return buf;
}

int op_bind_remount(struct ex *ex, const char *dest, uint64_t flags, uint64_t cleared)
{
	int fd = cpath_open(ex, dest, O_PATH, 0);
	if (fd < 0)
		return ex_fail(ex, errno, "%s", dest);
	unsigned long want = (unsigned long)flags & ~(unsigned long)(MS_BIND | MS_REC | MS_REMOUNT);
	unsigned long atime = want & ATIME_FLAGS;
	/* no access-time option: relatime (strictatime after "norelatime") */
	if (atime == 0)
		want |= (cleared & MS_RELATIME) ? MS_STRICTATIME : MS_RELATIME;
	struct mount_attr attr;
	remount_attrs(want, &attr);
	int r = mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr));
	if (r < 0 && errno == EPERM) {
		/* The source's flags are locked (it comes from a more privileged
		 * user namespace): keep those not explicitly cleared, as runc >=
		 * 1.2 does (a "ro" source stays read-only unless "rw" was asked,
		 * which cannot be had). */
		unsigned long src = locked_flags(fd);
		struct statvfs sv;
		if (fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY))
			src |= MS_RDONLY;
		unsigned long src_atime = src & (MS_NOATIME | MS_RELATIME);
		if (src_atime == 0)
			src_atime = MS_STRICTATIME;
		char a[128], b[128];
		unsigned long conflict = src & (unsigned long)cleared &
					 (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME);
		if (conflict) {
			close(fd);
			return ex_fail(ex, EPERM,
				       "%s: the source's %s cannot be cleared (locked: the source is "
				       "a mount of a more privileged user namespace)",
				       dest, flag_names(conflict, a, sizeof(a)));
		}
		if (atime && (atime & src_atime) == 0) {
			close(fd);
			return ex_fail(ex, EPERM,
				       "%s: the source's access-time mode %s cannot be changed to %s "
				       "(locked: the source is a mount of a more privileged user "
				       "namespace)",
				       dest, flag_names(src_atime, a, sizeof(a)),
				       flag_names(atime, b, sizeof(b)));
		}
		want |= src & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME);
		want = (want & ~ATIME_FLAGS) | src_atime;
		remount_attrs(want, &attr);
		r = mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr));
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
	struct mount_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.propagation = flags & (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE);
	int r = mount_setattr(fd, "", AT_EMPTY_PATH | ((flags & MS_REC) ? AT_RECURSIVE : 0), &attr,
			      sizeof(attr));
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
	int into_proc;
	int fd = open_target(ex, path, 2, &into_proc);
	if (fd < 0)
		return fail_target(ex, into_proc, path, hostpath);
	int tree = open_tree(AT_FDCWD, hostpath, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	int r = tree < 0 ? -1 : mount_attach(tree, fd);
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
	int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (oldroot < 0)
		return ex_fail(ex, errno, "open the old root");
	if (fchdir(ex->rootfd) < 0) {
		int e = errno;
		close(oldroot);
		return ex_fail(ex, e, "chdir to the rootfs");
	}
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		int e = errno;
		close(oldroot);
		return ex_fail(ex, e, "pivot_root");
	}
	/* The old root is now stacked on the new one. Its tree becomes rslave
	 * (its unmount must not propagate to the host) through its own fd: "."
	 * would name the new root, whose mounts would lose a shared
	 * propagation they were given. Then cwd on it, and detach it. */
	struct mount_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.propagation = MS_SLAVE;
	int r = mount_setattr(oldroot, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
	int e = errno;
	if (r < 0) {
		close(oldroot);
		return ex_fail(ex, e, "make the old root rslave");
	}
	r = fchdir(oldroot);
	e = errno;
	close(oldroot);
	if (r < 0)
		return ex_fail(ex, e, "chdir to the old root");
	if (umount2(".", MNT_DETACH) < 0)
		return ex_fail(ex, errno, "unmount the old root");
	if (chdir("/") < 0)
		return ex_fail(ex, errno, "chdir /");
	close(ex->rootfd);
	ex->rootfd = -1;
	ex->pivoted = 1;
	return 0;
}

static int empty_tmpfs(void);

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x1000U
#endif

/* One mountinfo line: id, root, mount point (unescaped) and type. */
struct mountinfo_line {
	unsigned long long id;
	char *root, *point, *fstype;
};

static int parse_mountinfo_line(char *line, struct mountinfo_line *ml)
{
	char *save = NULL;
	char *f[5];
	for (int i = 0; i < 5; i++)
		if ((f[i] = strtok_r(i == 0 ? line : NULL, " ", &save)) == NULL)
			return -1;
	char *tok;
	while ((tok = strtok_r(NULL, " ", &save)) != NULL && strcmp(tok, "-") != 0)
		;
	if (tok == NULL || (ml->fstype = strtok_r(NULL, " ", &save)) == NULL)
		return -1;
	ml->id = strtoull(f[0], NULL, 10);
	ml->root = f[3];
	ml->point = f[4];
	unescape(ml->root);
	unescape(ml->point);
	return 0;
}

static unsigned long long mount_id_of(int fd)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
		return 0;
	return stx.stx_mnt_id;
}

/* Covers one full host procfs/sysfs mount: made private (neither the
 * change nor the cover reaches the host), then a read-only empty tmpfs on
 * its root. A mount point that is gone or already covered is left. */
static int cover_full_mount(const struct mountinfo_line *ml)
{
	int fd = open(ml->point, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) ? 0 : -1;
	if (mount_id_of(fd) != ml->id) {
		close(fd);
		return 0;
	}
	struct mount_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.propagation = MS_PRIVATE;
	int r = mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr));
	if (r == 0) {
		int tree = empty_tmpfs();
		r = tree < 0 ? -1 : mount_attach(tree, fd);
	}
	xclose(fd);
	return r;
}

/* --no-pivot leaves the host's mounts in the container's mount namespace,
 * unreachable by path after the chroot but not to the kernel: a full procfs
 * or sysfs there is "fully visible", so a process of the container that
 * makes a user and a mount namespace could mount a fresh, unmasked one
 * (mount_too_revealing). Every full procfs and sysfs mount outside the
 * rootfs is covered (runc does so since its fix for this bypass). */
static int cover_host_proc_sys(struct ex *ex)
{
	unsigned long long rootid = mount_id_of(ex->rootfd);
	if (rootid == 0)
		return ex_fail(ex, errno ? errno : ENOSYS, "statx STATX_MNT_ID of the rootfs");
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return ex_fail(ex, errno, "/proc/self/mountinfo");
	char *line = NULL;
	size_t cap = 0;
	char rootpoint[PATH_MAX] = "";
	/* the rootfs' own mount point first: mounts below it are the container's */
	while (getline(&line, &cap, f) > 0) {
		struct mountinfo_line ml;
		if (parse_mountinfo_line(line, &ml) == 0 && ml.id == rootid) {
			snprintf(rootpoint, sizeof(rootpoint), "%s", ml.point);
			break;
		}
	}
	size_t rl = strlen(rootpoint);
	int r = rl == 0 ? -1 : 0;
	if (r < 0)
		errno = ENOENT;
	rewind(f);
	while (r == 0 && getline(&line, &cap, f) > 0) {
		struct mountinfo_line ml;
		line[strcspn(line, "\n")] = '\0';
		if (parse_mountinfo_line(line, &ml) < 0 || strcmp(ml.root, "/") != 0 ||
		    (strcmp(ml.fstype, "proc") != 0 && strcmp(ml.fstype, "sysfs") != 0))
			continue;
		if (strncmp(ml.point, rootpoint, rl) == 0 &&
		    (ml.point[rl] == '/' || ml.point[rl] == '\0'))
			continue;
		if (cover_full_mount(&ml) < 0) {
			int e = errno;
			free(line);
			fclose(f);
			return ex_fail(ex, e, "cover the host's %s mount at %s (--no-pivot)", ml.fstype,
				       ml.point);
		}
	}
	int e = errno;
	free(line);
	fclose(f);
	if (r < 0)
		return ex_fail(ex, e, "find the rootfs mount in /proc/self/mountinfo");
	return 0;
}

int op_move_root(struct ex *ex)
{
	if (ex->rootfd < 0)
		return ex_fail(ex, EINVAL, "no rootfs (ROOTFS must come first)");
	if (cover_host_proc_sys(ex) < 0)
		return -1;
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

/* Without a mount namespace of its own the container shares the runtime's:
 * pivot_root would give every process of that namespace the rootfs as its
 * root, MS_MOVE would cover the host's "/". chroot changes this process'
 * root only; the rootfs bind and the mounts below it stay in the runtime's
 * namespace (as with runc and crun). */
int op_chroot(struct ex *ex)
{
	if (ex->rootfd < 0)
		return ex_fail(ex, EINVAL, "no rootfs (ROOTFS must come first)");
	if (fchdir(ex->rootfd) < 0)
		return ex_fail(ex, errno, "chdir to the rootfs");
	if (chroot(".") < 0)
		return ex_fail(ex, errno, "chroot");
	if (chdir("/") < 0)
		return ex_fail(ex, errno, "chdir /");
	close(ex->rootfd);
	ex->rootfd = -1;
	ex->pivoted = 1;
	return 0;
}

/* Opens a masked or read-only path: symlinks before the last component
 * are followed inside the root, the last one must not be a symlink (the
 * image would choose what gets masked or protected). ENOENT: skip it. */
static int open_protected_path(struct ex *ex, const char *path, struct stat *st)
{
	int fd = cpath_open(ex, path, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0) {
		xclose(fd);
		return -1;
	}
	if (S_ISLNK(st->st_mode)) {
		close(fd);
		errno = ELOOP;
		return -1;
	}
	return fd;
}

static int fail_protected(struct ex *ex, int e, const char *path)
{
	if (e == ELOOP)
		return ex_fail(ex, e, "%s (a symbolic link in the rootfs: refusing to follow it)",
			       path);
	return ex_fail(ex, e, "%s", path);
}

/* A read-only empty tmpfs, detached. */
static int empty_tmpfs(void)
{
	int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	int mnt = -1;
	/* source "tmpfs", as mount("tmpfs", ...) shows it in mountinfo */
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", "tmpfs", 0) == 0 &&
	    fsconfig(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) == 0 &&
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
	xclose(fs);
	return mnt;
}

int op_mask(struct ex *ex, const char *path)
{
	struct stat st;
	int fd = open_protected_path(ex, path, &st);
	if (fd < 0)
		return errno == ENOENT ? 0 : fail_protected(ex, errno, path);
	int r, e;
	if (S_ISDIR(st.st_mode)) {
		int tree = empty_tmpfs();
		r = tree < 0 ? -1 : mount_attach(tree, fd);
		e = errno;
	} else {
		/* the container's /dev/null, checked to be the real null device;
		 * the fd checked is the one bound */
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
		r = bind_fd(nfd, fd, 0);
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
	struct stat st;
	int fd = open_protected_path(ex, path, &st);
	if (fd < 0)
		return errno == ENOENT ? 0 : fail_protected(ex, errno, path);
	/* a recursive copy whose top mount is made read-only (submounts keep
	 * their flags, as runc's bind + remount leaves them), put over the
	 * original */
	int tree = clone_at(fd, 1);
	int r = tree < 0 ? -1 : 0;
	if (r == 0) {
		struct mount_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.attr_set = MOUNT_ATTR_RDONLY;
		r = mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr));
		if (r < 0)
			xclose(tree);
		else
			r = mount_attach(tree, fd);
	}
	int e = errno;
	close(fd);
	if (r < 0)
		return ex_fail(ex, e, "%s", path);
	return 0;
}

int mount_target_open(struct ex *ex, const char *dest, uint64_t create, const char *what)
{
	int into_proc;
	int fd = open_target(ex, dest, create, &into_proc);
	if (fd < 0)
		return fail_target(ex, into_proc, dest, what);
	return fd;
}

#ifndef DEVPTS_SUPER_MAGIC
#define DEVPTS_SUPER_MAGIC 0x1cd1
#endif
/* Unix98 pty slaves: majors 136 to 143 */
#define PTY_SLAVE_MAJOR_FIRST 136
#define PTY_SLAVE_MAJOR_LAST 143

int check_pty_slave(int fd)
{
	struct statfs sf;
	struct stat st;
	if (fstatfs(fd, &sf) < 0 || fstat(fd, &st) < 0)
		return -1;
	if (sf.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode) ||
	    major(st.st_rdev) < PTY_SLAVE_MAJOR_FIRST || major(st.st_rdev) > PTY_SLAVE_MAJOR_LAST) {
		errno = ENOTTY;
		return -1;
	}
	return 0;
}

/* The /dev/console mount point (CVE-2025-52565 class): a regular file we
 * create in the resolved /dev (O_EXCL|O_NOFOLLOW), or what is there
 * already if that is a regular file or a device node (bound over, they
 * redirect nothing); a symlink, directory or anything else is refused. */
static int console_target(struct ex *ex)
{
	char base[NAME_MAX + 1];
	int dev = cpath_parent(ex, "/dev/console", 1, base, sizeof(base));
	if (dev < 0)
		return -1;
	int fd = openat(dev, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		fd = openat(dev, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) < 0) {
			xclose(fd);
			fd = -1;
		} else if (fd >= 0 && !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
			close(fd);
			fd = -1;
			errno = S_ISLNK(st.st_mode) ? ELOOP : EEXIST;
		}
	}
	xclose(dev);
	return fd;
}

int op_mount_console(struct ex *ex)
{
	if (check_pty_slave(0) < 0)
		return ex_fail(ex, errno, "/dev/console (stdin is not the container's pty)");
	int fd = console_target(ex);
	if (fd < 0) {
		if (errno == ELOOP)
			return ex_fail(ex, ELOOP,
				       "/dev/console (a symbolic link in the rootfs: refusing to "
				       "mount the console through it)");
		if (errno == EEXIST)
			return ex_fail(ex, EEXIST,
				       "/dev/console (neither a regular file nor a device node)");
		return ex_fail(ex, errno, "/dev/console");
	}
	int r = bind_fd(0, fd, 0);
	int e = errno;
	close(fd);
	if (r < 0)
		return ex_fail(ex, e, "/dev/console");
	return 0;
}

/* ---- op handlers (the dispatch table in main.c) ---- */

OP_RUN(rootfs)
{
	const struct rts_value *v = op->v;
	return op_rootfs(ex, v[0].str, v[1].u64);
}

OP_RUN(open_mount_source)
{
	const struct rts_value *v = op->v;
	return op_open_mount_source(ex, v[0].str);
}

OP_RUN(mount)
{
	const struct rts_value *v = op->v;
	return op_mount(ex, v[0].str, v[1].str, v[2].str, v[3].u64, v[4].str, v[5].u64);
}

OP_RUN(remount)
{
	const struct rts_value *v = op->v;
	return op_remount(ex, v[0].str, v[1].u64);
}

OP_RUN(bind_remount)
{
	const struct rts_value *v = op->v;
	return op_bind_remount(ex, v[0].str, v[1].u64, v[2].u64);
}

OP_RUN(propagate)
{
	const struct rts_value *v = op->v;
	return op_propagate(ex, v[0].str, v[1].u64);
}

OP_RUN(setattr)
{
	const struct rts_value *v = op->v;
	return op_setattr(ex, v[0].str, v[1].u64, v[2].u64, v[3].u64);
}

OP_RUN(mknod)
{
	const struct rts_value *v = op->v;
	return op_mknod(ex, v[0].str, v[1].u64, v[2].u64, v[3].u64, v[4].u64, v[5].u64);
}

OP_RUN(bind_device)
{
	const struct rts_value *v = op->v;
	return op_bind_device(ex, v[0].str, v[1].str);
}

OP_RUN(symlink)
{
	const struct rts_value *v = op->v;
	return op_symlink(ex, v[0].str, v[1].str);
}

/* The three ways into the container's root share what surrounds them: no
 * host path stays open across the switch, stdio is reopened on the
 * container's /dev/null, and the fifo's procfs is kept for WAIT_FIFO. */
static int switch_root(struct ex *ex, int (*enter)(struct ex *))
{
	close_mount_sources(ex);
	if (enter(ex) < 0 || reopen_dev_null(ex) < 0)
		return -1;
	keep_fifo_proc(ex);
	return 0;
}

OP_RUN(pivot_root)
{
	return switch_root(ex, op_pivot_root);
}

OP_RUN(move_root)
{
	return switch_root(ex, op_move_root);
}

OP_RUN(chroot)
{
	return switch_root(ex, op_chroot);
}

OP_RUN(mask)
{
	const struct rts_value *v = op->v;
	return op_mask(ex, v[0].str);
}

OP_RUN(readonly)
{
	const struct rts_value *v = op->v;
	return op_readonly(ex, v[0].str);
}

OP_RUN(mount_console)
{
	return op_mount_console(ex);
}
