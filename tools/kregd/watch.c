// SPDX-License-Identifier: GPL-2.0
/*
 * The copy of the cluster's names, fed from etcd and mirrored into the
 * kernel. kregd reads every name under /kreg/CLUSTER/names/ at one
 * revision (a page at a time), mirrors those held on other nodes, then
 * watches from the next revision, with each event's previous value and
 * etcd's progress notifications. A watch etcd cancels (its revision was
 * compacted away) or that goes quiet is started again: from where it
 * stopped if it can, else by reading everything again, which the copy
 * then matches, name by name. Each record is as of a revision, and
 * nothing older ever overwrites it, so a linearizable read (SYNC) and the
 * watch may deliver in any order.
 *
 * Whenever the watch says anything, the kernel is told how recent the copy
 * is (KREG_CMD_PROGRESS): lookups report that age.
 *
 * A name deleted in the same revision as its node's record went with the
 * node's lease (the node died, or was cut off): its mirror goes with
 * reason "node-lost", else "remote".
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "etcd.h"
#include "kregd.h"
#include "peers.h"
#include "log.h"
#include "relay.h"

#define READ_PAGE		1000
#define READ_TIMEOUT_MS		5000
/*
 * A watch that says nothing for this long (a caught-up watch hears of
 * progress every second) is started again; for twice as long each time
 * after that, up to a minute, until it catches up: one that must first
 * bring a huge backlog (a node's 100,000 names gone at once) is let be.
 */
#define WATCH_QUIET_MS		5000
#define WATCH_QUIET_MAX_MS	60000
#define WATCH_RETRY_MS		300

void watch_key(struct kregd *d, const char *name, char *key, size_t size)
{
	snprintf(key, size, "%s%s", d->names_prefix, name);
}

static void kernel_name(const char *name, char *kname, size_t size)
{
	snprintf(kname, size, "%s%s", KREG_CLUSTER_PREFIX, name);
}

/*
 * The name a key is for, or NULL when it is not a name's key, or not one
 * that the kernel would take (whoever may write to etcd decides what
 * comes here): 1 to KREG_NAME_MAX bytes with the cluster's prefix,
 * by the names' grammar.
 */
static const char *name_of_key(struct kregd *d, const char *key)
{
	size_t n = strlen(d->names_prefix), len;
	const char *name;

	if (strncmp(key, d->names_prefix, n) || !key[n])
		return NULL;
	name = key + n;
	len = strlen(name);
	if (len > KREG_NAME_MAX - strlen(KREG_CLUSTER_PREFIX))
		return NULL;
	return kreg_name_problem_of(name, len) ? NULL : name;
}

static const char *node_of_key(struct kregd *d, const char *key)
{
	size_t n = strlen(d->nodes_prefix);

	return strncmp(key, d->nodes_prefix, n) || !key[n] ? NULL : key + n;
}

/* A kv's key, decoded, into @key. */
static int kv_key(struct json_object *kv, char *key, size_t size)
{
	struct json_object *k = etcd_get(kv, "key");
	size_t len;

	if (!k || etcd_unb64(json_object_get_string(k), key, size - 1, &len) ||
	    memchr(key, '\0', len))
		return -EINVAL;
	key[len] = '\0';
	return 0;
}

/* What a name's value says of its holder: {"node", "pid", "uid", "meta", "claim"}. */
int watch_parse_kv(struct json_object *kv, struct kv_holder *h)
{
	struct json_object *v = etcd_get(kv, "value"), *value, *meta;
	char raw[2048];
	size_t len;
	int err = -EINVAL;

	if (!v || etcd_unb64(json_object_get_string(v), raw, sizeof(raw) - 1, &len))
		return -EINVAL;
	raw[len] = '\0';
	value = json_tokener_parse(raw);
	if (!value || !kregd_node_name_ok(json_object_get_string(etcd_get(value, "node"))))
		goto out;
	memset(h, 0, sizeof(*h));
	strcpy(h->holder.node, json_object_get_string(etcd_get(value, "node")));
	h->holder.pid = (int32_t)etcd_get_i64(value, "pid");
	h->holder.uid = (uint32_t)etcd_get_i64(value, "uid");
	h->token = etcd_get_i64(kv, "create_revision");
	h->lease = etcd_get_i64(kv, "lease");
	h->holder.token = (uint64_t)h->token;
	h->claim_id = (uint64_t)strtoull(etcd_get(value, "claim") ?
					 json_object_get_string(etcd_get(value, "claim")) : "0",
					 NULL, 16);
	meta = etcd_get(value, "meta");
	if (meta && etcd_unb64(json_object_get_string(meta), h->meta, sizeof(h->meta), &len) == 0)
		h->meta_len = (uint32_t)len;
	err = 0;
out:
	json_object_put(value);
	return err;
}

static bool mine(struct kregd *d, const struct name_rec *r)
{
	return !strcmp(r->holder.node, d->c.node);
}

/* Mirrors @r, held on another node, into the kernel. */
static void mirror(struct kregd *d, struct name_rec *r)
{
	char kname[KREG_NAME_MAX + 16];
	int err;

	kernel_name(r->name, kname, sizeof(kname));
	err = relay_mirror(d->relay, kname, r->holder.node, r->holder.pid, (uint64_t)r->token,
			   r->meta, r->meta_len);
	if (err == -EEXIST) {
		/*
		 * A process of this node holds the name here, and etcd says
		 * another node does: this node's key went without kregd seeing
		 * it. The cluster decided: this node's holder is fenced.
		 */
		kregd_log(LOG_WARNING, "%s: held here, but node %s holds it in the cluster: fencing",
			  r->name, r->holder.node);
		relay_fence(d->relay, kname);
		err = relay_mirror(d->relay, kname, r->holder.node, r->holder.pid,
				   (uint64_t)r->token, r->meta, r->meta_len);
	}
	if (err)
		kregd_log(LOG_WARNING, "%s: cannot mirror it: %s", r->name, strerror(-err));
}

static void apply_put(struct kregd *d, const char *name, struct json_object *kv, int64_t rev)
{
	struct name_rec *r = copy_get(&d->copy, name);
	struct kv_holder parsed;
	bool was_local;

	if (!r || (r->present && r->rev >= rev) || (!r->present && r->rev > rev))
		return;
	if (watch_parse_kv(kv, &parsed)) {
		kregd_log(LOG_WARNING, "%s: a value kregd cannot read: ignored", name);
		return;
	}
	was_local = r->local && r->present;
	if (was_local && r->token == parsed.token) {
		r->rev = rev;	/* this node's own claim, seen coming back */
		return;
	}
	r->present = true;
	r->rev = rev;
	r->token = parsed.token;
	r->lease = parsed.lease;
	r->holder = parsed.holder;
	r->claim_id = parsed.claim_id;
	copy_set_meta(r, parsed.meta, parsed.meta_len);
	if (mine(d, r)) {
		/* A claim of this node's in flight is claims.c's to commit; others are strays. */
		if (d->adopted && !was_local && !claims_in_flight(name, parsed.claim_id))
			claims_delete_stray(d, name, r->token);
		return;
	}
	if (was_local) {
		r->local = false;
		claims_holder_died(d, r);
	}
	mirror(d, r);
}

static void apply_delete(struct kregd *d, const char *name, int64_t rev, int reason)
{
	struct name_rec *r = copy_find(&d->copy, name);
	char kname[KREG_NAME_MAX + 16];

	if (!r) {
		r = copy_get(&d->copy, name);
		if (r)
			r->rev = rev;
		return;
	}
	if (r->rev >= rev)
		return;
	kernel_name(name, kname, sizeof(kname));
	if (r->present && r->local) {
		if (!r->releasing) {
			/* Its key went under it (lease lost, or deleted by hand): no holder. */
			kregd_log(LOG_WARNING, "%s: this node's key is gone from etcd: fencing its holder",
				  name);
			relay_fence(d->relay, kname);
		}
		r->local = false;
		claims_holder_died(d, r);
	} else if (r->present && !mine(d, r)) {
		relay_unmirror(d->relay, kname, (uint64_t)r->token, reason);
	}
	r->present = false;
	r->rev = rev;
}

void watch_apply(struct kregd *d, const char *name, struct json_object *kv, int64_t rev,
		 int reason)
{
	if (kv)
		apply_put(d, name, kv, etcd_get_i64(kv, "mod_revision"));
	else
		apply_delete(d, name, rev, reason);
}

/* The kernel dates the copy on CLOCK_BOOTTIME, kregd's clock too: in ns. */
static uint64_t boottime_of(uint64_t ms)
{
	return ms * 1000000ULL;
}

/*
 * The copy is known current as of @sent_ms, when a request that the
 * cluster's quorum answered (a linearizable read) said the cluster was at
 * @revision, once the watch has delivered that revision. A member's own
 * progress notifications prove nothing: a member cut off from the quorum
 * still sends them.
 */
void watch_confirmed(struct kregd *d, int64_t revision, uint64_t sent_ms)
{
	if (revision > d->revision) {
		/* Not yet delivered: confirmed when the watch gets there. */
		if (revision > d->confirm_revision) {
			d->confirm_revision = revision;
			d->confirm_sent_ms = sent_ms;
		}
		return;
	}
	if (sent_ms <= d->heard_ms)
		return;
	d->heard_ms = sent_ms;
	relay_progress(d->relay, (uint64_t)d->revision, boottime_of(sent_ms));
}

static void progress(struct kregd *d, int64_t revision)
{
	if (revision > d->revision)
		d->revision = revision;
	if (d->confirm_revision && d->revision >= d->confirm_revision) {
		d->confirm_revision = 0;
		watch_confirmed(d, d->revision, d->confirm_sent_ms);
	}
}

/* --- the watch ------------------------------------------------------------- */

static void watch_from(struct kregd *d, int64_t revision);
static void read_all(struct kregd *d);

/*
 * Nodes whose record went (their lease did), with the revision it went at:
 * their names, deleted at that revision, went with the node. Found once
 * per message (a lease's keys all go at one revision, which can be
 * 100,000 events in a few fragments), remembered for the next fragments.
 */
#define LOST_MAX	8
static struct {
	char node[KREG_NODE_MAX + 1];
	int64_t rev;
} lost[LOST_MAX];
static unsigned int lost_next;

static void find_lost_nodes(struct kregd *d, struct json_object *events, size_t n)
{
	char key[512];
	size_t i;

	for (i = 0; i < n; i++) {
		struct json_object *ev = json_object_array_get_idx(events, i);
		struct json_object *kv = etcd_get(ev, "kv");
		const char *type = json_object_get_string(etcd_get(ev, "type"));
		const char *which;

		if (!type || strcmp(type, "DELETE") || kv_key(kv, key, sizeof(key)))
			continue;
		which = node_of_key(d, key);
		if (!which || strlen(which) > KREG_NODE_MAX)
			continue;
		strcpy(lost[lost_next % LOST_MAX].node, which);
		lost[lost_next % LOST_MAX].rev = etcd_get_i64(kv, "mod_revision");
		lost_next++;
	}
}

static bool node_lost(const char *node, int64_t rev)
{
	unsigned int i;

	for (i = 0; i < LOST_MAX; i++)
		if (lost[i].rev == rev && !strcmp(lost[i].node, node))
			return true;
	return false;
}

static void watch_event(struct kregd *d, struct json_object *ev)
{
	struct json_object *kv = etcd_get(ev, "kv");
	const char *type = json_object_get_string(etcd_get(ev, "type"));
	int64_t rev = etcd_get_i64(kv, "mod_revision");
	struct name_rec *r;
	const char *name;
	char key[512];

	if (kv_key(kv, key, sizeof(key)))
		return;
	/* A node's record: the cluster's members, whom multi_send reaches. */
	if (node_of_key(d, key)) {
		peers_member(d, node_of_key(d, key), !type || strcmp(type, "DELETE"));
		return;
	}
	name = name_of_key(d, key);
	if (!name)
		return;
	if (!type || strcmp(type, "DELETE")) {
		apply_put(d, name, kv, rev);
		return;
	}
	/* Whose it was, the copy knows: no need for etcd to send the key's last value. */
	r = copy_find(&d->copy, name);
	apply_delete(d, name, rev, r && r->present && node_lost(r->holder.node, rev) ?
		     KREG_REASON_NODE_LOST : KREG_REASON_REMOTE);
}

/*
 * The watch's messages wait here, in order, as the text they came as, to
 * be applied a slice at a time (watch_work()): a node's lease can take
 * 100,000 names at once, and applying them must never keep kregd's loop
 * from its keepalives.
 */
struct watch_msg {
	struct watch_msg *next;
	struct json_object *msg;	/* parsed when its turn comes */
	size_t done;			/* events applied so far */
	size_t len;
	char text[];
};

static struct watch_msg *queue, **queue_tail = &queue;

static void msg_free(struct watch_msg *m)
{
	json_object_put(m->msg);
	free(m);
}

static void queue_drop(void)
{
	struct watch_msg *m, *next;

	for (m = queue; m; m = next) {
		next = m->next;
		msg_free(m);
	}
	queue = NULL;
	queue_tail = &queue;
}

/* A message applied whole: how far the copy is now. */
static void watch_msg_applied(struct kregd *d, struct json_object *result, size_t n)
{
	struct json_object *events = etcd_get(result, "events");

	/*
	 * Not the header's revision when events came: a batch caught up from
	 * the past carries the store's revision, ahead of its events (etcd
	 * sends at most 1,000 revisions a batch), so the copy is as of its
	 * last event. Nor when the watch was just created. A progress
	 * notification, sent only to a watch that has caught up, says where
	 * the store is. A fragment (of a revision too large for one message)
	 * leaves the rest of its revision to come.
	 */
	if (etcd_get_bool(result, "fragment") || etcd_get_bool(result, "created"))
		return;
	if (n) {
		progress(d, etcd_get_i64(etcd_get(json_object_array_get_idx(events, n - 1), "kv"),
					 "mod_revision"));
	} else {
		progress(d, etcd_get_i64(etcd_get(result, "header"), "revision"));
		d->watch_quiet_ms = WATCH_QUIET_MS;	/* caught up */
	}
}

/* Its result, parsed now; NULL, and the watch to be started again, if it cannot be. */
static struct json_object *msg_result(struct kregd *d, struct watch_msg *m)
{
	struct json_object *result = NULL;

	if (!m->msg)
		m->msg = json_tokener_parse(m->text);
	if (!m->msg || !json_object_object_get_ex(m->msg, "result", &result)) {
		kregd_log(LOG_WARNING, "the watch said what kregd cannot read: reading everything again");
		d->watch_cancelled = true;
		return NULL;
	}
	if (etcd_get_bool(result, "canceled")) {
		int64_t compacted = etcd_get_i64(result, "compact_revision");

		kregd_log(LOG_WARNING, "the watch was cancelled (%s): reading everything again",
			  compacted ? "its revision was compacted" : "by etcd");
		/* The stream stays open: watch_tick() ends it. */
		d->watch_cancelled = true;
		return NULL;
	}
	return result;
}

/* Events applied since the queue was last empty. */
static size_t burst;

bool watch_work(struct kregd *d, unsigned int budget_ms)
{
	uint64_t until = kregd_now_ms() + budget_ms;
	struct watch_msg *m;

	if (!queue && burst > 10000) {
		/* A burst's messages are freed: their memory goes back, not kept for the next. */
		malloc_trim(0);
		burst = 0;
	} else if (!queue) {
		burst = 0;
	}
	while ((m = queue) && !d->watch_cancelled) {
		struct json_object *result = msg_result(d, m), *events;
		size_t n;

		if (!result)
			break;
		events = etcd_get(result, "events");
		n = events ? json_object_array_length(events) : 0;
		if (!m->done)
			find_lost_nodes(d, events, n);
		while (m->done < n) {
			watch_event(d, json_object_array_get_idx(events, m->done++));
			burst++;
			if (m->done % 64 == 0 && kregd_now_ms() >= until)
				return true;
		}
		watch_msg_applied(d, result, n);
		queue = m->next;
		if (!queue)
			queue_tail = &queue;
		msg_free(m);
		if (kregd_now_ms() >= until)
			break;
	}
	return queue != NULL && !d->watch_cancelled;
}

static void watch_line(void *arg, const char *line, size_t len)
{
	struct kregd *d = arg;
	struct watch_msg *m = malloc(sizeof(*m) + len + 1);

	if (!m) {
		/* Lost: the watch starts again from what was applied. */
		d->watch_cancelled = true;
		return;
	}
	m->next = NULL;
	m->msg = NULL;
	m->done = 0;
	m->len = len;
	memcpy(m->text, line, len + 1);
	*queue_tail = m;
	queue_tail = &m->next;
}

static void watch_done(void *arg, int err, struct json_object *reply)
{
	struct kregd *d = arg;

	(void)reply;
	d->watch = NULL;
	if (d->stopping)
		return;
	if (err)
		kregd_log(LOG_DEBUG, "watch ended: %s", strerror(-err));
	/* Again soon, on whichever endpoint answers: from where it was, if it knows. */
	d->watch_restart_ms = kregd_now_ms() + WATCH_RETRY_MS;
}

static void watch_from(struct kregd *d, int64_t revision)
{
	struct json_object *body = json_object_new_object(), *create = json_object_new_object();
	char end[200];

	/* Names and nodes: the whole /kreg/CLUSTER/ prefix. */
	etcd_prefix_end(d->cluster_prefix, end, sizeof(end));
	etcd_put_b64(create, "key", d->cluster_prefix, strlen(d->cluster_prefix));
	etcd_put_b64(create, "range_end", end, strlen(end));
	etcd_put_i64(create, "start_revision", revision);
	json_object_object_add(create, "progress_notify", json_object_new_boolean(1));
	/* A node's lease can take 100,000 names at one revision: in pieces, please. */
	json_object_object_add(create, "fragment", json_object_new_boolean(1));
	json_object_object_add(body, "create_request", create);
	/* What was received and not yet applied comes again, from @revision on. */
	queue_drop();
	d->watch = etcd_stream(d->etcd, "/v3/watch", body, watch_line, watch_done, d);
}

/* --- reading everything ------------------------------------------------------ */

struct reading {
	struct kregd *d;
	int64_t revision;		/* the revision the read is at */
	struct copy seen;		/* names read so far */
};

static void read_page(struct reading *rd, const char *from);

static void forget_unseen(struct name_rec *r, void *arg)
{
	struct reading *rd = arg;

	if (r->present && !copy_find(&rd->seen, r->name))
		apply_delete(rd->d, r->name, rd->revision, KREG_REASON_REMOTE);
}

/* Mirrors the kernel has that the cluster no longer does go. */
static int forget_unknown_mirror(const struct relay_entry *e, void *arg)
{
	struct kregd *d = arg;
	const char *name = e->name + sizeof(KREG_CLUSTER_PREFIX) - 1;
	struct name_rec *r = copy_find(&d->copy, name);

	if (e->remote && (!r || !r->present || (uint64_t)r->token != e->token))
		relay_unmirror(d->relay, e->name, e->token, KREG_REASON_REMOTE);
	return 0;
}

static void read_page_done(void *arg, int err, struct json_object *reply)
{
	struct reading *rd = arg;
	struct kregd *d = rd->d;
	struct json_object *kvs = etcd_get(reply, "kvs");
	char key[512] = "";
	size_t i, n = kvs ? json_object_array_length(kvs) : 0;

	if (err) {
		kregd_log(LOG_WARNING, "cannot read the cluster's names: %s; again soon",
			  strerror(-err));
		copy_free(&rd->seen);
		free(rd);
		d->reading = false;
		d->watch_restart_ms = kregd_now_ms() + WATCH_RETRY_MS;
		return;
	}
	if (!rd->revision)
		rd->revision = etcd_get_i64(etcd_get(reply, "header"), "revision");
	for (i = 0; i < n; i++) {
		struct json_object *kv = json_object_array_get_idx(kvs, i);
		const char *name;

		if (kv_key(kv, key, sizeof(key)))
			continue;
		if (node_of_key(d, key))
			peers_member(d, node_of_key(d, key), true);
		name = name_of_key(d, key);
		if (!name)
			continue;
		copy_get(&rd->seen, name);
		apply_put(d, name, kv, etcd_get_i64(kv, "mod_revision"));
	}
	if (etcd_get_bool(reply, "more") && n) {
		/* The next page starts just after the last key. */
		size_t len = strlen(key);

		if (len + 1 < sizeof(key)) {
			key[len] = '\0';
			read_page(rd, key);
			return;
		}
	}
	/* Names the copy had that the cluster no longer has are gone. */
	copy_for_each(&d->copy, forget_unseen, rd);
	relay_list(d->relay, forget_unknown_mirror, d);
	copy_free(&rd->seen);
	d->reading = false;
	d->synced = true;
	progress(d, rd->revision);
	kregd_log(LOG_INFO, "cluster names read at revision %lld; watching",
		  (long long)rd->revision);
	watch_from(d, rd->revision + 1);
	claims_adopt(d);
	free(rd);
}

static void read_page(struct reading *rd, const char *from)
{
	struct kregd *d = rd->d;
	struct json_object *body = json_object_new_object();
	char end[200];

	/* Names and nodes, as the watch has them: the members are read too (multi_send). */
	etcd_prefix_end(d->cluster_prefix, end, sizeof(end));
	if (from) {
		/* From just after @from: the key with a NUL byte appended. */
		char after[512];
		size_t len = strlen(from);

		memcpy(after, from, len);
		after[len] = '\0';
		etcd_put_b64(body, "key", after, len + 1);
	} else {
		etcd_put_b64(body, "key", d->cluster_prefix, strlen(d->cluster_prefix));
	}
	etcd_put_b64(body, "range_end", end, strlen(end));
	etcd_put_i64(body, "limit", READ_PAGE);
	if (rd->revision)
		etcd_put_i64(body, "revision", rd->revision);
	etcd_call(d->etcd, "/v3/kv/range", body, READ_TIMEOUT_MS, read_page_done, rd);
}

static void read_all(struct kregd *d)
{
	struct reading *rd = calloc(1, sizeof(*rd));

	queue_drop();

	if (!rd)
		return;
	rd->d = d;
	d->reading = true;
	read_page(rd, NULL);
}

void watch_start(struct kregd *d)
{
	read_all(d);
}

/* Tombstones older than what the watch has passed can no longer matter. */
static void prune(struct name_rec *r, void *arg)
{
	struct kregd *d = arg;

	if (!r->present && r->pidfd < 0 && r->rev <= d->revision)
		copy_drop(&d->copy, r);
}

void watch_tick(struct kregd *d)
{
	uint64_t now = kregd_now_ms();

	if (d->reading)
		return;
	if (d->watch && d->watch_cancelled) {
		etcd_cancel(d->etcd, d->watch);
		d->watch = NULL;
		d->watch_cancelled = false;
		read_all(d);
		return;
	}
	if (!d->watch_quiet_ms)
		d->watch_quiet_ms = WATCH_QUIET_MS;
	if (d->watch && etcd_stream_quiet_ms(d->watch) > d->watch_quiet_ms) {
		kregd_log(LOG_INFO, "the watch has said nothing for %u ms: starting it again",
			  d->watch_quiet_ms);
		d->watch_quiet_ms = d->watch_quiet_ms * 2 < WATCH_QUIET_MAX_MS ?
				    d->watch_quiet_ms * 2 : WATCH_QUIET_MAX_MS;
		etcd_cancel(d->etcd, d->watch);
		d->watch = NULL;
		d->watch_restart_ms = now;
	}
	if (!d->watch && now >= d->watch_restart_ms) {
		if (d->synced && d->revision)
			watch_from(d, d->revision + 1);
		else
			read_all(d);
	}
	if (now >= d->prune_at_ms) {
		copy_for_each(&d->copy, prune, d);
		d->prune_at_ms = now + 5000;
	}
}
