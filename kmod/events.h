/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events: who subscribed, and the fan-out of each change of the table to
 * those who may see it.
 */
#ifndef _KREG_EVENTS_H
#define _KREG_EVENTS_H

#include <linux/types.h>
#include <linux/uidgid.h>

struct genl_family;
struct net;
struct sock;
struct kreg_principal;

/* The most subscriptions the sockets of one uid may have (a module parameter). */
extern unsigned int kreg_max_subscriptions;

/* Listens to the table; events go out as messages of @family. */
int kreg_events_init(const struct genl_family *family);
void kreg_events_exit(void);

/*
 * Socket @sk (port @portid) receives every later event @p may see, judged
 * as @p is now (its credentials and pid namespace are kept), about the
 * names that match @pattern (NULL: all; a pattern the grammar took).
 * Subscribing again replaces the pattern. -EDQUOT past the limit, unless
 * @exempt.
 */
int kreg_events_subscribe(struct sock *sk, u32 portid, struct kreg_principal *p,
			  bool exempt, const char *pattern);
/* The socket with @portid in @net has closed: one lookup if it never subscribed. */
void kreg_events_socket_closed(struct net *net, u32 portid);
/* The subscriptions counted toward @account (access.c's kreg_account()). */
unsigned int kreg_events_count(u64 account);

#endif /* _KREG_EVENTS_H */
