// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Watching the registry through its events, on any provider: await a name,
 * or have a listener thread report every change to a callback.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/*
 * A pidfd of @pid, the holder @want waits behind, or -1. Its exit wakes the
 * wait even without exit cleanup attached, when no event comes until a
 * lookup finds the holder dead (and hands the name to the next in line).
 * Only a process is watched: the local provider's holders are threads,
 * whose end takes their names at once, with an event.
 */
static int kreg_watch_holder(const struct kreg_conn *conn, pid_t pid)
{
#ifdef SYS_pidfd_open
	if (kreg_registry_provider(conn) != KREG_PROVIDER_LOCAL)
		return (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	(void)conn;
	(void)pid;
	return -1;
}

/*
 * Waits for the next registration of @name on @watch, or (@holder_fd not
 * -1) its holder's exit: 0, or -ETIMEDOUT once @deadline has passed.
 */
static int kreg_await_change(struct kreg_conn *watch, const char *name, int holder_fd,
			     uint64_t deadline, int timeout_ms)
{
	struct kreg_event ev;
	int err, left;

	for (;;) {
		left = kreg_ms_left(deadline, timeout_ms);
		if (left == 0)
			return -ETIMEDOUT;
		if (holder_fd >= 0) {
			struct pollfd fds[2] = {
				{ .fd = kreg_fd(watch), .events = POLLIN },
				{ .fd = holder_fd, .events = POLLIN },
			};
			int n = poll(fds, 2, left);

			if (n < 0 && errno != EINTR)
				return -errno;
			if (n > 0 && fds[1].revents)
				return 0;	/* the holder has exited: look again */
			if (n <= 0 || !fds[0].revents)
				continue;	/* the deadline, or a signal: see above */
			left = 0;	/* an event is there to read */
		}
		err = kreg_next_event(watch, &ev, left);
		/* Readable, but no whole event yet (or another name's): wait on. */
		if (err == -ETIMEDOUT && holder_fd >= 0)
			continue;
		if (err)
			return err;
		/* A removal too: the name may have gone to one this caller cannot see. */
		if (!strcmp(ev.name, name) && ev.kind != KREG_EVENT_UPDATED)
			return 0;
	}
}

/*
 * Waits until @name is held (@want 0) or held by @want, as a lookup on a
 * connection of its own says, woken by the name's events and, while
 * another process holds it and @want waits, by that process's exit.
 */
static int kreg_await_holder(struct kreg_conn *conn, const char *name, pid_t want,
			     int timeout_ms, pid_t *pid)
{
	uint64_t deadline = kreg_deadline(timeout_ms);
	pid_t watched = 0;
	int err, holder_fd = -1;
	struct kreg_conn *watch;

	err = kreg_open_provider(&watch, kreg_registry_provider(conn));
	if (err)
		return err;
	/*
	 * Subscribe first, then look: a registration in between is not missed.
	 * To this name only: the kernel sends nothing about the others.
	 */
	err = kreg_subscribe_matching(watch, name);
	for (;;) {
		if (err && err != -ENOBUFS)
			break;
		/* Each event (or a loss of events) is checked by a lookup, which
		 * also gives the pid as this process's namespace sees it. */
		err = kreg_whereis_name(watch, name, pid);
		if (err != KREG_UNDEFINED && (err || !want || *pid == want))
			break;
		/*
		 * Free, or held by one this caller may not see (in a container, or
		 * under a policy): only events tell more. A holder it sees is
		 * also watched, for its exit.
		 */
		if (err == KREG_UNDEFINED)
			*pid = 0;
		if (want && *pid != watched) {
			if (holder_fd >= 0)
				close(holder_fd);
			holder_fd = *pid ? kreg_watch_holder(watch, *pid) : -1;
			if (*pid && holder_fd < 0 && errno != ESRCH)
				kreg_log(KREG_LOG_DEBUG, "await \"%s\": cannot watch holder %d (%s): "
					 "woken by events only", name, (int)*pid, strerror(errno));
			watched = *pid;
			/* Looked up again: a pidfd opened while it still holds the name is its. */
			err = 0;
			continue;
		}
		err = kreg_await_change(watch, name, holder_fd, deadline, timeout_ms);
		if (err == -ETIMEDOUT)
			break;
	}
	if (holder_fd >= 0)
		close(holder_fd);
	kreg_close(watch);
	return err;
}

int kreg_await_name(struct kreg_conn *conn, const char *name, int timeout_ms,
		    pid_t *pid)
{
	return kreg_await_holder(conn, name, 0, timeout_ms, pid);
}

int kreg_await_own(struct kreg_conn *conn, const char *name, int timeout_ms)
{
	/* The holder a registration of pid 0 binds: the thread, on the local provider. */
	pid_t self = kreg_registry_provider(conn) == KREG_PROVIDER_LOCAL ?
		     (pid_t)syscall(SYS_gettid) : getpid();
	pid_t pid;

	return kreg_await_holder(conn, name, self, timeout_ms, &pid);
}

const char *kreg_reason_name(enum kreg_reason reason)
{
	switch (reason) {
	case KREG_REASON_EXPLICIT:
		return "explicit";
	case KREG_REASON_EXITED:
		return "exited";
	case KREG_REASON_UNLOADING:
		return "unloading";
	case KREG_REASON_REVOKED:
		return "revoked";
	case KREG_REASON_CLOSED:
		return "closed";
	case KREG_REASON_FENCED:
		return "fenced";
	case KREG_REASON_REMOTE:
		return "remote";
	case KREG_REASON_NODE_LOST:
		return "node-lost";
	}
	return "unknown";
}

struct kreg_listener {
	struct kreg_conn *conn;
	kreg_event_fn fn;
	void *arg;
	bool two_kinds;		/* a program of before KREG_EVENT_UPDATED */
	int stop_fd;
	pthread_t thread;
};

static void *kreg_listener_main(void *arg)
{
	struct kreg_listener *l = arg;
	struct kreg_event ev;

	for (;;) {
		int err = kreg_next_event(l->conn, &ev, 0);

		if (err == 0) {
			if (!l->two_kinds || ev.kind != KREG_EVENT_UPDATED)
				l->fn(&ev, l->arg);
			continue;
		}
		if (err == -ENOBUFS) {
			l->fn(NULL, l->arg);
			continue;
		}
		if (err != -ETIMEDOUT) {
			kreg_log(KREG_LOG_ERROR, "listener stopped: %s", kreg_strerror(err));
			return NULL;
		}
		if (kreg_wait_or_stop(l->conn, l->stop_fd))
			return NULL;	/* stopped, or poll failed */
	}
}

static int kreg_listen_start(struct kreg_conn *conn, const char *pattern, kreg_event_fn fn,
			     void *arg, bool two_kinds, struct kreg_listener **listenerp);

int kreg_listen(struct kreg_conn *conn, kreg_event_fn fn, void *arg,
		struct kreg_listener **listenerp)
{
	return kreg_listen_start(conn, NULL, fn, arg, false, listenerp);
}

int kreg_listen_matching(struct kreg_conn *conn, const char *pattern, kreg_event_fn fn,
			 void *arg, struct kreg_listener **listenerp)
{
	return kreg_listen_start(conn, pattern, fn, arg, false, listenerp);
}

KREG_COMPAT("kreg_listen@KREG_4")
int kreg_listen_two_kinds(struct kreg_conn *conn, kreg_event_fn fn, void *arg,
			  struct kreg_listener **listenerp)
{
	return kreg_listen_start(conn, NULL, fn, arg, true, listenerp);
}

KREG_COMPAT("kreg_listen_matching@KREG_4.2")
int kreg_listen_matching_two_kinds(struct kreg_conn *conn, const char *pattern,
				   kreg_event_fn fn, void *arg,
				   struct kreg_listener **listenerp)
{
	return kreg_listen_start(conn, pattern, fn, arg, true, listenerp);
}

static int kreg_listen_start(struct kreg_conn *conn, const char *pattern, kreg_event_fn fn,
			     void *arg, bool two_kinds, struct kreg_listener **listenerp)
{
	struct kreg_listener *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	l->fn = fn;
	l->arg = arg;
	l->two_kinds = two_kinds;
	l->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (l->stop_fd < 0) {
		err = -errno;
		goto free_listener;
	}
	err = kreg_open_provider(&l->conn, kreg_registry_provider(conn));
	if (err)
		goto close_stop;
	/* Subscribed before returning: no later change is missed. */
	err = pattern ? kreg_subscribe_matching(l->conn, pattern) : kreg_subscribe(l->conn);
	if (err == -EINVAL)
		kreg_set_error(conn, "%s", kreg_last_error(l->conn));
	if (err)
		goto close_conn;
	err = -pthread_create(&l->thread, NULL, kreg_listener_main, l);
	if (err)
		goto close_conn;
	*listenerp = l;
	return 0;

close_conn:
	kreg_close(l->conn);
close_stop:
	close(l->stop_fd);
free_listener:
	free(l);
	return err;
}

void kreg_listener_stop(struct kreg_listener *l)
{
	uint64_t one = 1;

	if (!l)
		return;
	if (write(l->stop_fd, &one, sizeof(one)) < 0)
		kreg_log(KREG_LOG_ERROR, "cannot wake the listener: %s", kreg_strerror(-errno));
	pthread_join(l->thread, NULL);
	kreg_close(l->conn);
	close(l->stop_fd);
	free(l);
}
