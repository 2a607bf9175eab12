// SPDX-License-Identifier: GPL-2.0
/*
 * The node's lease. Every name this node holds in etcd is attached to it,
 * so that a node that dies loses its names after the lease's TTL, and no
 * sooner. Its keepalives are one-shot requests (the gateway's streams
 * answer only once their request ends), sent every quarter of the TTL.
 *
 * Self-fencing. etcd frees the names once the TTL has passed since the
 * leader last renewed the lease, which is after kregd sent that renewal.
 * So kregd's deadline is the send time of the last acknowledged keepalive,
 * plus the TTL, less a margin: by then, if no keepalive was acknowledged
 * since, this node's holders are fenced (their names go from the kernel,
 * reason "fenced", and their handles' cluster calls get -ESTALE), before
 * etcd can give those names to another node. The deadline is checked on
 * every tick and before every answer to a client, so that a node that was
 * frozen past it fences first thing when it runs again. A keepalive that
 * says the lease is gone fences at once.
 *
 * The deadline does not wait for kregd: the kernel has it too
 * (KREG_CMD_LEASE) and fences at it by itself, whether kregd is running,
 * stuck or gone; kregd's loop then does the rest. Times are CLOCK_BOOTTIME,
 * which counts a suspend, as etcd's clock does.
 *
 * The lease's id is kept in the state directory (/run/kreg, a tmpfs that
 * dies with the node), so that kregd restarting within the TTL keeps it,
 * and with it every name.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-c/json.h>

#include "etcd.h"
#include "kregd.h"
#include "log.h"
#include "relay.h"

#define LEASE_REQUEST_MS	1000
#define KEEPALIVES_MAX		3	/* in flight at once */
#define REGRANT_BACKOFF_MS	500
#define KEEPALIVE_RETRY_MS	100

static void state_path(struct kregd *d, char *path, size_t size)
{
	snprintf(path, size, "%s/kregd.lease", d->c.state_dir);
}

static void state_save(struct kregd *d)
{
	char path[300], tmp[310];
	FILE *f;

	state_path(d, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	mkdir(d->c.state_dir, 0755);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "cluster=%s\nnode=%s\nlease=%lld\n", d->c.cluster, d->c.node,
		(long long)d->lease);
	if (fclose(f) == 0)
		rename(tmp, path);
	chmod(path, 0600);
}

/* The lease a kregd of this node left, if it was this cluster's and node's. */
static int64_t state_load(struct kregd *d)
{
	char path[300], line[160], cluster[64] = "", node[64] = "";
	long long lease = 0;
	FILE *f;

	state_path(d, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "cluster=%63s", cluster);
		sscanf(line, "node=%63s", node);
		sscanf(line, "lease=%lld", &lease);
	}
	fclose(f);
	return strcmp(cluster, d->c.cluster) || strcmp(node, d->c.node) ? 0 : lease;
}

/*
 * The kernel's copy of the deadline, at which it fences by itself. Sent
 * only once this node's names from before are sorted out (claims_adopt()):
 * until then the deadline in force is the one an earlier kregd set, for
 * the lease those names' keys are on.
 */
void lease_publish(struct kregd *d)
{
	int err;

	if (!d->lease || !d->adopted)
		return;
	err = relay_lease(d->relay, d->deadline_ms * 1000000ULL);
	if (err)
		kregd_log(LOG_WARNING, "cannot give kreg.ko the lease's deadline: %s",
			  strerror(-err));
}

bool lease_valid(struct kregd *d)
{
	return d->lease && kregd_now_ms() < d->deadline_ms;
}

static void signal_holder(struct name_rec *r, void *arg)
{
	struct kregd *d = arg;

	/* Through its pidfd: never a pid that may have gone to another process. */
	if (r->local && r->present && d->c.fence_signal && r->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, r->pidfd, d->c.fence_signal, NULL, 0);
}

void lease_fence(struct kregd *d, const char *why)
{
	int n;

	if (!d->lease)
		return;
	kregd_log(LOG_WARNING, "fencing this node's holders: %s", why);
	/* Named before the kernel lets them go: the pids are still theirs. */
	copy_for_each(&d->copy, signal_holder, d);
	n = relay_fence(d->relay, NULL);
	kregd_log(LOG_WARNING, "fenced %d holder%s (lease %llx lost)%s", n < 0 ? 0 : n,
		  n == 1 ? "" : "s", (unsigned long long)d->lease,
		  n == 0 ? "; the kernel fenced any at the deadline" : "");
	claims_forget_local(d);
	/* A new lease is a new epoch: handles of the old one get -ESTALE. */
	d->lease = 0;
	d->regrant_at_ms = kregd_now_ms();
}

void lease_check(struct kregd *d)
{
	if (d->lease && kregd_now_ms() >= d->deadline_ms)
		lease_fence(d, "no keepalive was acknowledged in time");
}

/* The node's record: which lease it holds, and where its relay listens for peers. */
static void put_node_record(struct kregd *d);

static void node_record_done(void *arg, int err, struct json_object *reply)
{
	(void)reply;
	if (err)
		kregd_log(LOG_WARNING, "cannot record this node in etcd: %s", strerror(-err));
	(void)arg;
}

static void put_node_record(struct kregd *d)
{
	struct json_object *body = json_object_new_object(), *value = json_object_new_object();
	char key[256];

	json_object_object_add(value, "node", json_object_new_string(d->c.node));
	json_object_object_add(value, "lease", json_object_new_int64(d->lease));
	if (d->relaying && d->c.relay_address[0])
		json_object_object_add(value, "relay", json_object_new_string(d->c.relay_address));
	snprintf(key, sizeof(key), "%s%s", d->nodes_prefix, d->c.node);
	etcd_put_b64(body, "key", key, strlen(key));
	etcd_put_b64(body, "value", json_object_to_json_string(value),
		     strlen(json_object_to_json_string(value)));
	etcd_put_i64(body, "lease", d->lease);
	json_object_put(value);
	etcd_call(d->etcd, "/v3/kv/put", body, LEASE_REQUEST_MS, node_record_done, d);
}

/* A lease is held from now: by @sent_ms it was renewed, for @ttl_ms. */
/* Renewed as of @sent_ms, for @ttl_ms: the deadline only ever moves on (answers cross). */
static void lease_renewed(struct kregd *d, uint64_t sent_ms, int64_t ttl_ms)
{
	uint64_t deadline = sent_ms + (uint64_t)ttl_ms - (uint64_t)d->c.fence_margin_ms;

	d->ttl_ms = ttl_ms;
	if (deadline <= d->deadline_ms)
		return;
	d->deadline_ms = deadline;
	lease_publish(d);
}

static void grant_done(void *arg, int err, struct json_object *reply)
{
	struct kregd *d = arg;
	int64_t id = reply ? etcd_get_i64(reply, "ID") : 0;
	int64_t ttl = reply ? etcd_get_i64(reply, "TTL") : 0;

	d->granting = false;
	if (err || !id || ttl <= 0) {
		kregd_log(LOG_WARNING, "no lease granted (%s): trying again",
			  err ? strerror(-err) : "no ID");
		d->regrant_at_ms = kregd_now_ms() + REGRANT_BACKOFF_MS;
		return;
	}
	d->lease = id;
	/* Granted no earlier than sent: the deadline counts from the send. */
	d->deadline_ms = 0;
	lease_renewed(d, d->grant_sent_ms, ttl * 1000);
	d->next_keepalive_ms = kregd_now_ms() + (uint64_t)d->ttl_ms / 4;
	kregd_log(LOG_INFO, "lease %llx granted, TTL %lld s", (unsigned long long)id,
		  (long long)ttl);
	state_save(d);
	put_node_record(d);
	claims_adopt(d);
}

static void grant(struct kregd *d)
{
	struct json_object *body = json_object_new_object();

	d->granting = true;
	/* When the grant is sent: its deadline counts from then. */
	d->grant_sent_ms = kregd_now_ms();
	etcd_put_i64(body, "TTL", d->c.lease_ttl);
	if (etcd_call(d->etcd, "/v3/lease/grant", body, LEASE_REQUEST_MS, grant_done, d)) {
		d->granting = false;
		d->regrant_at_ms = d->grant_sent_ms + REGRANT_BACKOFF_MS;
	}
}

struct keepalive {
	struct kregd *d;
	int64_t lease;
	uint64_t sent_ms;
};

/* A request about the lease, dated now: NULL without memory. */
static struct keepalive *keepalive_new(struct kregd *d, int64_t lease)
{
	struct keepalive *k = malloc(sizeof(*k));

	if (k) {
		k->d = d;
		k->lease = lease;
		k->sent_ms = kregd_now_ms();
	}
	return k;
}

static void confirm_done(void *arg, int err, struct json_object *reply)
{
	struct keepalive *k = arg;

	if (!err)
		watch_confirmed(k->d, etcd_get_i64(etcd_get(reply, "header"), "revision"),
				k->sent_ms);
	free(k);
}

/*
 * How current the copy is: a linearizable read (the default), which a
 * member answers only once it has applied everything the quorum committed
 * before it was asked, says where the cluster was then. A keepalive's own
 * revision is its member's, which may lag. Nothing is read: a count of at
 * most one key.
 */
static void confirm(struct kregd *d)
{
	struct keepalive *k = keepalive_new(d, d->lease);
	struct json_object *body;
	char end[200];

	if (!k)
		return;
	body = json_object_new_object();
	etcd_prefix_end(d->cluster_prefix, end, sizeof(end));
	etcd_put_b64(body, "key", d->cluster_prefix, strlen(d->cluster_prefix));
	etcd_put_b64(body, "range_end", end, strlen(end));
	json_object_object_add(body, "count_only", json_object_new_boolean(1));
	json_object_object_add(body, "limit", json_object_new_int(1));
	if (etcd_call(d->etcd, "/v3/kv/range", body, LEASE_REQUEST_MS, confirm_done, k))
		free(k);
}

static void keepalive_done(void *arg, int err, struct json_object *reply)
{
	struct keepalive *k = arg;
	struct kregd *d = k->d;
	struct json_object *result = etcd_get(reply, "result");
	int64_t ttl = result ? etcd_get_i64(result, "TTL") : 0;

	d->keepalives_inflight--;
	if (k->lease != d->lease) {
		free(k);
		return;
	}
	if (err) {
		/* Another soon: the client has moved to another endpoint. */
		kregd_log(LOG_DEBUG, "keepalive: %s", strerror(-err));
		if (d->next_keepalive_ms > kregd_now_ms() + KEEPALIVE_RETRY_MS)
			d->next_keepalive_ms = kregd_now_ms() + KEEPALIVE_RETRY_MS;
	} else if (ttl <= 0) {
		/* etcd has let the lease go: so have this node's names. */
		lease_fence(d, "etcd says the lease has expired");
	} else {
		lease_renewed(d, k->sent_ms, ttl * 1000);
		confirm(d);
	}
	free(k);
}

static void keepalive(struct kregd *d)
{
	struct keepalive *k = keepalive_new(d, d->lease);
	struct json_object *body;

	if (!k)
		return;
	body = json_object_new_object();
	etcd_put_i64(body, "ID", d->lease);
	d->keepalives_inflight++;
	d->next_keepalive_ms = k->sent_ms + (uint64_t)d->ttl_ms / 4;
	/*
	 * The next one does not wait for this one's answer: on a slow etcd
	 * (loaded, or electing a leader) they overlap, and whichever is
	 * answered first moves the deadline, by when it was sent.
	 */
	if (etcd_call(d->etcd, "/v3/lease/keepalive", body, (int)(d->ttl_ms / 2),
		      keepalive_done, k)) {
		d->keepalives_inflight--;
		d->next_keepalive_ms = k->sent_ms + KEEPALIVE_RETRY_MS;
		free(k);
	}
}

static void reuse(struct kregd *d, int64_t old);

static void reuse_done(void *arg, int err, struct json_object *reply)
{
	struct keepalive *k = arg;
	struct kregd *d = k->d;
	int64_t ttl = reply ? etcd_get_i64(reply, "TTL") : 0;

	d->granting = false;
	if (!err && ttl > 0) {
		d->lease = k->lease;
		d->reuse = 0;
		/* What is left of it, counted from when it was asked. */
		d->deadline_ms = 0;
		lease_renewed(d, k->sent_ms, ttl * 1000);
		d->ttl_ms = (int64_t)d->c.lease_ttl * 1000;
		d->next_keepalive_ms = kregd_now_ms();
		kregd_log(LOG_INFO, "lease %llx kept from before, %lld s left",
			  (unsigned long long)d->lease, (long long)ttl);
		put_node_record(d);
		claims_adopt(d);
	} else if (err) {
		/*
		 * Not known yet: asked again, not given up. Its names' keys are on
		 * it; the kernel fences their holders at its deadline meanwhile.
		 */
		kregd_log(LOG_INFO, "cannot ask etcd about the lease from before: %s; again soon",
			  strerror(-err));
		d->regrant_at_ms = kregd_now_ms() + REGRANT_BACKOFF_MS;
	} else {
		kregd_log(LOG_INFO, "the lease from before is gone: a new one");
		d->reuse = 0;
		grant(d);
	}
	free(k);
}

/* Asks etcd whether lease @old, a kregd's before this one, is still alive. */
static void reuse(struct kregd *d, int64_t old)
{
	struct keepalive *k = keepalive_new(d, old);
	struct json_object *body;

	if (!k) {
		d->regrant_at_ms = kregd_now_ms() + REGRANT_BACKOFF_MS;
		return;
	}
	body = json_object_new_object();
	etcd_put_i64(body, "ID", old);
	d->granting = true;
	if (etcd_call(d->etcd, "/v3/lease/timetolive", body, LEASE_REQUEST_MS, reuse_done, k)) {
		d->granting = false;
		d->regrant_at_ms = kregd_now_ms() + REGRANT_BACKOFF_MS;
		free(k);
	}
}

int lease_start(struct kregd *d)
{
	d->reuse = state_load(d);
	if (d->reuse)
		reuse(d, d->reuse);
	else
		grant(d);
	return 0;
}

void lease_tick(struct kregd *d)
{
	uint64_t now = kregd_now_ms();

	lease_check(d);
	if (!d->lease && !d->granting && now >= d->regrant_at_ms) {
		if (d->reuse)
			reuse(d, d->reuse);
		else
			grant(d);
	}
	if (d->lease && d->keepalives_inflight < KEEPALIVES_MAX && now >= d->next_keepalive_ms)
		keepalive(d);
}

int64_t lease_next_timeout(struct kregd *d)
{
	uint64_t now = kregd_now_ms(), next = now + 1000;

	if (d->lease) {
		if (d->keepalives_inflight < KEEPALIVES_MAX && d->next_keepalive_ms < next)
			next = d->next_keepalive_ms;
		if (d->deadline_ms < next)
			next = d->deadline_ms;
	} else if (!d->granting && d->regrant_at_ms < next) {
		next = d->regrant_at_ms;
	}
	return next > now ? (int64_t)(next - now) : 0;
}
