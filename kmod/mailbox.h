/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mailboxes: the sockets that registered names, and delivery to them.
 */
#ifndef _KREG_MAILBOX_H
#define _KREG_MAILBOX_H

#include <linux/types.h>
#include <linux/uidgid.h>
#include <net/sock.h>

struct net;
struct sk_buff;
struct user_namespace;
struct kreg_entry;
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

int kreg_mailboxes_init(void);
void kreg_mailboxes_destroy(void);

/* For a registration, before kreg_lock is taken; kreg_mailbox_free_spare() after. */
struct kreg_mailbox *kreg_mailbox_spare(void);
void kreg_mailbox_free_spare(struct kreg_mailbox *spare);

/*
 * Under kreg_lock: makes socket @sk (port @portid) @e's mailbox, from
 * *@spare if it is not one yet; or takes @e out of its mailbox.
 */
int kreg_mailbox_attach_locked(struct kreg_entry *e, struct sock *sk, u32 portid,
			       struct kreg_mailbox **spare);
void kreg_mailbox_detach_locked(struct kreg_entry *e);

/* The socket with @portid in @net has closed (may sleep; takes kreg_lock). */
void kreg_mailbox_closed(struct net *net, u32 portid);

/*
 * Under RCU: a counted reference on @e's mailbox for a delivery, or NULL
 * when it has none or its socket is closing.
 */
struct kreg_mailbox *kreg_mailbox_get(const struct kreg_entry *e);
void kreg_mailbox_put(struct kreg_mailbox *mbox);

/* The receiver's user namespace: the one the sender's ids are told in. */
struct user_namespace *kreg_mailbox_user_ns(const struct kreg_mailbox *mbox);

/*
 * Delivers @msg (always consumed) from a sender of uid @from, within that
 * uid's share: -EAGAIN when it does not fit, and nothing queued is lost.
 */
int kreg_mailbox_deliver(struct kreg_mailbox *mbox, struct sk_buff *msg, kuid_t from);

#endif /* _KREG_MAILBOX_H */
