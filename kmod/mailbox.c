// SPDX-License-Identifier: GPL-2.0
/*
 * Mailboxes: each socket that registered names, with the list of those
 * entries, indexed by (net, port id) so that a closing socket costs one
 * lookup; and delivery to it.
 *
 * A socket's receive buffer is shared by everyone who sends to its names,
 * so delivery keeps two promises:
 *  - KREG_REPLY_RESERVE of it is never filled with mail (nor with events,
 *    see events.c): the replies to its owner's own requests always fit;
 *  - no sending account (a uid, or a container: access.c's kreg_account())
 *    may take more than half of the room the others leave free, so a flood
 *    by one cannot keep another's mail out.
 * To know what each account has queued, a mailbox logs what it delivered, in
 * order. The owner reads its socket in order too, so whatever the log holds
 * beyond what the socket still queues has been read: no hook into the
 * socket is needed. Deliveries to one mailbox are serialised, which makes
 * the shares exact; different mailboxes never wait for each other.
 */
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "lock.h"
#include "mailbox.h"

/* The most deliveries one mailbox holds unread; EAGAIN beyond. */
#define KREG_MAIL_LOG_MAX	4096

/* Hashed as bytes: no padding allowed, hence the explicit tail. */
struct kreg_mbox_key {
	struct net	*net;
	u32		portid;
	u32		zero;
};

struct kreg_mail {
	u64	from;
	u32	truesize;
};

/* What was delivered and may still be queued, oldest first: a ring. */
struct kreg_mail_log {
	struct kreg_mail	*ring;
	u32			head, count, cap;
	u64			bytes;
};

struct kreg_mailbox {
	struct rhash_head	node;
	struct kreg_mbox_key	key;	/* holds a reference on key.net */
	/* Counted: tells this socket from a later one that reuses its port id. */
	struct sock		*sk;
	struct user_namespace	*user_ns;	/* the receiver's, counted */
	struct hlist_head	links;		/* its names, under the table lock */
	refcount_t		ref;		/* the index's, plus deliveries' */
	struct mutex		send_lock;
	struct kreg_mail_log	log;		/* under send_lock */
	struct rcu_head		rcu;
};

static const struct rhashtable_params kreg_mailboxes_params = {
	.head_offset		= offsetof(struct kreg_mailbox, node),
	.key_offset		= offsetof(struct kreg_mailbox, key),
	.key_len		= sizeof(struct kreg_mbox_key),
	.automatic_shrinking	= true,
};

static struct rhashtable kreg_mailboxes;

static void kreg_mailbox_free_rcu(struct rcu_head *head)
{
	struct kreg_mailbox *mbox = container_of(head, struct kreg_mailbox, rcu);

	sock_put(mbox->sk);
	put_user_ns(mbox->user_ns);
	put_net(mbox->key.net);
	kfree(mbox->log.ring);
	kfree(mbox);
}

void kreg_mailbox_put(struct kreg_mailbox *mbox)
{
	if (refcount_dec_and_test(&mbox->ref))
		call_rcu(&mbox->rcu, kreg_mailbox_free_rcu);
}

struct kreg_mailbox *kreg_mailbox_spare(void)
{
	/* Charged to whoever registers, like the entry itself. */
	struct kreg_mailbox *mbox = kzalloc(sizeof(*mbox), GFP_KERNEL_ACCOUNT);

	if (mbox) {
		refcount_set(&mbox->ref, 1);
		mutex_init(&mbox->send_lock);
		INIT_HLIST_HEAD(&mbox->links);
	}
	return mbox;
}

void kreg_mailbox_free_spare(struct kreg_mailbox *spare)
{
	kfree(spare);
}

struct user_namespace *kreg_mailbox_user_ns(const struct kreg_mailbox *mbox)
{
	return mbox->user_ns;
}

struct kreg_mailbox *kreg_mailbox_lookup_locked(struct net *net, u32 portid)
{
	struct kreg_mbox_key key = { .net = net, .portid = portid };

	lockdep_assert_held(&kreg_table_mutex);
	return rhashtable_lookup_fast(&kreg_mailboxes, &key, kreg_mailboxes_params);
}

bool kreg_mailbox_of_socket(const struct kreg_mailbox *mbox, const struct sock *sk)
{
	return mbox->sk == sk;
}

bool kreg_mailbox_socket_dead(const struct kreg_mailbox *mbox)
{
	return sock_flag(mbox->sk, SOCK_DEAD);
}

struct hlist_node *kreg_mailbox_first_locked(struct kreg_mailbox *mbox)
{
	lockdep_assert_held(&kreg_table_mutex);
	return mbox->links.first;
}

bool kreg_mailbox_detach_locked(struct kreg_mailbox *mbox, struct hlist_node *link)
{
	lockdep_assert_held(&kreg_table_mutex);
	hlist_del_init(link);
	if (!hlist_empty(&mbox->links))
		return false;
	rhashtable_remove_fast(&kreg_mailboxes, &mbox->node,
			       kreg_mailboxes_params);
	kreg_mailbox_put(mbox);
	return true;
}

struct kreg_mailbox *kreg_mailbox_attach_locked(struct hlist_node *link,
						struct sock *sk, u32 portid,
						struct user_namespace *user_ns,
						struct kreg_mailbox **spare)
{
	struct kreg_mbox_key key = { .net = sock_net(sk), .portid = portid };
	struct kreg_mailbox *mbox;

	mbox = kreg_mailbox_lookup_locked(key.net, portid);
	if (WARN_ON_ONCE(mbox && mbox->sk != sk))
		return NULL;
	if (!mbox) {
		mbox = *spare;
		/*
		 * Whole before it is published: the release notifier reads it
		 * under RCU alone, for every socket that closes.
		 */
		mbox->key = key;
		mbox->sk = sk;
		mbox->user_ns = user_ns;
		if (rhashtable_insert_fast(&kreg_mailboxes, &mbox->node,
					   kreg_mailboxes_params))
			return NULL;
		get_net(key.net);
		sock_hold(sk);
		get_user_ns(user_ns);
		*spare = NULL;
	}
	hlist_add_head(link, &mbox->links);
	return mbox;
}

/*
 * Only a mailbox whose socket is dead has closed: the port id may already
 * belong to a new socket, whose mailbox has replaced this one's.
 */
bool kreg_mailbox_closed_rcu(struct net *net, u32 portid)
{
	struct kreg_mbox_key key = { .net = net, .portid = portid };
	struct kreg_mailbox *mbox;

	mbox = rhashtable_lookup(&kreg_mailboxes, &key, kreg_mailboxes_params);
	return mbox && kreg_mailbox_socket_dead(mbox);
}

struct kreg_mailbox *kreg_mailbox_get(struct kreg_mailbox *mbox)
{
	/* A socket closing now is no mailbox, whatever its port id does next. */
	if (!mbox || sock_flag(mbox->sk, SOCK_DEAD) ||
	    !refcount_inc_not_zero(&mbox->ref))
		return NULL;
	return mbox;
}

static struct kreg_mail *kreg_mail_at(const struct kreg_mail_log *log, u32 i)
{
	return &log->ring[(log->head + i) % log->cap];
}

/* Forgets what the owner has read: what its socket no longer queues. */
static void kreg_mail_log_trim(struct kreg_mail_log *log, u64 queued)
{
	while (log->count && log->bytes > queued) {
		log->bytes -= kreg_mail_at(log, 0)->truesize;
		log->head = (log->head + 1) % log->cap;
		log->count--;
	}
}

static int kreg_mail_log_make_room(struct kreg_mail_log *log)
{
	struct kreg_mail *ring;
	u32 cap, i;

	if (log->count < log->cap)
		return 0;
	if (log->cap == KREG_MAIL_LOG_MAX)
		return -EAGAIN;
	cap = log->cap ? 2 * log->cap : 16;
	/* Charged to the sender whose mail needs the room. */
	ring = kmalloc_array(cap, sizeof(*ring), GFP_KERNEL_ACCOUNT);
	if (!ring)
		return -ENOMEM;
	for (i = 0; i < log->count; i++)
		ring[i] = *kreg_mail_at(log, i);
	kfree(log->ring);
	log->ring = ring;
	log->head = 0;
	log->cap = cap;
	return 0;
}

/* Whether @truesize more from @from fit its share of @mbox. */
static int kreg_mail_admit(struct kreg_mailbox *mbox, u64 from, u32 truesize)
{
	struct kreg_mail_log *log = &mbox->log;
	s64 room = (s64)READ_ONCE(mbox->sk->sk_rcvbuf) - KREG_REPLY_RESERVE;
	u64 queued = atomic_read(&mbox->sk->sk_rmem_alloc), mine = 0;
	u32 i;

	kreg_mail_log_trim(log, queued);
	if ((s64)(queued + truesize) > room)
		return -EAGAIN;
	for (i = 0; i < log->count; i++)
		if (kreg_mail_at(log, i)->from == from)
			mine += kreg_mail_at(log, i)->truesize;
	/* At most half of what the other senders leave free. */
	if (2 * (s64)(mine + truesize) > room - (s64)(log->bytes - mine))
		return -EAGAIN;
	return kreg_mail_log_make_room(log);
}

int kreg_mailbox_admit(struct kreg_mailbox *mbox, struct sk_buff *msg, u64 from)
{
	int err;

	mutex_lock(&mbox->send_lock);
	err = kreg_mail_admit(mbox, from, msg->truesize);
	if (err) {
		mutex_unlock(&mbox->send_lock);
		nlmsg_free(msg);
	}
	return err;
}

int kreg_socket_queue(struct sock *sk, struct sk_buff *skb)
{
	int err;

	if (sock_flag(sk, SOCK_DEAD)) {
		kfree_skb(skb);
		return -ECONNREFUSED;
	}
	/* Never blocks: a full receiver is the sender's error, not a drop. */
	err = sock_queue_rcv_skb(sk, skb);
	if (err) {
		kfree_skb(skb);
		return -EAGAIN;
	}
	return 0;
}

int kreg_mailbox_commit(struct kreg_mailbox *mbox, struct sk_buff *msg, u64 from)
{
	u32 truesize = msg->truesize;
	struct kreg_mail *m;
	int err;

	err = kreg_socket_queue(mbox->sk, msg);
	if (err)
		goto unlock;
	m = kreg_mail_at(&mbox->log, mbox->log.count++);
	m->from = from;
	m->truesize = truesize;
	mbox->log.bytes += truesize;
unlock:
	mutex_unlock(&mbox->send_lock);
	return err;
}

int kreg_mailbox_deliver(struct kreg_mailbox *mbox, struct sk_buff *msg, u64 from)
{
	int err = kreg_mailbox_admit(mbox, msg, from);

	return err ? err : kreg_mailbox_commit(mbox, msg, from);
}

int kreg_mailboxes_init(void)
{
	return rhashtable_init(&kreg_mailboxes, &kreg_mailboxes_params);
}

void kreg_mailboxes_destroy(void)
{
	rhashtable_destroy(&kreg_mailboxes);
}
