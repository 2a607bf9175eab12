// SPDX-License-Identifier: GPL-2.0
/*
 * The socket that libkreg's cluster provider speaks to (protocol.h). Every
 * process of the host may connect: what it may do is the kernel's to
 * decide (a claim must be the process's own, made in the kernel first).
 * The credentials of each request are those the kernel attaches to it
 * (SO_PASSCRED), so a descriptor passed to another process speaks for
 * that process. A process in a container (another pid or user namespace)
 * is refused, at connect and at every request (a descriptor passed into a
 * container speaks for the container's process): a cluster's names are
 * the host's.
 *
 * What a client can make kregd hold is bounded: connections in all and per
 * uid, and requests waiting for an answer per connection, so that no
 * user can starve kregd of descriptors (which its lease needs) or memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "kreg.h"
#include "kregd.h"
#include "log.h"

#define CLIENTS_MAX		1024
#define CLIENTS_PER_UID_MAX	128
#define CLIENT_PENDING_MAX	32

struct client {
	enum watched_kind kind;		/* WATCHED_CLIENT */
	struct client *next;
	int fd;
	uid_t uid;
	uint64_t id;
	unsigned int pending;		/* requests not answered yet */
};

static uint64_t next_id = 1;
/*
 * Clients closed during this turn of the loop: freed after it, since an
 * event for one may still wait in the batch epoll returned.
 */
static struct client *closed;
static const enum watched_kind listen_kind = WATCHED_LISTEN;

int clients_listen(struct kregd *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	int fd, one = 1;

	if (strlen(d->c.socket) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, d->c.socket);
	snprintf(dir, sizeof(dir), "%s", d->c.socket);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path);
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(sa.sun_path, 0666) ||
	    listen(fd, 64)) {
		int err = -errno;

		close(fd);
		return err;
	}
	d->listen_fd = fd;
	kregd_watch_fd(d, fd, (void *)&listen_kind);
	return 0;
}

/* Whether @id is one of a "Uid:" or "Gid:" line's real, effective and saved ids. */
static bool one_of(const char *ids, unsigned long id)
{
	unsigned long v[3];

	return sscanf(ids, "%lu %lu %lu", &v[0], &v[1], &v[2]) == 3 &&
	       (id == v[0] || id == v[1] || id == v[2]);
}

/*
 * What /proc says of the process that sent with @cred, into @s, in one read
 * of its status file: whether it runs on the host, that is in kregd's pid
 * namespace (one number in its NSpid) and in the initial user namespace
 * (the identity uid map); its supplementary groups; whether it is the
 * kernel's administrator. Both files are readable by anyone, so kregd
 * needs no CAP_SYS_PTRACE to tell.
 *
 * /proc is read when kregd takes the request, which may be after the
 * process changed: a sender that exec'd a set-user-ID program since has
 * another uid or capabilities now. So the credentials the kernel attached
 * must still be among the process's ids, and CAP_SYS_ADMIN counts only for
 * a sender that sent as root; groups that cannot all be read fail closed.
 * -EPERM: not on the host; -EACCES: its identity changed, or too many groups.
 */
static int sender_read(const struct ucred *cred, struct kregd_sender *s)
{
	unsigned long inside = 1, outside = 1, count = 0;
	char path[64], line[4096], map[64] = "", *p, *end;
	bool one_pid = false, uid_ok = false, gid_ok = false, groups_ok = true;
	unsigned long long caps = 0;
	FILE *f;

	s->cred = *cred;
	s->admin = false;
	s->n_groups = 0;
	if (cred->pid <= 0)
		return -EPERM;
	snprintf(path, sizeof(path), "/proc/%d/status", cred->pid);
	f = fopen(path, "r");
	if (!f)
		return -EPERM;
	while (fgets(line, sizeof(line), f)) {
		int a, b;

		if (!strncmp(line, "NSpid:", 6)) {
			one_pid = sscanf(line + 6, "%d %d", &a, &b) == 1;
		} else if (!strncmp(line, "Uid:", 4)) {
			uid_ok = one_of(line + 4, cred->uid);
		} else if (!strncmp(line, "Gid:", 4)) {
			gid_ok = one_of(line + 4, cred->gid);
		} else if (!strncmp(line, "CapEff:", 7)) {
			if (sscanf(line + 7, "%llx", &caps) != 1)
				caps = 0;
		} else if (!strncmp(line, "Groups:", 7)) {
			/* A line longer than the buffer has more groups than are kept. */
			groups_ok = strchr(line, '\n') != NULL;
			for (p = line + 7;; p = end) {
				unsigned long g = strtoul(p, &end, 10);

				if (end == p)
					break;
				if (s->n_groups == KREGD_GROUPS_MAX) {
					groups_ok = false;
					break;
				}
				s->groups[s->n_groups++] = (gid_t)g;
			}
		}
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", cred->pid);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(map, sizeof(map), f))
			map[0] = '\0';
		fclose(f);
	}
	if (sscanf(map, "%lu %lu %lu", &inside, &outside, &count) != 3 || !one_pid ||
	    inside != 0 || outside != 0 || count != 4294967295UL)
		return -EPERM;
	if (!uid_ok || !gid_ok || !groups_ok)
		return -EACCES;
	s->admin = cred->uid == 0 && (caps & (1ULL << 21));	/* CAP_SYS_ADMIN */
	return 0;
}

static void client_close(struct kregd *d, struct client *cl)
{
	struct client **p = &d->clients;

	while (*p && *p != cl)
		p = &(*p)->next;
	if (*p)
		*p = cl->next;
	kregd_unwatch_fd(d, cl->fd);
	close(cl->fd);
	cl->fd = -1;
	cl->next = closed;
	closed = cl;
}

void clients_reap(void)
{
	while (closed) {
		struct client *cl = closed;

		closed = cl->next;
		free(cl);
	}
}

/* Whether a connection from @uid would go past a limit. */
static bool too_many(struct kregd *d, uid_t uid)
{
	unsigned int all = 0, of_uid = 0;
	struct client *cl;

	for (cl = d->clients; cl; cl = cl->next) {
		all++;
		of_uid += cl->uid == uid;
	}
	return all >= CLIENTS_MAX || of_uid >= CLIENTS_PER_UID_MAX;
}

void clients_accept(struct kregd *d)
{
	static struct kregd_sender sender;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *cl;
	int fd, one = 1;

	/* Accepted, even past a limit, and closed: the backlog drains, and never spins. */
	while ((fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
		    sender_read(&cred, &sender) == -EPERM) {
			kregd_log(LOG_NOTICE, "refused a client outside the host's namespaces (pid %d)",
				  (int)cred.pid);
			close(fd);
			continue;
		}
		if (too_many(d, cred.uid)) {
			kregd_log(LOG_NOTICE, "refused a client of uid %u: too many connections",
				  (unsigned int)cred.uid);
			close(fd);
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
		cl = calloc(1, sizeof(*cl));
		if (!cl) {
			close(fd);
			continue;
		}
		cl->kind = WATCHED_CLIENT;
		cl->fd = fd;
		cl->uid = cred.uid;
		cl->id = next_id++;
		cl->next = d->clients;
		d->clients = cl;
		kregd_watch_fd(d, fd, cl);
	}
}

void clients_read(struct kregd *d, struct client *cl)
{
	/* A request, and a SEND's payload after it: one datagram. */
	static uint8_t buf[sizeof(struct kregd_request) + KREG_PAYLOAD_MAX];
	struct kregd_request *req = (struct kregd_request *)buf;
	char control[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	static struct kregd_reply reply;
	static struct kregd_sender sender;
	struct ucred *cred = NULL;
	struct cmsghdr *c;
	ssize_t n;
	int err;

	for (;;) {
		if (cl->fd < 0)
			return;
		msg.msg_controllen = sizeof(control);
		cred = NULL;
		n = recvmsg(cl->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			client_close(d, cl);
			return;
		}
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
				cred = (struct ucred *)CMSG_DATA(c);
		if (n < (ssize_t)sizeof(*req) || req->version != KREGD_PROTO_VERSION || !cred ||
		    req->payload_len > KREG_PAYLOAD_MAX ||
		    (size_t)n != sizeof(*req) + req->payload_len) {
			/*
			 * Whole: a libkreg of another protocol takes only its own
			 * reply's size, and reads the version from it.
			 */
			memset(&reply, 0, sizeof(reply));
			reply.version = KREGD_PROTO_VERSION;
			/* Where every protocol has them: so the client takes it as its answer. */
			if (n >= (ssize_t)(offsetof(struct kregd_request, seq) + sizeof(req->seq))) {
				reply.op = req->op;
				reply.seq = req->seq;
			}
			reply.err = -EPROTO;
			snprintf(reply.message, sizeof(reply.message),
				 "kregd speaks protocol %d: libkreg and kregd must match",
				 KREGD_PROTO_VERSION);
			send(cl->fd, &reply, sizeof(reply), MSG_DONTWAIT | MSG_NOSIGNAL);
			continue;
		}
		err = cl->pending >= CLIENT_PENDING_MAX ? -EAGAIN : sender_read(cred, &sender);
		if (err) {
			/* Only the part every reply has: the rest reads as zero. */
			memset(&reply, 0, kregd_reply_len(0));
			reply.version = KREGD_PROTO_VERSION;
			reply.err = err;
			reply.seq = req->seq;
			reply.op = req->op;
			snprintf(reply.message, sizeof(reply.message), "%s",
				 err == -EPERM ?
				 "a process outside the host's namespaces: cluster names are the host's" :
				 err == -EACCES ?
				 "the sender's ids changed since it sent, or it has more groups than kregd reads" :
				 "too many requests waiting on this connection");
			send(cl->fd, &reply, kregd_reply_len(0), MSG_DONTWAIT | MSG_NOSIGNAL);
			continue;
		}
		req->name[sizeof(req->name) - 1] = '\0';
		req->node[sizeof(req->node) - 1] = '\0';
		req->from[sizeof(req->from) - 1] = '\0';
		if (req->meta_len > sizeof(req->meta))
			req->meta_len = 0;
		cl->pending++;
		/* The request may close this client (a failed answer): the loop's check. */
		claims_request(d, cl->id, req, buf + sizeof(*req), &sender);
	}
}

bool clients_may_send_kname(struct kregd *d, const struct kregd_sender *sender,
			    const char *kname)
{
	struct kreg_verdict v;

	/*
	 * What the sender's own SEND, which answered -EREMOTE, had checked: a
	 * client that came here directly is checked too. The kernel's
	 * administrator (CAP_SYS_ADMIN) may, which POLICY_CHECK of a uid
	 * cannot say. Asked on a handle of its own: on the events' one, the
	 * answer's wait would stash events where the loop never looks.
	 */
	if (sender->admin)
		return true;
	if (!d->policy && kreg_open_provider(&d->policy, KREG_PROVIDER_KERNEL))
		return false;
	if (kreg_policy_check(d->policy, sender->cred.uid, sender->cred.gid, sender->groups,
			      sender->n_groups, kname, KREG_RIGHT_SEND, &v))
		return false;
	return v.allowed;
}

bool clients_may_send(struct kregd *d, const struct kregd_sender *sender, const char *name)
{
	char kname[KREG_NAME_MAX + 1];

	snprintf(kname, sizeof(kname), "%s%s", KREG_CLUSTER_PREFIX, name);
	return clients_may_send_kname(d, sender, kname);
}

void clients_reply(struct kregd *d, uint64_t id, struct kregd_reply *reply)
{
	size_t len = kregd_reply_len(reply->op);
	struct client *cl;

	for (cl = d->clients; cl; cl = cl->next) {
		if (cl->id != id)
			continue;
		if (cl->pending)
			cl->pending--;
		/* A client that cannot take its answer is gone, as far as kregd is concerned. */
		if (send(cl->fd, reply, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
			client_close(d, cl);
		return;
	}
}

void clients_close_all(struct kregd *d)
{
	while (d->clients)
		client_close(d, d->clients);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->c.socket);
	}
}
