// SPDX-License-Identifier: GPL-2.0
/*
 * Events: every registration, removal and change of value, sent to each
 * subscribed socket that may SEE the name and whose pid namespace sees its
 * holder, with the holder's pid and the registrant's uid as that
 * subscriber's namespaces tell them. A name hidden from someone, by the
 * policy or by a container's walls, never reaches them this way either:
 * events agree with lookups.
 * A multicast group cannot tell its members apart, so each subscriber gets
 * its own copy (a clone, shared by subscribers of the same namespaces).
 *
 * A subscriber is judged by the credentials its socket was opened with, as
 * a file is by those of its opener, and in the pid namespace it subscribed
 * from. Each account (access.c's kreg_account(): a uid, or a container)
 * may have kreg_max_subscriptions: unread subscribers cost a change a
 * check each, and no more. Like mail, events leave KREG_REPLY_RESERVE of a
 * socket free for replies: an event that does not fit, or that cannot be
 * allocated, is dropped and the subscriber told once, as netlink tells a
 * reader it overran (ENOBUFS).
 *
 * The fan-out is the table's listener: it runs under the table lock (events
 * leave in the order of the changes), takes the subscribers' mutex inside
 * it, and may sleep and allocate, on PREEMPT_RT as on the generic kernel.
 * Subscribers are indexed by (net, port id), so that the close of a socket
 * that never subscribed costs one lookup under RCU and takes no lock; but an
 * event is queued on the subscriber's own socket, never sent to its port
 * id, which a new socket may take before the old one is marked dead.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pid_namespace.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "access.h"
#include "events.h"
#include "mailbox.h"
#include "node.h"
#include "table.h"

unsigned int kreg_max_subscriptions = 64;

/* Hashed as bytes: no padding allowed, hence the explicit tail. */
struct kreg_sub_key {
	struct net	*net;
	u32		portid;
	u32		zero;
};

struct kreg_sub_count {
	struct hlist_node	node;
	u64			account;
	unsigned int		n;
};

struct kreg_subscriber {
	struct rhash_head	node;
	struct kreg_sub_key	key;		/* holds a reference on key.net */
	struct list_head	link;		/* under kreg_subscribers_lock */
	struct sock		*sk;		/* counted: its identity */
	const struct cred	*cred;		/* counted: its socket's opener's */
	struct pid_namespace	*pid_ns;	/* counted: where it subscribed from */
	struct kreg_sub_count	*count;
	bool			admin;
	bool			overrun;	/* told it lost events; until one fits */
	char			*pattern;	/* NULL: every name; under kreg_subscribers_lock */
	size_t			pattern_len;
	struct rcu_head		rcu;
};

static const struct rhashtable_params kreg_subscribers_params = {
	.head_offset		= offsetof(struct kreg_subscriber, node),
	.key_offset		= offsetof(struct kreg_subscriber, key),
	.key_len		= sizeof(struct kreg_sub_key),
	.automatic_shrinking	= true,
};

static struct rhashtable kreg_subscriber_index;
static LIST_HEAD(kreg_subscribers);
static DEFINE_HASHTABLE(kreg_sub_counts, 6);
static DEFINE_MUTEX(kreg_subscribers_lock);
static const struct genl_family *kreg_events_family;

static void kreg_subscriber_free_rcu(struct rcu_head *head)
{
	struct kreg_subscriber *s = container_of(head, struct kreg_subscriber, rcu);

	put_pid_ns(s->pid_ns);
	put_cred(s->cred);
	sock_put(s->sk);
	put_net(s->key.net);
	kfree(s->pattern);
	kfree(s);
}

static struct kreg_sub_count *kreg_sub_count_find(u64 account)
{
	struct kreg_sub_count *c;

	hash_for_each_possible(kreg_sub_counts, c, node, account)
		if (c->account == account)
			return c;
	return NULL;
}

static void kreg_subscriber_remove(struct kreg_subscriber *s)
{
	lockdep_assert_held(&kreg_subscribers_lock);
	rhashtable_remove_fast(&kreg_subscriber_index, &s->node,
			       kreg_subscribers_params);
	list_del(&s->link);
	if (--s->count->n == 0) {
		hash_del(&s->count->node);
		kfree(s->count);
	}
	call_rcu(&s->rcu, kreg_subscriber_free_rcu);
}

unsigned int kreg_events_count(u64 account)
{
	struct kreg_sub_count *c;
	unsigned int n;

	mutex_lock(&kreg_subscribers_lock);
	c = kreg_sub_count_find(account);
	n = c ? c->n : 0;
	mutex_unlock(&kreg_subscribers_lock);
	return n;
}

/* Its account's count, made if need be; -EDQUOT at the limit. */
static int kreg_sub_count_take(u64 account, bool exempt, struct kreg_sub_count **spare,
			       struct kreg_sub_count **out)
{
	struct kreg_sub_count *c = kreg_sub_count_find(account);

	if (!exempt && (c ? c->n : 0) >= READ_ONCE(kreg_max_subscriptions))
		return -EDQUOT;
	if (!c) {
		c = *spare;
		*spare = NULL;
		c->account = account;
		hash_add(kreg_sub_counts, &c->node, account);
	}
	c->n++;
	*out = c;
	return 0;
}

int kreg_events_subscribe(struct sock *sk, u32 portid, struct kreg_principal *p,
			  bool exempt, const char *pattern)
{
	struct kreg_sub_key key = { .net = sock_net(sk), .portid = portid };
	struct kreg_sub_count *spare;
	struct kreg_subscriber *s, *old;
	char *pat = NULL;
	int err;

	/* Charged to the subscriber. */
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	spare = kzalloc(sizeof(*spare), GFP_KERNEL_ACCOUNT);
	if (pattern)
		pat = kstrdup(pattern, GFP_KERNEL_ACCOUNT);
	if (!s || !spare || (pattern && !pat)) {
		err = -ENOMEM;
		goto free;
	}
	mutex_lock(&kreg_subscribers_lock);
	old = rhashtable_lookup_fast(&kreg_subscriber_index, &key,
				     kreg_subscribers_params);
	/* Subscribing again replaces the pattern: the fan-out reads it under this lock. */
	if (old && old->sk == sk) {
		swap(old->pattern, pat);
		old->pattern_len = old->pattern ? strlen(old->pattern) : 0;
		err = 0;
		goto unlock;
	}
	/* A closed socket's, whose port id this one now has. */
	if (old)
		kreg_subscriber_remove(old);
	err = kreg_sub_count_take(kreg_account(p->cred, p->pid_ns), exempt, &spare,
				  &s->count);
	if (err)
		goto unlock;
	/* Whole before it is published: closing sockets read it under RCU alone. */
	s->key = key;
	s->sk = sk;
	s->admin = kreg_principal_admin(p);
	s->pattern = pat;
	s->pattern_len = pat ? strlen(pat) : 0;
	err = rhashtable_insert_fast(&kreg_subscriber_index, &s->node,
				     kreg_subscribers_params);
	if (err) {
		if (--s->count->n == 0) {
			hash_del(&s->count->node);
			kfree(s->count);
		}
		goto unlock;
	}
	get_net(key.net);
	sock_hold(sk);
	s->cred = get_cred(p->cred);
	s->pid_ns = get_pid_ns(p->pid_ns);
	list_add_tail(&s->link, &kreg_subscribers);
	s = NULL;
	pat = NULL;
unlock:
	mutex_unlock(&kreg_subscribers_lock);
free:
	kfree(pat);
	kfree(spare);
	kfree(s);
	return err;
}

void kreg_events_socket_closed(struct net *net, u32 portid)
{
	struct kreg_sub_key key = { .net = net, .portid = portid };
	struct kreg_subscriber *s;
	bool closed;

	rcu_read_lock();
	s = rhashtable_lookup(&kreg_subscriber_index, &key, kreg_subscribers_params);
	closed = s && sock_flag(s->sk, SOCK_DEAD);
	rcu_read_unlock();
	if (!closed)
		return;
	mutex_lock(&kreg_subscribers_lock);
	s = rhashtable_lookup_fast(&kreg_subscriber_index, &key,
				   kreg_subscribers_params);
	if (s && sock_flag(s->sk, SOCK_DEAD))
		kreg_subscriber_remove(s);
	mutex_unlock(&kreg_subscribers_lock);
}

/* What netlink does for a reader that overran: it reads ENOBUFS, once. */
static void kreg_report_overrun(struct kreg_subscriber *s)
{
	if (s->overrun)
		return;
	s->overrun = true;
	atomic_inc(&s->sk->sk_drops);
	WRITE_ONCE(s->sk->sk_err, ENOBUFS);
	sk_error_report(s->sk);
}

/* One event, as subscribers in @pid_ns and @user_ns see it. */
static struct sk_buff *kreg_event_build(const struct kreg_change *c,
					struct pid_namespace *pid_ns,
					struct user_namespace *user_ns)
{
	static const u8 cmds[] = {
		[KREG_CHANGE_REGISTERED]	= KREG_CMD_REGISTERED,
		[KREG_CHANGE_UNREGISTERED]	= KREG_CMD_UNREGISTERED,
		[KREG_CHANGE_UPDATED]		= KREG_CMD_UPDATED,
	};
	const struct kreg_entry *e = c->entry;
	u8 cmd = cmds[c->kind];
	struct kreg_holder_info h;
	struct sk_buff *msg;
	void *hdr;

	kreg_entry_holder_in(e, pid_ns, &h);
	msg = genlmsg_new(nla_total_size(e->name_len + 1) + kreg_node_holder_size() +
			  2 * nla_total_size(sizeof(u32)) +
			  nla_total_size(e->meta_len), GFP_KERNEL);
	if (!msg)
		return NULL;
	hdr = genlmsg_put(msg, 0, 0, kreg_events_family, 0, cmd);
	if (!hdr || nla_put_string(msg, KREG_A_NAME, e->name) ||
	    kreg_node_put_holder(msg, &h) ||
	    /* The uids of other hosts mean nothing here. */
	    (!kreg_entry_remote(e) &&
	     nla_put_u32(msg, KREG_A_UID, from_kuid_munged(user_ns, e->uid))) ||
	    (cmd == KREG_CMD_UNREGISTERED &&
	     nla_put_u32(msg, KREG_A_REASON, c->reason)) ||
	    (cmd != KREG_CMD_UNREGISTERED && e->meta_len &&
	     nla_put(msg, KREG_A_META, e->meta_len, kreg_entry_meta(e)))) {
		nlmsg_free(msg);
		return NULL;
	}
	genlmsg_end(msg, hdr);
	return msg;
}

/* The message built last, reused for subscribers of the same namespaces. */
struct kreg_event_cache {
	struct sk_buff		*msg;
	struct pid_namespace	*pid_ns;
	struct user_namespace	*user_ns;
};

static struct sk_buff *kreg_event_for(const struct kreg_change *c,
				      const struct kreg_subscriber *s,
				      struct kreg_event_cache *cache)
{
	struct user_namespace *user_ns = s->cred->user_ns;

	if (cache->msg && cache->pid_ns == s->pid_ns && cache->user_ns == user_ns)
		return cache->msg;
	nlmsg_free(cache->msg);
	cache->msg = kreg_event_build(c, s->pid_ns, user_ns);
	cache->pid_ns = s->pid_ns;
	cache->user_ns = user_ns;
	return cache->msg;
}

static void kreg_events_fan_out(const struct kreg_change *c)
{
	const struct kreg_entry *e = c->entry;
	struct kreg_event_cache cache = {};
	struct kreg_subscriber *s;
	struct kreg_principal p;
	struct sk_buff *msg, *copy;

	mutex_lock(&kreg_subscribers_lock);
	list_for_each_entry(s, &kreg_subscribers, link) {
		if (sock_flag(s->sk, SOCK_DEAD))
			continue;
		if (s->pattern &&
		    !kreg_pattern_matches(s->pattern, s->pattern_len, e->name, e->name_len))
			continue;
		kreg_principal_cred(&p, s->cred, s->pid_ns, s->admin);
		if (!kreg_entry_pid_in(e, s->pid_ns) ||
		    !kreg_may(&p, e->name, e->name_len, KREG_RIGHT_SEE,
			      KREG_OWNER_OF(e), NULL))
			continue;
		msg = kreg_event_for(c, s, &cache);
		copy = msg && kreg_socket_has_room(s->sk, msg->truesize) ?
		       skb_clone(msg, GFP_KERNEL) : NULL;
		if (!copy) {
			kreg_report_overrun(s);
			continue;
		}
		if (kreg_socket_queue(s->sk, copy))
			kreg_report_overrun(s);
		else
			s->overrun = false;
	}
	mutex_unlock(&kreg_subscribers_lock);
	nlmsg_free(cache.msg);
}

static void kreg_events_changed(const struct kreg_change *c)
{
	if (c->kind == KREG_CHANGE_REGISTERED || c->kind == KREG_CHANGE_UNREGISTERED ||
	    c->kind == KREG_CHANGE_UPDATED)
		kreg_events_fan_out(c);
}

static struct kreg_table_listener kreg_events_listener = {
	.changed = kreg_events_changed,
};

int kreg_events_init(const struct genl_family *family)
{
	int err = rhashtable_init(&kreg_subscriber_index, &kreg_subscribers_params);

	if (err)
		return err;
	kreg_events_family = family;
	kreg_table_listen(&kreg_events_listener);
	return 0;
}

void kreg_events_exit(void)
{
	struct kreg_subscriber *s, *tmp;

	mutex_lock(&kreg_subscribers_lock);
	list_for_each_entry_safe(s, tmp, &kreg_subscribers, link)
		kreg_subscriber_remove(s);
	mutex_unlock(&kreg_subscribers_lock);
	rcu_barrier();
	rhashtable_destroy(&kreg_subscriber_index);
}
