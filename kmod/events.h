/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events: who subscribed, and the fan-out of each change to those who may
 * see its name.
 */
#ifndef _KREG_EVENTS_H
#define _KREG_EVENTS_H

#include <linux/types.h>

struct net;
struct sock;
struct sk_buff;
struct kreg_entry;

/* Socket @sk (port @portid) receives every later event it may see. */
int kreg_events_subscribe(struct sock *sk, u32 portid);
/* The socket with @portid in @net has closed. */
void kreg_events_socket_closed(struct net *net, u32 portid);
/* Sends @msg, about @e, to each subscriber that may see @e; consumes @msg. */
void kreg_events_send(struct sk_buff *msg, const struct kreg_entry *e);
void kreg_events_exit(void);

#endif /* _KREG_EVENTS_H */
