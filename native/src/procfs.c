/* procfs writes that cannot be redirected (CVE-2025-52881 class).
 *
 * A file on procfs is not necessarily the file we asked for: anything that
 * can mount in the mount namespace we look through (a hook, a racing
 * container sharing a volume, the container itself during `exec`) can
 * bind-mount one procfs file over another, and the fstatfs check alone
 * passes. So every procfs access goes through a procfs the mount
 * namespace's other users cannot touch:
 *
 *   1. a fresh, detached procfs instance (fsopen("proc") + fsmount): no
 *      overmounts at all, in no mount table;
 *   2. else (mount_too_revealing: a procfs with locked overmounts, as in a
 *      nested container) a non-recursive clone of the /proc mount
 *      (open_tree(OPEN_TREE_CLONE)): the clone carries none of its
 *      submounts;
 *   3. else (no CAP_SYS_ADMIN over the mount namespace) the /proc mount
 *      itself.
 *
 * The handle's root must be a procfs root (magic and inode number), and the
 * file is resolved beneath it with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV: a path that would cross into any mount (an overmount in
 * case 3) fails with EXDEV instead of reaching another file. The opened file
 * must then be on procfs and on the handle's own mount.
 *
 * One exception, procfs_read_config: a read of a host setting
 * (cap_last_cap) at the executor's start, in the runtime's own namespaces,
 * may go through an overmount when there is no private procfs: in a nested
 * container the outer runtime's read-only bind over /proc/sys is one, and
 * nothing the container controls is mounted yet.
 *
 * The handle is opened per access and closed right after: no procfs of the
 * runtime's pid namespace stays open in a process the container can see. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
/* the inode number of every procfs instance's root directory */
#define PROC_ROOT_INO 1

static void close_keep_errno(int fd)
{
	if (fd >= 0) {
		int e = errno;
		close(fd);
		errno = e;
	}
}

static int on_procfs(int fd)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return -1;
	if (sf.f_type != PROC_SUPER_MAGIC) {
		errno = EXDEV;
		return -1;
	}
	return 0;
}

/* fd must be the root directory of a procfs instance. */
static int is_procfs_root(int fd)
{
	if (on_procfs(fd) < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode) || st.st_ino != PROC_ROOT_INO) {
		errno = EXDEV;
		return -1;
	}
	return 0;
}

static int mount_id(int fd, uint64_t *id)
{
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0)
		return -1;
	if (!(sx.stx_mask & STATX_MNT_ID)) {
		errno = ENOSYS;
		return -1;
	}
	*id = sx.stx_mnt_id;
	return 0;
}

static int fresh_procfs(void)
{
	int fs = fsopen("proc", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	int mnt = -1;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mnt = fsmount(fs, FSMOUNT_CLOEXEC,
			      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	close_keep_errno(fs);
	return mnt;
}

/* A fresh procfs showing only the process directories (subset=pid): no
 * /proc/sys, no sysrq-trigger, nothing the container's masks hide. */
int procfs_pid_handle(void)
{
	int fs = fsopen("proc", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	int mnt = -1;
	if (fsconfig(fs, FSCONFIG_SET_STRING, "subset", "pid", 0) == 0 &&
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mnt = fsmount(fs, FSMOUNT_CLOEXEC,
			      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	close_keep_errno(fs);
	if (mnt >= 0 && is_procfs_root(mnt) < 0) {
		close_keep_errno(mnt);
		return -1;
	}
	return mnt;
}

/* The /proc directory of the current root, not through a symlink. */
static int current_proc(void)
{
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
	int proc = (int)syscall(SYS_openat2, root, "/proc", &how, sizeof(how));
	close_keep_errno(root);
	return proc;
}

int procfs_handle(void)
{
	int fd = fresh_procfs();
	if (fd < 0) {
		int proc = current_proc();
		if (proc < 0)
			return -1;
		if (is_procfs_root(proc) < 0) {
			close_keep_errno(proc);
			return -1;
		}
		fd = open_tree(proc, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (fd < 0)
			fd = proc; /* case 3: RESOLVE_NO_XDEV still keeps off overmounts */
		else
			close(proc);
	}
	if (is_procfs_root(fd) < 0) {
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}

static int open_beneath(int proc, const char *rel, int flags, uint64_t resolve)
{
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | resolve;
	int fd;
	do
		fd = (int)syscall(SYS_openat2, proc, rel, &how, sizeof(how));
	while (fd < 0 && (errno == EINTR || errno == EAGAIN));
	return fd;
}

static int open_checked(const char *rel, int flags, int may_cross)
{
	int proc = procfs_handle();
	if (proc < 0)
		return -1;
	int fd = open_beneath(proc, rel, flags, RESOLVE_NO_XDEV);
	int crossed = 0;
	if (fd < 0 && errno == EXDEV && may_cross) {
		fd = open_beneath(proc, rel, flags, 0);
		crossed = 1;
	}
	uint64_t want = 0, got = 0;
	int r = fd < 0 ? -1 : 0;
	if (r == 0)
		r = on_procfs(fd);
	if (r == 0 && !crossed && mount_id(proc, &want) == 0 && mount_id(fd, &got) == 0 &&
	    want != got) {
		errno = EXDEV; /* RESOLVE_NO_XDEV should have said so already */
		r = -1;
	}
	close_keep_errno(proc);
	if (r < 0) {
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}

int procfs_open(const char *rel, int flags)
{
	return open_checked(rel, flags, 0);
}

int procfs_read_config(const char *rel)
{
	return open_checked(rel, O_RDONLY, 1);
}
