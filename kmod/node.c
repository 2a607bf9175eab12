// SPDX-License-Identifier: GPL-2.0
/*
 * This node of a kreg cluster. kregd, the node's daemon, binds its socket
 * as the relay (KREG_CMD_RELAY) and names the node: from then on that
 * socket, and no other, commits the claims this node won, mirrors the
 * names other nodes hold and fences this node's holders. A relay lasts as
 * long as its socket: when it closes, its mirrors go with it (they are
 * bound to its mailbox), and another kregd may bind.
 *
 * The relay is read under RCU by every reply that tells a holder, and
 * changed under its own mutex, in process context (requests and the
 * release notifier): nothing here runs in atomic context, on PREEMPT_RT
 * either.
 *
 * The node's lease deadline (KREG_CMD_LEASE) is the kernel's, not
 * kregd's: etcd gives this node's names away once the lease's TTL has run
 * out, whether kregd is running, stopped or stuck, so the kernel fences
 * their holders at the deadline by itself unless the relay moved it. A
 * soft hrtimer on CLOCK_BOOTTIME (a suspend counts, as it does for etcd)
 * only queues the fencing, which takes the table's mutex in a work item.
 */
#include <linux/hrtimer.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "node.h"
#include "table.h"
#include "trace.h"

struct kreg_relay {
	struct sock	*sk;		/* counted: tells it from a later socket of its port id */
	struct net	*net;		/* counted */
	u32		portid;
	u8		name_len;
	char		name[KREG_NODE_MAX];
	struct rcu_head	rcu;
};

static struct kreg_relay __rcu *kreg_relay;
static DEFINE_MUTEX(kreg_relay_lock);

/* CLOCK_BOOTTIME ns; 0: none set. Written under kreg_relay_lock. */
static u64 kreg_lease_deadline;
static struct hrtimer kreg_lease_timer;
static struct work_struct kreg_lease_work;

static void kreg_relay_free_rcu(struct rcu_head *head)
{
	struct kreg_relay *r = container_of(head, struct kreg_relay, rcu);

	sock_put(r->sk);
	put_net(r->net);
	kfree(r);
}

static struct kreg_relay *kreg_relay_locked(void)
{
	return rcu_dereference_protected(kreg_relay, lockdep_is_held(&kreg_relay_lock));
}

int kreg_node_bind(struct sock *sk, u32 portid, const char *name, size_t len)
{
	struct kreg_relay *r, *old;
	int err = 0;

	if (len == 0 || len > KREG_NODE_MAX)
		return -EINVAL;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->sk = sk;
	r->net = sock_net(sk);
	r->portid = portid;
	r->name_len = len;
	memcpy(r->name, name, len);

	mutex_lock(&kreg_relay_lock);
	old = kreg_relay_locked();
	if (old && old->sk == sk && old->name_len == len && !memcmp(old->name, name, len)) {
		/* Binding again, as it was: nothing changes. */
		kfree(r);
		goto unlock;
	}
	if (old && !sock_flag(old->sk, SOCK_DEAD)) {
		kfree(r);
		err = -EBUSY;
		goto unlock;
	}
	sock_hold(sk);
	get_net(r->net);
	rcu_assign_pointer(kreg_relay, r);
	if (old)
		call_rcu(&old->rcu, kreg_relay_free_rcu);
unlock:
	mutex_unlock(&kreg_relay_lock);
	return err;
}

bool kreg_node_is_relay(const struct sock *sk)
{
	struct kreg_relay *r;
	bool is;

	rcu_read_lock();
	r = rcu_dereference(kreg_relay);
	is = r && r->sk == sk && !sock_flag(sk, SOCK_DEAD);
	rcu_read_unlock();
	return is;
}

bool kreg_node_is_self(const char *name, size_t len)
{
	struct kreg_relay *r;
	bool is;

	rcu_read_lock();
	r = rcu_dereference(kreg_relay);
	is = r && r->name_len == len && !memcmp(r->name, name, len);
	rcu_read_unlock();
	return is;
}

bool kreg_node_has_relay(void)
{
	struct kreg_relay *r;
	bool has;

	rcu_read_lock();
	r = rcu_dereference(kreg_relay);
	has = r && !sock_flag(r->sk, SOCK_DEAD);
	rcu_read_unlock();
	return has;
}

void kreg_node_socket_closed(struct net *net, u32 portid)
{
	struct kreg_relay *r;

	/* One RCU read for every other socket that closes. */
	rcu_read_lock();
	r = rcu_dereference(kreg_relay);
	if (!r || r->net != net || r->portid != portid) {
		rcu_read_unlock();
		return;
	}
	rcu_read_unlock();

	mutex_lock(&kreg_relay_lock);
	r = kreg_relay_locked();
	if (r && r->net == net && r->portid == portid && sock_flag(r->sk, SOCK_DEAD)) {
		RCU_INIT_POINTER(kreg_relay, NULL);
		call_rcu(&r->rcu, kreg_relay_free_rcu);
	}
	mutex_unlock(&kreg_relay_lock);
}

/* The deadline passed, unless it moved since the timer was set. */
static void kreg_lease_fence(struct work_struct *work)
{
	u64 deadline = READ_ONCE(kreg_lease_deadline);
	unsigned int fenced;

	if (!deadline || ktime_get_boottime_ns() < deadline)
		return;
	fenced = kreg_table_fence(NULL, 0);
	trace_kreg_fence(fenced);
	if (fenced)
		pr_notice("the node's lease deadline passed unrenewed: %u holder%s of cluster names fenced\n",
			  fenced, fenced == 1 ? "" : "s");
}

static enum hrtimer_restart kreg_lease_expired(struct hrtimer *timer)
{
	schedule_work(&kreg_lease_work);
	return HRTIMER_NORESTART;
}

void kreg_node_lease(u64 deadline_ns)
{
	mutex_lock(&kreg_relay_lock);
	WRITE_ONCE(kreg_lease_deadline, deadline_ns);
	if (deadline_ns)
		hrtimer_start(&kreg_lease_timer, ns_to_ktime(deadline_ns), HRTIMER_MODE_ABS_SOFT);
	else
		hrtimer_try_to_cancel(&kreg_lease_timer);
	mutex_unlock(&kreg_relay_lock);
}

u64 kreg_node_deadline(void)
{
	return READ_ONCE(kreg_lease_deadline);
}

void kreg_node_init(void)
{
	hrtimer_init(&kreg_lease_timer, CLOCK_BOOTTIME, HRTIMER_MODE_ABS_SOFT);
	kreg_lease_timer.function = kreg_lease_expired;
	INIT_WORK(&kreg_lease_work, kreg_lease_fence);
}

void kreg_node_exit(void)
{
	struct kreg_relay *r;

	hrtimer_cancel(&kreg_lease_timer);
	cancel_work_sync(&kreg_lease_work);

	mutex_lock(&kreg_relay_lock);
	r = kreg_relay_locked();
	RCU_INIT_POINTER(kreg_relay, NULL);
	mutex_unlock(&kreg_relay_lock);
	if (r)
		call_rcu(&r->rcu, kreg_relay_free_rcu);
	rcu_barrier();
}

size_t kreg_node_holder_size(void)
{
	return 2 * nla_total_size(sizeof(u32)) + nla_total_size(KREG_NODE_MAX + 1) +
	       2 * nla_total_size_64bit(sizeof(u64));
}

static int kreg_node_put_string(struct sk_buff *skb, const char *name, size_t len)
{
	char buf[KREG_NODE_MAX + 1];

	if (!len)
		return 0;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return nla_put_string(skb, KREG_A_NODE, buf);
}

int kreg_node_put_self(struct sk_buff *skb)
{
	char name[KREG_NODE_MAX];
	struct kreg_relay *r;
	size_t len = 0;

	rcu_read_lock();
	r = rcu_dereference(kreg_relay);
	if (r) {
		len = r->name_len;
		memcpy(name, r->name, len);
	}
	rcu_read_unlock();
	return kreg_node_put_string(skb, name, len);
}

/* The node a holder is on: its own (a mirror's), or this one's name. */
static int kreg_node_put_name(struct sk_buff *skb, const struct kreg_holder_info *h)
{
	if (h->flags & KREG_F_REMOTE)
		return kreg_node_put_string(skb, h->node, h->node_len);
	return kreg_node_put_self(skb);
}

int kreg_node_put_holder(struct sk_buff *skb, const struct kreg_holder_info *h)
{
	u64 revision, heard;

	if (nla_put_u32(skb, KREG_A_PID, h->pid))
		return -EMSGSIZE;
	if (!(h->flags & KREG_F_CLUSTER))
		return 0;
	/* How old this node's copy of the cluster's names is: the answer's age. */
	kreg_table_cluster_copy(&revision, &heard);
	if ((h->token && nla_put_u64_64bit(skb, KREG_A_TOKEN, h->token, KREG_A_PAD)) ||
	    (heard && nla_put_u64_64bit(skb, KREG_A_HEARD_NS, heard, KREG_A_PAD)) ||
	    ((h->flags & KREG_F_REMOTE) &&
	     nla_put_u32(skb, KREG_A_REMOTE_PID, h->remote_pid)) ||
	    kreg_node_put_name(skb, h))
		return -EMSGSIZE;
	return 0;
}
