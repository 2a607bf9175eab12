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

#ifdef __cplusplus
}
#endif

#endif /* KREG_H */
