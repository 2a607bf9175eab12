// SPDX-License-Identifier: GPL-2.0
/*
 * Servers in the caller's own event loop: kreg_server_open(), its fd and
 * kreg_server_dispatch() beside the caller's other descriptors; timers
 * (kreg_send_after(), GenServer's timeout) and continue steps, in the
 * caller's loop and in kreg_serve() (a server kreg_start_link() started).
 * In the guest on the kernel and the local provider; on the host (built
 * with KREG_LOCAL_ONLY, ASan and UBSan) on the local one.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kreg.h"
#include "kselftest_harness.h"

/* What a server did, in order: one letter per event. */
struct trail {
	char seen[64];
	size_t n;
	int continued_before_open_returned;
	bool open_returned;
};

static void mark(struct trail *t, char c)
{
	if (t->n < sizeof(t->seen) - 1)
		t->seen[t->n++] = c;
}

static int step(struct kreg_server *srv, void *state, void *arg)
{
	struct trail *t = state;

	(void)srv;
	(void)arg;
	t->continued_before_open_returned = !t->open_returned;
	mark(t, 'c');
	return KREG_CONTINUE;
}

static int init_with_step(struct kreg_server *srv, void *args, void **state)
{
	*state = args;
	return kreg_server_continue(srv, step, NULL);
}

static int count_call(struct kreg_server *srv, void *state, const void *req, size_t len,
		      const struct kreg_from *from)
{
	struct trail *t = state;
	char n = (char)('0' + t->n % 10);

	(void)req;
	(void)len;
	mark(t, 'k');
	return kreg_reply(srv, from, &n, 1);
}

static int quit_cast(struct kreg_server *srv, void *state, const void *msg, size_t len)
{
	(void)srv;
	mark(state, 'q');
	return len == 4 && !memcmp(msg, "quit", 4) ? KREG_STOP : KREG_CONTINUE;
}

/* 't': a timeout; else the payload's first byte (a timer's message). */
static int note_info(struct kreg_server *srv, void *state, const struct kreg_message *msg)
{
	(void)srv;
	mark(state, msg->sender_flags & KREG_MESSAGE_F_TIMEOUT ? 't' :
		    msg->len ? (char)msg->data[0] : '?');
	return KREG_CONTINUE;
}

static void note_end(struct kreg_server *srv, void *state, int reason)
{
	(void)srv;
	mark(state, reason ? 'E' : 'T');
}

static const struct kreg_module looped = {
	.init = init_with_step, .handle_call = count_call, .handle_cast = quit_cast,
	.handle_info = note_info, .terminate = note_end,
};

FIXTURE(loop) {
	struct kreg_conn *c;	/* the server's handle */
	struct kreg_conn *client;
	char name[64];
	struct kreg_via via;
	struct trail trail;
};

FIXTURE_VARIANT(loop) {
	enum kreg_provider provider;
};

FIXTURE_VARIANT_ADD(loop, local) {
	.provider = KREG_PROVIDER_LOCAL,
};

#ifndef KREG_LOCAL_ONLY
FIXTURE_VARIANT_ADD(loop, kernel) {
	.provider = KREG_PROVIDER_KERNEL,
};
#endif

FIXTURE_SETUP(loop)
{
	memset(&self->trail, 0, sizeof(self->trail));
	ASSERT_EQ(0, kreg_open_provider(&self->c, variant->provider));
	ASSERT_EQ(0, kreg_open_provider(&self->client, variant->provider));
	snprintf(self->name, sizeof(self->name), "loop-%d-%s", (int)getpid(), _metadata->name);
	ASSERT_EQ(0, kreg_via_tuple(self->client, self->name, &self->via));
}

FIXTURE_TEARDOWN(loop)
{
	kreg_close(self->client);
	kreg_close(self->c);
}

/* Dispatches whatever is ready for up to @ms, as a caller's loop would. */
static int run_for(struct kreg_server *srv, int ms)
{
	struct pollfd p = { .fd = kreg_server_fd(srv), .events = POLLIN };
	int rc = 0;

	while (!rc && poll(&p, 1, ms) > 0)
		rc = kreg_server_dispatch(srv);
	return rc;
}

struct caller {
	struct kreg_via *via;
	int calls, answered;
	int done;		/* an eventfd: written when every call has returned */
};

static void *call_often(void *arg)
{
	struct caller *c = arg;
	uint64_t one = 1;
	char reply[4];
	size_t len;
	int i;

	for (i = 0; i < c->calls; i++)
		if (!kreg_call(c->via, "n", 1, reply, sizeof(reply), &len, 5000) && len == 1)
			c->answered++;
	if (write(c->done, &one, sizeof(one)) != sizeof(one))
		c->answered = -1;
	return NULL;
}

/* The caller's epoll set holds its own eventfds and the server; all are served. */
TEST_F(loop, a_server_in_the_callers_epoll_answers_calls_beside_its_other_work)
{
	struct caller caller = { .via = &self->via, .calls = 20, .done = eventfd(0, 0) };
	struct epoll_event ev = { .events = EPOLLIN }, got[4];
	int ep = epoll_create1(0), own = eventfd(0, 0), own_events = 0, rc = 0;
	struct kreg_server *srv;
	bool done = false;
	uint64_t one = 1, v;
	pthread_t t;

	ASSERT_EQ(0, kreg_register(self->c, self->name, 0, NULL));
	ASSERT_EQ(0, kreg_server_open(self->c, self->name, &looped, &self->trail, &srv));
	self->trail.open_returned = true;
	ev.data.fd = kreg_server_fd(srv);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, kreg_server_fd(srv), &ev));
	ev.data.fd = own;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, own, &ev));
	ev.data.fd = caller.done;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, caller.done, &ev));
	ASSERT_EQ(0, pthread_create(&t, NULL, call_often, &caller));
	ASSERT_EQ(8, write(own, &one, 8));
	while (!rc && !done) {
		int i, n = epoll_wait(ep, got, 4, 10000);

		ASSERT_LT(0, n);
		for (i = 0; i < n; i++) {
			if (got[i].data.fd == kreg_server_fd(srv)) {
				rc = kreg_server_dispatch(srv);
				continue;
			}
			ASSERT_EQ(8, read(got[i].data.fd, &v, 8));
			if (got[i].data.fd == own)
				own_events++;
			else
				done = true;
		}
	}
	pthread_join(t, NULL);
	EXPECT_EQ(0, rc);
	EXPECT_EQ(caller.calls, caller.answered);
	EXPECT_EQ(1, own_events);
	/* The continue step ran first, after open returned, before any call. */
	EXPECT_EQ('c', self->trail.seen[0]);
	EXPECT_EQ(0, self->trail.continued_before_open_returned);
	/*
	 * A cast that stops it: dispatch says so and terminate ran. The name
	 * stays with whoever registered it, which lets it go.
	 */
	ASSERT_EQ(0, kreg_cast(&self->via, "quit", 4));
	EXPECT_EQ(1, run_for(srv, 5000));
	EXPECT_EQ('T', self->trail.seen[self->trail.n - 1]);
	EXPECT_EQ(1, kreg_server_dispatch(srv));
	kreg_server_close(srv);
	EXPECT_EQ('T', self->trail.seen[self->trail.n - 1]);	/* terminate ran once */
	EXPECT_EQ(0, kreg_whereis_name(self->client, self->name, &(pid_t){ 0 }));
	EXPECT_EQ(0, kreg_unregister(self->c, self->name));
	close(caller.done);
	close(own);
	close(ep);
}

static int stop_result = -1;

static void *stop_it(void *via)
{
	stop_result = kreg_stop(via, 5000);
	return NULL;
}

TEST_F(loop, timers_fire_in_order_and_a_cancelled_one_never_does)
{
	struct kreg_server *srv;
	uint64_t late, never;

	ASSERT_EQ(0, kreg_register(self->c, self->name, 0, NULL));
	ASSERT_EQ(0, kreg_server_open(self->c, self->name, &looped, &self->trail, &srv));
	ASSERT_EQ(0, kreg_send_after(srv, self->name, "b", 1, 200, &late));
	ASSERT_EQ(0, kreg_send_after(srv, self->name, "x", 1, 100, &never));
	ASSERT_EQ(0, kreg_send_after(srv, self->name, "a", 1, 20, NULL));
	ASSERT_EQ(0, kreg_cancel_timer(srv, never));
	EXPECT_EQ(-ENOENT, kreg_cancel_timer(srv, never));
	/* Nothing is due yet: the descriptor is quiet but for the continue step. */
	EXPECT_EQ(0, kreg_server_dispatch(srv));
	EXPECT_STREQ("c", self->trail.seen);
	EXPECT_EQ(0, run_for(srv, 1000));
	EXPECT_STREQ("cab", self->trail.seen);
	EXPECT_EQ(-ENOENT, kreg_cancel_timer(srv, late));
	kreg_server_close(srv);
	EXPECT_STREQ("cabT", self->trail.seen);
}

/* A stop that is asked for answers with the name released: gone when kreg_stop() returns. */
TEST_F(loop, a_stop_request_is_answered_with_the_name_gone)
{
	struct kreg_server *srv;
	pthread_t t;
	pid_t pid;

	ASSERT_EQ(0, kreg_register(self->c, self->name, 0, NULL));
	ASSERT_EQ(0, kreg_server_open(self->c, self->name, &looped, &self->trail, &srv));
	ASSERT_EQ(0, pthread_create(&t, NULL, stop_it, &self->via));
	EXPECT_EQ(1, run_for(srv, 5000));
	pthread_join(t, NULL);
	EXPECT_EQ(0, stop_result);
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->client, self->name, &pid));
	EXPECT_STREQ("cT", self->trail.seen);
	kreg_server_close(srv);
}

TEST_F(loop, a_timeout_comes_when_nothing_else_does_and_a_message_cancels_it)
{
	struct kreg_server *srv;

	ASSERT_EQ(0, kreg_register(self->c, self->name, 0, NULL));
	ASSERT_EQ(0, kreg_server_open(self->c, self->name, &looped, &self->trail, &srv));
	ASSERT_EQ(0, kreg_server_timeout(srv, 50));
	EXPECT_EQ(0, run_for(srv, 500));
	EXPECT_STREQ("ct", self->trail.seen);
	/* A cast already queued when the timeout is due goes first, and cancels it. */
	ASSERT_EQ(0, kreg_server_timeout(srv, 0));
	ASSERT_EQ(0, kreg_cast(&self->via, "hi", 2));
	usleep(20000);
	EXPECT_EQ(0, run_for(srv, 300));
	EXPECT_STREQ("ctq", self->trail.seen);
	kreg_server_close(srv);
}

TEST_F(loop, bad_requests_are_refused_and_change_nothing)
{
	struct kreg_server *srv;

	ASSERT_EQ(0, kreg_register(self->c, self->name, 0, NULL));
	EXPECT_EQ(-EINVAL, kreg_server_open(self->c, "a..b", &looped, &self->trail, &srv));
	ASSERT_EQ(0, kreg_server_open(self->c, self->name, &looped, &self->trail, &srv));
	EXPECT_EQ(-EBUSY, kreg_server_continue(srv, step, NULL));
	EXPECT_EQ(-EINVAL, kreg_send_after(srv, "orders.*", "x", 1, 10, NULL));
	EXPECT_STREQ("'*' is never part of a name (it is a pattern's wildcard)",
		     kreg_last_error(self->c));
	EXPECT_EQ(-EINVAL, kreg_send_after(srv, self->name, "x", 1, -1, NULL));
	EXPECT_EQ(-ENOENT, kreg_cancel_timer(srv, 12345));
	EXPECT_EQ(0, run_for(srv, 100));
	EXPECT_STREQ("c", self->trail.seen);
	kreg_server_close(srv);
}

static int fail_init(struct kreg_server *srv, void *args, void **state)
{
	(void)srv;
	(void)args;
	(void)state;
	return -ENOTCONN;
}

TEST_F(loop, a_failed_init_fails_the_open_and_leaves_no_name)
{
	static const struct kreg_module failing = { .init = fail_init };
	struct kreg_server *srv = NULL;

	ASSERT_EQ(0, kreg_register(self->c, self->name, 0, NULL));
	EXPECT_EQ(-ENOTCONN, kreg_server_open(self->c, self->name, &failing, NULL, &srv));
	EXPECT_EQ(NULL, srv);
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->client, self->name, &(pid_t){ 0 }));
}

/* A started server (kreg_serve()) has timers too: its tick reaches our inbox. */
static int tick_init(struct kreg_server *srv, void *args, void **state)
{
	*state = args;
	return kreg_send_after(srv, kreg_server_name(srv), "tick", 4, 20, NULL);
}

static int tick_info(struct kreg_server *srv, void *state, const struct kreg_message *msg)
{
	if (msg->len == 4 && !memcmp(msg->data, "tick", 4))
		kreg_send(kreg_server_conn(srv), state, "ticked", 6);
	return KREG_CONTINUE;
}

TEST_F(loop, a_started_server_keeps_its_timers)
{
	static const struct kreg_module ticker = { .init = tick_init, .handle_info = tick_info };
	static struct kreg_message msg;
	char inbox[80], server[80];
	enum kreg_started how;
	pid_t pid;

	snprintf(inbox, sizeof(inbox), "%s.inbox", self->name);
	snprintf(server, sizeof(server), "%s.ticker", self->name);
	ASSERT_EQ(0, kreg_register(self->client, inbox, 0, NULL));
	ASSERT_EQ(0, kreg_start_link(self->c, server, &ticker, inbox, &pid, &how));
	ASSERT_EQ(KREG_STARTED, how);
	ASSERT_EQ(0, kreg_recv(self->client, &msg, 5000));
	EXPECT_EQ(6, msg.len);
	EXPECT_EQ(0, memcmp(msg.data, "ticked", 6));
	EXPECT_STREQ(inbox, msg.name);
	ASSERT_EQ(0, kreg_via_tuple(self->c, server, &self->via));
	EXPECT_EQ(0, kreg_stop(&self->via, 5000));
	if (variant->provider == KREG_PROVIDER_KERNEL)
		waitpid(pid, NULL, 0);
}

TEST_HARNESS_MAIN
