// SPDX-License-Identifier: GPL-2.0
/*
 * Events: every registration and removal, sent to each subscribed socket
 * that may SEE the name, so a name hidden from someone never reaches them
 * this way either. A multicast group cannot tell its members apart, so each
 * subscriber gets its own copy (a clone: the data is shared).
 *
 * A subscriber is judged by the credentials it subscribed with, as a file is
 * by those it was opened with. Like mail, events leave KREG_REPLY_RESERVE
 * of a socket free for replies: an event that would eat into it is dropped
 * and the subscriber told, as netlink tells a reader it overran (ENOBUFS).
 *
 * The fan-out runs under the table mutex (events leave in the order of the
 * changes) and reads the subscribers under RCU: a sleeping lock on
 * PREEMPT_RT, where RCU readers may take them; non-blocking sends and
 * GFP_ATOMIC clones on the generic kernel.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "access.h"
#include "events.h"
#include "mailbox.h"
#include "table.h"

struct kreg_subscriber {
	struct list_head	node;		/* RCU */
	struct net		*net;		/* counted */
	u32			portid;
	struct sock		*sk;		/* counted: its identity */
	const struct cred	*cred;		/* counted: as it subscribed */
	bool			admin;
	struct rcu_head		rcu;
};

static LIST_HEAD(kreg_subscribers);
static DEFINE_MUTEX(kreg_subscribers_lock);

static void kreg_subscriber_free_rcu(struct rcu_head *head)
{
	struct kreg_subscriber *s = container_of(head, struct kreg_subscriber, rcu);

	put_cred(s->cred);
	sock_put(s->sk);
	put_net(s->net);
	kfree(s);
}

static void kreg_subscriber_remove(struct kreg_subscriber *s)
{
	list_del_rcu(&s->node);
	call_rcu(&s->rcu, kreg_subscriber_free_rcu);
}

int kreg_events_subscribe(struct sock *sk, u32 portid)
{
	struct kreg_subscriber *s, *old, *tmp;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	mutex_lock(&kreg_subscribers_lock);
	list_for_each_entry_safe(old, tmp, &kreg_subscribers, node) {
		if (old->sk == sk) {
			/* Subscribing again changes nothing. */
			mutex_unlock(&kreg_subscribers_lock);
			kfree(s);
			return 0;
		}
		/* A closed socket's, whose port id this one now has. */
		if (net_eq(old->net, sock_net(sk)) && old->portid == portid)
			kreg_subscriber_remove(old);
	}
	s->net = get_net(sock_net(sk));
	s->portid = portid;
	sock_hold(sk);
	s->sk = sk;
	s->cred = get_current_cred();
	s->admin = ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
	list_add_tail_rcu(&s->node, &kreg_subscribers);
	mutex_unlock(&kreg_subscribers_lock);
	return 0;
}

void kreg_events_socket_closed(struct net *net, u32 portid)
{
	struct kreg_subscriber *s, *tmp;

	mutex_lock(&kreg_subscribers_lock);
	list_for_each_entry_safe(s, tmp, &kreg_subscribers, node)
		if (net_eq(s->net, net) && s->portid == portid &&
		    sock_flag(s->sk, SOCK_DEAD))
			kreg_subscriber_remove(s);
	mutex_unlock(&kreg_subscribers_lock);
}

/* What netlink does for a reader that overran: it reads ENOBUFS, once. */
static void kreg_report_overrun(struct sock *sk)
{
	atomic_inc(&sk->sk_drops);
	WRITE_ONCE(sk->sk_err, ENOBUFS);
	sk_error_report(sk);
}

void kreg_events_send(struct sk_buff *msg, const struct kreg_entry *e)
{
	struct kreg_subscriber *s;
	struct kreg_principal p;
	struct sk_buff *copy;

	rcu_read_lock();
	list_for_each_entry_rcu(s, &kreg_subscribers, node) {
		if (sock_flag(s->sk, SOCK_DEAD))
			continue;
		kreg_principal_cred(&p, s->cred, s->admin);
		if (!kreg_may(&p, e->name, e->name_len, KREG_RIGHT_SEE,
			      KREG_OWNER_OF(e), NULL))
			continue;
		copy = kreg_socket_has_room(s->sk, msg->truesize) ?
		       skb_clone(msg, GFP_ATOMIC) : NULL;
		if (!copy) {
			kreg_report_overrun(s->sk);
			continue;
		}
		/* A full socket is told by netlink itself; a gone one is skipped. */
		genlmsg_unicast(s->net, copy, s->portid);
	}
	rcu_read_unlock();
	nlmsg_free(msg);
}

void kreg_events_exit(void)
{
	struct kreg_subscriber *s, *tmp;

	mutex_lock(&kreg_subscribers_lock);
	list_for_each_entry_safe(s, tmp, &kreg_subscribers, node)
		kreg_subscriber_remove(s);
	mutex_unlock(&kreg_subscribers_lock);
}
