/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libkreg internals: never installed, never exported. */
#ifndef KREG_INTERNAL_H
#define KREG_INTERNAL_H

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/socket.h>
#include <pthread.h>

#include "kreg.h"

#define KREG_HIDDEN __attribute__((visibility("hidden")))

/* A message that arrived unasked for (delivery or event), kept until read. */
struct kreg_pending {
	struct kreg_pending *next;
	struct nlmsghdr nlh[];
};

/* What a listing keeps (kreg_select()): the part a provider can filter itself. */
struct kreg_filter {
	const char *pattern;		/* NULL: every name */
	pid_t pid;			/* 0: any holder */
};

struct kreg_queue {
	struct kreg_pending *head;
	struct kreg_pending **tail;
};

/*
 * What a provider does behind the public API: the kernel's table
 * (lib/kernel/), the process's own (lib/local/), or the cluster's
 * (lib/cluster/). The generic API (handles, servers, start, supervisors,
 * watching, logging) knows providers only through these.
 */
struct kreg_provider_ops {
	enum kreg_provider provider;
	int (*open)(struct kreg_conn *conn);
	void (*close)(struct kreg_conn *conn);
	int (*fd)(const struct kreg_conn *conn);
	/*
	 * @flags: KREG_F_* (KREG_F_MAILBOX_BOUND: the name goes when @conn
	 * closes). *@holder is set on success and on -EEXIST.
	 */
	int (*register_meta)(struct kreg_conn *conn, const char *name, pid_t pid,
			     const void *meta, size_t meta_len, uint32_t flags,
			     struct kreg_holder *holder);
	int (*unregister)(struct kreg_conn *conn, const char *name);
	/* The registration's value, in place (kreg_update_meta()). */
	int (*update_meta)(struct kreg_conn *conn, const char *name, const void *meta,
			   size_t meta_len);
	/* 0 with *@holder set, KREG_UNDEFINED, or an error; @flags: KREG_WHEREIS_*. */
	int (*whereis)(struct kreg_conn *conn, const char *name, unsigned int flags,
		       void *meta, size_t size, size_t *meta_len,
		       struct kreg_holder *holder);
	/* Only what matches @f (NULL: everything), filtered as early as the provider can. */
	int (*list)(struct kreg_conn *conn, const struct kreg_filter *f, kreg_list_fn fn,
		    void *arg);
	int (*status)(struct kreg_conn *conn, struct kreg_status *st);
	/* @from: a name the sender holds, or NULL; @flags: KREG_SEND_F_*. */
	int (*send)(struct kreg_conn *conn, const char *name, const char *from,
		    uint32_t flags, const void *data, size_t len);
	/* Only to @token's holder; NULL: a provider without tokens (-ESTALE). */
	int (*send_fenced)(struct kreg_conn *conn, const char *name, uint64_t token,
			   const void *data, size_t len);
	/*
	 * To @name on node @node, a name of that node's own (a caller's reply
	 * address), as the holder of @from; NULL: a provider of one node.
	 */
	int (*send_node)(struct kreg_conn *conn, const char *node, const char *name,
			 const char *from, const void *data, size_t len);
	/* kreg_multi_send_each(); NULL: one node, this one (->send()). */
	int (*multi_send)(struct kreg_conn *conn, const char *name, const void *data, size_t len,
			  struct kreg_node_result *results, size_t max, size_t *n);
	int (*recv)(struct kreg_conn *conn, struct kreg_message *msg, int timeout_ms);
	/* @pattern: only the names that match it (NULL: all); again: replaces it. */
	int (*subscribe)(struct kreg_conn *conn, const char *pattern);
	int (*next_event)(struct kreg_conn *conn, struct kreg_event *ev, int timeout_ms);
	/* The UID of the "user.UID." names this handle may own (reply mailboxes). */
	int (*owner_uid)(struct kreg_conn *conn, uid_t *uid);
};

KREG_HIDDEN extern const struct kreg_provider_ops kreg_kernel_ops;
KREG_HIDDEN extern const struct kreg_provider_ops kreg_local_ops;
KREG_HIDDEN extern const struct kreg_provider_ops kreg_cluster_ops;

struct kreg_local_port;
struct kreg_cluster;

/* The kernel's read-only view of the table, as this handle maps it (view.c). */
struct kreg_view_map {
	const struct kreg_view_header *hdr;	/* NULL: not mapped */
	size_t size;
	const uint32_t *index;
	const struct kreg_view_record *records;
	const uint32_t *holders;
	uint32_t mask;
	uint32_t capacity;
	uint32_t seed;
	unsigned long forks;		/* kreg_view_forks when it was mapped */
	bool off;			/* KREG_VIEW=off */
	unsigned int lookups;		/* before the view was mapped */
	uint64_t retry_at_ms;		/* no view to be had before then */
};

struct kreg_conn {
	const struct kreg_provider_ops *ops;
	char error[256];
	/* The holder the last registration reported (kreg_last_holder()). */
	struct kreg_holder last_holder;
	bool has_last_holder;
	/* kreg_call()'s private reply mailbox, opened on first use. */
	struct kreg_conn *reply_conn;
	char reply_name[KREG_NAME_MAX + 1];
	pid_t reply_owner;		/* the process that registered reply_name */
	/* The local provider: this handle's mailbox and event queue. */
	struct kreg_local_port *port;
	/* The cluster provider: kregd's socket, the lease its names live under. */
	struct kreg_cluster *cluster;
	/* The kernel provider (conn.c says what each socket carries). */
	struct nl_sock *sock;		/* requests and replies; events */
	struct nl_sock *mbox;		/* REGISTER and mail; NULL until needed */
	int epfd;			/* kreg_fd(): both of them */
	long error_offset;		/* of the attribute the error is about, or -1 */
	int family;
	bool subscribed;
	bool subscribed_filtered;	/* to a pattern: subscribing to all must say so */
	uint32_t seq;
	bool events_lost;
	struct kreg_queue deliveries;
	struct kreg_queue events;
	size_t bufsize;
	unsigned char *buf;
	struct kreg_view_map view;
	/* This node's cluster name, once asked (the kernel provider's STATUS). */
	char node[KREG_NODE_MAX + 1];
	bool node_known;
};

/*
 * Whether mail read off the socket during a request waits in the handle
 * for kreg_recv(): kreg_fd() does not show it as readable.
 */
static inline bool kreg_has_stashed_mail(const struct kreg_conn *conn)
{
	return conn->deliveries.head != NULL;
}

/* CLOCK_MONOTONIC in milliseconds: every timeout in the library uses it. */
KREG_HIDDEN uint64_t kreg_now_ms(void);
/*
 * What programs linked against libkreg before 0.12.0 call: events of two
 * kinds only (KREG_EVENT_UPDATED came with KREG_4.3), exported under the
 * symbol versions they were linked with, never by these names.
 */
#define KREG_COMPAT(symbol) __attribute__((visibility("default"), symver(symbol)))
int kreg_next_event_two_kinds(struct kreg_conn *conn, struct kreg_event *ev, int timeout_ms);
int kreg_listen_two_kinds(struct kreg_conn *conn, kreg_event_fn fn, void *arg,
			  struct kreg_listener **listenerp);
int kreg_listen_matching_two_kinds(struct kreg_conn *conn, const char *pattern,
				   kreg_event_fn fn, void *arg,
				   struct kreg_listener **listenerp);

/* When a wait of @timeout_ms (-1: for ever) that starts now is over. */
KREG_HIDDEN uint64_t kreg_deadline(int timeout_ms);
/* What is left of that wait, for poll(): -1 for ever, else ms (0: over). */
KREG_HIDDEN int kreg_ms_left(uint64_t deadline, int timeout_ms);
/*
 * Waits until @conn has something to read (0) or @stop_fd (-1: none) is
 * readable (1); or a negative errno. A signal ends the wait with 0.
 */
KREG_HIDDEN int kreg_wait_or_stop(const struct kreg_conn *conn, int stop_fd);
/* Why a name is invalid ("" if it is valid), as the kernel's extack says. */
KREG_HIDDEN const char *kreg_name_problem(const char *name);
KREG_HIDDEN void kreg_set_error(struct kreg_conn *conn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
KREG_HIDDEN void kreg_log(enum kreg_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * kreg_serve() that tells @started init's result, and also stops (orderly)
 * when @stop_fd (-1: none) becomes readable (server_loop.c).
 */
KREG_HIDDEN int kreg_serve_until(struct kreg_conn *conn, const char *name,
				 const struct kreg_module *module, void *args,
				 void (*started)(int err, void *arg), void *started_arg,
				 int stop_fd);

/* What a new server or child tells whoever started it, over a pipe. */
struct kreg_start_report {
	int err;
	pid_t pid;
	enum kreg_started how;
	struct kreg_holder holder;	/* KREG_ALREADY_STARTED: who holds the name */
};

/*
 * The life of a child process that kreg starts, just forked by @parent:
 * linked to it (SIGTERM when it ends), take @name (if any) through
 * @provider (the kernel's table, or the cluster's), report to @report_fd
 * (-1: nobody waits), then run @module's server or @start. Never returns.
 */
KREG_HIDDEN void kreg_process_main(pid_t parent, enum kreg_provider provider,
				   const char *name,
				   const struct kreg_module *module,
				   int (*start)(struct kreg_conn *conn, void *arg),
				   void *arg, int report_fd);

/*
 * A child that kreg starts as a thread: on the local provider, whose table
 * is this process's. It lives as kreg_process_main()'s process does, with
 * @stop_fd for SIGTERM (a server stops in order when it is written), and
 * pthread_cancel() for SIGKILL; when it ends, @status is its wait status
 * (WIFEXITED, WEXITSTATUS) and @done_fd is readable.
 */
struct kreg_thread_child {
	pthread_t thread;
	bool started;			/* thread is to be joined */
	pid_t tid;
	int stop_fd;
	int done_fd;
	int status;
};

KREG_HIDDEN int kreg_thread_child_start(struct kreg_thread_child *child, const char *name,
					const struct kreg_module *module,
					int (*start)(struct kreg_conn *conn, void *arg),
					void *arg, int report_fd);
/* Joins it (once done_fd is readable, or after a cancel) and closes its fds. */
KREG_HIDDEN void kreg_thread_child_reap(struct kreg_thread_child *child);

/* Drops the calling thread's local names, as if it had ended. */
KREG_HIDDEN void kreg_local_release_self(void);

/* Reads a child's report; -ECHILD when it ended without one. */
KREG_HIDDEN int kreg_read_report(int fd, struct kreg_start_report *r);

#endif /* KREG_INTERNAL_H */
