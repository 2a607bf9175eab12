/* SPDX-License-Identifier: GPL-2.0 */
/*
 * This node of a kreg cluster: its relay (kregd's socket, the only one that
 * commits, mirrors and fences cluster names) and its name; and how a holder
 * of any name is told, local or on another node.
 */
#ifndef _KREG_NODE_H
#define _KREG_NODE_H

#include <linux/types.h>
#include <uapi/linux/kreg.h>

struct net;
struct sk_buff;
struct sock;
struct kreg_holder_info;

/*
 * Socket @sk (port @portid) becomes this node's relay, for node @name:
 * -EBUSY while another relay's socket is open.
 */
int kreg_node_bind(struct sock *sk, u32 portid, const char *name, size_t len);
/* Whether @sk is this node's relay. */
bool kreg_node_is_relay(const struct sock *sk);
/* Whether @name (@len bytes) is this node's, as its relay named it. */
bool kreg_node_is_self(const char *name, size_t len);
/* Whether a relay is bound: cluster names can be claimed. */
bool kreg_node_has_relay(void);
/* The socket with @portid in @net has closed: if it was the relay, none is. */
void kreg_node_socket_closed(struct net *net, u32 portid);
void kreg_node_init(void);
void kreg_node_exit(void);

/*
 * This node's holders of cluster names keep them until @deadline_ns
 * (CLOCK_BOOTTIME; 0: no deadline): then, unless moved, the kernel fences
 * them (KREG_REASON_FENCED), relay or not.
 */
void kreg_node_lease(u64 deadline_ns);
/* The deadline (0: none): once passed, no claim may be committed. */
u64 kreg_node_deadline(void);

/*
 * Puts @h into @skb as a requester sees a name's holder: KREG_A_PID (0 for
 * a holder on another node), and for a cluster name KREG_A_TOKEN,
 * KREG_A_NODE (this node's name for a holder here), KREG_A_REMOTE_PID for
 * one elsewhere, and KREG_A_HEARD_NS, how recent this node's copy of the
 * cluster's names is. -EMSGSIZE when it does not fit.
 */
int kreg_node_put_holder(struct sk_buff *skb, const struct kreg_holder_info *h);
/* Puts this node's name (KREG_A_NODE), if a relay named it. */
int kreg_node_put_self(struct sk_buff *skb);
/* The room kreg_node_put_holder() needs at most. */
size_t kreg_node_holder_size(void);

#endif /* _KREG_NODE_H */
