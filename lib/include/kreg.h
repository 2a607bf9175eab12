/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkreg: names for processes, kept by the kernel.
 *
 * Every function returns 0 on success or a negative errno, as the kernel
 * does. kreg_whereis_name() has one more, distinct, result: KREG_UNDEFINED
 * (a positive value) when no live process holds the name.
 *
 * A struct kreg_conn is one netlink socket. It is not thread-safe: give each
 * thread its own. The connection that registers a name is that name's
 * mailbox: what kreg_send() sends to the name arrives on it, to be read with
 * kreg_recv(). Close it and the name stays registered without a mailbox.
 */
#ifndef KREG_H
#define KREG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/kreg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* kreg_whereis_name(): no live process holds the name. */
#define KREG_UNDEFINED 1

struct kreg_conn;

/*
 * Opens a connection to kreg.ko. Fails with -EPROTONOSUPPORT when the module
 * is not loaded (kreg_strerror() says how to load it).
 */
int kreg_open(struct kreg_conn **connp);
void kreg_close(struct kreg_conn *conn);

/* The socket, to poll for POLLIN before kreg_recv() or kreg_next_event(). */
int kreg_fd(const struct kreg_conn *conn);

/*
 * What the kernel said about the last failed request on @conn (its extended
 * ack message), or "" when it said nothing.
 */
const char *kreg_last_error(const struct kreg_conn *conn);

/* Like strerror(), with kreg's meaning of each errno (-ENOENT, -EEXIST...). */
const char *kreg_strerror(int err);

/*
 * Binds @name to process @pid (0: the calling process). Another process must
 * be a child of the caller unless the caller has CAP_SYS_ADMIN.
 * On success *@holder (if not NULL) is the registered pid. When the name is
 * held, returns -EEXIST and sets *@holder to the holder's pid (0 if it lives
 * in a pid namespace the caller cannot see).
 * Other errors: -EINVAL (bad name), -ESRCH (no such process), -EPERM,
 * -EDQUOT (per-uid quota), -ENOSPC (registry full).
 */
int kreg_register(struct kreg_conn *conn, const char *name, pid_t pid,
		  pid_t *holder);

/*
 * kreg_register() with a value (up to KREG_META_MAX bytes, -EMSGSIZE beyond)
 * kept with the registration and reported by kreg_whereis_meta(), kreg_list()
 * and registration events.
 */
int kreg_register_meta(struct kreg_conn *conn, const char *name, pid_t pid,
		       const void *meta, size_t meta_len, pid_t *holder);

/* -ENOENT if not registered, -EPERM if another uid registered it. */
int kreg_unregister(struct kreg_conn *conn, const char *name);

/*
 * Sets *@pid to the live holder of @name and returns 0, or returns
 * KREG_UNDEFINED when there is none. Never reports a dead process.
 */
int kreg_whereis_name(struct kreg_conn *conn, const char *name, pid_t *pid);

/*
 * kreg_whereis_name() that also copies the registration's value into @meta
 * (at most @size bytes) and sets *@meta_len to its full length.
 */
int kreg_whereis_meta(struct kreg_conn *conn, const char *name, pid_t *pid,
		      void *meta, size_t size, size_t *meta_len);

struct kreg_entry_info {
	const char *name;
	pid_t pid;
	uid_t uid;
	uint64_t registered_ns;	/* since the Unix epoch */
	bool has_mailbox;
	const void *meta;	/* the registration's value: meta_len bytes */
	size_t meta_len;
};

/*
 * Calls @fn once for every registered name. A non-zero return from @fn stops
 * the iteration and is returned. Entries that exist for the whole listing are
 * reported exactly once; the listing streams, whatever the table's size.
 */
typedef int (*kreg_list_fn)(const struct kreg_entry_info *entry, void *arg);
int kreg_list(struct kreg_conn *conn, kreg_list_fn fn, void *arg);

/*
 * Delivers @len bytes to the mailbox of @name. Errors: -ENOENT (not
 * registered), -ECONNREFUSED (no mailbox), -EAGAIN (the mailbox is full:
 * nothing was delivered, try later), -EMSGSIZE (@len > KREG_PAYLOAD_MAX).
 */
int kreg_send(struct kreg_conn *conn, const char *name, const void *data,
	      size_t len);

struct kreg_message {
	char name[KREG_NAME_MAX + 1];	/* the name it was sent to */
	pid_t sender;			/* as this process's namespace sees it */
	size_t len;
	unsigned char data[KREG_PAYLOAD_MAX];
};

/*
 * Receives the next message sent to a name this connection registered.
 * @timeout_ms: -1 waits for ever, 0 does not wait. -ETIMEDOUT when none came.
 */
int kreg_recv(struct kreg_conn *conn, struct kreg_message *msg, int timeout_ms);

enum kreg_event_kind {
	KREG_EVENT_REGISTERED,
	KREG_EVENT_UNREGISTERED,
};

struct kreg_event {
	enum kreg_event_kind kind;
	char name[KREG_NAME_MAX + 1];
	pid_t pid;		/* in the initial pid namespace */
	uid_t uid;		/* in the initial user namespace */
	enum kreg_reason reason;	/* for KREG_EVENT_UNREGISTERED */
	size_t meta_len;		/* for KREG_EVENT_REGISTERED */
	unsigned char meta[KREG_META_MAX];
};

/* Joins the "events" group: every later change is reported on @conn. */
int kreg_subscribe(struct kreg_conn *conn);

/*
 * The next change, in the order the kernel made them. -ENOBUFS means events
 * were lost because the socket fell behind; later calls go on normally.
 */
int kreg_next_event(struct kreg_conn *conn, struct kreg_event *ev,
		    int timeout_ms);

/*
 * Waits until a live process holds @name and sets *@pid, woken by the events
 * group (no polling). Returns 0, -ETIMEDOUT after @timeout_ms (-1: for ever),
 * or another negative errno. Uses a connection of its own, so it takes no
 * events or messages from @conn's caller; @conn only proves the module is
 * there and is otherwise untouched.
 */
int kreg_await_name(struct kreg_conn *conn, const char *name, int timeout_ms,
		    pid_t *pid);

/* "explicit", "exited", "unloading". */
const char *kreg_reason_name(enum kreg_reason reason);

/*
 * Supervision, as OTP defines it. A supervisor forks its children, learns
 * of their exits through pidfds, and restarts them by strategy; a child with
 * a name takes that name itself when it starts, so after a restart the name
 * follows the live process.
 */
enum kreg_strategy {
	KREG_ONE_FOR_ONE,	/* restart only the child that ended */
	KREG_ONE_FOR_ALL,	/* stop the others, restart them all */
	KREG_REST_FOR_ONE,	/* stop and restart it and those started after it */
};

enum kreg_restart {
	KREG_PERMANENT,		/* always restarted */
	KREG_TRANSIENT,		/* restarted unless it exited with status 0 */
	KREG_TEMPORARY,		/* never restarted */
};

/* A child that cannot take its name exits with this status. */
#define KREG_EXIT_NAME_HELD 111

struct kreg_child_spec {
	const char *name;	/* taken by the child itself; NULL: no name */
	/*
	 * Runs in the new process. @conn is the name's connection and mailbox
	 * (NULL without a name). The return value is the exit status.
	 */
	int (*start)(struct kreg_conn *conn, void *arg);
	void *arg;
	enum kreg_restart restart;
	int shutdown_ms;	/* SIGTERM, then SIGKILL after this; 0: SIGKILL */
};

struct kreg_supervisor;

/*
 * More than @max_restarts restarts within @max_seconds and the supervisor
 * stops every child and reports -ELOOP.
 */
int kreg_supervisor_new(struct kreg_supervisor **supp, enum kreg_strategy strategy,
			int max_restarts, int max_seconds);

/* Starts a child (children start, and are restarted, in the order added). */
int kreg_supervisor_start_child(struct kreg_supervisor *sup,
				const struct kreg_child_spec *spec, pid_t *pid);

/* The pid of child @index (in the order added), or 0 if it is not running. */
pid_t kreg_supervisor_child_pid(const struct kreg_supervisor *sup, size_t index);

/*
 * Supervises for @timeout_ms (-1: until nothing is left to supervise):
 * returns -ETIMEDOUT when the time is up, 0 when every child has ended for
 * good, -ELOOP when the restart intensity was exceeded (every child is then
 * stopped), or another negative errno.
 */
int kreg_supervisor_run(struct kreg_supervisor *sup, int timeout_ms);

/* Stops every child, the last started first, each with its grace period. */
void kreg_supervisor_stop(struct kreg_supervisor *sup);

/* Stops every child and frees @sup. */
void kreg_supervisor_free(struct kreg_supervisor *sup);


#ifdef __cplusplus
}
#endif

#endif /* KREG_H */
