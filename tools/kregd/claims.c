// SPDX-License-Identifier: GPL-2.0
/*
 * This node's cluster names: how they are won, held and let go.
 *
 * A claim. The process claims "cluster.NAME" in the kernel first
 * (KREG_F_CLUSTER), which checks its right to own it and that no other
 * process of this node holds or claims it, and holds it, unseen, for it.
 * Then it asks kregd, which checks that claim is the asking process's and
 * puts the name's key in etcd if it has none, with the node's lease:
 *
 *   compare  create_revision(key) == 0
 *   success  put key {node, pid, uid, meta, claim}, lease
 *   failure  range key
 *
 * Won: the put's revision is the name's fencing token, and kregd commits
 * the claim in the kernel with it; only then does the process's register
 * return, and the name appear on this node. Lost: the holder's value comes
 * back, kregd mirrors it in place of the claim, and the process is told
 * who holds it. No answer within a second (etcd unreachable, or without
 * quorum): -EHOSTUNREACH. The put may still happen; if it does, its key is
 * nobody's here and kregd deletes it when the watch shows it. A put that
 * answers twice (a retry on another endpoint) is recognised by its claim
 * id, 64 random bits.
 *
 * A release. Whatever ends a holder's name in the kernel (its process
 * unregistered it, died, lost it to a policy, closed the mailbox of a
 * bound name) is an event kregd reads; and a holder's death is also its
 * pidfd waking up, so that a name goes within milliseconds with or without
 * BPF exit cleanup. Either way kregd deletes the key, but only if it is
 * still this holder's:
 *
 *   compare  create_revision(key) == token
 *   success  delete key
 *
 * so a release never removes a successor's key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-c/json.h>

#include "etcd.h"
#include "kreg.h"
#include "kregd.h"
#include "peers.h"
#include "log.h"
#include "relay.h"

/*
 * A register is decided, or fails, within a second: its transaction has
 * 800 ms of it, the rest is for its way through the kernel, kregd's socket
 * and back on a slow node.
 */
#define CLAIM_TIMEOUT_MS	800
#define SYNC_TIMEOUT_MS		1000
#define RELEASE_TIMEOUT_MS	2000
#define RELEASE_RETRY_MS	200

/* A claim being decided, and whoever waits on it. */
struct claim {
	struct kregd *d;
	struct claim *next;
	char name[KREG_NAME_MAX + 1];
	uint64_t client, seq;
	pid_t pid;
	uid_t uid;
	int pidfd;
	int64_t lease;
	uint64_t claim_id;
	uint8_t meta[KREG_META_MAX];
	uint32_t meta_len;
	struct waiter *waiters;		/* AWAIT_CLAIM */
};

struct waiter {
	struct waiter *next;
	uint64_t client, seq;
	uint32_t op;
};

static struct claim *claims;
/* Releases waited on by RELEASE requests, by name. */
struct release_wait {
	struct release_wait *next;
	char name[KREG_NAME_MAX + 1];
	uint64_t client, seq;
};

static struct release_wait *release_waits;

static void kernel_name(const char *name, char *kname, size_t size)
{
	snprintf(kname, size, "%s%s", KREG_CLUSTER_PREFIX, name);
}

static void reply_to(struct kregd *d, uint64_t client, uint64_t seq, uint32_t op, int err,
		     const char *message, struct kregd_reply *r)
{
	struct kregd_reply local;

	if (!r) {
		memset(&local, 0, sizeof(local));
		r = &local;
	}
	r->version = KREGD_PROTO_VERSION;
	r->op = op;
	r->seq = seq;
	r->err = err;
	if (message)
		snprintf(r->message, sizeof(r->message), "%s", message);
	clients_reply(d, client, r);
}

static struct claim *claim_find(const char *name)
{
	struct claim *c;

	for (c = claims; c; c = c->next)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

bool claims_in_flight(const char *name, uint64_t claim_id)
{
	struct claim *c = claim_find(name);

	return c && c->claim_id == claim_id;
}

static void claim_end(struct claim *c)
{
	struct claim **p = &claims;
	struct waiter *w, *next;

	while (*p && *p != c)
		p = &(*p)->next;
	if (*p)
		*p = c->next;
	/* Those who waited for it to be decided ask the kernel again now. */
	for (w = c->waiters; w; w = next) {
		next = w->next;
		reply_to(c->d, w->client, w->seq, w->op, 0, NULL, NULL);
		free(w);
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	free(c);
}

static void watch_holder(struct kregd *d, struct name_rec *r, int pidfd)
{
	if (r->pidfd >= 0) {
		kregd_unwatch_fd(d, r->pidfd);
		close(r->pidfd);
	}
	r->pidfd = pidfd;
	if (pidfd >= 0)
		kregd_watch_fd(d, pidfd, r);
}

void claims_holder_died(struct kregd *d, struct name_rec *r)
{
	watch_holder(d, r, -1);
}

/* --- releases ------------------------------------------------------------------ */

struct release {
	struct kregd *d;
	char name[KREG_NAME_MAX + 1];
	int64_t token;
	uint64_t retry_at_ms;
	struct release *next;		/* in retries */
};

/* Releases that failed, to be tried again at their retry_at_ms (claims_tick()). */
static struct release *retries;

static void release_told(struct kregd *d, const char *name, int err)
{
	struct release_wait **p = &release_waits, *w;

	while ((w = *p)) {
		if (strcmp(w->name, name)) {
			p = &w->next;
			continue;
		}
		*p = w->next;
		reply_to(d, w->client, w->seq, KREGD_RELEASE, err, NULL, NULL);
		free(w);
	}
}

static void release_txn(struct release *rel);

static void release_done(void *arg, int err, struct json_object *reply)
{
	struct release *rel = arg;
	struct kregd *d = rel->d;
	struct name_rec *r = copy_find(&d->copy, rel->name);

	(void)reply;
	if (err && lease_valid(d)) {
		/* Tried again until it is done, or the lease goes (and the key with it). */
		kregd_log(LOG_DEBUG, "%s: release: %s; again", rel->name, strerror(-err));
		rel->retry_at_ms = kregd_now_ms() + RELEASE_RETRY_MS;
		rel->next = retries;
		retries = rel;
		return;
	}
	if (r && r->token == rel->token) {
		r->releasing = false;
		if (r->local) {
			r->local = false;
			claims_holder_died(d, r);
		}
	}
	release_told(d, rel->name, 0);
	free(rel);
}

/* Deleted only if its key is still the holder's: a release never removes a successor's. */
static void release_txn(struct release *rel)
{
	struct kregd *d = rel->d;
	struct json_object *body;
	char key[512];

	watch_key(d, rel->name, key, sizeof(key));
	body = etcd_txn(etcd_all(1, etcd_cmp_created(key, rel->token)),
			etcd_all(1, etcd_op_delete(key)), NULL);
	if (etcd_call(d->etcd, "/v3/kv/txn", body, RELEASE_TIMEOUT_MS, release_done, rel))
		release_done(rel, -ENOMEM, NULL);
}

void claims_tick(struct kregd *d)
{
	struct release **p = &retries, *rel;
	uint64_t now = kregd_now_ms();

	while ((rel = *p)) {
		if (now < rel->retry_at_ms && lease_valid(d)) {
			p = &rel->next;
			continue;
		}
		*p = rel->next;
		if (lease_valid(d))
			release_txn(rel);
		else
			release_done(rel, 0, NULL);	/* the key goes with the lease */
	}
}

static void release_token(struct kregd *d, const char *name, int64_t token)
{
	struct release *rel = calloc(1, sizeof(*rel));

	if (!rel)
		return;
	rel->d = d;
	snprintf(rel->name, sizeof(rel->name), "%s", name);
	rel->token = token;
	release_txn(rel);
}

void claims_release(struct kregd *d, struct name_rec *r)
{
	if (!r->local || r->releasing)
		return;
	r->releasing = true;
	kregd_log(LOG_DEBUG, "%s: releasing token %lld", r->name, (long long)r->token);
	release_token(d, r->name, r->token);
}

void claims_delete_stray(struct kregd *d, const char *name, int64_t token)
{
	kregd_log(LOG_INFO, "%s: this node's key (token %lld) is nobody's here: deleting it",
		  name, (long long)token);
	release_token(d, name, token);
}

/* --- claims ---------------------------------------------------------------------- */

static void holder_of(struct kregd *d, struct claim *c, int64_t token, struct kregd_holder *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->node, sizeof(h->node), "%s", d->c.node);
	h->pid = c->pid;
	h->uid = c->uid;
	h->token = (uint64_t)token;
}

static void claim_won(struct claim *c, int64_t token)
{
	struct kregd *d = c->d;
	char kname[KREG_NAME_MAX + 16];
	struct kregd_reply reply;
	struct name_rec *r;
	int err;

	memset(&reply, 0, sizeof(reply));
	kernel_name(c->name, kname, sizeof(kname));
	/* An answer that came after the deadline is too late (the kernel refuses it too). */
	lease_check(d);
	if (c->lease != d->lease || !lease_valid(d)) {
		/* Won under a lease that is gone since: the key goes with it. */
		reply_to(d, c->client, c->seq, KREGD_CLAIM, -ESTALE,
			 "this node lost its lease while the claim was decided", NULL);
		return;
	}
	r = copy_find(&d->copy, c->name);
	if (r && !r->present && r->rev > token) {
		/* The watch has seen its key go already (deleted by hand, say). */
		reply_to(d, c->client, c->seq, KREGD_CLAIM, -EAGAIN,
			 "the name changed hands while it was claimed", NULL);
		return;
	}
	err = relay_commit(d->relay, kname, c->pid, (uint64_t)token);
	if (err) {
		/* The claimant died or let go meanwhile: so does the cluster. */
		release_token(d, c->name, token);
		reply_to(d, c->client, c->seq, KREGD_CLAIM, -ESRCH,
			 "the claimant no longer claims the name", NULL);
		return;
	}
	r = copy_get(&d->copy, c->name);
	if (r) {
		r->present = true;
		if (r->rev < token)
			r->rev = token;
		r->token = token;
		r->lease = c->lease;
		holder_of(d, c, token, &r->holder);
		copy_set_meta(r, c->meta, c->meta_len);
		r->claim_id = c->claim_id;
		r->local = true;
		r->releasing = false;
		watch_holder(d, r, c->pidfd);
		c->pidfd = -1;
	}
	kregd_log(LOG_DEBUG, "%s: won by pid %d, token %lld", c->name, c->pid, (long long)token);
	reply.epoch = (uint64_t)d->lease;
	holder_of(d, c, token, &reply.holder);
	reply_to(d, c->client, c->seq, KREGD_CLAIM, 0, NULL, &reply);
}

static void claim_lost(struct claim *c, struct json_object *kv, int64_t rev)
{
	struct kregd *d = c->d;
	struct kregd_reply reply;
	struct name_rec *r;

	/* The winner's key, read in the same transaction: mirrored over the claim. */
	watch_apply(d, c->name, kv, rev, KREG_REASON_REMOTE);
	r = copy_find(&d->copy, c->name);
	memset(&reply, 0, sizeof(reply));
	if (r && r->present)
		reply.holder = r->holder;
	reply_to(d, c->client, c->seq, KREGD_CLAIM, -EEXIST, "the name is held", &reply);
}

static void claim_done(void *arg, int err, struct json_object *reply)
{
	struct claim *c = arg;
	struct json_object *responses, *range, *kvs, *kv;
	int64_t rev = etcd_get_i64(etcd_get(reply, "header"), "revision");

	if (err) {
		struct name_rec *r = copy_find(&c->d->copy, c->name);

		reply_to(c->d, c->client, c->seq, KREGD_CLAIM, -EHOSTUNREACH,
			 err == -ETIMEDOUT ?
			 "the cluster did not decide within a second (etcd without quorum?)" :
			 "etcd cannot be reached", NULL);
		/*
		 * Its put may have been made all the same, and seen by the watch
		 * already: a key that no process holds goes. (Seen later, the
		 * watch deletes it: the claim is no longer in flight.)
		 */
		if (r && r->present && !r->local && r->claim_id == c->claim_id &&
		    !strcmp(r->holder.node, c->d->c.node))
			claims_delete_stray(c->d, c->name, r->token);
		claim_end(c);
		return;
	}
	if (etcd_get_bool(reply, "succeeded")) {
		claim_won(c, rev);
		claim_end(c);
		return;
	}
	responses = etcd_get(reply, "responses");
	range = responses ? etcd_get(json_object_array_get_idx(responses, 0), "response_range") :
			    NULL;
	kvs = etcd_get(range, "kvs");
	kv = kvs ? json_object_array_get_idx(kvs, 0) : NULL;
	if (!kv) {
		/* Gone between the compare and the range: never mind, the caller tries again. */
		reply_to(c->d, c->client, c->seq, KREGD_CLAIM, -EAGAIN,
			 "the name changed hands while it was claimed", NULL);
	} else {
		struct kv_holder parsed;

		/* Its own put, answered twice (a retried request): won, at the key's token. */
		if (!watch_parse_kv(kv, &parsed) && parsed.claim_id == c->claim_id &&
		    !strcmp(parsed.holder.node, c->d->c.node)) {
			claim_won(c, parsed.token);
			claim_end(c);
			return;
		}
		claim_lost(c, kv, rev);
	}
	claim_end(c);
}

/* Put, with the node's lease, only if nobody holds the name: else who does. */
static void claim_txn(struct claim *c)
{
	struct kregd *d = c->d;
	struct json_object *body, *value = json_object_new_object();
	char key[512], claim_id[20], meta[400];

	watch_key(d, c->name, key, sizeof(key));
	json_object_object_add(value, "node", json_object_new_string(d->c.node));
	json_object_object_add(value, "pid", json_object_new_int(c->pid));
	json_object_object_add(value, "uid", json_object_new_int64(c->uid));
	snprintf(claim_id, sizeof(claim_id), "%016llx", (unsigned long long)c->claim_id);
	json_object_object_add(value, "claim", json_object_new_string(claim_id));
	if (c->meta_len && !etcd_b64(c->meta, c->meta_len, meta, sizeof(meta)))
		json_object_object_add(value, "meta", json_object_new_string(meta));
	body = etcd_txn(etcd_all(1, etcd_cmp_created(key, 0)),
			etcd_all(1, etcd_op_put(key, json_object_to_json_string(value), c->lease)),
			etcd_all(1, etcd_op_range(key)));
	json_object_put(value);
	if (etcd_call(d->etcd, "/v3/kv/txn", body, CLAIM_TIMEOUT_MS, claim_done, c))
		claim_done(c, -ENOMEM, NULL);
}

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void claim(struct kregd *d, uint64_t client, const struct kregd_request *req,
		  pid_t pid, uid_t uid)
{
	char kname[KREG_NAME_MAX + 16];
	struct relay_entry e = { .pid = 0 };
	struct claim *c;
	int pidfd, err;

	if (!lease_valid(d)) {
		reply_to(d, client, req->seq, KREGD_CLAIM, -EHOSTUNREACH,
			 "this node holds no lease: etcd cannot be reached", NULL);
		return;
	}
	if (!d->adopted) {
		reply_to(d, client, req->seq, KREGD_CLAIM, -EHOSTUNREACH,
			 "kregd is starting: it has not read the cluster's names yet", NULL);
		return;
	}
	if (claim_find(req->name)) {
		reply_to(d, client, req->seq, KREGD_CLAIM, -EBUSY,
			 "another claim on this name is being decided on this node", NULL);
		return;
	}
	kernel_name(req->name, kname, sizeof(kname));
	/* Its pidfd first: then the kernel's claimant, if alive, is this very process. */
	pidfd = pidfd_of(pid);
	err = pidfd < 0 ? -errno : relay_whereis(d->relay, kname, &e);
	if (!err && e.remote) {
		/* Lost already: the winner's mirror took the claim's place. */
		struct name_rec *r = copy_find(&d->copy, req->name);
		struct kregd_reply reply;

		close(pidfd);
		memset(&reply, 0, sizeof(reply));
		if (r && r->present)
			reply.holder = r->holder;
		reply_to(d, client, req->seq, KREGD_CLAIM, -EEXIST, "the name is held", &reply);
		return;
	}
	if (err || e.token || e.pid != pid) {
		kregd_log(LOG_NOTICE, "%s: refused pid %d's claim: %s (the kernel has pid %d, token %llu%s)",
			  req->name, pid, err ? strerror(-err) : "not its claim", e.pid,
			  (unsigned long long)e.token, e.remote ? ", a mirror" : "");
		if (pidfd >= 0)
			close(pidfd);
		reply_to(d, client, req->seq, KREGD_CLAIM, -EPERM,
			 "this process does not claim the name in the kernel (KREG_F_CLUSTER)", NULL);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(pidfd);
		reply_to(d, client, req->seq, KREGD_CLAIM, -ENOMEM, NULL, NULL);
		return;
	}
	c->d = d;
	snprintf(c->name, sizeof(c->name), "%s", req->name);
	c->client = client;
	c->seq = req->seq;
	c->pid = pid;
	c->uid = uid;
	c->pidfd = pidfd;
	c->lease = d->lease;
	c->meta_len = req->meta_len <= KREG_META_MAX ? req->meta_len : 0;
	memcpy(c->meta, req->meta, c->meta_len);
	if (getrandom(&c->claim_id, sizeof(c->claim_id), 0) != sizeof(c->claim_id))
		c->claim_id = ((uint64_t)pid << 32) ^ kregd_now_ms();
	c->next = claims;
	claims = c;
	claim_txn(c);
}

/* --- releases asked for, reads of etcd, status --------------------------------- */

static void release(struct kregd *d, uint64_t client, const struct kregd_request *req, pid_t pid)
{
	struct name_rec *r = copy_find(&d->copy, req->name);
	char kname[KREG_NAME_MAX + 16];
	struct release_wait *w;
	struct relay_entry e;

	if (!r || !r->local || (uint64_t)r->token != req->token) {
		/* Already let go (by its death, or its event): nothing left to wait for. */
		reply_to(d, client, req->seq, KREGD_RELEASE, 0, NULL, NULL);
		return;
	}
	if (r->holder.pid != pid) {
		reply_to(d, client, req->seq, KREGD_RELEASE, -EPERM,
			 "another process holds the name", NULL);
		return;
	}
	/* The cluster lets go only of what this node has let go: never of a name held here. */
	kernel_name(req->name, kname, sizeof(kname));
	if (!relay_whereis(d->relay, kname, &e) && !e.remote && !e.pending &&
	    e.token == req->token) {
		reply_to(d, client, req->seq, KREGD_RELEASE, -EBUSY,
			 "the name is still held on this node: unregister it there first", NULL);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w) {
		snprintf(w->name, sizeof(w->name), "%s", req->name);
		w->client = client;
		w->seq = req->seq;
		w->next = release_waits;
		release_waits = w;
	}
	claims_release(d, r);
}

struct sync {
	struct kregd *d;
	char name[KREG_NAME_MAX + 1];
	uint64_t client, seq;
};

static void sync_done(void *arg, int err, struct json_object *reply)
{
	struct sync *s = arg;
	struct json_object *kvs = etcd_get(reply, "kvs");
	int64_t rev = etcd_get_i64(etcd_get(reply, "header"), "revision");
	struct kregd_reply r;

	memset(&r, 0, sizeof(r));
	if (err) {
		reply_to(s->d, s->client, s->seq, KREGD_SYNC, -EHOSTUNREACH,
			 "the cluster cannot answer now (etcd unreachable or without quorum)", NULL);
	} else {
		watch_apply(s->d, s->name, kvs ? json_object_array_get_idx(kvs, 0) : NULL, rev,
			    KREG_REASON_REMOTE);
		r.revision = (uint64_t)rev;
		reply_to(s->d, s->client, s->seq, KREGD_SYNC, 0, NULL, &r);
	}
	free(s);
}

static void sync_name(struct kregd *d, uint64_t client, const struct kregd_request *req)
{
	struct json_object *body = json_object_new_object();
	struct sync *s = calloc(1, sizeof(*s));
	char key[512];

	if (!s) {
		json_object_put(body);
		reply_to(d, client, req->seq, KREGD_SYNC, -ENOMEM, NULL, NULL);
		return;
	}
	s->d = d;
	snprintf(s->name, sizeof(s->name), "%s", req->name);
	s->client = client;
	s->seq = req->seq;
	watch_key(d, req->name, key, sizeof(key));
	/* Linearizable: etcd's default, through the leader's quorum. */
	etcd_put_b64(body, "key", key, strlen(key));
	etcd_call(d->etcd, "/v3/kv/range", body, SYNC_TIMEOUT_MS, sync_done, s);
}

static void count(struct name_rec *r, void *arg)
{
	struct kregd_status *st = arg;

	if (r->present)
		st->names++;
	if (r->present && r->local)
		st->local++;
}

static void status(struct kregd *d, uint64_t client, const struct kregd_request *req)
{
	static struct kregd_reply r;
	struct kregd_status *st = &r.status;
	uint64_t now = kregd_now_ms();

	memset(&r, 0, sizeof(r));
	snprintf(st->cluster, sizeof(st->cluster), "%s", d->c.cluster);
	snprintf(st->node, sizeof(st->node), "%s", d->c.node);
	st->lease = (uint64_t)d->lease;
	st->ttl_ms = d->ttl_ms ? d->ttl_ms : (int64_t)d->c.lease_ttl * 1000;
	st->deadline_ms = d->lease ? (int64_t)d->deadline_ms - (int64_t)now : 0;
	st->fenced = d->fenced;
	st->endpoints = (uint32_t)etcd_endpoints(d->etcd);
	st->reachable = (uint32_t)etcd_reachable(d->etcd);
	copy_for_each(&d->copy, count, st);
	st->revision = (uint64_t)d->revision;
	st->age_ms = d->heard_ms ? (int64_t)(now - d->heard_ms) : -1;
	snprintf(st->endpoint, sizeof(st->endpoint), "%s", etcd_endpoint(d->etcd));
	st->n_peers = peers_status(d, r.peers, KREGD_PEERS_MAX);
	r.epoch = (uint64_t)d->lease;
	reply_to(d, client, req->seq, KREGD_STATUS, 0, NULL, &r);
}

void claims_request(struct kregd *d, uint64_t client, const struct kregd_request *req,
		    const void *payload, const struct kregd_sender *sender)
{
	pid_t pid = sender->cred.pid;
	uid_t uid = sender->cred.uid;
	struct claim *c;
	struct waiter *w;

	/* A node frozen past its deadline fences before it answers anything. */
	lease_check(d);
	if (req->epoch && req->epoch != (uint64_t)d->lease && req->op != KREGD_STATUS) {
		reply_to(d, client, req->seq, req->op, -ESTALE,
			 "this handle's cluster names were fenced: this node lost its lease", NULL);
		return;
	}
	switch (req->op) {
	case KREGD_CLAIM:
		claim(d, client, req, pid, uid);
		return;
	case KREGD_RELEASE:
		release(d, client, req, pid);
		return;
	case KREGD_SYNC:
		sync_name(d, client, req);
		return;
	case KREGD_AWAIT_CLAIM:
		c = claim_find(req->name);
		w = c ? calloc(1, sizeof(*w)) : NULL;
		if (!w) {
			reply_to(d, client, req->seq, KREGD_AWAIT_CLAIM, 0, NULL, NULL);
			return;
		}
		w->client = client;
		w->seq = req->seq;
		w->op = KREGD_AWAIT_CLAIM;
		w->next = c->waiters;
		c->waiters = w;
		return;
	case KREGD_STATUS:
		status(d, client, req);
		return;
	case KREGD_MULTI_SEND:
		/* Names of the other nodes' own: theirs to judge. */
		peers_multi_send(d, client, req, payload, sender);
		return;
	case KREGD_SEND:
		/* A name of another node's own is that node's to judge. */
		if (req->node[0] || clients_may_send(d, sender, req->name))
			peers_send(d, client, req, payload, sender);
		else
			reply_to(d, client, req->seq, KREGD_SEND, -EACCES,
				 "this node's policy does not let this process send to the name", NULL);
		return;
	}
	reply_to(d, client, req->seq, req->op, -EOPNOTSUPP, "unknown request", NULL);
}

/* --- what the kernel says: this node's names released -------------------------- */

static int still_held(const struct relay_entry *e, void *arg)
{
	struct copy *held = arg;

	if (!e->remote && !e->pending && e->token)
		copy_get(held, e->name + sizeof(KREG_CLUSTER_PREFIX) - 1);
	return 0;
}

static void release_if_gone(struct name_rec *r, void *arg)
{
	struct kregd *d = ((void **)arg)[0];
	struct copy *held = ((void **)arg)[1];

	if (r->local && r->present && !copy_find(held, r->name))
		claims_release(d, r);
}

/* Events were lost: what this node's kernel no longer holds is let go. */
static void reconcile(struct kregd *d)
{
	struct copy held = { 0 };
	void *args[2] = { d, &held };

	if (relay_list(d->relay, still_held, &held) == 0)
		copy_for_each(&d->copy, release_if_gone, args);
	copy_free(&held);
}

void claims_event(struct kregd *d)
{
	struct kreg_event ev;
	struct name_rec *r;
	int err;

	while ((err = kreg_next_event(d->events, &ev, 0)) != -ETIMEDOUT) {
		if (err == -ENOBUFS) {
			reconcile(d);
			continue;
		}
		if (err)
			break;
		if (ev.kind != KREG_EVENT_UNREGISTERED || ev.remote_pid ||
		    strncmp(ev.name, KREG_CLUSTER_PREFIX, sizeof(KREG_CLUSTER_PREFIX) - 1))
			continue;
		/* Whoever fenced it: kregd, or the kernel at the deadline. */
		if (ev.reason == KREG_REASON_FENCED && ev.token)
			d->fenced++;
		r = copy_find(&d->copy, ev.name + sizeof(KREG_CLUSTER_PREFIX) - 1);
		/*
		 * Its holder let it go here: so does the cluster. A fenced one
		 * is lost with the lease, unless a keepalive came in time after
		 * all (the kernel fenced as it came): then it is let go too.
		 */
		if (r && r->local && (uint64_t)r->token == ev.token &&
		    (ev.reason != KREG_REASON_FENCED || lease_valid(d)))
			claims_release(d, r);
	}
}

void claims_forget_local(struct kregd *d)
{
	struct name_rec *r;
	size_t i;

	for (i = 0; i < d->copy.n_buckets; i++)
		for (r = d->copy.buckets[i]; r; r = r->next)
			if (r->local) {
				r->local = false;
				claims_holder_died(d, r);
			}
}

/* --- after a restart ----------------------------------------------------------------- */

static int adopt_one(const struct relay_entry *e, void *arg)
{
	struct kregd *d = arg;
	const char *name = e->name + sizeof(KREG_CLUSTER_PREFIX) - 1;
	struct name_rec *r;
	int pidfd;

	if (e->remote || e->pending || !e->token)
		return 0;
	r = copy_find(&d->copy, name);
	/* Its key, this node's, for this process, on the lease kept from before. */
	if (r && r->present && !strcmp(r->holder.node, d->c.node) &&
	    (uint64_t)r->token == e->token && r->holder.pid == e->pid && r->lease == d->lease) {
		pidfd = pidfd_of(e->pid);
		if (pidfd >= 0) {
			r->local = true;
			watch_holder(d, r, pidfd);
			kregd_log(LOG_INFO, "%s: held by pid %d since before, adopted", name, e->pid);
			return 0;
		}
	}
	/* Held here under a lease gone by now: the cluster may have given it away. */
	kregd_log(LOG_WARNING, "%s: held here, but not in the cluster any more: fencing", name);
	relay_fence(d->relay, e->name);
	return 0;
}

static void delete_unheld(struct name_rec *r, void *arg)
{
	struct kregd *d = arg;

	if (r->present && !r->local && !strcmp(r->holder.node, d->c.node) && !claim_find(r->name))
		claims_delete_stray(d, r->name, r->token);
}

void claims_adopt(struct kregd *d)
{
	if (d->adopted || !d->lease || !d->synced)
		return;
	relay_list(d->relay, adopt_one, d);
	copy_for_each(&d->copy, delete_unheld, d);
	d->adopted = true;
	/* The kernel's deadline is this lease's from now: what it guards is. */
	lease_publish(d);
}

void claims_holder_exited(struct kregd *d, struct name_rec *r)
{
	char kname[KREG_NAME_MAX + 16];
	struct relay_entry e;

	/* The kernel drops a dead holder's name when it is looked up, and says so. */
	kernel_name(r->name, kname, sizeof(kname));
	relay_whereis(d->relay, kname, &e);
	claims_release(d, r);
	watch_holder(d, r, -1);
}
