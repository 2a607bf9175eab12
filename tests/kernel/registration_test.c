// SPDX-License-Identifier: GPL-2.0
/*
 * The Registration behaviour through the public header, on both providers:
 * start_link and its race, servers with their callbacks and defaults, call
 * and cast by via tuple, send and multi_send, await, listeners, and names
 * that go when their holder ends. In the guest every test runs against the
 * kernel and the local provider; on the host (built with KREG_LOCAL_ONLY,
 * ASan and UBSan) against the local one.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"
#include "kernel/kernel.h"
#include "kreg.h"
#include "kselftest_harness.h"

/* Lines the servers' callbacks and the library's logger write, in order. */
static int notes[2] = { -1, -1 };
static int logs[2] = { -1, -1 };

static void note(int fd, const char *fmt, ...)
{
	char line[PIPE_BUF];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	if (write(fd, line, (size_t)n) != n)
		abort();
}

/* Reads lines from @fd until one contains @want, for up to @ms. */
static bool saw(int fd, const char *want, int ms)
{
	char line[PIPE_BUF];
	size_t n = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, ms) == 1) {
		if (read(fd, line + n, 1) != 1)
			return false;
		if (line[n] != '\n' && n + 2 < sizeof(line)) {
			n++;
			continue;
		}
		line[n] = '\0';
		if (strstr(line, want))
			return true;
		n = 0;
	}
	return false;
}

static void to_log_pipe(enum kreg_log_level level, const char *msg, void *arg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	note(logs[1], "%s: %s", names[level], msg);
}

/* A counter: casts add their number, infos add 100, calls read it. */
struct counter {
	long n;
};

static int counter_init(struct kreg_server *srv, void *args, void **state)
{
	struct counter *c;

	if (args && !strcmp(args, "fail"))
		return -EIO;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*state = c;
	note(notes[1], "init %s", kreg_server_name(srv));
	return 0;
}

static int counter_call(struct kreg_server *srv, void *state, const void *req,
			size_t len, const struct kreg_from *from)
{
	struct counter *c = state;

	if (len == 4 && !memcmp(req, "slow", 4)) {
		usleep(300 * 1000);
		return kreg_reply(srv, from, "slow", 4) ? -EIO : KREG_CONTINUE;
	}
	if (len == 4 && !memcmp(req, "fail", 4))
		return kreg_reply_error(srv, from, -EDOM) ? -EIO : KREG_CONTINUE;
	if (len == 4 && !memcmp(req, "echo", 4))
		return kreg_reply(srv, from, from->reply_to, strlen(from->reply_to)) ?
			-EIO : KREG_CONTINUE;
	if (len == 4 && !memcmp(req, "quit", 4)) {
		kreg_reply(srv, from, NULL, 0);
		return KREG_STOP;
	}
	return kreg_reply(srv, from, &c->n, sizeof(c->n)) ? -EIO : KREG_CONTINUE;
}

static int counter_cast(struct kreg_server *srv, void *state, const void *msg,
			size_t len)
{
	struct counter *c = state;
	long add;

	if (len != sizeof(add))
		return -EBADMSG;
	memcpy(&add, msg, sizeof(add));
	c->n += add;
	return KREG_CONTINUE;
}

static int counter_info(struct kreg_server *srv, void *state,
			const struct kreg_message *msg)
{
	((struct counter *)state)->n += 100;
	return KREG_CONTINUE;
}

static void counter_terminate(struct kreg_server *srv, void *state, int reason)
{
	note(notes[1], "terminate %s %d", kreg_server_name(srv), reason);
	free(state);
}

static const struct kreg_module counter = {
	.init = counter_init,
	.handle_call = counter_call,
	.handle_cast = counter_cast,
	.handle_info = counter_info,
	.terminate = counter_terminate,
};

/* Every callback left to the library. */
static const struct kreg_module bare = { 0 };

static long counter_value(const struct kreg_via *via)
{
	size_t len = 0;
	long n = -1;
	int err = kreg_call(via, "get", 3, &n, sizeof(n), &len, 5000);

	return err ? err : len == sizeof(n) ? n : -EBADMSG;
}

static pid_t self_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

FIXTURE(reg) {
	struct kreg_conn *c;
	char name[64];
	struct kreg_via via;
};

FIXTURE_VARIANT(reg) {
	enum kreg_provider provider;
};

FIXTURE_VARIANT_ADD(reg, local) {
	.provider = KREG_PROVIDER_LOCAL,
};

#ifndef KREG_LOCAL_ONLY
FIXTURE_VARIANT_ADD(reg, kernel) {
	.provider = KREG_PROVIDER_KERNEL,
};
#endif

FIXTURE_SETUP(reg)
{
	ASSERT_EQ(0, pipe2(notes, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(logs, O_CLOEXEC));
	fcntl(notes[0], F_SETFL, O_NONBLOCK);
	fcntl(logs[0], F_SETFL, O_NONBLOCK);
	kreg_set_logger(to_log_pipe, NULL);
	ASSERT_EQ(0, kreg_open_provider(&self->c, variant->provider));
	/* Each test runs in a process of its own: its pid makes the name unique. */
	snprintf(self->name, sizeof(self->name), "reg-%d-%s", (int)getpid(),
		 _metadata->name);
	ASSERT_EQ(0, kreg_via_tuple(self->c, self->name, &self->via));
}

FIXTURE_TEARDOWN(reg)
{
	kreg_set_logger(NULL, NULL);
	kreg_close(self->c);
	close(notes[0]);
	close(notes[1]);
	close(logs[0]);
	close(logs[1]);
}

/* A kernel server is the caller's child: reap it once it has stopped. */
static void reap_server(const FIXTURE_VARIANT(reg) *variant, pid_t pid)
{
	if (variant->provider == KREG_PROVIDER_KERNEL)
		waitpid(pid, NULL, 0);
}

TEST_F(reg, the_handle_uses_the_provider_asked_for)
{
	struct kreg_child_spec specs[1];
	size_t n = 1;

	EXPECT_EQ(variant->provider, kreg_registry_provider(self->c));
	EXPECT_STREQ(variant->provider == KREG_PROVIDER_LOCAL ? "local" : "kernel",
		     kreg_provider_name(kreg_registry_provider(self->c)));
	/* Neither registry needs a process of its own. */
	EXPECT_EQ(0, kreg_child_spec(variant->provider, specs, 1, &n));
	EXPECT_EQ(0, n);
}

/* One grammar on every provider: the same errno and the same words. */
TEST_F(reg, a_name_outside_the_grammar_is_einval_everywhere_and_starts_nothing)
{
	static const struct { const char *name, *why; } bad[] = {
		{ "orders.*", "'*' is never part of a name (it is a pattern's wildcard)" },
		{ "secret.", "name ends with a dot" },
		{ "a..b", "name has an empty element (two dots in a row)" },
		{ "two words", "name has a byte other than a letter, a digit, '_', '-' or '.'" },
		{ "user.01000.x", "the uid of a user.UID. name has a leading zero" },
	};
	struct kreg_via via;
	enum kreg_started how;
	pid_t pid = 0;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, kreg_register(self->c, bad[i].name, 0, NULL));
		EXPECT_STREQ(bad[i].why, kreg_last_error(self->c));
		EXPECT_EQ(-EINVAL, kreg_start_link(self->c, bad[i].name, &bare, NULL, &pid, &how));
		EXPECT_EQ(-EINVAL, kreg_via_tuple(self->c, bad[i].name, &via));
		EXPECT_EQ(-EINVAL, kreg_whereis_name(self->c, bad[i].name, &pid));
	}
	/* Nothing was started: no child to reap. */
	EXPECT_EQ(-1, waitpid(-1, NULL, WNOHANG));
	EXPECT_EQ(ECHILD, errno);
}

/* After one failure, the next says its own reason, never the one before. */
TEST_F(reg, each_refusal_says_its_own_reason)
{
	static char big[KREG_PAYLOAD_MAX + 1];
	char why[128];

	EXPECT_EQ(-EINVAL, kreg_register(self->c, "", 0, NULL));
	EXPECT_STREQ("name is empty", kreg_last_error(self->c));
	EXPECT_EQ(-EMSGSIZE, kreg_call(&self->via, big, KREG_CALL_MAX + 1, NULL, 0, NULL, 1000));
	snprintf(why, sizeof(why), "the request is larger than KREG_CALL_MAX (%d bytes)",
		 KREG_CALL_MAX);
	EXPECT_STREQ(why, kreg_last_error(self->c));
	EXPECT_EQ(-EINVAL, kreg_register(self->c, "", 0, NULL));
	EXPECT_EQ(-EMSGSIZE, kreg_cast(&self->via, big, KREG_CALL_MAX + 1));
	EXPECT_NE(NULL, strstr(kreg_last_error(self->c), "KREG_CALL_MAX"));
	EXPECT_EQ(-EINVAL, kreg_register(self->c, "", 0, NULL));
	EXPECT_EQ(-EMSGSIZE, kreg_send(self->c, self->name, big, sizeof(big)));
	EXPECT_NE(NULL, strstr(kreg_last_error(self->c), "KREG_PAYLOAD_MAX"));
	EXPECT_EQ(-EINVAL, kreg_register(self->c, "", 0, NULL));
	EXPECT_EQ(-EINVAL, kreg_send_from(self->c, self->name, NULL, "x", 1));
	EXPECT_STREQ("a send from a name needs the name", kreg_last_error(self->c));
	EXPECT_EQ(-EINVAL, kreg_send_from(self->c, self->name, "a..b", "x", 1));
	EXPECT_NE(NULL, strstr(kreg_last_error(self->c), "empty element"));
}

TEST_F(reg, start_link_runs_a_server_that_holds_the_name)
{
	enum kreg_started how = KREG_ALREADY_STARTED;
	pid_t pid = 0, found = 0;
	long add = 5;

	ASSERT_EQ(0, kreg_start_link(self->c, self->name, &counter, NULL, &pid, &how));
	EXPECT_EQ(KREG_STARTED, how);
	EXPECT_TRUE(saw(notes[0], "init reg-", 1000));
	ASSERT_EQ(0, kreg_whereis_name(self->c, self->name, &found));
	EXPECT_EQ(pid, found);

	/* A mailbox is first in, first out: the call sees the cast and the info. */
	EXPECT_EQ(0, kreg_cast(&self->via, &add, sizeof(add)));
	EXPECT_EQ(0, kreg_send(self->c, self->name, "x", 1));
	EXPECT_EQ(105, counter_value(&self->via));
	EXPECT_EQ(-EDOM, kreg_call(&self->via, "fail", 4, NULL, 0, NULL, 5000));

	EXPECT_EQ(0, kreg_stop(&self->via, 5000));
	EXPECT_TRUE(saw(notes[0], "terminate reg-", 1000));
	/* kreg_stop() returns once the name is gone. */
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, self->name, &found));
	reap_server(variant, pid);
}

TEST_F(reg, start_link_on_a_held_name_reports_the_holder_and_leaves_it_alone)
{
	enum kreg_started how = KREG_STARTED;
	pid_t first = 0, second = 0;

	ASSERT_EQ(0, kreg_start_link(self->c, self->name, &counter, NULL, &first, NULL));
	ASSERT_EQ(0, kreg_start_link(self->c, self->name, &counter, NULL, &second, &how));
	EXPECT_EQ(KREG_ALREADY_STARTED, how);
	EXPECT_EQ(first, second);
	/* The second never ran init, and the first still answers. */
	EXPECT_TRUE(saw(notes[0], "init", 1000));
	EXPECT_FALSE(saw(notes[0], "init", 200));
	EXPECT_EQ(0, counter_value(&self->via));
	EXPECT_EQ(0, kreg_stop(&self->via, 5000));
	reap_server(variant, first);
}

TEST_F(reg, init_failing_fails_the_start_and_leaves_no_name)
{
	pid_t pid = 0;

	EXPECT_EQ(-EIO, kreg_start_link(self->c, self->name, &counter, "fail", &pid, NULL));
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, self->name, &pid));
	EXPECT_EQ(-EINVAL, kreg_start_link(self->c, "", &counter, NULL, &pid, NULL));
	EXPECT_STREQ("name is empty", kreg_last_error(self->c));
}

/* What one contender in a start_link race saw. */
struct contender {
	enum kreg_provider provider;
	const char *name;
	pthread_barrier_t *go;
	pid_t pid;
	enum kreg_started how;
	int err;
};

static void *contend(void *arg)
{
	struct contender *k = arg;
	struct kreg_conn *c;

	k->err = kreg_open_provider(&c, k->provider);
	if (k->err)
		return NULL;
	pthread_barrier_wait(k->go);
	k->err = kreg_start_link(c, k->name, &counter, NULL, &k->pid, &k->how);
	kreg_close(c);
	return NULL;
}

#define CONTENDERS 8

TEST_F(reg, start_link_race_has_one_winner_and_every_caller_gets_its_pid)
{
	struct contender k[CONTENDERS];
	pthread_barrier_t go;
	pid_t found = 0;
	int i, started = 0;

	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, CONTENDERS));
	if (variant->provider == KREG_PROVIDER_LOCAL) {
		pthread_t t[CONTENDERS];

		for (i = 0; i < CONTENDERS; i++) {
			k[i] = (struct contender){ .provider = variant->provider,
						    .name = self->name, .go = &go };
			ASSERT_EQ(0, pthread_create(&t[i], NULL, contend, &k[i]));
		}
		for (i = 0; i < CONTENDERS; i++)
			pthread_join(t[i], NULL);
	} else {
		/*
		 * Processes: each reports what it saw, then waits, since the
		 * winner's server is its child and ends with it.
		 */
		int out[2], hold[2];
		pid_t kids[CONTENDERS];

		ASSERT_EQ(0, pipe(out));
		ASSERT_EQ(0, pipe(hold));
		for (i = 0; i < CONTENDERS; i++) {
			kids[i] = fork();
			ASSERT_LE(0, kids[i]);
			if (kids[i] == 0) {
				struct kreg_conn *c;
				char b;

				close(out[0]);
				close(hold[1]);
				k[i] = (struct contender){ .provider = variant->provider,
							    .name = self->name };
				k[i].err = kreg_open_provider(&c, k[i].provider);
				/* Start together: the parent closes the pipe. */
				if (!k[i].err && read(hold[0], &b, 1) == 0)
					k[i].err = kreg_start_link(c, k[i].name, &counter, NULL,
								   &k[i].pid, &k[i].how);
				if (write(out[1], &k[i], sizeof(k[i])) != sizeof(k[i]))
					_exit(1);
				/* Hold on until the parent has checked the winner. */
				kill(getpid(), SIGSTOP);
				_exit(0);
			}
		}
		close(out[1]);
		close(hold[1]);
		for (i = 0; i < CONTENDERS; i++)
			ASSERT_EQ(sizeof(k[i]), read(out[0], &k[i], sizeof(k[i])));
		close(out[0]);
		close(hold[0]);
		ASSERT_EQ(0, kreg_whereis_name(self->c, self->name, &found));
		for (i = 0; i < CONTENDERS; i++) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
	}
	if (variant->provider == KREG_PROVIDER_LOCAL)
		ASSERT_EQ(0, kreg_whereis_name(self->c, self->name, &found));
	for (i = 0; i < CONTENDERS; i++) {
		EXPECT_EQ(0, k[i].err);
		EXPECT_EQ(found, k[i].pid);
		started += k[i].how == KREG_STARTED;
	}
	EXPECT_EQ(1, started);
	/* Only the winner ever ran. */
	EXPECT_TRUE(saw(notes[0], "init", 1000));
	EXPECT_FALSE(saw(notes[0], "init", 200));
	if (variant->provider == KREG_PROVIDER_LOCAL)
		EXPECT_EQ(0, kreg_stop(&self->via, 5000));
	pthread_barrier_destroy(&go);
}

TEST_F(reg, unhandled_messages_get_the_injected_defaults)
{
	pid_t pid = 0;

	ASSERT_EQ(0, kreg_start_link(self->c, self->name, &bare, NULL, &pid, NULL));
	/* An unexpected call: an error answer, and an error in the log. */
	EXPECT_EQ(-EOPNOTSUPP, kreg_call(&self->via, "what", 4, NULL, 0, NULL, 5000));
	EXPECT_TRUE(saw(logs[0], "error: server \"reg-", 1000));
	/* Casts and infos: logged at debug level, ignored. */
	EXPECT_EQ(0, kreg_cast(&self->via, "c", 1));
	EXPECT_TRUE(saw(logs[0], "debug: server \"reg-", 1000));
	EXPECT_EQ(0, kreg_send(self->c, self->name, "i", 1));
	EXPECT_TRUE(saw(logs[0], "ignored a message (1 bytes)", 1000));
	/* And it goes on serving. */
	EXPECT_EQ(-EOPNOTSUPP, kreg_call(&self->via, "what", 4, NULL, 0, NULL, 5000));
	EXPECT_EQ(0, kreg_stop(&self->via, 5000));
	reap_server(variant, pid);
}

TEST_F(reg, a_late_reply_never_answers_a_later_call)
{
	char answer[16] = "";
	size_t len = 0;
	pid_t pid = 0;

	ASSERT_EQ(0, kreg_start_link(self->c, self->name, &counter, NULL, &pid, NULL));
	EXPECT_EQ(-ETIMEDOUT, kreg_call(&self->via, "slow", 4, answer, sizeof(answer),
					&len, 50));
	/* "slow" answers while this call waits: it is dropped, not taken. */
	EXPECT_EQ(0, counter_value(&self->via));
	EXPECT_EQ(0, kreg_stop(&self->via, 5000));
	reap_server(variant, pid);
}

struct caller {
	enum kreg_provider provider;
	const char *name;
	char answer[KREG_NAME_MAX + 1];
	int err;
};

static void *call_echo(void *arg)
{
	struct caller *k = arg;
	struct kreg_conn *c;
	struct kreg_via via;
	size_t len = 0;
	int i;

	k->err = kreg_open_provider(&c, k->provider);
	if (k->err)
		return NULL;
	kreg_via_tuple(c, k->name, &via);
	for (i = 0; i < 20 && !k->err; i++)
		k->err = kreg_call(&via, "echo", 4, k->answer, sizeof(k->answer) - 1,
				   &len, 5000);
	k->answer[len < sizeof(k->answer) ? len : 0] = '\0';
	/* The server echoes the reply name: this caller's own, not another's. */
	if (!k->err && !strstr(k->answer, ".reply."))
		k->err = -EBADMSG;
	kreg_close(c);
	return NULL;
}

/* Told a caller's reply mailbox, answers for the server every way it can. */
struct forger {
	enum kreg_provider provider;
	const char *reply_to;
	const char *server;
	int sent, refused;
};

static void *forge_answers(void *arg)
{
	unsigned char buf[sizeof(struct kreg_frame) + 8];
	struct kreg_frame *frame = (struct kreg_frame *)buf;
	struct forger *f = arg;
	struct kreg_conn *c;
	uint64_t ref;

	if (kreg_open_provider(&c, f->provider))
		return NULL;
	for (ref = 0; ref < 64; ref++) {
		memset(buf, 0, sizeof(buf));
		frame->magic = KREG_FRAME_MAGIC;
		frame->kind = KREG_FRAME_REPLY;
		frame->ref = ref;
		memcpy(frame->body, "forged!!", 8);
		f->sent += !kreg_send(c, f->reply_to, buf, sizeof(buf));
		/* Nor in the server's name, which it does not hold. */
		f->refused += kreg_send_from(c, f->reply_to, f->server, buf, sizeof(buf)) == -EPERM;
	}
	kreg_close(c);
	return NULL;
}

/*
 * Only the server called answers a call: an answer that does not come from
 * its name (as the provider proves it), to this call (a random reference),
 * is dropped, whoever sends it.
 */
TEST_F(reg, nobody_but_the_called_server_answers)
{
	struct forger f = { .provider = variant->provider, .server = self->name };
	char answer[16] = "";
	size_t len = 0;
	pid_t pid = 0;
	pthread_t t;

	ASSERT_EQ(0, kreg_start_link(self->c, self->name, &counter, NULL, &pid, NULL));
	EXPECT_EQ(0, counter_value(&self->via));
	f.reply_to = self->c->reply_name;
	ASSERT_EQ(0, pthread_create(&t, NULL, forge_answers, &f));
	EXPECT_EQ(0, kreg_call(&self->via, "slow", 4, answer, sizeof(answer), &len, 5000));
	pthread_join(t, NULL);
	EXPECT_EQ(4, len);
	EXPECT_EQ(0, memcmp(answer, "slow", 4));
	EXPECT_LT(0, f.sent);
	EXPECT_EQ(64, f.refused);
	EXPECT_EQ(0, kreg_stop(&self->via, 5000));
	reap_server(variant, pid);
}

TEST_F(reg, each_caller_gets_its_own_replies)
{
	struct caller k[4];
	pthread_t t[4];
	pid_t pid = 0;
	int i, j;

	ASSERT_EQ(0, kreg_start_link(self->c, self->name, &counter, NULL, &pid, NULL));
	for (i = 0; i < 4; i++) {
		k[i] = (struct caller){ .provider = variant->provider, .name = self->name };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, call_echo, &k[i]));
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, k[i].err);
		for (j = 0; j < i; j++) {
			EXPECT_STRNE(k[j].answer, k[i].answer);
		}
	}
	EXPECT_EQ(0, kreg_stop(&self->via, 5000));
	reap_server(variant, pid);
}

TEST_F(reg, a_forked_child_closing_its_copy_keeps_the_callers_reply_name)
{
	pid_t pid = 0, child;

	ASSERT_EQ(0, kreg_start_link(self->c, self->name, &counter, NULL, &pid, NULL));
	EXPECT_EQ(0, counter_value(&self->via));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		kreg_close(self->c);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, NULL, 0));
	/* The answer still finds this caller. */
	EXPECT_EQ(0, counter_value(&self->via));
	EXPECT_EQ(0, kreg_stop(&self->via, 5000));
	reap_server(variant, pid);
}

TEST_F(reg, send_reports_every_failure_and_multi_send_none)
{
	static unsigned char big[KREG_PAYLOAD_MAX + 1];
	struct kreg_message *m;
	struct kreg_conn *holder;
	int i, err = 0;

	EXPECT_EQ(-ENOENT, kreg_send(self->c, self->name, "x", 1));
	EXPECT_STREQ("the name is not registered", kreg_last_error(self->c));
	EXPECT_EQ(-ENOENT, kreg_cast(&self->via, "x", 1));
	EXPECT_EQ(-ENOENT, kreg_call(&self->via, "x", 1, NULL, 0, NULL, 1000));
	EXPECT_EQ(0, kreg_multi_send(self->c, self->name, "x", 1));
	EXPECT_EQ(-EMSGSIZE, kreg_send(self->c, self->name, big, sizeof(big)));
	EXPECT_EQ(-EINVAL, kreg_via_tuple(self->c, "", &self->via));

	/* A mailbox nobody reads fills up: the sender is told, nothing is lost. */
	ASSERT_EQ(0, kreg_open_provider(&holder, variant->provider));
	ASSERT_EQ(0, kreg_register(holder, self->name, 0, NULL));
	EXPECT_EQ(0, kreg_multi_send(self->c, self->name, "m", 1));
	for (i = 0; i < 64 && !err; i++)
		err = kreg_send(self->c, self->name, big, KREG_PAYLOAD_MAX);
	EXPECT_EQ(-EAGAIN, err);
	EXPECT_NE(NULL, strstr(kreg_last_error(self->c), "full"));
	EXPECT_EQ(0, kreg_multi_send(self->c, self->name, big, KREG_PAYLOAD_MAX));
	m = malloc(sizeof(*m));
	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, kreg_recv(holder, m, 1000));
	EXPECT_EQ(1, m->len);
	EXPECT_EQ('m', m->data[0]);
	free(m);
	/* Its handle closed, the name has no mailbox. */
	kreg_close(holder);
	EXPECT_EQ(-ECONNREFUSED, kreg_send(self->c, self->name, "x", 1));
	EXPECT_NE(NULL, strstr(kreg_last_error(self->c), "no mailbox"));
	EXPECT_EQ(0, kreg_unregister(self->c, self->name));
}

/* A holder that registers a name after a delay and ends when told. */
struct later {
	enum kreg_provider provider;
	const char *name;
	int delay_ms;
	int ready[2], release[2];
	pid_t child;
	pthread_t thread;
};

static void later_body(struct later *l)
{
	struct kreg_conn *c;
	pid_t me = l->provider == KREG_PROVIDER_LOCAL ? self_tid() : getpid();
	char b;

	usleep((useconds_t)l->delay_ms * 1000);
	if (kreg_open_provider(&c, l->provider) || kreg_register(c, l->name, 0, NULL))
		me = -1;
	if (write(l->ready[1], &me, sizeof(me)) != sizeof(me))
		abort();
	if (read(l->release[0], &b, 1) < 0)
		abort();
	if (me > 0)
		kreg_close(c);
}

static void *later_thread(void *arg)
{
	later_body(arg);
	return NULL;
}

static int later_start(struct later *l)
{
	if (pipe(l->ready) || pipe(l->release))
		return -errno;
	if (l->provider == KREG_PROVIDER_LOCAL)
		return -pthread_create(&l->thread, NULL, later_thread, l);
	l->child = fork();
	if (l->child == 0) {
		/* Only the parent's end keeps the release pipe open. */
		close(l->release[1]);
		later_body(l);
		_exit(0);
	}
	return l->child < 0 ? -errno : 0;
}

static pid_t later_pid(struct later *l)
{
	pid_t pid = -1;

	if (read(l->ready[0], &pid, sizeof(pid)) != sizeof(pid))
		return -1;
	return pid;
}

/* Ends the holder and waits until it has. */
static void later_end(struct later *l)
{
	close(l->release[1]);
	if (l->provider == KREG_PROVIDER_LOCAL)
		pthread_join(l->thread, NULL);
	else
		waitpid(l->child, NULL, 0);
	close(l->release[0]);
	close(l->ready[0]);
	close(l->ready[1]);
}

TEST_F(reg, await_is_woken_by_a_later_registration)
{
	struct later l = { .provider = variant->provider, .name = self->name,
			   .delay_ms = 200 };
	pid_t pid = 0;

	EXPECT_EQ(-ETIMEDOUT, kreg_await_name(self->c, self->name, 50, &pid));
	ASSERT_EQ(0, later_start(&l));
	EXPECT_EQ(0, kreg_await_name(self->c, self->name, 10000, &pid));
	EXPECT_EQ(later_pid(&l), pid);
	later_end(&l);
}

TEST_F(reg, a_name_goes_when_its_holder_ends)
{
	struct later l = { .provider = variant->provider, .name = self->name };
	struct kreg_event ev;
	pid_t pid = 0;

	ASSERT_EQ(0, kreg_subscribe(self->c));
	ASSERT_EQ(0, later_start(&l));
	ASSERT_LT(0, later_pid(&l));
	ASSERT_EQ(0, kreg_whereis_name(self->c, self->name, &pid));
	later_end(&l);
	/* Gone at once, never reported as a dead holder. */
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, self->name, &pid));
	do {
		ASSERT_EQ(0, kreg_next_event(self->c, &ev, 5000));
	} while (strcmp(ev.name, self->name) || ev.kind != KREG_EVENT_UNREGISTERED);
	EXPECT_EQ(KREG_REASON_EXITED, ev.reason);
}

struct seen {
	pthread_mutex_t lock;
	char log[1024];
};

static void record(const struct kreg_event *ev, void *arg)
{
	struct seen *s = arg;
	size_t n;

	if (!ev || strncmp(ev->name, "reg-", 4))
		return;
	pthread_mutex_lock(&s->lock);
	n = strlen(s->log);
	snprintf(s->log + n, sizeof(s->log) - n, "%c%s;",
		 ev->kind == KREG_EVENT_REGISTERED ? '+' : '-', kreg_reason_name(ev->reason));
	pthread_mutex_unlock(&s->lock);
}

TEST_F(reg, a_listener_reports_changes_as_they_happen)
{
	struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct kreg_listener *l;
	int i;

	ASSERT_EQ(0, kreg_listen(self->c, record, &s, &l));
	ASSERT_EQ(0, kreg_register(self->c, self->name, 0, NULL));
	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	for (i = 0; i < 100; i++) {
		pthread_mutex_lock(&s.lock);
		if (strlen(s.log) >= strlen("+explicit;-explicit;"))
			i = 1000;
		pthread_mutex_unlock(&s.lock);
		usleep(10 * 1000);
	}
	kreg_listener_stop(l);
	EXPECT_STREQ("+explicit;-explicit;", s.log);
}

/* Registry.match/select/count/keys: by pattern, holder and value. */
struct picked {
	char names[8][KREG_NAME_MAX + 1];
	int n;
};

static int pick(const struct kreg_entry_info *e, void *arg)
{
	struct picked *p = arg;

	if (p->n < 8)
		snprintf(p->names[p->n], sizeof(p->names[0]), "%s", e->name);
	p->n++;
	return 0;
}

static bool picked_has(const struct picked *p, const char *name)
{
	int i;

	for (i = 0; i < p->n && i < 8; i++)
		if (!strcmp(p->names[i], name))
			return true;
	return false;
}

TEST_F(reg, select_and_count_by_pattern_holder_and_value)
{
	char a1[128], a2[128], b1[128], all[128], under_a[128];
	struct kreg_match m = { 0 };
	struct picked p = { 0 };
	enum kreg_started how;
	pid_t server;
	size_t n;

	snprintf(a1, sizeof(a1), "%s.a.one", self->name);
	snprintf(a2, sizeof(a2), "%s.a.two", self->name);
	snprintf(b1, sizeof(b1), "%s.b.one", self->name);
	snprintf(all, sizeof(all), "%s.*", self->name);
	snprintf(under_a, sizeof(under_a), "%s.a.*", self->name);
	ASSERT_EQ(0, kreg_register_meta(self->c, a1, 0, "v1", 2, NULL));
	ASSERT_EQ(0, kreg_register_meta(self->c, a2, 0, "v2", 2, NULL));
	ASSERT_EQ(0, kreg_start_link(self->c, b1, &bare, NULL, &server, &how));

	m.pattern = under_a;
	ASSERT_EQ(0, kreg_select(self->c, &m, pick, &p));
	EXPECT_EQ(2, p.n);
	EXPECT_TRUE(picked_has(&p, a1) && picked_has(&p, a2));
	m.value = "v2";
	m.value_len = 2;
	ASSERT_EQ(0, kreg_count(self->c, &m, &n));
	EXPECT_EQ(1, n);
	/* The names one process holds: the server's, and only under the pattern. */
	m = (struct kreg_match){ .pattern = all, .pid = server };
	memset(&p, 0, sizeof(p));
	ASSERT_EQ(0, kreg_select(self->c, &m, pick, &p));
	EXPECT_EQ(1, p.n);
	EXPECT_STREQ(b1, p.names[0]);
	/* An exact name is a pattern too; "*" is every name. */
	m = (struct kreg_match){ .pattern = a1 };
	ASSERT_EQ(0, kreg_count(self->c, &m, &n));
	EXPECT_EQ(1, n);
	m = (struct kreg_match){ .pattern = "*" };
	ASSERT_EQ(0, kreg_count(self->c, &m, &n));
	EXPECT_LE(3, n);
	/* Bad matches change nothing and say why. */
	m = (struct kreg_match){ .pattern = "a*" };
	EXPECT_EQ(-EINVAL, kreg_select(self->c, &m, pick, &p));
	EXPECT_STREQ("'*' is never part of a name (it is a pattern's wildcard)",
		     kreg_last_error(self->c));
	m = (struct kreg_match){ .pid = -1 };
	EXPECT_EQ(-EINVAL, kreg_count(self->c, &m, &n));

	ASSERT_EQ(0, kreg_via_tuple(self->c, b1, &self->via));
	EXPECT_EQ(0, kreg_stop(&self->via, 5000));
	reap_server(variant, server);
	kreg_unregister(self->c, a1);
	kreg_unregister(self->c, a2);
}

/* A subscription to a pattern hears of those names only: the others are never sent. */
TEST_F(reg, a_subscription_to_a_pattern_hears_only_its_names)
{
	char a1[128], a2[128], b1[128], under_a[128];
	struct kreg_conn *sub;
	struct kreg_event ev;

	snprintf(a1, sizeof(a1), "%s.a.one", self->name);
	snprintf(a2, sizeof(a2), "%s.a.two", self->name);
	snprintf(b1, sizeof(b1), "%s.b.one", self->name);
	snprintf(under_a, sizeof(under_a), "%s.a.*", self->name);
	ASSERT_EQ(0, kreg_open_provider(&sub, variant->provider));
	EXPECT_EQ(-EINVAL, kreg_subscribe_matching(sub, "x.*.y"));
	ASSERT_EQ(0, kreg_subscribe_matching(sub, under_a));
	ASSERT_EQ(0, kreg_register(self->c, b1, 0, NULL));
	ASSERT_EQ(0, kreg_register(self->c, a1, 0, NULL));
	ASSERT_EQ(0, kreg_register(self->c, a2, 0, NULL));
	ASSERT_EQ(0, kreg_unregister(self->c, b1));
	ASSERT_EQ(0, kreg_next_event(sub, &ev, 5000));
	EXPECT_EQ(KREG_EVENT_REGISTERED, ev.kind);
	EXPECT_STREQ(a1, ev.name);
	ASSERT_EQ(0, kreg_next_event(sub, &ev, 5000));
	EXPECT_STREQ(a2, ev.name);
	EXPECT_EQ(-ETIMEDOUT, kreg_next_event(sub, &ev, 200));
	/* Subscribing again replaces the pattern: now every name. */
	ASSERT_EQ(0, kreg_subscribe(sub));
	ASSERT_EQ(0, kreg_unregister(self->c, a1));
	ASSERT_EQ(0, kreg_register(self->c, b1, 0, NULL));
	ASSERT_EQ(0, kreg_next_event(sub, &ev, 5000));
	EXPECT_STREQ(a1, ev.name);
	ASSERT_EQ(0, kreg_next_event(sub, &ev, 5000));
	EXPECT_STREQ(b1, ev.name);
	kreg_close(sub);
	kreg_unregister(self->c, a2);
	kreg_unregister(self->c, b1);
}

TEST_HARNESS_MAIN
