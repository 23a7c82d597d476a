/* MOUNT_IDMAPPED: id-mapped bind mounts (mount_setattr(2) MOUNT_ATTR_IDMAP).
 *
 * Where the work happens, and why a helper process:
 *
 * mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN in the user namespace
 * that owns the source's superblock (the initial one for a host filesystem)
 * and in the user namespace carrying the mapping; that namespace must also be
 * a child of the initial one, or the mapping's hostIDs would not be host ids.
 * The mounts, however, run after UNSHARE(user)/SETNS(user): by then the
 * executor is root of the container's user namespace only, and has no
 * privilege over host filesystems left. So when the plan has MOUNT_IDMAPPED
 * ops, the executor forks a helper before running any op, while it is still
 * the runtime's (host) root in the host's namespaces. The helper keeps those
 * credentials and serves one request per MOUNT_IDMAPPED op:
 *
 *   executor -> helper   u32 op index, SCM_RIGHTS: the executor's mount ns
 *   helper               user ns: a short-lived child unshares one, the helper
 *                        writes its uid_map/gid_map, opens its ns/user, reaps
 *                        it (or opens the op's userns path); joins the
 *                        executor's mount ns; open_tree(source, OPEN_TREE_CLONE
 *                        [|AT_RECURSIVE]); mount_setattr(MOUNT_ATTR_IDMAP
 *                        [, AT_RECURSIVE]); returns to its own mount ns
 *   helper -> executor   i32 errno, the failed step (text); SCM_RIGHTS: the
 *                        detached, id-mapped tree when errno is 0
 *   executor             move_mount(tree, <dest fd>)
 *
 * The source is cloned from the container's mount namespace, not the host's:
 * there the host mounts carry the user namespace's locks (read-only, nosuid,
 * submounts that cannot be unmounted to reveal what they cover), which the
 * clone keeps, as a plain bind mount would. The helper takes the op's source
 * and mappings from its own copy of the decoded plan; the request only names
 * the op. It exits at end-of-file: the executor closes the channel after the
 * last MOUNT_IDMAPPED op (and on any exit), long before the container's
 * process runs. It is forked twice, so it is never the executor's child to
 * reap: the caller's subreaper (or init) collects it. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

/* MOUNT_IDMAPPED flags (PROTOCOL.md) */
#define IDMAP_CLONE_RECURSIVE 1 /* rbind: clone the source's submounts too */
#define IDMAP_RECURSIVE 2       /* ridmap: and id-map them as well */
#define IDMAP_FLAGS_KNOWN (IDMAP_CLONE_RECURSIVE | IDMAP_RECURSIVE)
#define DETAIL_MAX 1024

struct idmap_reply {
	int32_t err;
	char detail[DETAIL_MAX];
};

/* Set when the helper could not return to its own mount namespace: it
 * answers the request at hand, then exits. */
static int helper_lost;

/* ---- the helper ---- */

static int write_map(int procfd, pid_t pid, const char *file, const char *map)
{
	char p[64];
	snprintf(p, sizeof(p), "%d/%s", (int)pid, file);
	int fd = openat(procfd, p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(map);
	/* the kernel takes a map in a single write */
	ssize_t w = write(fd, map, len);
	int e = errno;
	close(fd);
	if (w != (ssize_t)len) {
		errno = w < 0 ? e : EIO;
		return -1;
	}
	return 0;
}

/* A user namespace carrying the mappings, owned by the helper's (the
 * initial) user namespace: a child unshares it and waits; the helper writes
 * its maps, opens its ns/user and lets it exit. */
static int make_userns(int procfd, const char *uidmap, const char *gidmap, char *step, size_t stepsz)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		snprintf(step, stepsz, "socketpair");
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(step, stepsz, "fork");
		keep_errno_close(sp[0]);
		keep_errno_close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		close(sp[0]);
		/* 0, or unshare's errno */
		int32_t e = unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
		if (write(sp[1], &e, sizeof(e)) != sizeof(e))
			_exit(1);
		/* stay in the namespace until the helper closes its end */
		char c;
		ssize_t r;
		do
			r = read(sp[1], &c, 1);
		while (r < 0 && errno == EINTR);
		_exit(0);
	}
	close(sp[1]);
	int nsfd = -1;
	int32_t child_err = EIO;
	ssize_t r;
	do
		r = read(sp[0], &child_err, sizeof(child_err));
	while (r < 0 && errno == EINTR);
	if (r != sizeof(child_err) || child_err != 0) {
		snprintf(step, stepsz, "unshare a user namespace for the mapping");
		errno = r < 0 ? errno : child_err ? child_err : EIO;
	} else if (write_map(procfd, pid, "uid_map", uidmap) < 0) {
		snprintf(step, stepsz, "write uid_map of the mapping's user namespace");
	} else if (write_map(procfd, pid, "gid_map", gidmap) < 0) {
		snprintf(step, stepsz, "write gid_map of the mapping's user namespace");
	} else {
		char p[64];
		snprintf(p, sizeof(p), "%d/ns/user", (int)pid);
		nsfd = openat(procfd, p, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			snprintf(step, stepsz, "open the mapping's user namespace");
	}
	int e = errno;
	close(sp[0]); /* the child exits */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	errno = e;
	return nsfd;
}

static int open_userns_path(const char *path, char *step, size_t stepsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(step, stepsz, "open user namespace %s", path);
		return -1;
	}
	int type = ioctl(fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWUSER) {
		int e = type < 0 ? errno : EINVAL;
		close(fd);
		snprintf(step, stepsz, "%s is not a user namespace", path);
		errno = e;
		return -1;
	}
	return fd;
}

static const char *fs_name(long type)
{
	static const struct {
		long magic;
		const char *name;
	} names[] = {
		{EXT4_SUPER_MAGIC, "ext2/3/4"}, {XFS_SUPER_MAGIC, "xfs"},
		{BTRFS_SUPER_MAGIC, "btrfs"},   {TMPFS_MAGIC, "tmpfs"},
		{OVERLAYFS_SUPER_MAGIC, "overlay"}, {PROC_SUPER_MAGIC, "proc"},
		{SYSFS_MAGIC, "sysfs"},         {RAMFS_MAGIC, "ramfs"},
		{NFS_SUPER_MAGIC, "nfs"},       {FUSE_SUPER_MAGIC, "fuse"},
		{CGROUP_SUPER_MAGIC, "cgroup"}, {CGROUP2_SUPER_MAGIC, "cgroup2"},
		{DEVPTS_SUPER_MAGIC, "devpts"}, {SQUASHFS_MAGIC, "squashfs"},
		{MSDOS_SUPER_MAGIC, "vfat"},    {V9FS_MAGIC, "9p"},
		{F2FS_SUPER_MAGIC, "f2fs"},     {0x19800202, "mqueue"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].magic == type)
			return names[i].name;
	return NULL;
}

/* EINVAL from mount_setattr(MOUNT_ATTR_IDMAP) mostly means the filesystem
 * cannot be id-mapped: name it. */
static void idmap_einval_step(int tree, char *step, size_t stepsz)
{
	struct statfs sf;
	if (fstatfs(tree, &sf) < 0) {
		snprintf(step, stepsz, "mount_setattr MOUNT_ATTR_IDMAP");
		return;
	}
	const char *name = fs_name((long)sf.f_type);
	if (name)
		snprintf(step, stepsz,
			 "mount_setattr MOUNT_ATTR_IDMAP (does the %s filesystem support id-mapped mounts?)",
			 name);
	else
		snprintf(step, stepsz,
			 "mount_setattr MOUNT_ATTR_IDMAP (does the filesystem, magic 0x%lx, support "
			 "id-mapped mounts?)",
			 (unsigned long)sf.f_type);
}

/* The detached, id-mapped tree of op `o`, cloned in the mount namespace
 * `mntns`; -1 with errno and the failed step. */
static int idmapped_tree(const struct rts_op *o, int procfd, int home, int mntns, char *step,
			 size_t stepsz)
{
	const char *src = o->v[0].str;
	uint64_t flags = o->v[2].u64;
	const char *usernspath = o->v[5].str;
	if (flags & ~(uint64_t)IDMAP_FLAGS_KNOWN) {
		snprintf(step, stepsz, "unknown flags 0x%llx", (unsigned long long)flags);
		errno = EINVAL;
		return -1;
	}
	int userns = o->v[5].len ? open_userns_path(usernspath, step, stepsz)
				 : make_userns(procfd, o->v[3].str, o->v[4].str, step, stepsz);
	if (userns < 0)
		return -1;
	if (setns(mntns, CLONE_NEWNS) < 0) {
		snprintf(step, stepsz, "join the container's mount namespace");
		keep_errno_close(userns);
		return -1;
	}
	unsigned otflags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
	if (flags & IDMAP_CLONE_RECURSIVE)
		otflags |= AT_RECURSIVE;
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, src, otflags);
	if (tree < 0) {
		if (errno == EINVAL && !(flags & IDMAP_CLONE_RECURSIVE))
			snprintf(step, stepsz,
				 "open_tree (in a user namespace, a bind mount without rbind of a "
				 "directory with mounts below it is refused)");
		else
			snprintf(step, stepsz, "open_tree");
	} else {
		struct mount_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.attr_set = MOUNT_ATTR_IDMAP;
		attr.userns_fd = (uint64_t)userns;
		unsigned at = AT_EMPTY_PATH | ((flags & IDMAP_RECURSIVE) ? AT_RECURSIVE : 0);
		if (syscall(SYS_mount_setattr, tree, "", at, &attr, sizeof(attr)) < 0) {
			int e = errno;
			if (e == EINVAL)
				idmap_einval_step(tree, step, stepsz);
			else
				snprintf(step, stepsz, "mount_setattr MOUNT_ATTR_IDMAP");
			close(tree);
			tree = -1;
			errno = e;
		}
	}
	int e = errno;
	close(userns);
	/* back home: the next request's userns path resolves where SETNS paths do */
	if (setns(home, CLONE_NEWNS) < 0) {
		helper_lost = 1;
		if (tree >= 0)
			close(tree);
		snprintf(step, stepsz, "return to the runtime's mount namespace");
		return -1;
	}
	errno = e;
	return tree;
}

static __attribute__((noreturn)) void helper_main(int chan, const struct rts_plan *plan)
{
	int procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int home = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	int setup_errno = procfd < 0 || home < 0 ? errno : 0;
	for (;;) {
		uint32_t index;
		int mntns;
		ssize_t n = recv_with_fd(chan, &index, sizeof(index), &mntns);
		if (n <= 0)
			_exit(n == 0 ? 0 : 1);
		struct idmap_reply reply;
		memset(&reply, 0, sizeof(reply));
		int tree = -1;
		if (setup_errno) {
			reply.err = setup_errno;
			snprintf(reply.detail, sizeof(reply.detail), "helper: open /proc");
		} else if (n != sizeof(index) || mntns < 0 || index >= plan->nops ||
			   plan->ops[index].code != OP_MOUNT_IDMAPPED) {
			reply.err = EPROTO;
			snprintf(reply.detail, sizeof(reply.detail), "helper: bad request");
		} else {
			tree = idmapped_tree(&plan->ops[index], procfd, home, mntns, reply.detail,
					     sizeof(reply.detail));
			if (tree < 0)
				reply.err = errno ? errno : EIO;
		}
		if (mntns >= 0)
			close(mntns);
		size_t len = offsetof(struct idmap_reply, detail) + strlen(reply.detail) + 1;
		int r = send_with_fd(chan, &reply, len, tree);
		if (tree >= 0)
			close(tree);
		if (r < 0 || helper_lost)
			_exit(1);
	}
}

static const struct helper_kind idmap_helper = {
	.opcode = OP_MOUNT_IDMAPPED,
	.what = "id-mapping helper",
	.comm = "runc-ts-idmap",
	.serve = helper_main,
};

int idmap_helper_start(struct ex *ex, const struct rts_plan *plan)
{
	return helper_start(ex, plan, &idmap_helper, &ex->idmap_sock, &ex->idmap_last);
}

int op_mount_idmapped(struct ex *ex, uint32_t index, const struct rts_value *v)
{
	const char *src = v[0].str, *dest = v[1].str;
	if (v[2].u64 & ~(uint64_t)IDMAP_FLAGS_KNOWN)
		return ex_fail(ex, EINVAL, "%s (%s): unknown flags 0x%llx", dest, src,
			       (unsigned long long)v[2].u64);
	if (ex->idmap_sock < 0)
		return ex_fail(ex, EBADF, "%s (%s): no id-mapping helper", dest, src);
	int target = mount_target_open(ex, dest, v[6].u64, src);
	if (target < 0)
		return -1;
	int mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (mntns < 0) {
		int e = errno;
		close(target);
		return ex_fail(ex, e, "%s (%s): open /proc/self/ns/mnt", dest, src);
	}
	int r = send_with_fd(ex->idmap_sock, &index, sizeof(index), mntns);
	int e = errno;
	close(mntns);
	if (r < 0) {
		close(target);
		return ex_fail(ex, e, "%s (%s): ask the id-mapping helper", dest, src);
	}
	struct idmap_reply reply;
	int tree;
	ssize_t n = recv_with_fd(ex->idmap_sock, &reply, sizeof(reply), &tree);
	if (n < (ssize_t)offsetof(struct idmap_reply, detail) + 1) {
		e = n < 0 ? errno : EPROTO;
		keep_errno_close(tree);
		close(target);
		return ex_fail(ex, e, "%s (%s): no answer from the id-mapping helper", dest, src);
	}
	reply.detail[(size_t)n - offsetof(struct idmap_reply, detail) - 1] = '\0';
	if (reply.err != 0 || tree < 0) {
		keep_errno_close(tree);
		close(target);
		return ex_fail(ex, reply.err ? reply.err : EPROTO, "%s (%s): %s", dest, src,
			       reply.detail);
	}
	r = (int)syscall(SYS_move_mount, tree, "", target, "",
			 MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	e = errno;
	close(tree);
	close(target);
	if (r < 0)
		return ex_fail(ex, e, "%s (%s): move_mount", dest, src);
	if (index == ex->idmap_last) { /* the helper exits */
		close(ex->idmap_sock);
		ex->idmap_sock = -1;
	}
	return 0;
}

/* ---- op handlers (the dispatch table in main.c) ---- */

OP_RUN(mount_idmapped)
{
	return op_mount_idmapped(ex, index, op->v);
}
