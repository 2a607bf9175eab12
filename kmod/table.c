// SPDX-License-Identifier: GPL-2.0
/*
 * The kreg name table.
 *
 * Five indices over one set of entries, all changed under the table lock:
 *  - names (rhashtable, name -> entry): lock-free lookups under RCU;
 *  - ids (xarray, id -> entry): a stable order for dumps, which resume at the
 *    next id, so a dump of any size neither repeats nor skips an entry that
 *    lives through it, whatever the names table does meanwhile;
 *  - holders (holders.c, struct pid -> its names): everything one process
 *    holds, released without a scan when it dies;
 *  - mailboxes (mailbox.c, (net, portid) -> its names): everything one
 *    socket receives for, so a closing socket costs one lookup;
 *  - quotas (hash, account -> count and entries): the quota each account's
 *    names count toward (access.c's kreg_account(): a uid, or a container),
 *    and the entries quota reclaim walks under RCU.
 *
 * What changes is told to the table's listeners (the view, the events)
 * through one hook, under the lock, in order: this file calls nothing
 * above it. Entries are freed after an RCU grace period.
 */
#include <linux/ctype.h>
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/overflow.h>
#include <linux/pid_namespace.h>
#include <linux/rhashtable.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "access.h"
#include "holders.h"
#include "mailbox.h"
#include "policy.h"
#include "table.h"
#include "trace.h"

unsigned int kreg_max_entries = 1U << 20;
unsigned int kreg_max_per_uid = 4096;

/* Entries handled per hold of the table lock in the batched paths. */
#define KREG_LOCK_BATCH		64

struct kreg_quota {
	struct hlist_node	node;
	u64			account;
	unsigned int		count;
	struct hlist_head	entries;	/* RCU, for reclaim */
	struct rcu_head		rcu;
};

/* Allocated before the table lock is taken; whatever is not used is freed after. */
struct kreg_spares {
	struct kreg_holder	*holder;
	struct kreg_mailbox	*mbox;
	struct kreg_quota	*quota;
};

struct kreg_name_key {
	const char	*name;
	size_t		len;
};

/*
 * Entries come from size classes so that a short name does not pay for the
 * longest one. Each class is a slab cache of the module's own, charged to
 * the memory cgroup of whoever registers (SLAB_ACCOUNT).
 */
static const unsigned int kreg_entry_sizes[] = { 128, 192, 256, 512, 1024 };
static const char *const kreg_entry_cache_names[] = {
	"kreg_entry_128", "kreg_entry_192", "kreg_entry_256", "kreg_entry_512",
	"kreg_entry_1024",
};

static struct kmem_cache *kreg_entry_caches[ARRAY_SIZE(kreg_entry_sizes)];

static struct rhashtable kreg_names;
static DEFINE_XARRAY_ALLOC1(kreg_ids);
static u32 kreg_next_id;
static DEFINE_HASHTABLE(kreg_quotas, 6);
static unsigned int kreg_nr_entries;
static bool kreg_closing;
/* Changes with every registration, removal and update: dumps tell when they raced one. */
static unsigned long kreg_generation;
static LIST_HEAD(kreg_listeners);
/* What the relay last said of the cluster names' copy (KREG_CMD_PROGRESS). */
static u64 kreg_cluster_revision;
static u64 kreg_cluster_heard_ns;

/* One table-wide reclaim at a time; a generation lets waiters reuse its result. */
static DEFINE_MUTEX(kreg_reclaim_lock);
static unsigned long kreg_reclaim_gen;

static void kreg_release_work_fn(struct work_struct *work);
static DECLARE_WORK(kreg_release_work, kreg_release_work_fn);

static u32 kreg_name_hash(const void *data, u32 len, u32 seed)
{
	const struct kreg_name_key *key = data;

	return jhash(key->name, key->len, seed);
}

static u32 kreg_name_obj_hash(const void *data, u32 len, u32 seed)
{
	const struct kreg_entry *e = data;

	return jhash(e->name, e->name_len, seed);
}

static int kreg_name_cmp(struct rhashtable_compare_arg *arg, const void *obj)
{
	const struct kreg_name_key *key = arg->key;
	const struct kreg_entry *e = obj;

	return e->name_len != key->len || memcmp(e->name, key->name, key->len);
}

static const struct rhashtable_params kreg_names_params = {
	.head_offset		= offsetof(struct kreg_entry, node),
	.hashfn			= kreg_name_hash,
	.obj_hashfn		= kreg_name_obj_hash,
	.obj_cmpfn		= kreg_name_cmp,
	.automatic_shrinking	= true,
};

void kreg_table_listen(struct kreg_table_listener *listener)
{
	list_add_tail(&listener->node, &kreg_listeners);
}

static void kreg_notify(const struct kreg_change *change)
{
	struct kreg_table_listener *l;

	lockdep_assert_held(&kreg_table_mutex);
	list_for_each_entry(l, &kreg_listeners, node)
		l->changed(change);
}

/*
 * A holder is alive until the last thread of its process has begun to exit.
 * A zombie, or a process between exit and reaping, is not alive: its name
 * must already read as absent.
 */
bool kreg_entry_alive(const struct kreg_entry *e)
{
	struct task_struct *task;
	bool alive;

	rcu_read_lock();
	task = pid_task(e->pid, PIDTYPE_TGID);
	alive = task && atomic_read(&task->signal->live) > 0;
	rcu_read_unlock();
	return alive;
}

pid_t kreg_entry_pid_in(const struct kreg_entry *e, struct pid_namespace *ns)
{
	return pid_nr_ns(e->pid, ns);
}

void kreg_entry_holder_in(const struct kreg_entry *e, struct pid_namespace *ns,
			  struct kreg_holder_info *h)
{
	h->flags = e->flags;
	h->token = e->token;
	if (kreg_entry_remote(e)) {
		h->pid = 0;
		h->remote_pid = e->remote_pid;
		h->node_len = e->node_len;
		memcpy(h->node, kreg_entry_node(e), e->node_len);
	} else {
		h->pid = kreg_entry_pid_in(e, ns);
		h->remote_pid = 0;
		h->node_len = 0;
	}
}

/*
 * An entry's memory, with its name, value and node in place and nothing
 * else: until it is filled, it holds no reference and is freed with
 * kreg_entry_discard().
 */
static struct kreg_entry *kreg_entry_new(const char *name, size_t len,
					 const void *meta, size_t meta_len,
					 const char *node, size_t node_len)
{
	size_t need = offsetof(struct kreg_entry, name) + len + 1 + meta_len +
		      node_len;
	struct kreg_entry *e;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kreg_entry_sizes); i++)
		if (need <= kreg_entry_sizes[i])
			break;
	if (WARN_ON_ONCE(i == ARRAY_SIZE(kreg_entry_sizes)))
		return NULL;

	e = kmem_cache_zalloc(kreg_entry_caches[i], GFP_KERNEL);
	if (!e)
		return NULL;
	e->size_class = i;
	e->name_len = len;
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->meta_len = meta_len;
	if (meta_len)
		memcpy(e->name + len + 1, meta, meta_len);
	e->node_len = node_len;
	if (node_len)
		memcpy(e->name + len + 1 + meta_len, node, node_len);
	e->view_rec = U32_MAX;
	INIT_HLIST_NODE(&e->holder_link);
	INIT_HLIST_NODE(&e->mbox_link);
	INIT_HLIST_NODE(&e->quota_link);
	INIT_LIST_HEAD(&e->queue);
	return e;
}

static void kreg_entry_discard(struct kreg_entry *e)
{
	kmem_cache_free(kreg_entry_caches[e->size_class], e);
}

static struct kreg_entry *kreg_entry_alloc(const struct kreg_request *req)
{
	struct kreg_entry *e;

	e = kreg_entry_new(req->name, req->name_len, req->meta, req->meta_len,
			   req->node, req->node_len);
	if (!e)
		return NULL;
	e->flags = req->flags;
	e->remote_pid = req->remote_pid;
	e->token = req->token;
	e->pid = get_pid(req->pid);
	e->cred = get_cred(req->who->cred);
	e->pid_ns = get_pid_ns(req->who->pid_ns);
	e->uid = req->who->uid;
	/*
	 * A mirror is the cluster's, not its relay's: it counts toward no
	 * account's quota (one of its own, which nobody is limited by).
	 */
	e->account = req->flags & KREG_F_REMOTE ? KREG_ACCOUNT_CLUSTER :
		     kreg_account(req->who->cred, req->who->pid_ns);
	e->registered_ns = ktime_get_real_ns();
	return e;
}

static void kreg_entry_free(struct kreg_entry *e)
{
	put_pid(e->pid);
	put_pid_ns(e->pid_ns);
	put_cred(e->cred);
	kreg_entry_discard(e);
}

static void kreg_entry_free_rcu(struct rcu_head *head)
{
	kreg_entry_free(container_of(head, struct kreg_entry, rcu));
}

static struct kreg_quota *kreg_quota_find(u64 account)
{
	struct kreg_quota *q;

	hash_for_each_possible_rcu(kreg_quotas, q, node, account,
				   kreg_table_lock_held())
		if (q->account == account)
			return q;
	return NULL;
}

static struct kreg_entry *kreg_lookup(const struct kreg_name_key *key)
{
	return rhashtable_lookup(&kreg_names, key, kreg_names_params);
}

static struct kreg_entry *kreg_lookup_locked(const struct kreg_name_key *key)
{
	lockdep_assert_held(&kreg_table_mutex);
	return rhashtable_lookup_fast(&kreg_names, key, kreg_names_params);
}

static void kreg_entry_detach_holder(struct kreg_entry *e)
{
	struct kreg_holder *holder = e->holder;

	if (!kreg_holder_detach_locked(holder, &e->holder_link))
		return;
	kreg_notify(&(struct kreg_change){ .kind = KREG_CHANGE_HOLDER_GONE,
					   .holder = holder });
	kreg_holder_drop(holder);
}

static void kreg_entry_detach_mailbox(struct kreg_entry *e)
{
	struct kreg_mailbox *mbox;

	mbox = rcu_dereference_protected(e->mbox, kreg_table_lock_held());
	if (!mbox)
		return;
	RCU_INIT_POINTER(e->mbox, NULL);
	kreg_mailbox_detach_locked(mbox, &e->mbox_link);
}

/* @e no longer counts toward its account's quota nor the table's size. */
static void kreg_entry_uncount(struct kreg_entry *e)
{
	struct kreg_quota *q;

	hlist_del_rcu(&e->quota_link);
	q = kreg_quota_find(e->account);
	if (!WARN_ON_ONCE(!q) && --q->count == 0) {
		hash_del_rcu(&q->node);
		kfree_rcu(q, rcu);
	}
	kreg_nr_entries--;
}

/* Lets go of @e's mailbox and holder, and frees it after a grace period. */
static void kreg_entry_let_go(struct kreg_entry *e)
{
	kreg_entry_detach_mailbox(e);
	kreg_entry_detach_holder(e);
	call_rcu(&e->rcu, kreg_entry_free_rcu);
}

/*
 * A place in line goes: no reader ever found it, so nobody is told but
 * the tracepoint. (Quota reclaim may be walking its quota link: hence the
 * grace period all the same.)
 */
static void kreg_line_leave(struct kreg_entry *w)
{
	list_del_init(&w->queue);
	/* Its id was only reserved. */
	xa_erase(&kreg_ids, w->id);
	kreg_entry_uncount(w);
	trace_kreg_queue(w->name, pid_nr(w->pid), from_kuid(&init_user_ns, w->uid),
			 KREG_LINE_LEFT);
	kreg_entry_let_go(w);
}

/*
 * Whether the place in line @w may take the name now: its process lives,
 * and the policy in force (which may have changed since it queued) lets
 * its registrant own the name.
 */
static bool kreg_line_may_hold(const struct kreg_entry *w)
{
	struct kreg_principal p;

	if (!kreg_entry_alive(w))
		return false;
	kreg_principal_cred(&p, w->cred, w->pid_ns, kreg_cred_admin(w->cred));
	return kreg_may_own(&p, w->name, w->name_len, w->flags & ~KREG_F_QUEUE, NULL);
}

/*
 * @e is going: the first in its line who may hold the name takes its place
 * in the names table and the ids, in one step, so that a reader finds @e
 * or its successor and never no name. Those before it in line who may not
 * (dead, or denied since) leave the line. The rest of the line is the
 * successor's. NULL when nobody in line may hold it.
 */
static struct kreg_entry *kreg_line_hand_over(struct kreg_entry *e)
{
	struct kreg_entry *w;

	while (!list_empty(&e->queue)) {
		w = list_first_entry(&e->queue, struct kreg_entry, queue);
		if (!kreg_line_may_hold(w)) {
			kreg_line_leave(w);
			continue;
		}
		/* Its state before readers can find it. */
		w->flags &= ~KREG_F_QUEUE;
		w->registered_ns = ktime_get_real_ns();
		/*
		 * One bucket's pointer for another: it cannot fail for an entry
		 * found under the lock, unless the table is not what the lock
		 * says; then @w leaves the line and @e goes with nobody after it.
		 */
		if (WARN_ON_ONCE(rhashtable_replace_fast(&kreg_names, &e->node, &w->node,
							 kreg_names_params))) {
			w->flags |= KREG_F_QUEUE;
			kreg_line_leave(w);
			return NULL;
		}
		list_del_init(&w->queue);
		list_splice_init(&e->queue, &w->queue);
		/*
		 * The holder's id, and so its place in a listing, which resumes
		 * by id: a name that never went is listed once. A store over a
		 * present entry allocates nothing; the reserved id is given back.
		 */
		xa_store(&kreg_ids, e->id, w, GFP_KERNEL);
		xa_erase(&kreg_ids, w->id);
		w->id = e->id;
		trace_kreg_queue(w->name, pid_nr(w->pid),
				 from_kuid(&init_user_ns, w->uid), KREG_LINE_HOLDS);
		return w;
	}
	return NULL;
}

/*
 * Takes @e out of every index, announces it and frees it after a grace
 * period. A held name with a line goes to the first in it who may hold it
 * (kreg_line_hand_over()); unloading empties the line instead.
 */
static void kreg_entry_unlink(struct kreg_entry *e, enum kreg_reason reason)
{
	struct kreg_entry *next = NULL;

	lockdep_assert_held(&kreg_table_mutex);

	if (kreg_entry_waiting(e)) {
		kreg_line_leave(e);
		return;
	}
	if (!kreg_closing)
		next = kreg_line_hand_over(e);
	while (!list_empty(&e->queue))
		kreg_line_leave(list_first_entry(&e->queue, struct kreg_entry, queue));
	/* Else its successor took its place in both. */
	if (!next) {
		rhashtable_remove_fast(&kreg_names, &e->node, kreg_names_params);
		xa_erase(&kreg_ids, e->id);
	}
	kreg_entry_uncount(e);
	kreg_generation++;

	trace_kreg_unregister(e->name, pid_nr(e->pid),
			      from_kuid(&init_user_ns, e->uid), reason);
	/* A claim never announced goes unannounced. */
	if (!kreg_entry_pending(e))
		kreg_notify(&(struct kreg_change){ .kind = KREG_CHANGE_UNREGISTERED,
						   .entry = e, .reason = reason,
						   .successor = next });
	if (next)
		kreg_notify(&(struct kreg_change){ .kind = KREG_CHANGE_REGISTERED,
						   .entry = next, .predecessor = e });
	kreg_entry_let_go(e);
}

/*
 * Stops @mbox being a mailbox: names bound to it go (reason "closed"), the
 * others stay registered without one. At most @limit entries (0: all);
 * true once the mailbox is gone.
 */
static bool kreg_close_mailbox_locked(struct kreg_mailbox *mbox, unsigned int limit)
{
	struct hlist_node *link;
	struct kreg_entry *e;
	unsigned int n = 0;
	bool last;

	do {
		if (limit && n++ == limit)
			return false;
		link = kreg_mailbox_first_locked(mbox);
		e = hlist_entry(link, struct kreg_entry, mbox_link);
		/*
		 * The last one takes the mailbox out of the index and drops
		 * its reference: from then on @mbox may be freed (a grace
		 * period can pass while an event sleeps), so it is not read.
		 */
		last = !link->next;
		if (e->flags & KREG_F_MAILBOX_BOUND)
			kreg_entry_unlink(e, KREG_REASON_CLOSED);
		else
			kreg_entry_detach_mailbox(e);
	} while (!last);
	return true;
}

/* Whether @req may add a name now: the limits, and the registrant's quota. */
static int kreg_check_limits(const struct kreg_request *req,
			     const struct kreg_quota *q)
{
	if (kreg_nr_entries >= READ_ONCE(kreg_max_entries))
		return -ENOSPC;
	if (!req->quota_exempt &&
	    (q ? q->count : 0) >= READ_ONCE(kreg_max_per_uid))
		return -EDQUOT;
	return 0;
}

static int kreg_attach_holder(struct kreg_entry *e, struct kreg_spares *spares)
{
	bool created;

	e->holder = kreg_holder_attach_locked(e->pid, &e->holder_link,
					      &spares->holder, &created);
	if (!e->holder)
		return -ENOMEM;
	/*
	 * Its word before its wake-up can matter: the caller checks the
	 * process is alive after this, so a death is either seen there or
	 * marks the word the view was just given.
	 */
	if (created)
		kreg_notify(&(struct kreg_change){ .kind = KREG_CHANGE_HOLDER_NEW,
						   .holder = e->holder });
	return 0;
}

/*
 * A port id belongs to one bound socket at a time: a mailbox of another
 * socket under this one's port id is left from a socket that has closed,
 * whose release notifier has not run yet. Close it first, before anything
 * of the table is looked up for this registration (its names may be the
 * last of a quota, or the name asked for), or that notifier would find
 * this socket's mailbox in its place.
 */
static void kreg_close_stale_mailbox(const struct kreg_request *req)
{
	struct kreg_mailbox *mbox;

	if (!req->mbox_sk)
		return;
	mbox = kreg_mailbox_lookup_locked(sock_net(req->mbox_sk), req->mbox_portid);
	if (mbox && !kreg_mailbox_of_socket(mbox, req->mbox_sk))
		kreg_close_mailbox_locked(mbox, 0);
}

static int kreg_attach_mailbox(struct kreg_entry *e, const struct kreg_request *req,
			       struct kreg_spares *spares)
{
	struct kreg_mailbox *mbox;

	mbox = kreg_mailbox_attach_locked(&e->mbox_link, req->mbox_sk,
					  req->mbox_portid, req->who->user_ns,
					  &spares->mbox);
	if (!mbox)
		return -ENOMEM;
	rcu_assign_pointer(e->mbox, mbox);
	return 0;
}

/*
 * A live @old holds the name @req asks for. A mirror replaces a claim of
 * this node (which has lost in the cluster) and a mirror of an earlier
 * holder; the same mirror again is -EALREADY. A claim meets a claim:
 * -EBUSY until the first is decided. Anything else is -EEXIST, with the
 * holder unless the registrant may not see it.
 */
static int kreg_displace_locked(struct kreg_entry *old,
				const struct kreg_request *req,
				struct kreg_holder_info *holder)
{
	if (req->flags & KREG_F_REMOTE) {
		if (kreg_entry_remote(old) && old->token == req->token)
			return -EALREADY;
		if (kreg_entry_remote(old)) {
			kreg_entry_unlink(old, KREG_REASON_REMOTE);
			return 0;
		}
		if (kreg_entry_pending(old)) {
			kreg_entry_unlink(old, KREG_REASON_EXPLICIT);
			return 0;
		}
	} else if ((req->flags & KREG_F_CLUSTER) && kreg_entry_pending(old)) {
		return -EBUSY;
	}
	memset(holder, 0, sizeof(*holder));
	if (!kreg_entry_pending(old) &&
	    kreg_access(req->who, old->name, old->name_len, KREG_RIGHT_SEE,
			KREG_OWNER_OF(old)))
		kreg_entry_holder_in(old, req->who->pid_ns, holder);
	return -EEXIST;
}

/* @e counts toward its account's quota (made from @spares' if it is the first) and the table. */
static void kreg_entry_count(struct kreg_entry *e, struct kreg_quota *q,
			     struct kreg_spares *spares)
{
	if (!q) {
		q = spares->quota;
		spares->quota = NULL;
		q->account = e->account;
		INIT_HLIST_HEAD(&q->entries);
		hash_add_rcu(kreg_quotas, &q->node, q->account);
	}
	q->count++;
	hlist_add_head_rcu(&e->quota_link, &q->entries);
	kreg_nr_entries++;
}

/*
 * Gives @e its holder and mailbox, and checks that its process still lives
 * once the holder is attached (then its death releases @e); unwinds and
 * fails otherwise.
 */
static int kreg_entry_attach(struct kreg_entry *e, const struct kreg_request *req,
			     struct kreg_spares *spares)
{
	int err;

	err = kreg_attach_holder(e, spares);
	if (err)
		return err;
	if (req->mbox_sk) {
		err = kreg_attach_mailbox(e, req, spares);
		if (err)
			goto detach_holder;
	}
	/*
	 * Pairs with the barrier in the exit path between the last thread's
	 * decrement of signal->live and the exit kfunc's holder lookup: either
	 * that lookup finds this entry, or this check sees the process dead.
	 */
	smp_mb();
	if (!kreg_entry_alive(e)) {
		err = -ESRCH;
		goto detach_mailbox;
	}
	return 0;

detach_mailbox:
	kreg_entry_detach_mailbox(e);
detach_holder:
	kreg_entry_detach_holder(e);
	return err;
}

/*
 * Puts @e last in @held's line (KREG_F_QUEUE): with a holder, a mailbox and
 * a quota share, as a name has, so that it goes as a name would, but in no
 * index a reader looks in. KREG_QUEUED, or why not: -EEXIST when @e's
 * process holds the name, -EALREADY when it waits for it already, -EUSERS
 * when KREG_LINE_MAX do.
 */
static int kreg_line_join(struct kreg_entry *held, struct kreg_entry *e,
			  const struct kreg_request *req, struct kreg_spares *spares)
{
	unsigned int waiting = 0;
	struct kreg_quota *q;
	struct kreg_entry *w;
	int err;

	if (held->pid == e->pid)
		return -EEXIST;
	/* The line is bounded, so that every walk of it under the lock is. */
	list_for_each_entry(w, &held->queue, queue) {
		if (w->pid == e->pid)
			return -EALREADY;
		waiting++;
	}
	if (waiting >= KREG_LINE_MAX)
		return -EUSERS;
	q = kreg_quota_find(e->account);
	err = kreg_check_limits(req, q);
	if (err)
		return err;
	e->flags |= KREG_F_QUEUE;
	err = kreg_entry_attach(e, req, spares);
	if (err)
		return err;
	kreg_entry_count(e, q, spares);
	list_add_tail(&e->queue, &held->queue);
	trace_kreg_queue(e->name, pid_nr(e->pid), from_kuid(&init_user_ns, e->uid),
			 KREG_LINE_JOINED);
	return KREG_QUEUED;
}

static int kreg_insert_locked(struct kreg_entry *e,
			      const struct kreg_request *req,
			      struct kreg_spares *spares,
			      struct kreg_holder_info *holder)
{
	struct kreg_name_key key = { .name = e->name, .len = e->name_len };
	struct kreg_quota *q;
	struct kreg_entry *old;
	int err;

	lockdep_assert_held(&kreg_table_mutex);

	if (kreg_closing)
		return -ESHUTDOWN;
	/*
	 * Judged again under the lock, against the policy in force now: a
	 * policy published (and its revocations done) since the request was
	 * first judged must not be slipped past. (A mirror is the relay's
	 * report of what the cluster decided, not an ownership.)
	 */
	if (!(req->flags & KREG_F_REMOTE) &&
	    !kreg_access_own(req->who, e->name, e->name_len,
			     req->flags & ~KREG_F_QUEUE))
		return -EACCES;
	kreg_close_stale_mailbox(req);

	old = kreg_lookup_locked(&key);
	if (old && !kreg_entry_alive(old)) {
		kreg_entry_unlink(old, KREG_REASON_EXITED);
		/* The first live process in its line, if any, holds it now. */
		old = kreg_lookup_locked(&key);
	}
	if (old) {
		err = kreg_displace_locked(old, req, holder);
		/* Only a name of this host's has a line (KREG_F_QUEUE). */
		if (err == -EEXIST && (req->flags & KREG_F_QUEUE) &&
		    !(old->flags & (KREG_F_CLUSTER | KREG_F_REMOTE)))
			return kreg_line_join(old, e, req, spares);
		if (err)
			return err;
	}

	q = kreg_quota_find(e->account);
	err = kreg_check_limits(req, q);
	if (err)
		return err;

	/* A name, not a place in line: the name was free. */
	e->flags &= ~KREG_F_QUEUE;
	err = kreg_entry_attach(e, req, spares);
	if (err)
		return err;
	/*
	 * Readers see the entry from here on, so this is the last step that
	 * may fail: an entry no reader ever saw can be freed at once.
	 */
	err = rhashtable_insert_fast(&kreg_names, &e->node, kreg_names_params);
	if (err) {
		kreg_entry_detach_mailbox(e);
		kreg_entry_detach_holder(e);
		return err;
	}

	kreg_entry_count(e, q, spares);
	kreg_generation++;
	/* The id was reserved outside the lock: this store allocates nothing. */
	xa_store(&kreg_ids, e->id, e, GFP_KERNEL);
	kreg_entry_holder_in(e, req->who->pid_ns, holder);
	/* A claim is announced when it is committed. */
	if (!kreg_entry_pending(e))
		kreg_notify(&(struct kreg_change){ .kind = KREG_CHANGE_REGISTERED,
						   .entry = e });
	return 0;
}

/*
 * Queues for release the dead holders of a quota's entries, or of every
 * entry and place in line (table full), and waits until they are released.
 * Without exit cleanup attached, this is what keeps dead processes from
 * holding quota and table space for ever. The quota's list is walked under
 * RCU, and the table under its lock (for the lines), KREG_LOCK_BATCH ids at
 * a time, one table scan at a time.
 */
static unsigned int kreg_reclaim_quota(u64 account)
{
	struct kreg_quota *q;
	unsigned int dead = 0;
	struct kreg_entry *e;

	rcu_read_lock();
	q = kreg_quota_find(account);
	if (q) {
		hlist_for_each_entry_rcu(e, &q->entries, quota_link) {
			if (kreg_entry_alive(e))
				continue;
			kreg_holder_queue_release(e->holder);
			dead++;
		}
	}
	rcu_read_unlock();
	return dead;
}

/* Queues for release the dead processes in @e's line (at most KREG_LINE_MAX). */
static unsigned int kreg_line_queue_dead(struct kreg_entry *e)
{
	unsigned int dead = 0;
	struct kreg_entry *w;

	lockdep_assert_held(&kreg_table_mutex);
	list_for_each_entry(w, &e->queue, queue) {
		if (kreg_entry_alive(w))
			continue;
		kreg_holder_queue_release(w->holder);
		dead++;
	}
	return dead;
}

static void kreg_reclaim_table(void)
{
	unsigned long id = 0, gen = READ_ONCE(kreg_reclaim_gen);
	unsigned int dead = 0, n;
	struct kreg_entry *e;

	mutex_lock(&kreg_reclaim_lock);
	/* A scan that ran while this one waited has done the work. */
	if (gen != kreg_reclaim_gen) {
		mutex_unlock(&kreg_reclaim_lock);
		return;
	}
	do {
		/* The lock, for the lines (KREG_F_QUEUE): their places count too. */
		kreg_lock_table();
		rcu_read_lock();
		for (n = 0; n < KREG_LOCK_BATCH &&
		     (e = xa_find(&kreg_ids, &id, ULONG_MAX, XA_PRESENT)); n++, id++) {
			dead += kreg_line_queue_dead(e);
			if (kreg_entry_alive(e))
				continue;
			kreg_holder_queue_release(e->holder);
			dead++;
		}
		rcu_read_unlock();
		kreg_unlock_table();
		cond_resched();
	} while (n == KREG_LOCK_BATCH);
	if (dead)
		kreg_holders_kick(true);
	WRITE_ONCE(kreg_reclaim_gen, gen + 1);
	mutex_unlock(&kreg_reclaim_lock);
}

static void kreg_reclaim(int err, u64 account)
{
	if (err == -ENOSPC)
		kreg_reclaim_table();
	else if (kreg_reclaim_quota(account))
		kreg_holders_kick(true);
}

int kreg_table_register(const struct kreg_request *req,
			struct kreg_holder_info *holder)
{
	struct kreg_spares spares = {};
	struct kreg_entry *e;
	int err;

	e = kreg_entry_alloc(req);
	if (!e)
		return -ENOMEM;

	err = xa_alloc_cyclic(&kreg_ids, &e->id, NULL, xa_limit_32b,
			      &kreg_next_id, GFP_KERNEL);
	if (err < 0)
		goto free_entry;

	err = -ENOMEM;
	spares.holder = kreg_holder_spare();
	spares.quota = kzalloc(sizeof(*spares.quota), GFP_KERNEL_ACCOUNT);
	if (req->mbox_sk)
		spares.mbox = kreg_mailbox_spare();
	if (!spares.holder || !spares.quota || (req->mbox_sk && !spares.mbox))
		goto free_spares;

	kreg_lock_table();
	err = kreg_insert_locked(e, req, &spares, holder);
	kreg_unlock_table();
	/*
	 * A limit hit: take back what dead processes still count for, then try
	 * once more, even if this reclaim found nothing: another request that
	 * hit the limit with this one may have taken them back meanwhile.
	 */
	if (err == -ENOSPC || err == -EDQUOT) {
		kreg_reclaim(err, e->account);
		kreg_lock_table();
		err = kreg_insert_locked(e, req, &spares, holder);
		kreg_unlock_table();
	}

free_spares:
	kreg_holder_free_spare(spares.holder);
	kreg_mailbox_free_spare(spares.mbox);
	kfree(spares.quota);
	if (err >= 0)
		return err;
	xa_erase(&kreg_ids, e->id);
free_entry:
	kreg_entry_free(e);
	return err;
}

/*
 * Removes the entry for @key if its holder has died since it was looked up.
 * True when a live process holds the name after: the first in the dead
 * holder's line, which a lookup that found the dead one may ask again for.
 */
static bool kreg_drop_if_dead(const struct kreg_name_key *key)
{
	struct kreg_entry *e;
	bool held;

	kreg_lock_table();
	e = kreg_lookup_locked(key);
	if (e && !kreg_entry_alive(e)) {
		kreg_entry_unlink(e, KREG_REASON_EXITED);
		e = kreg_lookup_locked(key);
	}
	held = e && kreg_entry_alive(e);
	kreg_unlock_table();
	return held;
}

bool kreg_table_owner(const char *name, size_t len, struct kreg_owner *owner)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct kreg_entry *e;
	bool held;

	rcu_read_lock();
	e = kreg_lookup(&key);
	held = e && kreg_entry_alive(e);
	if (held)
		*owner = *KREG_OWNER_OF(e);
	rcu_read_unlock();
	return held;
}

bool kreg_table_owned_by(const char *name, size_t len,
			 const struct kreg_principal *p)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct kreg_entry *e;
	bool owned;

	rcu_read_lock();
	e = kreg_lookup(&key);
	owned = !e || kreg_principal_owns(p, KREG_OWNER_OF(e));
	rcu_read_unlock();
	return owned;
}

/*
 * A lookup that misses does the work of one that finds a name it may not
 * see (the policy's decision), so that how long it takes tells nobody
 * whether a hidden name exists.
 */
static void kreg_decide_as_if_held(struct kreg_principal *p, const char *name,
				   size_t len)
{
	struct kreg_owner nobody = { .uid = INVALID_UID };

	kreg_may(p, name, len, KREG_RIGHT_SEE, &nobody, NULL);
}

/*
 * Whether @p may know of @e: the name's SEE right, and its holder in @p's
 * pid namespace. A claim is its claimant's business alone.
 */
static bool kreg_visible(struct kreg_principal *p, const struct kreg_entry *e)
{
	if (kreg_entry_pending(e) && !kreg_principal_owns(p, KREG_OWNER_OF(e)))
		return false;
	return kreg_entry_pid_in(e, p->pid_ns) &&
	       kreg_access(p, e->name, e->name_len, KREG_RIGHT_SEE, KREG_OWNER_OF(e));
}

/*
 * Under the lock: @key's entry, for a change @p asks (UNREGISTER, UPDATE):
 * -ENOENT when it is absent, dead (then released) or hidden from @p,
 * -EREMOTE for a mirror, -EPERM when @p did not register it (but @admin).
 */
static int kreg_lookup_for_change(const struct kreg_name_key *key,
				  struct kreg_principal *p, bool admin,
				  struct kreg_entry **found)
{
	struct kreg_entry *e = kreg_lookup_locked(key);

	if (!e) {
		/* As long as for a name @p may not see: timing tells nothing. */
		kreg_decide_as_if_held(p, key->name, key->len);
		return -ENOENT;
	}
	if (!kreg_entry_alive(e)) {
		kreg_entry_unlink(e, KREG_REASON_EXITED);
		return -ENOENT;
	}
	if (!kreg_visible(p, e))
		return -ENOENT;
	/* Its holder's node releases or changes it; this node only mirrors it. */
	if (kreg_entry_remote(e))
		return -EREMOTE;
	if (!admin && !kreg_principal_owns(p, KREG_OWNER_OF(e)))
		return -EPERM;
	*found = e;
	return 0;
}

/* The calling process's place in @e's line, if @p queued it. */
static struct kreg_entry *kreg_line_place_of_caller(struct kreg_entry *e,
						    const struct kreg_principal *p)
{
	struct kreg_entry *w;

	list_for_each_entry(w, &e->queue, queue)
		if (w->pid == task_tgid(current) &&
		    kreg_principal_owns(p, KREG_OWNER_OF(w)))
			return w;
	return NULL;
}

int kreg_table_leave_line(const char *name, size_t len, struct kreg_principal *p)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct kreg_entry *e, *w = NULL;

	kreg_lock_table();
	e = kreg_lookup_locked(&key);
	/*
	 * Only a name @p may see has its line walked: how long a hidden
	 * name's line is tells nobody anything, not even by the time taken.
	 */
	if (e && !list_empty(&e->queue) && kreg_visible(p, e))
		w = kreg_line_place_of_caller(e, p);
	if (w)
		kreg_line_leave(w);
	kreg_unlock_table();
	return w ? 0 : -ENOENT;
}

int kreg_table_unregister(const char *name, size_t len, struct kreg_principal *p,
			  bool admin)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct kreg_entry *e;
	int err = 0;

	kreg_lock_table();
	err = kreg_lookup_for_change(&key, p, admin, &e);
	if (!err)
		kreg_entry_unlink(e, KREG_REASON_EXPLICIT);
	kreg_unlock_table();
	return err;
}

void kreg_table_release_own(const char *name, size_t len,
			    const struct kreg_principal *p)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct kreg_entry *e;

	kreg_lock_table();
	e = kreg_lookup_locked(&key);
	if (e && e->pid == task_tgid(current) &&
	    kreg_principal_owns(p, KREG_OWNER_OF(e)))
		kreg_entry_unlink(e, KREG_REASON_EXPLICIT);
	kreg_unlock_table();
}

/*
 * @new, a copy of @old's name with another value, takes @old's place in
 * every index, as @old's holder, mailbox, quota, id and view record: a
 * reader that found @old under RCU reads it whole, one that comes after
 * finds @new, and none finds no name. Announced as KREG_CHANGE_UPDATED;
 * @old is freed after a grace period. On failure nothing changed, and
 * @new, never seen, is the caller's to free.
 */
static int kreg_entry_replace(struct kreg_entry *old, struct kreg_entry *new)
{
	int err;

	lockdep_assert_held(&kreg_table_mutex);

	new->pid = get_pid(old->pid);
	new->cred = get_cred(old->cred);
	new->pid_ns = get_pid_ns(old->pid_ns);
	new->holder = old->holder;
	new->uid = old->uid;
	new->account = old->account;
	new->id = old->id;
	new->view_rec = old->view_rec;
	new->registered_ns = old->registered_ns;
	new->token = old->token;
	new->remote_pid = old->remote_pid;
	new->flags = old->flags;
	RCU_INIT_POINTER(new->mbox,
			 rcu_dereference_protected(old->mbox, kreg_table_lock_held()));

	/*
	 * Lookups first, and the only step that could fail: @old was found
	 * under the lock, so it cannot, unless the table is not what the lock
	 * says it is; then nothing else has changed.
	 */
	err = rhashtable_replace_fast(&kreg_names, &old->node, &new->node,
				      kreg_names_params);
	if (WARN_ON_ONCE(err)) {
		put_pid(new->pid);
		put_pid_ns(new->pid_ns);
		put_cred(new->cred);
		return err;
	}
	/* The lists keep their order and counts: one link for another. */
	hlist_replace_rcu(&old->holder_link, &new->holder_link);
	if (!hlist_unhashed(&old->mbox_link))
		hlist_replace_rcu(&old->mbox_link, &new->mbox_link);
	hlist_replace_rcu(&old->quota_link, &new->quota_link);
	list_splice_init(&old->queue, &new->queue);
	/* Replaces what is stored at the id: allocates nothing. */
	xa_store(&kreg_ids, new->id, new, GFP_KERNEL);
	/* A listing that spans the change is no snapshot. */
	kreg_generation++;

	kreg_notify(&(struct kreg_change){ .kind = KREG_CHANGE_UPDATED,
					   .entry = new });
	call_rcu(&old->rcu, kreg_entry_free_rcu);
	return 0;
}

int kreg_table_update(const char *name, size_t len, const void *meta,
		      size_t meta_len, struct kreg_principal *p)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct kreg_entry *old, *new;
	pid_t holder = 0;
	int err = 0;

	/* Charged, like a registration, to whoever asks: its memory cgroup. */
	new = kreg_entry_new(name, len, meta, meta_len, NULL, 0);
	if (!new)
		return -ENOMEM;

	kreg_lock_table();
	/* The value is what its holder says of itself: no administrator's. */
	err = kreg_closing ? -ESHUTDOWN : kreg_lookup_for_change(&key, p, false, &old);
	if (!err && (old->flags & KREG_F_CLUSTER))
		err = -EOPNOTSUPP;
	if (!err) {
		holder = pid_nr(old->pid);
		err = kreg_entry_replace(old, new);
		if (!err)
			new = NULL;
	}
	kreg_unlock_table();

	if (new)
		kreg_entry_discard(new);
	trace_kreg_update(name, holder, from_kuid(&init_user_ns, p->uid), meta_len, err);
	return err;
}

int kreg_table_whereis(const char *name, size_t len, struct kreg_principal *p,
		       bool relay, struct kreg_found *found)
{
	struct kreg_name_key key = { .name = name, .len = len };
	bool dead, seen = false, again = true;
	struct kreg_entry *e;
	pid_t global = 0;

look:
	dead = false;
	rcu_read_lock();
	e = kreg_lookup(&key);
	if (!e)
		kreg_decide_as_if_held(p, name, len);
	if (e) {
		dead = !kreg_entry_alive(e);
		/*
		 * A name the caller may not see reads exactly as an absent one,
		 * and so does a claim, to all but the relay that decides it.
		 */
		seen = !dead && (relay || (!kreg_entry_pending(e) && kreg_visible(p, e)));
		if (seen) {
			kreg_entry_holder_in(e, p->pid_ns, &found->holder);
			global = pid_nr(e->pid);
			found->meta_len = e->meta_len;
			memcpy(found->meta, kreg_entry_meta(e), e->meta_len);
		}
	}
	rcu_read_unlock();

	/* Found dead: its next in line may hold it now. Asked once more. */
	if (dead && kreg_drop_if_dead(&key) && again) {
		again = false;
		goto look;
	}
	trace_kreg_lookup(name, global, seen ? 0 : -ENOENT);
	return seen ? 0 : -ENOENT;
}

/* What the sender @p may do to @e, for the receiver to decide whom to obey. */
static u32 kreg_sender_flags(struct kreg_principal *p, const struct kreg_entry *e)
{
	struct kreg_verdict v;
	u32 flags = 0;

	/* Another node's process owns nothing here, and may own nothing. */
	if (p->node)
		return KREG_SENDER_F_REMOTE;
	if (p->host)
		flags |= KREG_SENDER_F_HOST;
	/* Who registered it needs nothing more: no capability is asked. */
	if (kreg_principal_owns(p, KREG_OWNER_OF(e)))
		return flags | KREG_SENDER_F_OWNER;
	/* The default of a host without a policy lets anyone own: not that. */
	if ((kreg_may_own(p, e->name, e->name_len, 0, &v) &&
	     v.by != KREG_BY_DEFAULT) || kreg_principal_admin(p))
		flags |= KREG_SENDER_F_MAY_OWN;
	return flags;
}

/*
 * "user.UID.reply.REST", a caller's reply address, of @uid: written as
 * libkreg writes it (no leading zero), as the kernel takes a user's names.
 */
static bool kreg_reply_address_of(const char *name, size_t len, u32 uid)
{
	static const char user[] = "user.", reply[] = ".reply.";
	size_t i = sizeof(user) - 1, start;
	u64 value = 0;

	if (len <= i || memcmp(name, user, i))
		return false;
	for (start = i; i < len && isdigit(name[i]) && i - start < 10; i++)
		value = value * 10 + (name[i] - '0');
	if (i == start || (name[start] == '0' && i - start > 1) || value != uid)
		return false;
	return len > i + sizeof(reply) - 1 && !memcmp(name + i, reply, sizeof(reply) - 1);
}

/*
 * Whether another node's process (@p, which the relay sends for) holds
 * @from there, as far as this node can tell: a cluster name if this node's
 * mirror says its node holds it; a reply address of its uid there
 * ("user.UID.reply.") on its relay's word, since this node keeps none of
 * them. Under RCU.
 */
static bool kreg_remote_holds(const struct kreg_principal *p, const struct kreg_name_key *from)
{
	static const char cluster[] = KREG_CLUSTER_PREFIX;
	const struct kreg_entry *e;

	if (kreg_reply_address_of(from->name, from->len, p->remote_uid))
		return true;
	if (from->len <= sizeof(cluster) - 1 ||
	    memcmp(from->name, cluster, sizeof(cluster) - 1))
		return false;
	e = kreg_lookup(from);
	return e && kreg_entry_remote(e) && e->node_len == p->node_len &&
	       !memcmp(kreg_entry_node(e), p->node, p->node_len);
}

/*
 * Under RCU only: the delivery, which may sleep, happens after this, on a
 * counted reference to the mailbox.
 */
int kreg_table_route(const char *name, size_t len, const char *from,
		     size_t from_len, u64 token, struct kreg_principal *p,
		     struct kreg_route *route)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct kreg_name_key from_key = { .name = from, .len = from_len };
	struct task_struct *task;
	struct kreg_verdict v;
	struct kreg_entry *e, *sender;
	bool may_send, again = true;
	int err = 0;

look:
	rcu_read_lock();
	e = kreg_lookup(&key);
	if (!e) {
		kreg_decide_as_if_held(p, name, len);
		err = -ENOENT;
		goto unlock;
	}
	task = pid_task(e->pid, PIDTYPE_TGID);
	if (!task || atomic_read(&task->signal->live) == 0) {
		rcu_read_unlock();
		/* Its next in line may hold it now: the message is for whoever does. */
		if (kreg_drop_if_dead(&key) && again) {
			again = false;
			goto look;
		}
		return -ENOENT;
	}
	if (kreg_entry_pending(e)) {
		err = -ENOENT;
		goto unlock;
	}
	may_send = kreg_may(p, name, len, KREG_RIGHT_SEND, KREG_OWNER_OF(e), &v);
	/*
	 * A reply address is a capability: whoever knows it may send to it,
	 * without seeing it, from wherever it runs.
	 */
	if (v.by != KREG_BY_REPLY_ADDRESS) {
		if (!kreg_visible(p, e)) {
			err = -ENOENT;
			goto unlock;
		}
		if (!may_send) {
			kreg_access(p, name, len, KREG_RIGHT_SEND, KREG_OWNER_OF(e));
			err = -EACCES;
			goto unlock;
		}
	}
	/*
	 * Meant for the holder granted @token: the name has another now, or
	 * was never the cluster's. (A claim's token is read after it reads as
	 * committed, above.)
	 */
	if (token && e->token != token) {
		err = -ESTALE;
		goto unlock;
	}
	/* Held on another node: kregd relays there, this node's kernel cannot. */
	if (kreg_entry_remote(e)) {
		err = -EREMOTE;
		goto unlock;
	}
	/*
	 * The proof of a name is of its mailbox's: the sending process holds
	 * it and registered it. A process merely named as a name's holder by
	 * someone else may neither speak for it nor release it.
	 */
	if (from && p->node) {
		if (!kreg_remote_holds(p, &from_key)) {
			err = -EPERM;
			goto unlock;
		}
	} else if (from) {
		sender = kreg_lookup(&from_key);
		if (!sender || sender->pid != task_tgid(current) ||
		    !kreg_entry_alive(sender) || kreg_entry_pending(sender) ||
		    !kreg_principal_owns(p, KREG_OWNER_OF(sender))) {
			err = -EPERM;
			goto unlock;
		}
	}
	route->mbox = kreg_mailbox_get(rcu_dereference(e->mbox));
	if (!route->mbox) {
		err = -ECONNREFUSED;
		goto unlock;
	}
	/*
	 * As the receiver, who registered the name from its mailbox, sees it;
	 * another node's process is none of this host's.
	 */
	route->sender = p->node ? 0 : task_tgid_nr_ns(current, e->pid_ns);
	route->sender_flags = kreg_sender_flags(p, e);
unlock:
	rcu_read_unlock();
	return err;
}

int kreg_table_commit(const char *name, size_t len, struct pid *pid, u64 token,
		      u64 deadline_ns)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct kreg_entry *e;
	int err = 0;

	kreg_lock_table();
	if (deadline_ns && ktime_get_boottime_ns() >= deadline_ns) {
		err = -ESTALE;
		goto unlock;
	}
	e = kreg_lookup_locked(&key);
	if (!e || !kreg_entry_pending(e) || e->pid != pid || !kreg_entry_alive(e)) {
		err = -ENOENT;
		goto unlock;
	}
	e->token = token;
	/* The token before the claim reads as committed (kreg_entry_pending()). */
	smp_store_release(&e->flags, e->flags & ~KREG_F_PENDING);
	kreg_generation++;
	kreg_notify(&(struct kreg_change){ .kind = KREG_CHANGE_REGISTERED, .entry = e });
unlock:
	kreg_unlock_table();
	return err;
}

int kreg_table_unmirror(const char *name, size_t len, u64 token,
			enum kreg_reason reason)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct kreg_entry *e;
	int err = 0;

	kreg_lock_table();
	e = kreg_lookup_locked(&key);
	if (!e || !kreg_entry_remote(e) || (token && e->token != token))
		err = -ENOENT;
	else
		kreg_entry_unlink(e, reason);
	kreg_unlock_table();
	return err;
}

static bool kreg_fenced_here(const struct kreg_entry *e)
{
	return (e->flags & KREG_F_CLUSTER) && !kreg_entry_remote(e);
}

unsigned int kreg_table_fence(const char *name, size_t len)
{
	struct kreg_name_key key = { .name = name, .len = len };
	unsigned int fenced = 0, n;
	struct kreg_entry *e;
	unsigned long id = 0;

	if (name) {
		kreg_lock_table();
		e = kreg_lookup_locked(&key);
		if (e && kreg_fenced_here(e)) {
			kreg_entry_unlink(e, KREG_REASON_FENCED);
			fenced++;
		}
		kreg_unlock_table();
		return fenced;
	}
	/* Every cluster name of this node's, a batch per hold of the lock. */
	do {
		kreg_lock_table();
		for (n = 0; n < KREG_LOCK_BATCH &&
		     (e = xa_find(&kreg_ids, &id, ULONG_MAX, XA_PRESENT)); n++, id++) {
			if (kreg_fenced_here(e)) {
				kreg_entry_unlink(e, KREG_REASON_FENCED);
				fenced++;
			}
		}
		kreg_unlock_table();
		cond_resched();
	} while (n == KREG_LOCK_BATCH);
	return fenced;
}

void kreg_table_progress(u64 revision, u64 heard_ns)
{
	kreg_lock_table();
	WRITE_ONCE(kreg_cluster_revision, revision);
	WRITE_ONCE(kreg_cluster_heard_ns, heard_ns);
	kreg_notify(&(struct kreg_change){ .kind = KREG_CHANGE_PROGRESS,
					   .revision = revision, .heard_ns = heard_ns });
	kreg_unlock_table();
}

void kreg_table_cluster_copy(u64 *revision, u64 *heard_ns)
{
	*revision = READ_ONCE(kreg_cluster_revision);
	*heard_ns = READ_ONCE(kreg_cluster_heard_ns);
}

void kreg_table_status(u64 account, struct kreg_status *st)
{
	struct kreg_quota *q;

	st->entries = READ_ONCE(kreg_nr_entries);
	st->max_entries = READ_ONCE(kreg_max_entries);
	st->max_per_uid = READ_ONCE(kreg_max_per_uid);
	rcu_read_lock();
	q = kreg_quota_find(account);
	st->uid_entries = q ? READ_ONCE(q->count) : 0;
	rcu_read_unlock();
}

unsigned int kreg_table_count(void)
{
	return READ_ONCE(kreg_nr_entries);
}

unsigned long kreg_table_generation(void)
{
	return READ_ONCE(kreg_generation);
}

struct kreg_entry *kreg_table_next(unsigned long *id)
{
	return xa_find(&kreg_ids, id, ULONG_MAX, XA_PRESENT);
}

/*
 * Unlinks a dead holder's names KREG_LOCK_BATCH at a time, so that how
 * many names one process held never lengthens a hold of the table lock.
 */
static void kreg_release_holder(struct kreg_holder *holder)
{
	pid_t pid = pid_nr(kreg_holder_pid(holder));
	unsigned int released = 0, n;
	struct hlist_node *link;

	do {
		kreg_lock_table();
		for (n = 0; n < KREG_LOCK_BATCH &&
		     (link = kreg_holder_first_locked(holder)); n++)
			kreg_entry_unlink(hlist_entry(link, struct kreg_entry, holder_link),
					  KREG_REASON_EXITED);
		kreg_unlock_table();
		released += n;
		cond_resched();
	} while (n == KREG_LOCK_BATCH);
	trace_kreg_exit_cleanup(pid, released);
	kreg_holder_released(holder);
}

static void kreg_release_work_fn(struct work_struct *work)
{
	struct kreg_holder *holder;

	while ((holder = kreg_holders_next_queued()))
		kreg_release_holder(holder);
}

/*
 * Netlink's release notifier calls this for every generic netlink socket
 * of the host that closes: one RCU lookup, and no lock, for all but the
 * mailboxes. Batched, so a socket with many names never holds the lock for
 * long.
 */
void kreg_table_socket_closed(struct net *net, u32 portid)
{
	struct kreg_mailbox *mbox;
	bool done;

	rcu_read_lock();
	done = !kreg_mailbox_closed_rcu(net, portid);
	rcu_read_unlock();
	while (!done) {
		kreg_lock_table();
		mbox = kreg_mailbox_lookup_locked(net, portid);
		done = !mbox || !kreg_mailbox_socket_dead(mbox) ||
		       kreg_close_mailbox_locked(mbox, KREG_LOCK_BATCH);
		kreg_unlock_table();
		cond_resched();
	}
}

/*
 * The names whose registrant the policy in force denies OWN, judged by the
 * credentials they were registered with, go: a policy holds from the first
 * name on, not only for names registered after it.
 */
static void kreg_revoke(void)
{
	struct kreg_principal p;
	struct kreg_entry *e;
	unsigned long id = 0;
	unsigned int n;

	do {
		kreg_lock_table();
		for (n = 0; n < KREG_LOCK_BATCH &&
		     (e = xa_find(&kreg_ids, &id, ULONG_MAX, XA_PRESENT)); n++, id++) {
			kreg_principal_cred(&p, e->cred, e->pid_ns,
					    kreg_cred_admin(e->cred));
			if (!kreg_may_own(&p, e->name, e->name_len, e->flags, NULL))
				kreg_entry_unlink(e, KREG_REASON_REVOKED);
		}
		kreg_unlock_table();
		cond_resched();
	} while (n == KREG_LOCK_BATCH);
}

void kreg_table_set_policy(struct kreg_policy *policy)
{
	static DEFINE_MUTEX(kreg_policy_loads);
	const struct kreg_policy *effective = kreg_policy_effective(policy);
	struct kreg_policy *old;

	/* One load at a time: the next waits until this one's revocations are done. */
	mutex_lock(&kreg_policy_loads);
	kreg_lock_table();
	/* The view hides what the policy hides before lookups follow it. */
	kreg_notify(&(struct kreg_change){ .kind = KREG_CHANGE_POLICY,
					   .policy = effective });
	old = kreg_policy_publish(policy);
	kreg_unlock_table();
	kreg_revoke();
	kreg_lock_table();
	kreg_notify(&(struct kreg_change){ .kind = KREG_CHANGE_POLICY_DONE,
					   .policy = effective });
	kreg_unlock_table();
	/* Loads are rare and an administrator's: waiting here is fine. */
	synchronize_rcu();
	kreg_policy_free(old);
	mutex_unlock(&kreg_policy_loads);
}

/*
 * Refuses new registrations, lets releases in flight finish, then removes
 * every entry with reason "unloading", in batches so that the lock is never
 * held for long.
 */
void kreg_table_close(void)
{
	struct kreg_entry *e;
	unsigned long id;
	unsigned int n;

	kreg_lock_table();
	kreg_closing = true;
	kreg_unlock_table();
	kreg_holders_quiesce();

	do {
		n = 0;
		kreg_lock_table();
		xa_for_each(&kreg_ids, id, e) {
			kreg_entry_unlink(e, KREG_REASON_UNLOADING);
			if (++n == KREG_LOCK_BATCH)
				break;
		}
		kreg_unlock_table();
		cond_resched();
	} while (n == KREG_LOCK_BATCH);
}

int kreg_table_init(void)
{
	unsigned int i;
	int err;

	BUILD_BUG_ON(offsetof(struct kreg_entry, name) + KREG_NAME_MAX + 1 +
		     KREG_META_MAX > 1024);

	for (i = 0; i < ARRAY_SIZE(kreg_entry_sizes); i++) {
		kreg_entry_caches[i] =
			kmem_cache_create(kreg_entry_cache_names[i],
					  kreg_entry_sizes[i], 0, SLAB_ACCOUNT, NULL);
		if (!kreg_entry_caches[i]) {
			err = -ENOMEM;
			goto destroy_caches;
		}
	}
	err = rhashtable_init(&kreg_names, &kreg_names_params);
	if (err)
		goto destroy_caches;
	err = kreg_mailboxes_init();
	if (err)
		goto destroy_names;
	err = kreg_holders_init(&kreg_release_work);
	if (err)
		goto destroy_mailboxes;
	return 0;

destroy_mailboxes:
	kreg_mailboxes_destroy();
destroy_names:
	rhashtable_destroy(&kreg_names);
destroy_caches:
	while (i--)
		kmem_cache_destroy(kreg_entry_caches[i]);
	return err;
}

/* After kreg_table_close() and once no request can reach the table. */
void kreg_table_destroy(void)
{
	unsigned int i;

	kreg_holders_destroy();
	rcu_barrier();
	kreg_mailboxes_destroy();
	rhashtable_destroy(&kreg_names);
	xa_destroy(&kreg_ids);
	for (i = 0; i < ARRAY_SIZE(kreg_entry_sizes); i++)
		kmem_cache_destroy(kreg_entry_caches[i]);
}
