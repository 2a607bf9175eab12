// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Running a server: in the caller's own event loop (kreg_server_open(),
 * kreg_server_fd(), kreg_server_dispatch()), or in kreg_serve(), which is
 * the same with a poll() of its own. One descriptor says when there is
 * work: an epoll set of the handle's descriptor, readable while messages
 * are queued, and a timerfd due at the next timer, timeout or continue
 * step. GenServer's timeout, Erlang's send_after and handle_continue are
 * kept here, in the server, so they need no thread and no signal.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "server.h"

/* Messages one dispatch handles at most: a busy server leaves the loop its turn. */
#define KREG_DISPATCH_BATCH	64

/* Sets the timerfd to the earliest of the pending step, the timeout and the timers. */
static int kreg_server_arm(struct kreg_server *srv)
{
	struct itimerspec its = { 0 };
	uint64_t due = srv->timeout_due;
	size_t i;

	for (i = 0; i < srv->ntimers; i++)
		if (!due || srv->timers[i].due_ms < due)
			due = srv->timers[i].due_ms;
	if (srv->step || kreg_has_stashed_mail(srv->conn)) {
		/*
		 * Now: an absolute time in the past fires at once (0 would
		 * disarm). Mail a callback's request read off the socket is in
		 * the handle, where the socket's readiness does not show it.
		 */
		its.it_value.tv_nsec = 1;
	} else if (due) {
		its.it_value.tv_sec = (time_t)(due / 1000);
		its.it_value.tv_nsec = (long)(due % 1000) * 1000000;
	}
	return timerfd_settime(srv->timerfd, TFD_TIMER_ABSTIME, &its, NULL) ? -errno : 0;
}

/* Runs the pending continue step, if any: what a callback returns. */
static int kreg_server_step(struct kreg_server *srv)
{
	kreg_step_fn step = srv->step;

	if (!step)
		return KREG_CONTINUE;
	srv->step = NULL;
	return step(srv, srv->state, srv->step_arg);
}

/*
 * The server stops with @rc (KREG_STOP, or an error): terminate runs. A
 * stop someone asked for (kreg_stop()) is answered with the name released
 * as the answer leaves, so it is gone when their kreg_stop() returns.
 * Otherwise the name stays with whoever registered it, until it releases
 * it or ends: releasing it here could take it from a successor that
 * registered it meanwhile.
 */
static int kreg_server_stop(struct kreg_server *srv, int rc)
{
	int reason = rc > 0 ? 0 : rc;	/* KREG_STOP, or a callback's other "stop" */

	srv->stopped = true;
	if (srv->module->terminate)
		srv->module->terminate(srv, srv->state, reason);
	if (srv->stop_from.reply_to[0] &&
	    kreg_send_frame(srv->conn, NULL, srv->stop_from.reply_to, KREG_FRAME_REPLY,
			    srv->stop_from.ref, 0, srv->name, KREG_SEND_F_RELEASE_FROM, NULL, 0))
		kreg_unregister(srv->conn, srv->name);
	return reason ? reason : 1;
}

static void kreg_timer_remove(struct kreg_server *srv, size_t i)
{
	free(srv->timers[i].data);
	srv->timers[i] = srv->timers[--srv->ntimers];
}

/* Sends what is due, oldest first; then the timeout, if nothing came in time. */
static int kreg_server_fire(struct kreg_server *srv)
{
	uint64_t now = kreg_now_ms();
	int rc = KREG_CONTINUE;

	for (;;) {
		size_t i, first = srv->ntimers;
		int err;

		for (i = 0; i < srv->ntimers; i++)
			if (srv->timers[i].due_ms <= now &&
			    (first == srv->ntimers || srv->timers[i].due_ms < srv->timers[first].due_ms))
				first = i;
		if (first == srv->ntimers)
			break;
		err = kreg_send(srv->conn, srv->timers[first].name, srv->timers[first].data,
				srv->timers[first].len);
		if (err)
			kreg_log(KREG_LOG_WARNING, "server \"%s\": a timer's send to \"%s\" failed: %s",
				 srv->name, srv->timers[first].name, kreg_strerror(err));
		kreg_timer_remove(srv, first);
	}
	if (srv->timeout_due && srv->timeout_due <= now) {
		struct kreg_message *msg = srv->msg;

		srv->timeout_due = 0;
		memset(msg, 0, offsetof(struct kreg_message, data));
		memcpy(msg->name, srv->name, sizeof(msg->name));
		msg->sender = getpid();
		msg->sender_uid = geteuid();
		msg->sender_gid = getegid();
		msg->sender_flags = KREG_MESSAGE_F_TIMEOUT;
		if (srv->module->handle_info)
			rc = srv->module->handle_info(srv, srv->state, msg);
		else
			kreg_log(KREG_LOG_DEBUG, "server \"%s\" timed out, with no handle_info",
				 srv->name);
		if (rc == KREG_CONTINUE)
			rc = kreg_server_step(srv);
	}
	return rc;
}

static void kreg_server_free(struct kreg_server *srv)
{
	while (srv->ntimers)
		kreg_timer_remove(srv, srv->ntimers - 1);
	free(srv->timers);
	free(srv->msg);
	if (srv->timerfd >= 0)
		close(srv->timerfd);
	if (srv->epfd >= 0)
		close(srv->epfd);
	free(srv);
}

/* The server without its init: its buffers and descriptors. */
static int kreg_server_new(struct kreg_conn *conn, const char *name,
			   const struct kreg_module *module, void *args,
			   struct kreg_server **srvp)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct kreg_server *srv = calloc(1, sizeof(*srv));
	int err = 0;

	if (!srv)
		return -ENOMEM;
	srv->conn = conn;
	memcpy(srv->name, name, strlen(name) + 1);
	srv->module = module;
	srv->state = args;
	srv->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->msg = malloc(sizeof(*srv->msg));
	if (srv->timerfd < 0 || srv->epfd < 0)
		err = -errno;
	else if (!srv->msg)
		err = -ENOMEM;
	if (!err && (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, kreg_fd(conn), &ev) ||
		     epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->timerfd, &ev)))
		err = -errno;
	if (err) {
		kreg_server_free(srv);
		return err;
	}
	*srvp = srv;
	return 0;
}

int kreg_server_open(struct kreg_conn *conn, const char *name,
		     const struct kreg_module *module, void *args,
		     struct kreg_server **srvp)
{
	const char *problem = kreg_name_problem(name);
	struct kreg_server *srv = NULL;
	int rc;

	if (*problem) {
		kreg_set_error(conn, "%s", problem);
		return -EINVAL;
	}
	rc = kreg_server_new(conn, name, module, args, &srv);
	if (!rc && module->init)
		rc = module->init(srv, args, &srv->state);
	if (rc > 0)
		rc = -EINVAL;	/* init has no "stop": a positive return is a bug */
	if (!rc)
		rc = kreg_server_arm(srv);
	/* A server that failed to start holds no name once its starter hears so. */
	if (rc) {
		kreg_unregister(conn, name);
		if (srv)
			kreg_server_free(srv);
		return rc;
	}
	*srvp = srv;
	return 0;
}

int kreg_server_fd(const struct kreg_server *srv)
{
	return srv->epfd;
}

int kreg_server_dispatch(struct kreg_server *srv)
{
	uint64_t expirations;
	int rc, err, i;

	if (srv->stopped)
		return 1;
	if (read(srv->timerfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return kreg_server_stop(srv, -errno);
	rc = kreg_server_step(srv);
	for (i = 0; rc == KREG_CONTINUE && i < KREG_DISPATCH_BATCH; i++) {
		err = kreg_recv(srv->conn, srv->msg, 0);
		if (err == -ETIMEDOUT)
			break;
		if (err) {
			rc = err;
			break;
		}
		srv->timeout_due = 0;	/* a message came in time */
		rc = kreg_dispatch(srv, srv->msg, &srv->stop_from);
		if (rc == KREG_CONTINUE)
			rc = kreg_server_step(srv);
	}
	if (rc == KREG_CONTINUE)
		rc = kreg_server_fire(srv);
	if (rc == KREG_CONTINUE)
		rc = kreg_server_arm(srv);
	return rc == KREG_CONTINUE ? 0 : kreg_server_stop(srv, rc);
}

void kreg_server_close(struct kreg_server *srv)
{
	if (!srv)
		return;
	if (!srv->stopped)
		kreg_server_stop(srv, KREG_STOP);
	kreg_server_free(srv);
}

int kreg_server_timeout(struct kreg_server *srv, int timeout_ms)
{
	srv->timeout_due = timeout_ms < 0 ? 0 : kreg_now_ms() + (uint64_t)timeout_ms;
	/* 0 is "none": a timeout of 0 ms is due at the next millisecond. */
	if (timeout_ms == 0)
		srv->timeout_due++;
	return kreg_server_arm(srv);
}

int kreg_send_after(struct kreg_server *srv, const char *name, const void *data,
		    size_t len, int delay_ms, uint64_t *timer)
{
	const char *problem = kreg_name_problem(name);
	struct kreg_send_timer *t;

	if (*problem) {
		kreg_set_error(srv->conn, "%s", problem);
		return -EINVAL;
	}
	if (delay_ms < 0) {
		kreg_set_error(srv->conn, "a timer's delay is 0 ms or more");
		return -EINVAL;
	}
	if (len > KREG_PAYLOAD_MAX) {
		kreg_set_error(srv->conn, "the payload is larger than KREG_PAYLOAD_MAX (%d bytes)",
			       KREG_PAYLOAD_MAX);
		return -EMSGSIZE;
	}
	if (srv->ntimers == srv->cap) {
		size_t cap = srv->cap ? 2 * srv->cap : 8;
		void *more = realloc(srv->timers, cap * sizeof(*srv->timers));

		if (!more)
			return -ENOMEM;
		srv->timers = more;
		srv->cap = cap;
	}
	t = &srv->timers[srv->ntimers];
	t->data = malloc(len ? len : 1);
	if (!t->data)
		return -ENOMEM;
	if (len)
		memcpy(t->data, data, len);
	t->len = len;
	t->id = ++srv->next_timer;
	t->due_ms = kreg_now_ms() + (uint64_t)delay_ms;
	memcpy(t->name, name, strlen(name) + 1);
	srv->ntimers++;
	if (timer)
		*timer = t->id;
	return kreg_server_arm(srv);
}

int kreg_cancel_timer(struct kreg_server *srv, uint64_t timer)
{
	size_t i;

	for (i = 0; i < srv->ntimers; i++) {
		if (srv->timers[i].id == timer) {
			kreg_timer_remove(srv, i);
			return kreg_server_arm(srv);
		}
	}
	return -ENOENT;
}

int kreg_server_continue(struct kreg_server *srv, kreg_step_fn step, void *arg)
{
	if (!step)
		return -EINVAL;
	if (srv->step)
		return -EBUSY;
	srv->step = step;
	srv->step_arg = arg;
	return kreg_server_arm(srv);
}

/* kreg_serve_until()'s loop; 1, 0 (SIGTERM) or the errno it stopped with. */
static int kreg_server_loop(struct kreg_server *srv, int stop_fd)
{
	int rc;

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = srv->epfd, .events = POLLIN },
			{ .fd = stop_fd, .events = POLLIN },
		};

		rc = kreg_server_dispatch(srv);
		if (rc)
			return rc;
		if (poll(fds, stop_fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			return kreg_server_stop(srv, -errno);
		if (stop_fd >= 0 && fds[1].revents)
			return 0;	/* SIGTERM: an orderly stop, in kreg_server_close() */
	}
}

static void kreg_server_free_cancelled(void *srv)
{
	kreg_server_free(srv);
}

int kreg_serve_until(struct kreg_conn *conn, const char *name,
		     const struct kreg_module *module, void *args,
		     void (*started)(int err, void *arg), void *started_arg, int stop_fd)
{
	struct kreg_server *srv;
	int rc = kreg_server_open(conn, name, module, args, &srv);

	if (started)
		started(rc, started_arg);
	if (rc)
		return rc;
	/* A thread child cancelled by its supervisor (its SIGKILL) leaks nothing. */
	pthread_cleanup_push(kreg_server_free_cancelled, srv);
	rc = kreg_server_loop(srv, stop_fd);
	pthread_cleanup_pop(0);
	kreg_server_close(srv);
	return rc < 0 ? rc : 0;
}

int kreg_serve(struct kreg_conn *conn, const char *name,
	       const struct kreg_module *module, void *args)
{
	return kreg_serve_until(conn, name, module, args, NULL, NULL, -1);
}
