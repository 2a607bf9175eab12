// SPDX-License-Identifier: GPL-2.0
/*
 * The kreg name table.
 *
 * Five indices over one set of entries, all changed under kreg_lock:
 *  - names (rhashtable, name -> entry): lock-free lookups under RCU;
 *  - ids (xarray, id -> entry): a stable order for dumps, which resume at the
 *    next id, so a dump of any size neither repeats nor skips an entry that
 *    lives through it, whatever the names table does meanwhile;
 *  - holders (holders.c, struct pid -> entries): everything one process
 *    holds, released without a scan when it dies;
 *  - mailboxes (mailbox.c, (net, portid) -> entries): everything one socket
 *    receives for, so a closing socket costs one lookup;
 *  - uids (hash, uid -> count and entries): quotas, and the entries quota
 *    reclaim walks under RCU.
 *
 * Every path that takes kreg_lock may sleep: requests, the socket-release
 * notifier, the release worker and rmmod. The exit kfunc never takes it (see
 * holders.c). So kreg_lock is a mutex, correct alike on PREEMPT_RT, where a
 * spinlock_t would sleep anyway, and on the generic kernel; events are built
 * under it with GFP_KERNEL, in the order of the changes. Entries are freed
 * after an RCU grace period.
 */
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/pid_namespace.h>
#include <linux/rhashtable.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "access.h"
#include "holders.h"
#include "mailbox.h"
#include "netlink.h"
#include "table.h"
#include "trace.h"
#include "view.h"

unsigned int kreg_max_entries = 1U << 20;
unsigned int kreg_max_per_uid = 4096;

/* Entries handled per hold of kreg_lock in the batched paths. */
#define KREG_LOCK_BATCH		64

struct kreg_uid_count {
	struct hlist_node	node;
	kuid_t			uid;
	unsigned int		count;
	struct hlist_head	entries;	/* RCU, for reclaim */
	struct rcu_head		rcu;
};

/* Allocated before kreg_lock is taken; whatever is not used is freed after. */
struct kreg_spares {
	struct kreg_holder	*holder;
	struct kreg_mailbox	*mbox;
	struct kreg_uid_count	*uid;
};

struct kreg_name_key {
	const char	*name;
	size_t		len;
};

/*
 * Entries come from size classes so that a short name does not pay for the
 * longest one. Each class is a slab cache of the module's own.
 */
static const unsigned int kreg_entry_sizes[] = { 128, 256, 512, 1024 };
static const char *const kreg_entry_cache_names[] = {
	"kreg_entry_128", "kreg_entry_256", "kreg_entry_512", "kreg_entry_1024",
};

static struct kmem_cache *kreg_entry_caches[ARRAY_SIZE(kreg_entry_sizes)];

static DEFINE_MUTEX(kreg_lock);
static struct rhashtable kreg_names;
static DEFINE_XARRAY_ALLOC1(kreg_ids);
static u32 kreg_next_id;
static DEFINE_HASHTABLE(kreg_uids, 6);
static unsigned int kreg_nr_entries;
static bool kreg_closing;
/* Changes with every registration and removal: dumps tell when they raced one. */
static unsigned long kreg_generation;

/* One table-wide reclaim at a time; a generation lets waiters reuse its result. */
static DEFINE_MUTEX(kreg_reclaim_lock);
static unsigned long kreg_reclaim_gen;

void kreg_lock_table(void)
{
	mutex_lock(&kreg_lock);
}

void kreg_unlock_table(void)
{
	mutex_unlock(&kreg_lock);
}

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

static struct kreg_entry *kreg_entry_alloc(const struct kreg_request *req)
{
	size_t len = req->name_len;
	size_t need = offsetof(struct kreg_entry, name) + len + 1 + req->meta_len;
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
	e->flags = req->flags;
	e->name_len = len;
	memcpy(e->name, req->name, len);
	e->name[len] = '\0';
	e->meta_len = req->meta_len;
	if (req->meta_len)
		memcpy(e->name + len + 1, req->meta, req->meta_len);
	INIT_HLIST_NODE(&e->holder_link);
	INIT_HLIST_NODE(&e->mbox_link);
	INIT_HLIST_NODE(&e->uid_link);
	return e;
}

static void kreg_entry_free(struct kreg_entry *e)
{
	put_pid(e->pid);
	kmem_cache_free(kreg_entry_caches[e->size_class], e);
}

static void kreg_entry_free_rcu(struct rcu_head *head)
{
	kreg_entry_free(container_of(head, struct kreg_entry, rcu));
}

static struct kreg_uid_count *kreg_uid_find(kuid_t uid)
{
	struct kreg_uid_count *uc;

	hash_for_each_possible_rcu(kreg_uids, uc, node, __kuid_val(uid),
				   kreg_table_lock_held())
		if (uid_eq(uc->uid, uid))
			return uc;
	return NULL;
}

static struct kreg_entry *kreg_lookup(const struct kreg_name_key *key)
{
	return rhashtable_lookup(&kreg_names, key, kreg_names_params);
}

/* Takes @e out of every index, announces it and frees it after a grace period. */
void kreg_entry_unlink(struct kreg_entry *e, enum kreg_reason reason)
{
	struct kreg_uid_count *uc;

	lockdep_assert_held(&kreg_lock);

	kreg_view_remove_locked(e);
	rhashtable_remove_fast(&kreg_names, &e->node, kreg_names_params);
	xa_erase(&kreg_ids, e->id);
	kreg_holder_detach_locked(e);
	kreg_mailbox_detach_locked(e);

	hlist_del_rcu(&e->uid_link);
	uc = kreg_uid_find(e->uid);
	if (!WARN_ON_ONCE(!uc) && --uc->count == 0) {
		hash_del_rcu(&uc->node);
		kfree_rcu(uc, rcu);
	}
	kreg_nr_entries--;
	kreg_generation++;

	trace_kreg_unregister(e->name, pid_nr(e->pid),
			      from_kuid(&init_user_ns, e->uid), reason);
	kreg_nl_notify(KREG_CMD_UNREGISTERED, e, reason);
	call_rcu(&e->rcu, kreg_entry_free_rcu);
	kreg_view_shrink_locked();
}

/* Whether @req may add a name now: the limits, and the caller's quota. */
static int kreg_check_limits(const struct kreg_request *req,
			     const struct kreg_uid_count *uc)
{
	if (kreg_nr_entries >= READ_ONCE(kreg_max_entries))
		return -ENOSPC;
	if (!req->quota_exempt &&
	    (uc ? uc->count : 0) >= READ_ONCE(kreg_max_per_uid))
		return -EDQUOT;
	return 0;
}

static int kreg_insert_locked(struct kreg_entry *e,
			      const struct kreg_request *req,
			      struct kreg_spares *spares, struct kreg_held *held)
{
	struct kreg_name_key key = { .name = e->name, .len = e->name_len };
	struct kreg_uid_count *uc;
	struct kreg_entry *old;
	int err;

	lockdep_assert_held(&kreg_lock);

	if (kreg_closing)
		return -ESHUTDOWN;

	old = rhashtable_lookup_fast(&kreg_names, &key, kreg_names_params);
	if (old) {
		if (kreg_entry_alive(old)) {
			held->pid = pid_vnr(old->pid);
			held->uid = old->uid;
			held->flags = old->flags;
			return -EEXIST;
		}
		kreg_entry_unlink(old, KREG_REASON_EXITED);
	}

	uc = kreg_uid_find(req->uid);
	err = kreg_check_limits(req, uc);
	if (err)
		return err;

	kreg_view_reserve_locked();
	err = kreg_holder_attach_locked(e, &spares->holder);
	if (err)
		return err;
	if (req->mbox_sk) {
		err = kreg_mailbox_attach_locked(e, req->mbox_sk, req->mbox_portid,
						 &spares->mbox);
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
	/*
	 * Readers see the entry from here on, so this is the last step that
	 * may fail: an entry no reader ever saw can be freed at once.
	 */
	err = rhashtable_insert_fast(&kreg_names, &e->node, kreg_names_params);
	if (err)
		goto detach_mailbox;

	if (!uc) {
		uc = spares->uid;
		spares->uid = NULL;
		uc->uid = req->uid;
		INIT_HLIST_HEAD(&uc->entries);
		hash_add_rcu(kreg_uids, &uc->node, __kuid_val(uc->uid));
	}
	uc->count++;
	hlist_add_head_rcu(&e->uid_link, &uc->entries);
	kreg_nr_entries++;
	kreg_generation++;
	/* The id was reserved outside the lock: this store allocates nothing. */
	xa_store(&kreg_ids, e->id, e, GFP_KERNEL);
	kreg_view_add_locked(e);

	held->pid = pid_vnr(e->pid);
	held->uid = e->uid;
	held->flags = e->flags;
	kreg_nl_notify(KREG_CMD_REGISTERED, e, 0);
	return 0;

detach_mailbox:
	kreg_mailbox_detach_locked(e);
detach_holder:
	kreg_holder_detach_locked(e);
	return err;
}

/*
 * Queues for release the dead holders of @uid's entries (quota) or of every
 * entry (table full), and waits until they are released. Without exit
 * cleanup attached, this is what keeps dead processes from holding quota
 * and table space for ever. No lock is held while scanning: the uid's list
 * is walked under RCU, and the table in RCU sections of KREG_LOCK_BATCH ids,
 * one table scan at a time.
 */
static unsigned int kreg_reclaim_uid(kuid_t uid)
{
	struct kreg_uid_count *uc;
	unsigned int dead = 0;
	struct kreg_entry *e;

	rcu_read_lock();
	uc = kreg_uid_find(uid);
	if (uc) {
		hlist_for_each_entry_rcu(e, &uc->entries, uid_link) {
			if (kreg_entry_alive(e))
				continue;
			kreg_holder_queue_release(e->holder);
			dead++;
		}
	}
	rcu_read_unlock();
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
		rcu_read_lock();
		for (n = 0; n < KREG_LOCK_BATCH &&
		     (e = xa_find(&kreg_ids, &id, ULONG_MAX, XA_PRESENT)); n++, id++) {
			if (kreg_entry_alive(e))
				continue;
			kreg_holder_queue_release(e->holder);
			dead++;
		}
		rcu_read_unlock();
		cond_resched();
	} while (n == KREG_LOCK_BATCH);
	if (dead)
		kreg_holders_release_queued();
	WRITE_ONCE(kreg_reclaim_gen, gen + 1);
	mutex_unlock(&kreg_reclaim_lock);
}

static void kreg_reclaim(int err, kuid_t uid)
{
	if (err == -ENOSPC)
		kreg_reclaim_table();
	else if (kreg_reclaim_uid(uid))
		kreg_holders_release_queued();
}

int kreg_table_register(const struct kreg_request *req, struct kreg_held *held)
{
	struct kreg_spares spares = {};
	struct kreg_entry *e;
	int err;

	e = kreg_entry_alloc(req);
	if (!e)
		return -ENOMEM;
	e->pid = get_pid(req->pid);
	e->uid = req->uid;
	e->registered_ns = ktime_get_real_ns();

	err = xa_alloc_cyclic(&kreg_ids, &e->id, NULL, xa_limit_32b,
			      &kreg_next_id, GFP_KERNEL);
	if (err < 0)
		goto free_entry;

	err = -ENOMEM;
	spares.holder = kreg_holder_spare();
	spares.uid = kzalloc(sizeof(*spares.uid), GFP_KERNEL);
	if (req->mbox_sk)
		spares.mbox = kreg_mailbox_spare();
	if (!spares.holder || !spares.uid || (req->mbox_sk && !spares.mbox))
		goto free_spares;

	kreg_lock_table();
	err = kreg_insert_locked(e, req, &spares, held);
	kreg_unlock_table();
	/*
	 * A limit hit: take back what dead processes still count for, then try
	 * once more, even if this reclaim found nothing: another request that
	 * hit the limit with this one may have taken them back meanwhile.
	 */
	if (err == -ENOSPC || err == -EDQUOT) {
		kreg_reclaim(err, req->uid);
		kreg_lock_table();
		err = kreg_insert_locked(e, req, &spares, held);
		kreg_unlock_table();
	}

free_spares:
	kreg_holder_free_spare(spares.holder);
	kreg_mailbox_free_spare(spares.mbox);
	kfree(spares.uid);
	if (!err)
		return 0;
	xa_erase(&kreg_ids, e->id);
free_entry:
	kreg_entry_free(e);
	return err;
}

/* Removes the entry for @key if its holder has died since it was looked up. */
static void kreg_drop_if_dead(const struct kreg_name_key *key)
{
	struct kreg_entry *e;

	kreg_lock_table();
	e = rhashtable_lookup_fast(&kreg_names, key, kreg_names_params);
	if (e && !kreg_entry_alive(e))
		kreg_entry_unlink(e, KREG_REASON_EXITED);
	kreg_unlock_table();
}

bool kreg_table_owner(const char *name, size_t len, kuid_t *uid, u8 *flags)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct kreg_entry *e;
	bool held;

	rcu_read_lock();
	e = kreg_lookup(&key);
	held = e && kreg_entry_alive(e);
	if (held) {
		*uid = e->uid;
		*flags = e->flags;
	}
	rcu_read_unlock();
	return held;
}

bool kreg_table_owned_by_caller(const char *name, size_t len)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct kreg_entry *e;
	bool owned;

	rcu_read_lock();
	e = kreg_lookup(&key);
	owned = !e || uid_eq(e->uid, current_euid());
	rcu_read_unlock();
	return owned;
}

int kreg_table_unregister(const char *name, size_t len, struct kreg_principal *p,
			  bool admin)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct kreg_entry *e;
	int err = 0;

	kreg_lock_table();
	e = rhashtable_lookup_fast(&kreg_names, &key, kreg_names_params);
	if (!e) {
		err = -ENOENT;
	} else if (!kreg_entry_alive(e)) {
		kreg_entry_unlink(e, KREG_REASON_EXITED);
		err = -ENOENT;
	} else if (!kreg_access(p, name, len, KREG_RIGHT_SEE, KREG_OWNER_OF(e))) {
		err = -ENOENT;
	} else if (!admin && !uid_eq(e->uid, p->uid)) {
		err = -EPERM;
	} else {
		kreg_entry_unlink(e, KREG_REASON_EXPLICIT);
	}
	kreg_unlock_table();
	return err;
}

int kreg_table_whereis(const char *name, size_t len, struct kreg_principal *p,
		       struct kreg_found *found)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct kreg_entry *e;
	bool dead = false;
	pid_t nr = 0, global = 0;

	rcu_read_lock();
	e = kreg_lookup(&key);
	if (e) {
		dead = !kreg_entry_alive(e);
		/* A name the caller may not see reads exactly as an absent one. */
		if (!dead && kreg_access(p, name, len, KREG_RIGHT_SEE, KREG_OWNER_OF(e))) {
			nr = pid_vnr(e->pid);
			global = pid_nr(e->pid);
			found->meta_len = e->meta_len;
			memcpy(found->meta, kreg_entry_meta(e), e->meta_len);
		}
	}
	rcu_read_unlock();

	if (dead)
		kreg_drop_if_dead(&key);
	/* A holder the caller's pid namespace cannot see reads as absent. */
	trace_kreg_lookup(name, global, nr ? 0 : -ENOENT);
	if (!nr)
		return -ENOENT;
	found->pid = nr;
	return 0;
}

/*
 * Under RCU only: the delivery, which may sleep, happens after this, on a
 * counted reference to the mailbox.
 */
int kreg_table_route(const char *name, size_t len, struct kreg_principal *p,
		     struct kreg_route *route)
{
	struct kreg_name_key key = { .name = name, .len = len };
	struct task_struct *task;
	struct kreg_entry *e;
	int err = 0;

	rcu_read_lock();
	e = kreg_lookup(&key);
	if (!e) {
		err = -ENOENT;
		goto unlock;
	}
	task = pid_task(e->pid, PIDTYPE_TGID);
	if (!task || atomic_read(&task->signal->live) == 0) {
		rcu_read_unlock();
		kreg_drop_if_dead(&key);
		return -ENOENT;
	}
	if (!pid_vnr(e->pid) || !kreg_access(p, name, len, KREG_RIGHT_SEE, KREG_OWNER_OF(e))) {
		err = -ENOENT;
		goto unlock;
	}
	if (!kreg_access(p, name, len, KREG_RIGHT_SEND, KREG_OWNER_OF(e))) {
		err = -EACCES;
		goto unlock;
	}
	route->mbox = kreg_mailbox_get(e);
	if (!route->mbox) {
		err = -ECONNREFUSED;
		goto unlock;
	}
	route->sender = task_tgid_nr_ns(current, task_active_pid_ns(task));
unlock:
	rcu_read_unlock();
	return err;
}

void kreg_table_status(kuid_t uid, struct kreg_status *st)
{
	struct kreg_uid_count *uc;

	st->entries = READ_ONCE(kreg_nr_entries);
	st->max_entries = READ_ONCE(kreg_max_entries);
	st->max_per_uid = READ_ONCE(kreg_max_per_uid);
	rcu_read_lock();
	uc = kreg_uid_find(uid);
	st->uid_entries = uc ? READ_ONCE(uc->count) : 0;
	rcu_read_unlock();
}

unsigned long kreg_table_generation(void)
{
	return READ_ONCE(kreg_generation);
}

bool kreg_table_lock_held(void)
{
	/* Only lockdep can tell; without it, trust the callers. */
	return !IS_ENABLED(CONFIG_LOCKDEP) || lockdep_is_held(&kreg_lock);
}

struct kreg_entry *kreg_table_next(unsigned long *id)
{
	return xa_find(&kreg_ids, id, ULONG_MAX, XA_PRESENT);
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
					  kreg_entry_sizes[i], 0, 0, NULL);
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
	err = kreg_holders_init();
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
