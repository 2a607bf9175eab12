/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The service both loop examples serve: a counter server (kreg_module), and
 * a client thread that calls it through a via tuple and then asks it to quit.
 * What differs between the examples is only whose loop drives the server.
 */
#ifndef KREG_EXAMPLE_COUNTER_H
#define KREG_EXAMPLE_COUNTER_H

#include <pthread.h>
#include <signal.h>
#include <kreg.h>

struct counter {
	long calls;		/* answered so far */
	int idle_ms;		/* GenServer's timeout: said when nothing comes for this long */
};

extern const struct kreg_module counter_module;

struct counter_client {
	struct kreg_conn *registry;	/* only its provider: the thread opens its own */
	const char *name;
	int calls;
	int answered;		/* set when the thread ends */
	pthread_t thread;
};

/* Starts a thread that calls @c->name @c->calls times, then casts "quit". */
int counter_client_start(struct counter_client *c);
/* Waits for it; its result is in @c->answered. */
void counter_client_join(struct counter_client *c);

/* What both examples set up before their loops, and take down after. */
struct counter_app {
	const char *prog;
	struct counter state;
	struct counter_client client;
	struct kreg_conn *conn;
	struct kreg_server *srv;	/* kreg_server_fd(srv) goes into the loop */
	sigset_t stop;			/* SIGINT, SIGTERM: blocked, for the loop to take */
	long heartbeats;		/* the loop's own work, meanwhile */
};

/*
 * Parses [NAME] [--calls N], blocks app->stop, opens a handle, takes NAME,
 * opens the counter server on it and starts the client, if asked. 0, or 1
 * after saying why.
 */
int counter_app_start(struct counter_app *app, int argc, char **argv);
/* Closes the server, waits for the client, says how it went: the exit status. */
int counter_app_finish(struct counter_app *app, int loop_failed);

#endif
