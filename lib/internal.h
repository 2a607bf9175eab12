/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libkreg internals: never installed, never exported. */
#ifndef KREG_INTERNAL_H
#define KREG_INTERNAL_H

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include "kreg.h"

#define KREG_HIDDEN __attribute__((visibility("hidden")))

/* A message that arrived unasked for (delivery or event), kept until read. */
struct kreg_pending {
	struct kreg_pending *next;
	struct nlmsghdr nlh[];
};

struct kreg_queue {
	struct kreg_pending *head;
	struct kreg_pending **tail;
};

struct kreg_conn {
	struct nl_sock *sock;
	int family;
	int events_group;	/* resolved at open, before anything can arrive */
	bool subscribed;
	uint32_t seq;
	bool events_lost;
	struct kreg_queue deliveries;
	struct kreg_queue events;
	char error[256];
	size_t bufsize;
	unsigned char *buf;
};

/* How a request ends. */
enum kreg_req {
	KREG_REQ_ACK,		/* an ack (after any reply) */
	KREG_REQ_REPLY,		/* its one reply, or an error: no ack asked */
	KREG_REQ_DUMP,		/* a dump's NLMSG_DONE */
};

/* Called for each reply message; a non-zero return stops the callbacks. */
typedef int (*kreg_reply_fn)(struct kreg_conn *conn, struct nlattr **attrs,
			     void *arg);

KREG_HIDDEN struct nl_msg *kreg_msg_new(struct kreg_conn *conn, uint8_t cmd,
					size_t payload);
KREG_HIDDEN int kreg_request(struct kreg_conn *conn, struct nl_msg *msg,
			     enum kreg_req kind, kreg_reply_fn fn, void *arg);
/* CLOCK_MONOTONIC in milliseconds: every timeout in the library uses it. */
KREG_HIDDEN uint64_t kreg_now_ms(void);
KREG_HIDDEN int kreg_set_rcvbuf(struct kreg_conn *conn, int bytes);
KREG_HIDDEN int kreg_parse(const struct nlmsghdr *nlh, struct nlattr **attrs);
KREG_HIDDEN int kreg_put_name(struct nl_msg *msg, const char *name);
KREG_HIDDEN int kreg_wait_pending(struct kreg_conn *conn,
				  struct kreg_queue *queue, int timeout_ms,
				  struct kreg_pending **out);

#endif /* KREG_INTERNAL_H */
