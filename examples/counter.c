// SPDX-License-Identifier: LGPL-2.1-or-later
/* The counter service of the loop examples: see counter.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"

/* Runs once init has returned, and the starter goes on: slow setup belongs here. */
static int warm_up(struct kreg_server *srv, void *state, void *arg)
{
	struct counter *c = state;

	(void)arg;
	printf("%s: ready\n", kreg_server_name(srv));
	fflush(stdout);
	return kreg_server_timeout(srv, c->idle_ms);
}

static int counter_init(struct kreg_server *srv, void *args, void **state)
{
	*state = args;
	return kreg_server_continue(srv, warm_up, NULL);
}

static int counter_call(struct kreg_server *srv, void *state, const void *req, size_t len,
			const struct kreg_from *from)
{
	struct counter *c = state;
	char answer[32];
	int n;

	(void)req;
	(void)len;
	n = snprintf(answer, sizeof(answer), "%ld", ++c->calls);
	kreg_server_timeout(srv, c->idle_ms);	/* GenServer: each callback sets it again */
	return kreg_reply(srv, from, answer, (size_t)n);
}

static int counter_cast(struct kreg_server *srv, void *state, const void *msg, size_t len)
{
	(void)srv;
	(void)state;
	return len == 4 && !memcmp(msg, "quit", 4) ? KREG_STOP : KREG_CONTINUE;
}

static int counter_info(struct kreg_server *srv, void *state, const struct kreg_message *msg)
{
	struct counter *c = state;

	if (msg->sender_flags & KREG_MESSAGE_F_TIMEOUT) {
		printf("%s: idle for %d ms\n", kreg_server_name(srv), c->idle_ms);
		fflush(stdout);
		return kreg_server_timeout(srv, c->idle_ms);
	}
	return KREG_CONTINUE;
}

static void counter_terminate(struct kreg_server *srv, void *state, int reason)
{
	struct counter *c = state;

	printf("%s: stopped after %ld calls (%s)\n", kreg_server_name(srv), c->calls,
	       reason ? kreg_strerror(reason) : "orderly");
	fflush(stdout);
}

const struct kreg_module counter_module = {
	.init = counter_init,
	.handle_call = counter_call,
	.handle_cast = counter_cast,
	.handle_info = counter_info,
	.terminate = counter_terminate,
};

static void *client_main(void *arg)
{
	struct counter_client *c = arg;
	struct kreg_conn *conn;
	struct kreg_via via;
	char answer[32];
	size_t len;
	int i;

	/* A handle of its own: a handle is one thread's at a time. */
	if (kreg_open_provider(&conn, kreg_registry_provider(c->registry)))
		return NULL;
	if (!kreg_via_tuple(conn, c->name, &via)) {
		for (i = 0; i < c->calls; i++)
			if (!kreg_call(&via, "inc", 3, answer, sizeof(answer), &len, 5000))
				c->answered++;
		kreg_cast(&via, "quit", 4);
	}
	kreg_close(conn);
	return NULL;
}

int counter_client_start(struct counter_client *c)
{
	c->answered = 0;
	return -pthread_create(&c->thread, NULL, client_main, c);
}

void counter_client_join(struct counter_client *c)
{
	pthread_join(c->thread, NULL);
	printf("client: %d of %d calls answered\n", c->answered, c->calls);
}

int counter_app_start(struct counter_app *app, int argc, char **argv)
{
	const char *name = "example.counter";
	int i, err;

	app->state.idle_ms = 5000;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--calls") && i + 1 < argc)
			app->client.calls = atoi(argv[++i]);
		else
			name = argv[i];
	}
	sigemptyset(&app->stop);
	sigaddset(&app->stop, SIGINT);
	sigaddset(&app->stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &app->stop, NULL);

	err = kreg_open(&app->conn);
	if (err) {
		fprintf(stderr, "%s: %s\n", app->prog, kreg_strerror(err));
		return 1;
	}
	err = kreg_register(app->conn, name, 0, NULL);
	if (!err)
		err = kreg_server_open(app->conn, name, &counter_module, &app->state, &app->srv);
	if (err) {
		fprintf(stderr, "%s: %s: %s\n", app->prog, name, kreg_last_error(app->conn));
		kreg_close(app->conn);
		return 1;
	}
	app->client.registry = app->conn;
	app->client.name = name;
	if (app->client.calls && counter_client_start(&app->client))
		app->client.calls = 0;
	return 0;
}

int counter_app_finish(struct counter_app *app, int loop_failed)
{
	kreg_server_close(app->srv);
	if (app->client.calls)
		counter_client_join(&app->client);
	printf("heartbeats meanwhile: %s\n", app->heartbeats > 0 ? "yes" : "no");
	kreg_close(app->conn);
	return loop_failed || app->client.answered != app->client.calls;
}
