/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A server, as its two halves share it: server.c speaks the frames (calls,
 * casts, stops and their answers) and dispatches one message to the
 * module; server_loop.c runs the server (its descriptor, timers and
 * continue steps) in kreg_serve() or in the caller's own loop.
 */
#ifndef KREG_SERVER_H
#define KREG_SERVER_H

#include "frame.h"
#include "internal.h"

struct kreg_send_timer {
	uint64_t id;
	uint64_t due_ms;		/* CLOCK_MONOTONIC */
	char name[KREG_NAME_MAX + 1];
	size_t len;
	unsigned char *data;
};

typedef int (*kreg_step_fn)(struct kreg_server *srv, void *state, void *arg);

struct kreg_server {
	struct kreg_conn *conn;
	char name[KREG_NAME_MAX + 1];
	const struct kreg_module *module;
	void *state;

	int epfd;			/* the handle's fd and timerfd: kreg_server_fd() */
	int timerfd;			/* due at the next timer, timeout or step */
	struct kreg_message *msg;	/* the one being handled */
	bool stopped;
	struct kreg_from stop_from;	/* who asked for the stop, to be answered */
	uint64_t timeout_due;		/* 0: no timeout armed */
	struct kreg_send_timer *timers;
	size_t ntimers, cap;
	uint64_t next_timer;
	kreg_step_fn step;		/* a pending continue step */
	void *step_arg;
};

/*
 * Hands @msg to the module; a stop request that may stop the server fills
 * @stop_from. Returns what the callback returned.
 */
KREG_HIDDEN int kreg_dispatch(struct kreg_server *srv, const struct kreg_message *msg,
			      struct kreg_from *stop_from);
/*
 * Sends one frame to @name through @conn, as @from (NULL: as nobody); with
 * @node, to @name on that node (a caller's reply address there).
 */
KREG_HIDDEN int kreg_send_frame(struct kreg_conn *conn, const char *node, const char *name,
				enum kreg_frame_kind kind, uint64_t ref, int32_t status,
				const char *from, uint32_t flags, const void *data, size_t len);

#endif /* KREG_SERVER_H */
