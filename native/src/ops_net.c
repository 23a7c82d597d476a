/* NETDEV_MOVE: move a network interface between the executor's starting
 * network namespace and its current one over rtnetlink (linux.netDevices).
 * See native/PROTOCOL.md. */
#include "executor.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NL_BUF 32768
#define MAX_ADDRS 64

struct nl_msg {
	struct nlmsghdr h;
	uint8_t data[512];
};

struct saved_addr {
	struct ifaddrmsg ifa;
	uint8_t local[16], address[16];
	int has_local, has_address;
	uint32_t len;
};

static uint32_t nl_seq;

int netdev_socket(void)
{
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

static void nl_init(struct nl_msg *m, uint16_t type, uint16_t flags, const void *body, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	m->h.nlmsg_seq = ++nl_seq;
	memcpy(m->data, body, len);
	m->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(NLMSG_ALIGN(len));
}

static int nl_attr(struct nl_msg *m, uint16_t type, const void *data, size_t len)
{
	size_t at = m->h.nlmsg_len;
	size_t need = RTA_SPACE(len);
	if (at + need > sizeof(*m))
		return -1;
	struct rtattr *rta = (struct rtattr *)((uint8_t *)m + at);
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	m->h.nlmsg_len = (uint32_t)(at + need);
	return 0;
}

static int nl_send(int s, struct nl_msg *m)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	ssize_t n;
	do
		n = sendto(s, m, m->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)m->h.nlmsg_len ? 0 : -1;
}

/* Sends `m` and reads replies up to its ACK/ERROR (or DONE of a dump),
 * handing every other message of the same sequence to `each`. Returns 0 or
 * -1 with errno set (the kernel's error for a refused request). */
static int nl_call(int s, struct nl_msg *m, void (*each)(struct nlmsghdr *, void *), void *arg)
{
	if (nl_send(s, m) < 0)
		return -1;
	uint32_t seq = m->h.nlmsg_seq;
	uint8_t *buf = malloc(NL_BUF);
	if (buf == NULL)
		return -1;
	int rc = -1, done = 0;
	while (!done) {
		ssize_t n;
		do
			n = recv(s, buf, NL_BUF, 0);
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			if (n == 0)
				errno = EPROTO;
			break;
		}
		size_t left = (size_t)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				rc = 0;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				done = 1;
				if (e->error == 0)
					rc = 0;
				else
					errno = -e->error;
				break;
			}
			if (each)
				each(h, arg);
			if (!(h->nlmsg_flags & NLM_F_MULTI)) {
				done = 1;
				rc = 0;
				break;
			}
		}
	}
	free(buf);
	return rc;
}

static void take_index(struct nlmsghdr *h, void *arg)
{
	if (h->nlmsg_type == RTM_NEWLINK)
		*(int *)arg = ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
}

static int link_index(int s, const char *name)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nl_msg m;
	nl_init(&m, RTM_GETLINK, 0, &ifi, sizeof(ifi));
	if (nl_attr(&m, IFLA_IFNAME, name, strlen(name) + 1) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int index = 0;
	if (nl_call(s, &m, take_index, &index) < 0)
		return -1;
	if (index <= 0) {
		errno = ENODEV;
		return -1;
	}
	return index;
}

static int link_set(int s, int index, unsigned up, const char *name, int nsfd)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
	ifi.ifi_change = up != 2 ? IFF_UP : 0;
	ifi.ifi_flags = up == 1 ? IFF_UP : 0;
	struct nl_msg m;
	nl_init(&m, RTM_NEWLINK, NLM_F_ACK, &ifi, sizeof(ifi));
	if (name && nl_attr(&m, IFLA_IFNAME, name, strlen(name) + 1) < 0)
		return -1;
	uint32_t fd = (uint32_t)nsfd;
	if (nsfd >= 0 && nl_attr(&m, IFLA_NET_NS_FD, &fd, sizeof(fd)) < 0)
		return -1;
	return nl_call(s, &m, NULL, NULL);
}

struct addr_list {
	int index;
	struct saved_addr a[MAX_ADDRS];
	int n;
	int overflow;
};

/* Keeps the permanent addresses of global scope: the others are tied to
 * the namespace they were made in (runc moves the same ones). */
static void take_addr(struct nlmsghdr *h, void *arg)
{
	struct addr_list *l = arg;
	if (h->nlmsg_type != RTM_NEWADDR)
		return;
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	if ((int)ifa->ifa_index != l->index || ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return;
	uint32_t flags = ifa->ifa_flags;
	struct saved_addr s;
	memset(&s, 0, sizeof(s));
	s.ifa = *ifa;
	size_t len = IFA_PAYLOAD(h);
	for (struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		size_t alen = RTA_PAYLOAD(rta);
		if (rta->rta_type == IFA_FLAGS && alen == 4)
			memcpy(&flags, RTA_DATA(rta), 4);
		if ((rta->rta_type == IFA_LOCAL || rta->rta_type == IFA_ADDRESS) && alen <= 16) {
			uint8_t *to = rta->rta_type == IFA_LOCAL ? s.local : s.address;
			memcpy(to, RTA_DATA(rta), alen);
			*(rta->rta_type == IFA_LOCAL ? &s.has_local : &s.has_address) = 1;
			s.len = (uint32_t)alen;
		}
	}
	if (!(flags & IFA_F_PERMANENT) || !(s.has_local || s.has_address))
		return;
	if (l->n == MAX_ADDRS) {
		l->overflow = 1;
		return;
	}
	l->a[l->n++] = s;
}

static int addr_add(int s, int index, const struct saved_addr *a)
{
	struct ifaddrmsg ifa = a->ifa;
	ifa.ifa_index = (uint32_t)index;
	ifa.ifa_flags = 0;
	struct nl_msg m;
	nl_init(&m, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	if ((a->has_local && nl_attr(&m, IFA_LOCAL, a->local, a->len) < 0) ||
	    (a->has_address && nl_attr(&m, IFA_ADDRESS, a->address, a->len) < 0))
		return -1;
	return nl_call(s, &m, NULL, NULL);
}

/* The move itself, run by the helper (runtime's credentials and network
 * namespace): `peer_ns` is the requester's network namespace, the
 * destination (direction 0) or the source (1). Returns 0 or an errno, with
 * the failed step in `detail`. */
static int netdev_move(int host_rtnl, int host_ns, int peer_ns, const char *name,
		       const char *newname, uint64_t direction, char *detail, size_t size)
{
#define FAIL(...)                                                                                  \
	do {                                                                                       \
		e = errno ? errno : EIO;                                                           \
		snprintf(detail, size, __VA_ARGS__);                                               \
		goto out;                                                                          \
	} while (0)
	int e = 0, here = -1;
	struct addr_list *addrs = calloc(1, sizeof(*addrs));
	if (addrs == NULL) {
		snprintf(detail, size, "%s", name);
		return ENOMEM;
	}
	/* a socket of the requester's namespace, made there */
	errno = 0;
	if (setns(peer_ns, CLONE_NEWNET) < 0)
		FAIL("%s: join the container's network namespace", name);
	here = netdev_socket();
	int made_errno = errno;
	if (setns(host_ns, CLONE_NEWNET) < 0) {
		/* cannot go home: this helper must not serve anything more */
		snprintf(detail, size, "%s: back to the runtime's network namespace", name);
		_exit(1);
	}
	if (here < 0) {
		errno = made_errno;
		FAIL("%s: netlink socket", name);
	}
	int from = direction == 0 ? host_rtnl : here;
	int to = direction == 0 ? here : host_rtnl;
	int target = direction == 0 ? peer_ns : host_ns;
	int index = link_index(from, name);
	if (index < 0)
		FAIL("%s: link not found", name);
	/* down before it changes name and namespace, as runc does */
	if (link_set(from, index, 0, NULL, -1) < 0)
		FAIL("%s: set link down", name);
	struct ifaddrmsg all = {.ifa_family = AF_UNSPEC};
	struct nl_msg m;
	nl_init(&m, RTM_GETADDR, NLM_F_DUMP, &all, sizeof(all));
	addrs->index = index;
	if (nl_call(from, &m, take_addr, addrs) < 0)
		FAIL("%s: list addresses", name);
	if (addrs->overflow) {
		errno = E2BIG;
		FAIL("%s: more than %d addresses", name, MAX_ADDRS);
	}
	/* rename and move in one request: no clash with a name in either namespace */
	if (link_set(from, index, 2, newname, target) < 0)
		FAIL("%s: move to the %s network namespace as %s", name,
		     direction == 0 ? "container's" : "runtime's", newname);
	int moved = link_index(to, newname);
	if (moved < 0)
		FAIL("%s: link %s not found after the move", name, newname);
	for (int i = 0; i < addrs->n; i++)
		if (addr_add(to, moved, &addrs->a[i]) < 0 && errno != EEXIST)
			FAIL("%s: add address %d of %d to %s", name, i + 1, addrs->n, newname);
	if (link_set(to, moved, 1, NULL, -1) < 0)
		FAIL("%s: set link %s up", name, newname);
out:
	free(addrs);
	if (here >= 0)
		close(here);
	return e;
#undef FAIL
}

struct netdev_reply {
	int32_t err;
	char detail[512];
};

#define NETDEV_UNDO 0x80000000u

static __attribute__((noreturn)) void helper_main(int chan, const struct rts_plan *plan)
{
	int host_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int host_rtnl = netdev_socket();
	int setup_errno = host_ns < 0 || host_rtnl < 0 ? errno : 0;
	for (;;) {
		uint32_t index;
		int peer;
		ssize_t n = recv_with_fd(chan, &index, sizeof(index), &peer);
		if (n <= 0)
			_exit(n == 0 ? 0 : 1);
		struct netdev_reply reply;
		memset(&reply, 0, sizeof(reply));
		if (setup_errno) {
			reply.err = setup_errno;
			snprintf(reply.detail, sizeof(reply.detail), "helper: runtime network namespace");
		} else if (n != sizeof(index) || peer < 0 || (index & ~NETDEV_UNDO) >= plan->nops ||
			   plan->ops[index & ~NETDEV_UNDO].code != OP_NETDEV_MOVE ||
			   plan->ops[index & ~NETDEV_UNDO].v[2].u64 > 1) {
			reply.err = EPROTO;
			snprintf(reply.detail, sizeof(reply.detail), "helper: bad request");
		} else {
			const struct rts_value *v = plan->ops[index & ~NETDEV_UNDO].v;
			int undo = (index & NETDEV_UNDO) != 0;
			reply.err = netdev_move(host_rtnl, host_ns, peer, undo ? v[1].str : v[0].str,
						undo ? v[0].str : v[1].str, undo ? !v[2].u64 : v[2].u64,
						reply.detail, sizeof(reply.detail));
		}
		if (peer >= 0)
			close(peer);
		if (send_with_fd(chan, &reply, sizeof(reply), -1) < 0)
			_exit(1);
	}
}

static const struct helper_kind netdev_helper = {
	.opcode = OP_NETDEV_MOVE,
	.what = "network device helper",
	.comm = "runc-ts-netdev",
	.serve = helper_main,
};

int netdev_helper_start(struct ex *ex, const struct rts_plan *plan)
{
	return helper_start(ex, plan, &netdev_helper, &ex->netdev_sock, &ex->netdev_last);
}

int op_netdev_move(struct ex *ex, uint32_t index, const char *name, int undo)
{
	if (ex->netdev_sock < 0)
		return ex_fail(ex, EBADF, "%s: no network device helper", name);
	int here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (here < 0)
		return ex_fail(ex, errno, "%s: open the current network namespace", name);
	uint32_t request = index | (undo ? NETDEV_UNDO : 0);
	int sent = send_with_fd(ex->netdev_sock, &request, sizeof(request), here);
	int e = errno;
	close(here);
	if (sent < 0)
		return ex_fail(ex, e, "%s: network device helper", name);
	struct netdev_reply reply;
	int none;
	ssize_t n = recv_with_fd(ex->netdev_sock, &reply, sizeof(reply), &none);
	if (none >= 0)
		close(none);
	if (n != (ssize_t)sizeof(reply))
		return ex_fail(ex, n < 0 ? errno : EPROTO, "%s: network device helper", name);
	reply.detail[sizeof(reply.detail) - 1] = '\0';
	if (reply.err != 0)
		return ex_fail(ex, reply.err, "%s", reply.detail);
	return 0;
}

void netdev_undo(struct ex *ex, const struct rts_plan *plan)
{
	if (ex->netdev_sock < 0 || ex->netdev_moved == 0)
		return;
	/* keep the failed op's error: the undo is best effort */
	char detail[sizeof(ex->detail)];
	int err = ex->err;
	memcpy(detail, ex->detail, sizeof(detail));
	for (uint32_t i = ex->netdev_moved; i-- > 0;)
		if (plan->ops[i].code == OP_NETDEV_MOVE && plan->ops[i].v[2].u64 == 0)
			(void)op_netdev_move(ex, i, plan->ops[i].v[0].str, 1);
	ex->netdev_moved = 0;
	ex->err = err;
	memcpy(ex->detail, detail, sizeof(detail));
}

/* ---- op handlers (the dispatch table in main.c) ---- */

OP_RUN(netdev_move)
{
	const struct rts_value *v = op->v;
	int rc = op_netdev_move(ex, index, v[0].str, 0);
	if (rc == 0)
		ex->netdev_moved = index + 1;
	return rc;
}
