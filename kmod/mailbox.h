/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mailboxes: the sockets that registered names, each with its names' links
 * (the table's entries, which this file never looks into), and delivery to
 * them.
 */
#ifndef _KREG_MAILBOX_H
#define _KREG_MAILBOX_H

#include <linux/types.h>
#include <linux/uidgid.h>
#include <net/sock.h>

struct net;
struct sk_buff;
struct user_namespace;
struct kreg_mailbox;

/*
 * Room kreg never fills with mail or events in a socket's receive buffer:
 * the replies to its owner's own requests always fit, whatever others send.
 */
#define KREG_REPLY_RESERVE	(16 * 1024)

/* Whether @truesize more bytes fit in @sk and leave the reserve free. */
static inline bool kreg_socket_has_room(const struct sock *sk, unsigned int truesize)
{
	return atomic_read(&sk->sk_rmem_alloc) + (int)truesize <=
	       READ_ONCE(sk->sk_rcvbuf) - KREG_REPLY_RESERVE;
}

/*
 * Queues @skb (always consumed) on socket @sk itself: 0, -EAGAIN when its
 * receive buffer is full, -ECONNREFUSED when it has closed. Never by port
 * id: a closing socket gives its port id up before it is marked dead, and
 * a new socket that took it must not get what was meant for the old one.
 */
int kreg_socket_queue(struct sock *sk, struct sk_buff *skb);

int kreg_mailboxes_init(void);
void kreg_mailboxes_destroy(void);

/* For a registration, before the table lock is taken; freed after. */
struct kreg_mailbox *kreg_mailbox_spare(void);
void kreg_mailbox_free_spare(struct kreg_mailbox *spare);

/* Under the table lock: the mailbox of port @portid in @net, or NULL. */
struct kreg_mailbox *kreg_mailbox_lookup_locked(struct net *net, u32 portid);
/* Whether @mbox is socket @sk's (not a closed socket's that had its port id). */
bool kreg_mailbox_of_socket(const struct kreg_mailbox *mbox, const struct sock *sk);
/* Whether @mbox's socket has closed. */
bool kreg_mailbox_socket_dead(const struct kreg_mailbox *mbox);
/*
 * Under the table lock: makes socket @sk (port @portid) the mailbox of the
 * name whose link is @link, from *@spare (then NULL) if it is not one yet;
 * the ids of senders are told it in @user_ns, its registrant's.
 * The caller has closed any mailbox of another socket under that port id.
 */
struct kreg_mailbox *kreg_mailbox_attach_locked(struct hlist_node *link,
						struct sock *sk, u32 portid,
						struct user_namespace *user_ns,
						struct kreg_mailbox **spare);
/*
 * Under the table lock: takes @link out of @mbox. True when that was the
 * last: the mailbox is gone, and may be freed once the caller lets go of
 * the table lock or an RCU read section.
 */
bool kreg_mailbox_detach_locked(struct kreg_mailbox *mbox, struct hlist_node *link);
/* The first link of @mbox's names (under the table lock); never NULL. */
struct hlist_node *kreg_mailbox_first_locked(struct kreg_mailbox *mbox);

/*
 * Under RCU, no lock: whether port @portid in @net is a mailbox whose socket
 * has closed, so that closing any other socket costs one lookup.
 */
bool kreg_mailbox_closed_rcu(struct net *net, u32 portid);

/*
 * Under RCU: a counted reference on @mbox for a delivery, or NULL when its
 * socket is closing.
 */
struct kreg_mailbox *kreg_mailbox_get(struct kreg_mailbox *mbox);
void kreg_mailbox_put(struct kreg_mailbox *mbox);

/* The receiver's user namespace: the one the sender's ids are told in. */
struct user_namespace *kreg_mailbox_user_ns(const struct kreg_mailbox *mbox);

/*
 * Delivers @msg (always consumed) from a sender of account @from (access.c's
 * kreg_account()), within that account's share: -EAGAIN when it does not
 * fit, and nothing queued is lost.
 */
int kreg_mailbox_deliver(struct kreg_mailbox *mbox, struct sk_buff *msg, u64 from);
/*
 * kreg_mailbox_deliver() in two steps, for a sender that must act between
 * knowing the message fits and sending it: admit (0, the mailbox then held
 * for it; or an error, @msg consumed), then commit, which sends and lets go.
 */
int kreg_mailbox_admit(struct kreg_mailbox *mbox, struct sk_buff *msg, u64 from);
int kreg_mailbox_commit(struct kreg_mailbox *mbox, struct sk_buff *msg, u64 from);

#endif /* _KREG_MAILBOX_H */
