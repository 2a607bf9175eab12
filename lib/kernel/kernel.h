/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel provider's own declarations (lib/kernel/): the generic netlink
 * requests to kreg.ko, the view reader, and the provider's operations, which
 * the cluster provider builds on, since cluster names live in the kernel's
 * table too.
 */
#ifndef KREG_KERNEL_H
#define KREG_KERNEL_H

#include "internal.h"

KREG_HIDDEN int kreg_kernel_register_meta(struct kreg_conn *conn, const char *name,
					  pid_t pid, const void *meta, size_t meta_len,
					  uint32_t flags, struct kreg_holder *holder);
KREG_HIDDEN int kreg_kernel_unregister(struct kreg_conn *conn, const char *name);
KREG_HIDDEN int kreg_kernel_update_meta(struct kreg_conn *conn, const char *name,
					const void *meta, size_t meta_len);
/*
 * Besides KREG_WHEREIS_* (which one host's table needs none of): the
 * caller checked the name already (kreg_name_problem()), on a path where
 * every check counts.
 */
#define KREG_WHEREIS_CHECKED	(1U << 31)
KREG_HIDDEN int kreg_kernel_whereis(struct kreg_conn *conn, const char *name,
				    unsigned int flags, void *meta, size_t size,
				    size_t *meta_len, struct kreg_holder *holder);
/* This node's name in its cluster ("" without one), asked once per handle. */
KREG_HIDDEN const char *kreg_kernel_node(struct kreg_conn *conn);
/* A holder of a cluster name here is on this node: its name, when it was not told. */
KREG_HIDDEN void kreg_kernel_holder_node(struct kreg_conn *conn, struct kreg_holder *h);
/* A holder as the kernel's attributes tell it (KREG_A_PID, _REMOTE_PID, _NODE, _TOKEN). */
KREG_HIDDEN void kreg_kernel_holder(struct kreg_conn *conn, const struct nlattr *pid,
				    const struct nlattr *remote_pid,
				    const struct nlattr *node, const struct nlattr *token,
				    const struct nlattr *heard, struct kreg_holder *holder);
KREG_HIDDEN int kreg_kernel_list(struct kreg_conn *conn, const struct kreg_filter *f,
				 kreg_list_fn fn, void *arg);
KREG_HIDDEN int kreg_kernel_status(struct kreg_conn *conn, struct kreg_status *st);
KREG_HIDDEN int kreg_kernel_send(struct kreg_conn *conn, const char *name,
				 const char *from, uint32_t flags, const void *data,
				 size_t len);
KREG_HIDDEN int kreg_kernel_send_fenced(struct kreg_conn *conn, const char *name,
					uint64_t token, const void *data, size_t len);
KREG_HIDDEN int kreg_kernel_recv(struct kreg_conn *conn, struct kreg_message *msg,
				 int timeout_ms);
KREG_HIDDEN int kreg_kernel_subscribe(struct kreg_conn *conn, const char *pattern);
KREG_HIDDEN int kreg_kernel_fd(const struct kreg_conn *conn);
KREG_HIDDEN int kreg_kernel_owner_uid(struct kreg_conn *conn, uid_t *uid);
KREG_HIDDEN int kreg_kernel_next_event(struct kreg_conn *conn, struct kreg_event *ev,
				       int timeout_ms);

/*
 * A lookup in the kernel's view, with no system call (of a name @checked
 * already by the caller, or checked here): 0 (*@holder set, and
 * the value when asked for), KREG_UNDEFINED, -ESRCH when the name's holder
 * has died (not held, but still in the table), or -EAGAIN when the view
 * cannot answer and the kernel must be asked.
 */
KREG_HIDDEN int kreg_view_whereis(struct kreg_conn *conn, const char *name, bool checked,
				  void *meta, size_t size, size_t *meta_len,
				  struct kreg_holder *holder);
/* The age of the cluster names' copy the view holds, in ms (0: none). */
KREG_HIDDEN uint64_t kreg_view_cluster_age_ms(struct kreg_conn *conn);
/* How long ago CLOCK_BOOTTIME was @ns, in ms (0 for 0). */
KREG_HIDDEN uint64_t kreg_age_ms(uint64_t ns);
KREG_HIDDEN void kreg_view_open(struct kreg_conn *conn);
KREG_HIDDEN void kreg_view_close(struct kreg_conn *conn);

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
/* kreg_request() through the mailbox socket (kreg_open_mailbox() first). */
KREG_HIDDEN int kreg_request_on(struct kreg_conn *conn, bool via_mailbox,
				struct nl_msg *msg, enum kreg_req kind,
				kreg_reply_fn fn, void *arg);
KREG_HIDDEN int kreg_open_mailbox(struct kreg_conn *conn);
/*
 * kreg_request() of a message built by hand in @req (its header filled but
 * for seq, pid and flags), its replies given to @fn as they came: for the
 * hot paths, without libnl's allocations and parser.
 */
typedef int (*kreg_raw_fn)(struct kreg_conn *conn, const struct nlmsghdr *nlh, void *arg);
KREG_HIDDEN int kreg_request_raw(struct kreg_conn *conn, struct nlmsghdr *req,
				 enum kreg_req kind, kreg_raw_fn fn, void *arg);
KREG_HIDDEN int kreg_set_rcvbuf(struct kreg_conn *conn, int bytes);
KREG_HIDDEN int kreg_parse(const struct nlmsghdr *nlh, struct nlattr **attrs);
KREG_HIDDEN int kreg_put_name(struct nl_msg *msg, const char *name);

KREG_HIDDEN int kreg_wait_pending(struct kreg_conn *conn,
				  struct kreg_queue *queue, int timeout_ms,
				  struct kreg_pending **out);

#endif /* KREG_KERNEL_H */
