// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The cluster provider: one holder per name in the whole cluster (etcd,
 * through kregd, the node daemon), with the same API as the others.
 *
 * Its names are the kernel's table's under KREG_CLUSTER_PREFIX: "orders"
 * here is "cluster.orders" there, where kregd mirrors every cluster name
 * and commits this node's. So lookups, lists, events, the view, the policy
 * and mail are the kernel provider's, on those names; only a registration
 * (won in etcd), a release (let go in etcd) and a linearizable lookup go
 * to kregd. Names under "user." stay this node's own (a uid means nothing
 * on another host): a call's reply mailbox is one.
 *
 * A registration claims the name in the kernel first (KREG_F_CLUSTER),
 * which checks the caller may own it and that no process of this node
 * holds or claims it; then kregd wins it in etcd and commits the claim
 * with its fencing token, and only then does this return 0. A register
 * that returned 0 is never taken back but by the loss of this node's
 * lease, which fences the holder (reason "fenced"), after which this
 * handle's cluster calls fail with -ESTALE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"

/* A claim, a release, a linearizable read: etcd answers within a second, or fails. */
#define KREGD_TIMEOUT_MS	5000
/*
 * A message to another node: kregd answers for certain within about 10 s
 * (its address read, a link made, an ACK or the link given up). Past this
 * it is -ETIMEDOUT, which says as kregd's would: maybe delivered, never twice.
 */
#define KREGD_SEND_TIMEOUT_MS	15000
/* Claims of one name by processes of this node: each waits its turn, this often. */
#define CLAIM_TURNS		3

static const char kreg_user_prefix[] = "user.";

/* The kernel's name for @name: this node's own for "user.", else the cluster's. */
static int kreg_cluster_name(struct kreg_conn *conn, const char *name, char *kname, size_t size)
{
	const size_t prefix = sizeof(KREG_CLUSTER_PREFIX) - 1;
	bool user = !strncmp(name, kreg_user_prefix, sizeof(kreg_user_prefix) - 1);
	char *out = user ? kname : kname + prefix;
	size_t max = (user ? KREG_NAME_MAX : KREG_NAME_MAX - prefix);
	const char *problem = kreg_name_problem(name);
	size_t len = strnlen(name, KREG_NAME_MAX + 1);

	if (size < KREG_NAME_MAX + 1)
		return -EINVAL;
	if (*problem || len > max) {
		if (*problem)
			kreg_set_error(conn, "%s", problem);
		else
			kreg_set_error(conn, "a cluster name is at most %zu bytes", max);
		return -EINVAL;
	}
	memcpy(out, name, len + 1);
	if (!user)
		memcpy(kname, KREG_CLUSTER_PREFIX, prefix);
	return 0;
}

/* The name a kernel name is to this provider, or NULL: none of its names. */
static const char *kreg_cluster_unname(const char *kname)
{
	if (!strncmp(kname, KREG_CLUSTER_PREFIX, sizeof(KREG_CLUSTER_PREFIX) - 1))
		return kname + sizeof(KREG_CLUSTER_PREFIX) - 1;
	if (!strncmp(kname, kreg_user_prefix, sizeof(kreg_user_prefix) - 1))
		return kname;
	return NULL;
}

static bool kreg_is_cluster_name(const char *kname)
{
	return !strncmp(kname, KREG_CLUSTER_PREFIX, sizeof(KREG_CLUSTER_PREFIX) - 1);
}

static int kreg_cluster_open(struct kreg_conn *conn)
{
	struct kregd_request req = { .op = KREGD_STATUS };
	struct kregd_reply reply;
	int err;

	conn->cluster = calloc(1, sizeof(*conn->cluster));
	if (!conn->cluster)
		return -ENOMEM;
	conn->cluster->fd = -1;
	err = kreg_kernel_ops.open(conn);
	if (err)
		return err;
	/* kregd runs, or this provider cannot be used: as the kernel's needs kreg.ko. */
	return kreg_kregd_ask(conn, &req, &reply, KREGD_TIMEOUT_MS);
}

static void kreg_cluster_close(struct kreg_conn *conn)
{
	kreg_kregd_close(conn);
	free(conn->cluster);
	conn->cluster = NULL;
	kreg_kernel_ops.close(conn);
}

static void kreg_holder_of(const struct kregd_holder *in, const char *here,
			   struct kreg_holder *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->node, sizeof(out->node), "%s", in->node);
	out->pid = in->pid;
	out->token = in->token;
	out->local = !strcmp(in->node, here);
}

/* Wins @kname's claim, made in the kernel, in the cluster. */
static int kreg_cluster_claim(struct kreg_conn *conn, const char *name, const void *meta,
			      size_t meta_len, struct kreg_holder *holder)
{
	struct kregd_request req = { .op = KREGD_CLAIM };
	struct kregd_reply reply;
	int err;

	snprintf(req.name, sizeof(req.name), "%s", name);
	req.meta_len = (uint32_t)meta_len;
	memcpy(req.meta, meta, meta_len);
	err = kreg_kregd_ask(conn, &req, &reply, KREGD_TIMEOUT_MS);
	if (err == 0 || err == -EEXIST)
		kreg_holder_of(&reply.holder, kreg_kernel_node(conn), holder);
	if (err == 0 && !conn->cluster->epoch)
		conn->cluster->epoch = reply.epoch;
	return err;
}

static int kreg_cluster_register(struct kreg_conn *conn, const char *name, pid_t pid,
				 const void *meta, size_t meta_len, uint32_t flags,
				 struct kreg_holder *holder)
{
	char kname[KREG_NAME_MAX + 1];
	struct kregd_request wait = { .op = KREGD_AWAIT_CLAIM };
	struct kregd_reply reply;
	int err, turn;

	err = kreg_cluster_name(conn, name, kname, sizeof(kname));
	if (err)
		return err;
	if (!kreg_is_cluster_name(kname))
		return kreg_kernel_register_meta(conn, kname, pid, meta, meta_len, flags, holder);
	if (meta_len > KREG_META_MAX)
		return -EMSGSIZE;
	for (turn = 0; turn < CLAIM_TURNS; turn++) {
		/* Held or claimed on this node already: the kernel says which. */
		err = kreg_kernel_register_meta(conn, kname, pid, meta, meta_len,
						flags | KREG_F_CLUSTER, holder);
		if (err != -EBUSY)
			break;
		/* Another process of this node is claiming it: its outcome first. */
		snprintf(wait.name, sizeof(wait.name), "%s", name);
		err = kreg_kregd_ask(conn, &wait, &reply, KREGD_TIMEOUT_MS);
		if (err)
			return err;
	}
	if (err)
		return err;
	err = kreg_cluster_claim(conn, name, meta, meta_len, holder);
	if (err) {
		/* Not won: the claim goes (kregd may have replaced it with the winner). */
		char keep[sizeof(conn->error)];

		memcpy(keep, conn->error, sizeof(keep));
		kreg_kernel_unregister(conn, kname);
		memcpy(conn->error, keep, sizeof(keep));
	}
	return err;
}

/*
 * A cluster name's value is in etcd and in every node's mirror: it does
 * not change in place (the kernel refuses too). Other names are this
 * node's.
 */
static int kreg_cluster_update_meta(struct kreg_conn *conn, const char *name,
				    const void *meta, size_t meta_len)
{
	char kname[KREG_NAME_MAX + 1];
	int err;

	err = kreg_cluster_name(conn, name, kname, sizeof(kname));
	if (err)
		return err;
	if (kreg_is_cluster_name(kname)) {
		kreg_set_error(conn, "a cluster name's value is the cluster's: it does not change in place");
		return -EOPNOTSUPP;
	}
	return kreg_kernel_update_meta(conn, kname, meta, meta_len);
}

static int kreg_cluster_unregister(struct kreg_conn *conn, const char *name)
{
	struct kregd_request req = { .op = KREGD_RELEASE };
	char kname[KREG_NAME_MAX + 1];
	struct kreg_holder mine;
	struct kregd_reply reply;
	int err;

	err = kreg_cluster_name(conn, name, kname, sizeof(kname));
	if (err)
		return err;
	if (!kreg_is_cluster_name(kname))
		return kreg_kernel_unregister(conn, kname);
	memset(&mine, 0, sizeof(mine));
	kreg_kernel_whereis(conn, kname, 0, NULL, 0, NULL, &mine);
	err = kreg_kernel_unregister(conn, kname);
	if (err)
		return err;
	/* Let go in the cluster too before this returns: a register elsewhere may follow. */
	snprintf(req.name, sizeof(req.name), "%s", name);
	req.token = mine.token;
	kreg_kregd_ask(conn, &req, &reply, KREGD_TIMEOUT_MS);
	return 0;
}

static int kreg_cluster_whereis(struct kreg_conn *conn, const char *name, unsigned int flags,
				void *meta, size_t size, size_t *meta_len,
				struct kreg_holder *holder)
{
	struct kregd_request req = { .op = KREGD_SYNC };
	char kname[KREG_NAME_MAX + 1];
	struct kregd_reply reply;
	int err;

	err = kreg_cluster_name(conn, name, kname, sizeof(kname));
	if (err)
		return err;
	if ((flags & KREG_WHEREIS_LINEARIZABLE) && kreg_is_cluster_name(kname)) {
		/* kregd brings this node's copy up to the cluster; the kernel then answers. */
		snprintf(req.name, sizeof(req.name), "%s", name);
		err = kreg_kregd_ask(conn, &req, &reply, KREGD_TIMEOUT_MS);
		if (err)
			return err;
	}
	err = kreg_kernel_whereis(conn, kname, KREG_WHEREIS_CHECKED, meta, size, meta_len, holder);
	if (err == 0 && (flags & KREG_WHEREIS_LINEARIZABLE))
		holder->age_ms = 0;
	return err;
}

struct kreg_cluster_list {
	kreg_list_fn fn;
	void *arg;
};

static int kreg_cluster_list_one(const struct kreg_entry_info *e, void *arg)
{
	struct kreg_cluster_list *l = arg;
	struct kreg_entry_info mine = *e;

	mine.name = kreg_cluster_unname(e->name);
	/* The cluster's names; this node's "user." ones are the kernel provider's to list. */
	if (!mine.name || !kreg_is_cluster_name(e->name))
		return 0;
	return l->fn(&mine, l->arg);
}

/*
 * A pattern on the cluster's names, as the kernel's on its names: under
 * the cluster's prefix ("*" is "cluster.*"). -EINVAL when too long there.
 */
static int kreg_cluster_pattern(struct kreg_conn *conn, const char *pattern, char *kpattern,
				size_t size)
{
	if ((size_t)snprintf(kpattern, size, "%s%s", KREG_CLUSTER_PREFIX, pattern) >= size ||
	    kreg_pattern_problem_of(kpattern)) {
		kreg_set_error(conn, "a cluster name's pattern is at most %zu bytes",
			       (size_t)KREG_NAME_MAX - strlen(KREG_CLUSTER_PREFIX));
		return -EINVAL;
	}
	return 0;
}

static int kreg_cluster_list(struct kreg_conn *conn, const struct kreg_filter *f,
			     kreg_list_fn fn, void *arg)
{
	struct kreg_cluster_list l = { fn, arg };
	struct kreg_filter kf = { .pid = f ? f->pid : 0 };
	char kpattern[KREG_NAME_MAX + 3];
	int err;

	/* The kernel filters; "*" of the cluster's is its prefix's. */
	err = kreg_cluster_pattern(conn, f && f->pattern ? f->pattern : "*", kpattern,
				   sizeof(kpattern));
	if (err)
		return err;
	kf.pattern = kpattern;
	return kreg_kernel_list(conn, &kf, kreg_cluster_list_one, &l);
}

static int kreg_cluster_subscribe(struct kreg_conn *conn, const char *pattern)
{
	char kpattern[KREG_NAME_MAX + 3];
	int err;

	if (!pattern)
		return kreg_kernel_subscribe(conn, NULL);
	err = kreg_cluster_pattern(conn, pattern, kpattern, sizeof(kpattern));
	return err ? err : kreg_kernel_subscribe(conn, kpattern);
}

/*
 * A message that the kernel says is for another node: kregd relays it
 * there, and answers with that node's kernel's answer. @name is a cluster
 * name (without its prefix), or with @node a name of that node's own (a
 * caller's reply address); @kfrom, a kernel name the sender holds here.
 * -EREMCHG: the name came to this node meanwhile.
 */
static int kreg_cluster_relay(struct kreg_conn *conn, const char *node, const char *name,
			      const char *kfrom, uint64_t token, const void *data, size_t len)
{
	struct kregd_request req = { .op = KREGD_SEND };
	struct kregd_reply reply;

	if (len > KREG_PAYLOAD_MAX) {
		kreg_set_error(conn, "the payload is larger than KREG_PAYLOAD_MAX (%d bytes)",
			       KREG_PAYLOAD_MAX);
		return -EMSGSIZE;
	}
	snprintf(req.name, sizeof(req.name), "%s", name);
	if (node)
		snprintf(req.node, sizeof(req.node), "%s", node);
	if (kfrom)
		snprintf(req.from, sizeof(req.from), "%s", kfrom);
	req.token = token;
	req.payload_len = (uint32_t)len;
	return kreg_kregd_ask_payload(conn, &req, data, &reply, KREGD_SEND_TIMEOUT_MS);
}

/* The kernel delivers, or says where the holder is: then kregd relays. */
static int kreg_cluster_send_token(struct kreg_conn *conn, const char *name, const char *from,
				   uint32_t flags, uint64_t token, const void *data, size_t len)
{
	char kname[KREG_NAME_MAX + 1], kfrom[KREG_NAME_MAX + 1];
	int err, turn;

	err = kreg_cluster_name(conn, name, kname, sizeof(kname));
	if (!err && from)
		err = kreg_cluster_name(conn, from, kfrom, sizeof(kfrom));
	if (err)
		return err;
	/* A name that moves between nodes as this runs: each gets a turn. */
	for (turn = 0; turn < CLAIM_TURNS; turn++) {
		err = token ? kreg_kernel_send_fenced(conn, kname, token, data, len) :
			      kreg_kernel_send(conn, kname, from ? kfrom : NULL, flags, data, len);
		if (err != -EREMOTE || !kreg_is_cluster_name(kname))
			return err;
		if (flags & KREG_SEND_F_RELEASE_FROM) {
			kreg_set_error(conn, "a name is released with the last message only on its own node");
			return -EREMOTE;
		}
		err = kreg_cluster_relay(conn, NULL, name, from ? kfrom : NULL, token, data, len);
		if (err != -EREMCHG)
			return err;
	}
	return err;
}

/* An answer to a caller of another node, at its reply address @name there. */
static int kreg_cluster_send_node(struct kreg_conn *conn, const char *node, const char *name,
				  const char *from, const void *data, size_t len)
{
	char kfrom[KREG_NAME_MAX + 1];
	int err = 0;

	if (from)
		err = kreg_cluster_name(conn, from, kfrom, sizeof(kfrom));
	if (err)
		return err;
	return kreg_cluster_relay(conn, node, name, from ? kfrom : NULL, 0, data, len);
}

/*
 * To each node's own @name: this node's through its kernel, the others'
 * through kregd, which answers once every node has.
 */
static int kreg_cluster_multi_send(struct kreg_conn *conn, const char *name, const void *data,
				   size_t len, struct kreg_node_result *results, size_t max,
				   size_t *n)
{
	struct kregd_request req = { .op = KREGD_MULTI_SEND };
	struct kregd_reply *reply;
	int err, here;
	uint32_t i;

	if (!strncmp(name, KREG_CLUSTER_PREFIX, sizeof(KREG_CLUSTER_PREFIX) - 1)) {
		kreg_set_error(conn, "multi_send reaches each node's own name, not a cluster name");
		return -EINVAL;
	}
	here = kreg_kernel_send(conn, name, NULL, 0, data, len);
	if (max) {
		memset(&results[0], 0, sizeof(results[0]));
		snprintf(results[0].node, sizeof(results[0].node), "%s", kreg_kernel_node(conn));
		results[0].err = here;
		*n = 1;
	}
	if (here == -EINVAL || here == -EMSGSIZE)
		return 0;
	reply = malloc(sizeof(*reply));
	if (!reply)
		return -ENOMEM;
	snprintf(req.name, sizeof(req.name), "%s", name);
	req.payload_len = (uint32_t)len;
	err = kreg_kregd_ask_payload(conn, &req, data, reply, KREGD_SEND_TIMEOUT_MS);
	for (i = 0; !err && i < reply->n_results && i < KREGD_PEERS_MAX && *n < max; i++) {
		struct kreg_node_result *r = &results[(*n)++];

		snprintf(r->node, sizeof(r->node), "%s", reply->results[i].node);
		r->err = reply->results[i].err;
	}
	free(reply);
	return err;
}

static int kreg_cluster_send(struct kreg_conn *conn, const char *name, const char *from,
			     uint32_t flags, const void *data, size_t len)
{
	return kreg_cluster_send_token(conn, name, from, flags, 0, data, len);
}

static int kreg_cluster_send_fenced(struct kreg_conn *conn, const char *name, uint64_t token,
				    const void *data, size_t len)
{
	if (!token) {
		kreg_set_error(conn, "a fencing token is never 0");
		return -EINVAL;
	}
	return kreg_cluster_send_token(conn, name, NULL, 0, token, data, len);
}

static int kreg_cluster_recv(struct kreg_conn *conn, struct kreg_message *msg, int timeout_ms)
{
	const char *name;
	int err = kreg_kernel_recv(conn, msg, timeout_ms);

	if (err)
		return err;
	/* The names this provider speaks: without the kernel's prefix. */
	name = kreg_cluster_unname(msg->name);
	if (name && name != msg->name)
		memmove(msg->name, name, strlen(name) + 1);
	name = kreg_cluster_unname(msg->from_name);
	if (name && name != msg->from_name)
		memmove(msg->from_name, name, strlen(name) + 1);
	return 0;
}

static int kreg_cluster_next_event(struct kreg_conn *conn, struct kreg_event *ev,
				   int timeout_ms)
{
	uint64_t deadline = kreg_deadline(timeout_ms);
	int err;

	/* The cluster's names only, without the kernel's prefix. */
	for (;;) {
		err = kreg_kernel_next_event(conn, ev, kreg_ms_left(deadline, timeout_ms));
		if (err)
			return err;
		if (kreg_is_cluster_name(ev->name)) {
			const char *name = kreg_cluster_unname(ev->name);

			memmove(ev->name, name, strlen(name) + 1);
			return 0;
		}
	}
}


const struct kreg_provider_ops kreg_cluster_ops = {
	.provider	= KREG_PROVIDER_CLUSTER,
	.open		= kreg_cluster_open,
	.close		= kreg_cluster_close,
	.fd		= kreg_kernel_fd,
	.register_meta	= kreg_cluster_register,
	.unregister	= kreg_cluster_unregister,
	.update_meta	= kreg_cluster_update_meta,
	.whereis	= kreg_cluster_whereis,
	.list		= kreg_cluster_list,
	.status		= kreg_kernel_status,
	.send		= kreg_cluster_send,
	.send_fenced	= kreg_cluster_send_fenced,
	.send_node	= kreg_cluster_send_node,
	.multi_send	= kreg_cluster_multi_send,
	.recv		= kreg_cluster_recv,
	.subscribe	= kreg_cluster_subscribe,
	.next_event	= kreg_cluster_next_event,
	.owner_uid	= kreg_kernel_owner_uid,
};

/* kregd's STATUS, asked through any provider's handle. */
static int kreg_kregd_status(struct kreg_conn *conn, struct kregd_reply *reply)
{
	struct kregd_request req = { .op = KREGD_STATUS };
	struct kreg_cluster tmp = { .fd = -1 };
	bool borrowed = !conn->cluster;
	int err;

	/* Any handle may ask kregd how its node stands. */
	if (borrowed)
		conn->cluster = &tmp;
	err = kreg_kregd_ask(conn, &req, reply, KREGD_TIMEOUT_MS);
	if (borrowed) {
		if (tmp.fd >= 0)
			close(tmp.fd);
		conn->cluster = NULL;
	}
	return err;
}

int kreg_cluster_status(struct kreg_conn *conn, struct kreg_cluster_status *st)
{
	struct kregd_reply reply;
	int err = kreg_kregd_status(conn, &reply);

	if (err)
		return err;
	memset(st, 0, sizeof(*st));
	snprintf(st->cluster, sizeof(st->cluster), "%s", reply.status.cluster);
	snprintf(st->node, sizeof(st->node), "%s", reply.status.node);
	snprintf(st->endpoint, sizeof(st->endpoint), "%s", reply.status.endpoint);
	st->lease = reply.status.lease;
	st->ttl_ms = reply.status.ttl_ms;
	st->deadline_ms = reply.status.deadline_ms;
	st->fenced = reply.status.fenced;
	st->endpoints = reply.status.endpoints;
	st->reachable = reply.status.reachable;
	st->names = reply.status.names;
	st->local_names = reply.status.local;
	st->revision = reply.status.revision;
	st->age_ms = reply.status.age_ms;
	return 0;
}

int kreg_cluster_peers(struct kreg_conn *conn, struct kreg_peer *peers, size_t max, size_t *n)
{
	struct kregd_reply reply;
	uint32_t i;
	int err = kreg_kregd_status(conn, &reply);

	if (err)
		return err;
	*n = 0;
	for (i = 0; i < reply.status.n_peers && i < KREGD_PEERS_MAX && *n < max; i++) {
		const struct kregd_peer *in = &reply.peers[i];
		struct kreg_peer *out = &peers[(*n)++];

		memset(out, 0, sizeof(*out));
		snprintf(out->node, sizeof(out->node), "%s", in->node);
		snprintf(out->address, sizeof(out->address), "%s", in->address);
		out->state = (enum kreg_link_state)in->state;
		out->last_error = in->last_err;
		out->rtt_us = in->rtt_us;
		out->queued_bytes = in->queued_bytes;
		out->in_flight = in->in_flight;
		out->sent = in->sent;
		out->delivered = in->delivered;
		out->failed = in->failed;
		out->received = in->received;
		out->up_ms = in->up_ms;
	}
	return 0;
}
