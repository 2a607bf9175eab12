// SPDX-License-Identifier: GPL-2.0
/*
 * kreg against a hostile neighbour: one test per hole that issue 17 found,
 * each written as the attacker would, over raw netlink (raw_nl.h) and the
 * raw view (view_raw.h) where libkreg would hide the hole, from an
 * unprivileged uid, a Docker-style container or a user namespace. Each
 * failed on the module and library before the fix.
 */
#include <dirent.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "cleanup.h"
#include "container.h"
#include "frame.h"
#include "helpers.h"
#include "kselftest_harness.h"
#include "lock_probe.skel.h"
#include "raw_nl.h"
#include "view_raw.h"

#define NOBODY	65534
#define ALICE	UNPRIVILEGED_UID	/* 1000 */

/* --- what every test shares: a root handle, sleepers to hold names -------- */

/*
 * Exit cleanup is attached, as kreg.service attaches it on a real host: a
 * sleeper's names go when the test ends it, not at some later reclaim.
 */
FIXTURE(hostile) {
	struct kreg_conn *c;
	pid_t sleepers[4];
	long max_per_uid, max_subscriptions;
	bool detach;
};

FIXTURE_SETUP(hostile)
{
	char why[256];
	int i, err;

	err = cleanup_attach(why, sizeof(why));
	ASSERT_LE(0, err) TH_LOG("exit cleanup: %s", why);
	self->detach = err == 0;
	ASSERT_EQ(0, kreg_open(&self->c));
	ASSERT_EQ(0, kreg_policy_unload(self->c));
	for (i = 0; i < 4; i++) {
		self->sleepers[i] = spawn_sleeper();
		ASSERT_LT(0, self->sleepers[i]);
	}
	self->max_per_uid = read_param("max_per_uid");
	self->max_subscriptions = read_param("max_subscriptions");
}

FIXTURE_TEARDOWN(hostile)
{
	int i;

	for (i = 0; i < 4; i++)
		kill_and_reap(self->sleepers[i]);
	kreg_policy_unload(self->c);
	write_param("max_per_uid", self->max_per_uid);
	write_param("max_subscriptions", self->max_subscriptions);
	kreg_close(self->c);
	if (self->detach)
		cleanup_detach();
}

/* Forks a child that runs @fn as @uid (its only group too); its pid. */
static pid_t fork_as(uid_t uid, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			_exit(100);
		_exit(fn(arg));
	}
	return pid;
}

static int wait_byte(int fd)
{
	char b;

	return read(fd, &b, 1) == 1 ? b : -1;
}

static void give_byte(int fd, char b)
{
	if (write(fd, &b, 1) != 1)
		abort();
}

/* --- item 1: a failed view rebuild must never overrun the view's memory ---- */

#define CGROUP		"/sys/fs/cgroup"
#define TIGHT		CGROUP "/kreg-tight"
#define FILL		2048

/* cgroup v2, with the memory controller for children: mounted if need be. */
static int cgroup_ready(void)
{
	if (access(CGROUP "/cgroup.controllers", F_OK) &&
	    mount("cgroup2", CGROUP, "cgroup2", 0, NULL))
		return -errno;
	return write_text(CGROUP "/cgroup.subtree_control", "+memory");
}

static int enter_cgroup(const char *dir)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_text(strcat(strcpy((char [128]){ 0 }, dir), "/cgroup.procs"), pid);
}

struct filler {
	int cmd[2], done[2];
};

/* As nobody: fills the view, then unregisters one name or registers one more on command. */
static int fill_as_nobody(void *arg)
{
	struct filler *f = arg;
	struct kreg_conn *c;
	char name[32];
	int i, b;

	if (kreg_open(&c))
		return 1;
	for (i = 0; i < FILL; i++) {
		snprintf(name, sizeof(name), "oom.fill.%d", i);
		if (kreg_register(c, name, 0, NULL))
			return 2;
	}
	give_byte(f->done[1], 'f');
	while ((b = wait_byte(f->cmd[0])) > 0) {
		if (b == 'u' && kreg_unregister(c, "oom.fill.0"))
			return 3;
		if (b == 'r' && kreg_register(c, "oom.more", 0, NULL))
			return 4;
		give_byte(f->done[1], b);
		if (b == 'q')
			break;
	}
	kreg_close(c);
	return 0;
}

/*
 * Put by root in a cgroup of 256 KiB, first to be killed, then as nobody
 * (as a user's delegated cgroup would hold it): registers once.
 */
static int register_starved(void *arg)
{
	struct kreg_conn *c;
	int err;

	if (write_text("/proc/self/oom_score_adj", "1000") || enter_cgroup(TIGHT))
		return 1;
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return 2;
	if (kreg_open(&c))
		return 0;	/* out of memory before asking: nothing to judge */
	err = kreg_register(c, arg, 0, NULL);
	/* Refused for want of memory is fine; what matters is the kernel. */
	return err == 0 || err == -ENOMEM ? 0 : 3;
}

/*
 * How a starved registrant may end: registered, refused for want of memory
 * (0), or killed by its cgroup's OOM killer (SIGKILL), which is what the
 * cgroup is for: whichever charge first passes the limit decides, and a
 * page fault's ends in the OOM killer where a kernel allocation's ends in
 * ENOMEM (CI saw both). The kernel's state is what is judged, after.
 */
static bool starved_as_meant(int status)
{
	return status == 0 || status == 128 + SIGKILL;
}

/*
 * Issue 17, item 1, step by step: a full view, two registrations from a
 * starved cgroup (which used to fail the view's rebuild and skew its
 * counts), an unregistration, one more registration (which then wrote past
 * the view's free list and panicked). Then every name the view shows must
 * be right, and once it has caught up, every name must be in it.
 */
TEST_F_TIMEOUT(hostile, a_starved_registrant_cannot_corrupt_the_view, 300)
{
	struct filler f;
	struct raw_view v;
	pid_t filler, holder;
	char name[32];
	int i, status, found;

	ASSERT_EQ(0, cgroup_ready());
	mkdir(TIGHT, 0755);
	ASSERT_EQ(0, write_text(TIGHT "/memory.max", "262144"));
	ASSERT_EQ(0, pipe(f.cmd));
	ASSERT_EQ(0, pipe(f.done));
	filler = fork_as(NOBODY, fill_as_nobody, &f);
	ASSERT_LE(0, filler);
	ASSERT_EQ('f', wait_byte(f.done[0]));
	EXPECT_TRUE(starved_as_meant(run_child(register_starved, "oom.starved.1")));
	EXPECT_TRUE(starved_as_meant(run_child(register_starved, "oom.starved.2")));
	give_byte(f.cmd[1], 'u');
	ASSERT_EQ('u', wait_byte(f.done[0]));
	give_byte(f.cmd[1], 'r');
	ASSERT_EQ('r', wait_byte(f.done[0]));

	/* Whatever the view holds is true, and it catches up with the table. */
	ASSERT_EQ(0, raw_view_wait(&v, "oom.more"));
	holder = raw_view_pid(&v, "oom.more");
	EXPECT_EQ(filler, holder);
	EXPECT_EQ(0u, raw_view_pid(&v, "oom.fill.0"));
	for (i = 1, found = 0; i < FILL; i++) {
		snprintf(name, sizeof(name), "oom.fill.%d", i);
		found += raw_view_pid(&v, name) == (uint32_t)filler;
	}
	EXPECT_EQ(FILL - 1, found);
	/* Its count is its records': none lost, none counted twice. */
	for (i = 0, found = 0; i < (int)v.h->capacity; i++)
		found += raw_view_record(&v, i)->name_len != 0;
	EXPECT_EQ((int)v.h->entries, found);
	raw_view_unmap(&v);
	give_byte(f.cmd[1], 'q');
	ASSERT_EQ(filler, waitpid(filler, &status, 0));
	EXPECT_EQ(0, status_of(status));
	rmdir(TIGHT);
}

/* --- item 2: the view shows only what every host process may see ---------- */

struct peek {
	int go[2], done[2];
};

/* As nobody: maps the view before the policy, then searches it and a new one raw. */
static int peek_as_nobody(void *arg)
{
	static const char *const secrets[] = {
		"secret.early", "secret.late", "hunter2", "pw=late",
	};
	struct peek *p = arg;
	struct raw_view before, now;
	unsigned int i, rounds;

	if (raw_view_map(&before, 0))
		return 1;
	give_byte(p->done[1], 'm');
	if (wait_byte(p->go[0]) != 'g')
		return 2;
	/* Now, and while the module rebuilds its view, nothing hidden shows. */
	for (rounds = 0; rounds < 50; rounds++) {
		if (raw_view_map(&now, 0))
			return 3;
		for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
			if (raw_view_contains(&before, secrets[i]))
				return 10 + i;
			if (raw_view_contains(&now, secrets[i]))
				return 20 + i;
		}
		/* The names everyone may see are still answered from it. */
		if (raw_view_pid(&now, "pub.two") && raw_view_pid(&now, "pub.one")) {
			raw_view_unmap(&now);
			raw_view_unmap(&before);
			return 0;
		}
		raw_view_unmap(&now);
		usleep(20000);
	}
	return 4;
}

/*
 * A policy that hides secret.* from everyone but root. Before it: a name
 * with a value. After it: another. A view mapped before the policy, and
 * the view after it, read raw by nobody, show neither, in any form.
 */
TEST_F(hostile, the_view_shows_no_hidden_name)
{
	struct peek p;
	pid_t peeker;
	int status;

	ASSERT_EQ(0, kreg_register_meta(self->c, "secret.early", self->sleepers[0],
					"password=hunter2", 16, NULL));
	ASSERT_EQ(0, kreg_register(self->c, "pub.one", self->sleepers[1], NULL));
	ASSERT_EQ(0, pipe(p.go));
	ASSERT_EQ(0, pipe(p.done));
	peeker = fork_as(NOBODY, peek_as_nobody, &p);
	ASSERT_LE(0, peeker);
	ASSERT_EQ('m', wait_byte(p.done[0]));
	ASSERT_EQ(0, load_policy(self->c, "allow see * everyone\n"
					  "deny see secret.* everyone\n"));
	ASSERT_EQ(0, kreg_register_meta(self->c, "secret.late", self->sleepers[2],
					"pw=late", 7, NULL));
	ASSERT_EQ(0, kreg_register(self->c, "pub.two", self->sleepers[3], NULL));
	give_byte(p.go[1], 'g');
	ASSERT_EQ(peeker, waitpid(peeker, &status, 0));
	EXPECT_EQ(0, status_of(status));
}

/* --- item 3: a container owns what it registered, never the host's --------- */

/* In a container: the host's name can be neither released, nor taken, nor seen. */
static int attack_host_name(void *arg)
{
	struct raw_nl n;
	int err;

	(void)arg;
	if (raw_nl_open(&n))
		return 1;
	err = raw_nl_unregister(&n, "host.svc");
	if (err != -ENOENT && err != -EPERM)
		return 2;
	err = raw_nl_register(&n, "host.svc");
	if (err != -EACCES && err != -EEXIST)
		return 3;
	raw_nl_close(&n);
	return 0;
}

/* A user-namespace container in the host's pid namespace: it sees the holder, and still owns nothing. */
static int release_visible_host_name(void *arg)
{
	struct raw_nl n;
	int err;

	(void)arg;
	if (raw_nl_open(&n))
		return 1;
	if (raw_nl_whereis(&n, "host.visible") != -ENOENT)
		return 2;
	err = raw_nl_unregister(&n, "host.visible");
	if (err != -ENOENT && err != -EPERM)
		return 3;
	raw_nl_close(&n);
	return 0;
}

/*
 * Docker runs a container as uid 0 of the initial user namespace, with its
 * own pid, net and mount namespaces and no capabilities; a user namespace
 * may map its uid 0 onto the host's. Neither may release or take root's
 * names: a uid alone is not who registered a name.
 */
TEST_F(hostile, a_container_cannot_release_or_take_host_names)
{
	struct userns_spec own_pids = { .owner = 0, .base = 0, .n = 1,
					.flags = CLONE_NEWPID | CLONE_NEWNET,
					.fn = attack_host_name };
	struct userns_spec host_pids = { .owner = 0, .base = 0, .n = 1,
					 .fn = release_visible_host_name };
	struct raw_nl n;

	ASSERT_EQ(0, kreg_register(self->c, "host.svc", self->sleepers[0], NULL));
	ASSERT_EQ(0, kreg_register(self->c, "host.visible", self->sleepers[1], NULL));
	EXPECT_EQ(0, run_docker_style(attack_host_name, NULL));
	EXPECT_EQ(0, run_in_userns(&own_pids));
	EXPECT_EQ(0, run_in_userns(&host_pids));
	/* The host's clients still reach the host's process. */
	EXPECT_EQ(0, kreg_whereis_name(self->c, "host.svc", &(pid_t){ 0 }));
	ASSERT_EQ(0, raw_nl_open(&n));
	EXPECT_EQ(self->sleepers[0], raw_nl_whereis(&n, "host.svc"));
	EXPECT_EQ(self->sleepers[1], raw_nl_whereis(&n, "host.visible"));
	raw_nl_close(&n);
}

/* --- item 4: events agree with lookups across pid namespaces ---------------- */

struct listening {
	int ready[2], go[2];
	const char *mine;	/* the container's own name, which it must see */
	uint32_t flags;		/* registered with these KREG_F_* */
};

/*
 * In a container: subscribes, lets the host act, then registers its own
 * name, whose event must come, with its own pid as its namespace tells it,
 * and no event of the host's before it.
 */
static int listen_in_container(void *arg)
{
	struct listening *l = arg;
	static struct raw_msg ev;
	struct raw_nl n, own;
	const char *name;

	if (raw_nl_open(&n) || raw_nl_subscribe(&n) || raw_nl_open(&own))
		return 1;
	give_byte(l->ready[1], 'r');
	if (wait_byte(l->go[0]) != 'g')
		return 2;
	/* Through another socket: its event must not be mistaken for the answer. */
	if (raw_nl_register_flags(&own, l->mine, l->flags))
		return 3;
	for (;;) {
		if (raw_next(&n, KREG_CMD_REGISTERED, &ev, 5000))
			return 4;
		name = raw_attr_str(&ev.nlh, KREG_A_NAME);
		if (strcmp(name, l->mine))
			return 5;	/* the host's, or a reply address: a leak */
		if (raw_attr_u32(&ev.nlh, KREG_A_PID) != (uint32_t)getpid())
			return 6;
		break;
	}
	raw_nl_close(&n);
	return 0;
}

static int echo_call(struct kreg_server *srv, void *state, const void *req, size_t len,
		     const struct kreg_from *from)
{
	(void)state;
	return kreg_reply(srv, from, req, len);
}

static const struct kreg_module echo = { .handle_call = echo_call };

struct container_run {
	struct listening *l;
	struct userns_spec *userns;	/* NULL: Docker-style */
};

static int run_listener(void *arg)
{
	struct container_run *r = arg;

	return r->userns ? run_in_userns(r->userns) : run_docker_style(listen_in_container, r->l);
}

/*
 * A container subscribed to events hears nothing of the host: not its
 * registrations (values included), not the reply addresses of its calls.
 */
static void events_stay_in(struct __test_metadata *_metadata, FIXTURE_DATA(hostile) *self,
			   struct container_run *run)
{
	struct listening *l = run->l;
	enum kreg_started how;
	struct kreg_via via;
	pid_t listener, server;
	char reply[8];
	int status;

	ASSERT_EQ(0, pipe(l->ready));
	ASSERT_EQ(0, pipe(l->go));
	listener = fork();
	ASSERT_LE(0, listener);
	if (listener == 0)
		_exit(run_listener(run));
	ASSERT_EQ('r', wait_byte(l->ready[0]));
	ASSERT_EQ(0, kreg_register_meta(self->c, "host.db2", self->sleepers[0], "pw=s3cret", 9,
					NULL));
	ASSERT_EQ(0, kreg_start_link(self->c, "host.echo", &echo, NULL, &server, &how));
	ASSERT_EQ(0, kreg_via_tuple(self->c, "host.echo", &via));
	/* A call registers the caller's reply address: nobody else's business. */
	ASSERT_EQ(0, kreg_call(&via, "hi", 2, reply, sizeof(reply), NULL, 5000));
	give_byte(l->go[1], 'g');
	ASSERT_EQ(listener, waitpid(listener, &status, 0));
	EXPECT_EQ(0, status_of(status));
	kreg_stop(&via, 5000);
	waitpid(server, NULL, 0);
	kreg_unregister(self->c, "host.db2");
}

TEST_F(hostile, a_docker_style_container_hears_no_host_event)
{
	/* It shares the host's uids: of user.0., it owns reply addresses only. */
	struct listening l = { .mine = "user.0.reply.mine", .flags = KREG_F_MAILBOX_BOUND };
	struct container_run run = { .l = &l };

	events_stay_in(_metadata, self, &run);
}

TEST_F(hostile, a_user_namespace_container_hears_no_host_event)
{
	struct listening l = { .mine = "user.100000.mine" };
	struct userns_spec spec = { .owner = ALICE, .base = 100000, .n = 1,
				    .flags = CLONE_NEWPID | CLONE_NEWNET,
				    .fn = listen_in_container, .arg = &l };
	struct container_run run = { .l = &l, .userns = &spec };

	events_stay_in(_metadata, self, &run);
}

/* --- item 5: servers take control only from the right parties --------------- */

/*
 * The frame of libkreg before the fix ("kreg.srv"), which named its own
 * reply address: an attacker sends both kinds, so that each attack would
 * have worked on the code it was found in.
 */
struct old_frame {
	uint64_t magic;
	uint64_t ref;
	int32_t status;
	uint8_t kind;
	uint8_t reply_to_len;
	uint16_t reserved;
	char body[];
};

#define OLD_FRAME_MAGIC 0x7672732e6765726bull

static size_t forge_old(void *buf, enum kreg_frame_kind kind, uint64_t ref,
			const char *reply_to, const char *body)
{
	struct old_frame *f = buf;

	memset(f, 0, sizeof(*f));
	f->magic = OLD_FRAME_MAGIC;
	f->kind = kind;
	f->ref = ref;
	f->reply_to_len = strlen(reply_to);
	memcpy(f->body, reply_to, f->reply_to_len);
	strcpy(f->body + f->reply_to_len, body);
	return sizeof(*f) + f->reply_to_len + strlen(body);
}

/* A frame as an attacker forges it. */
static size_t forge(void *buf, enum kreg_frame_kind kind, uint64_t ref, int32_t status,
		    const char *body)
{
	struct kreg_frame *f = buf;

	memset(f, 0, sizeof(*f));
	f->magic = KREG_FRAME_MAGIC;
	f->kind = kind;
	f->ref = ref;
	f->status = status;
	strcpy(f->body, body);
	return sizeof(*f) + strlen(body);
}

/*
 * As nobody: stops the server every way it can, and makes it answer a
 * victim; the server refuses, answers nobody else, and never dies of it.
 */
static int attack_server(void *arg)
{
	static char buf[256];
	static struct raw_msg msg;
	const char *mailbox = "user.65534.reply.attacker";
	const struct kreg_frame *f;
	struct raw_nl n, quitter;
	size_t len;
	int i;

	(void)arg;
	if (raw_nl_open(&n))
		return 1;
	/* A stop from nowhere, in either frame: dropped. A hundred: still dropped. */
	for (i = 0; i < 100; i++) {
		len = i % 2 ? forge(buf, KREG_FRAME_STOP, 1, 0, "") :
			      forge_old(buf, KREG_FRAME_STOP, 1, "", "");
		if (raw_send_to(&n, "hostile.svc", NULL, 0, buf, len))
			return 2;
	}
	/* A stop from a reply mailbox of its own: refused, -EPERM to it. */
	raw_kreg_msg(&msg, &n, KREG_CMD_REGISTER);
	raw_put_str(&msg, KREG_A_NAME, mailbox);
	raw_put_u32(&msg, KREG_A_FLAGS, KREG_F_MAILBOX_BOUND);
	if (raw_request(&n, &msg, NULL))
		return 3;
	len = forge(buf, KREG_FRAME_STOP, 7, 0, "");
	if (raw_send_and_next(&n, "hostile.svc", mailbox, buf, len, KREG_CMD_DELIVER, &msg, 5000))
		return 5;
	f = raw_attr_data(raw_attr(&msg.nlh, KREG_A_PAYLOAD));
	if (f->kind != KREG_FRAME_REPLY || f->ref != 7 || f->status != -EPERM ||
	    strcmp(raw_attr_str(&msg.nlh, KREG_A_FROM_NAME), "hostile.svc"))
		return 6;
	/* A call that asks the server to answer a victim: the kernel refuses it. */
	len = forge(buf, KREG_FRAME_CALL, 8, 0, "to the victim");
	if (raw_send_to(&n, "hostile.svc", "hostile.victim", 0, buf, len) != -EPERM)
		return 7;
	/* A call whose caller is gone by the answer, and an old frame naming nobody. */
	if (raw_nl_open(&quitter))
		return 8;
	raw_kreg_msg(&msg, &quitter, KREG_CMD_REGISTER);
	raw_put_str(&msg, KREG_A_NAME, "user.65534.reply.gone");
	raw_put_u32(&msg, KREG_A_FLAGS, KREG_F_MAILBOX_BOUND);
	if (raw_request(&quitter, &msg, NULL))
		return 9;
	len = forge(buf, KREG_FRAME_CALL, 9, 0, "hello?");
	if (raw_send_to(&quitter, "hostile.svc", "user.65534.reply.gone", 0, buf, len))
		return 10;
	raw_nl_close(&quitter);
	len = forge_old(buf, KREG_FRAME_CALL, 10, "user.65534.reply.nonexistent", "hello?");
	if (raw_send_to(&n, "hostile.svc", NULL, 0, buf, len))
		return 11;
	len = forge_old(buf, KREG_FRAME_CALL, 11, "hostile.victim", "to the victim");
	if (raw_send_to(&n, "hostile.svc", NULL, 0, buf, len))
		return 12;
	raw_nl_close(&n);
	return 0;
}

static int mute_call(struct kreg_server *srv, void *state, const void *req, size_t len,
		     const struct kreg_from *from)
{
	(void)state;
	/* The README's way: handle_call returns what kreg_reply() returned. */
	return kreg_reply(srv, from, req, len);
}

static const struct kreg_module plain = { .handle_call = mute_call };

TEST_F(hostile, a_server_obeys_only_those_who_may_stop_it)
{
	enum kreg_started how;
	struct kreg_conn *victim;
	struct kreg_message *msg = malloc(sizeof(*msg));
	struct kreg_via via;
	pid_t server, found;
	char reply[8];
	size_t len = 0;

	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, kreg_open(&victim));
	ASSERT_EQ(0, kreg_register(victim, "hostile.victim", 0, NULL));
	ASSERT_EQ(0, kreg_start_link(self->c, "hostile.svc", &plain, NULL, &server, &how));
	EXPECT_EQ(0, run_as(NOBODY, attack_server, NULL));
	/* The server is the same process, and answers its owner. */
	ASSERT_EQ(0, kreg_whereis_name(self->c, "hostile.svc", &found));
	EXPECT_EQ(server, found);
	ASSERT_EQ(0, kreg_via_tuple(self->c, "hostile.svc", &via));
	EXPECT_EQ(0, kreg_call(&via, "ping", 4, reply, sizeof(reply), &len, 5000));
	EXPECT_EQ(4, len);
	/* The victim received nothing from the server. */
	EXPECT_EQ(-ETIMEDOUT, kreg_recv(victim, msg, 200));
	/* Its owner may stop it. */
	EXPECT_EQ(0, kreg_stop(&via, 5000));
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "hostile.svc", &found));
	waitpid(server, NULL, 0);
	kreg_close(victim);
	free(msg);
}

static int slow_call(struct kreg_server *srv, void *state, const void *req, size_t len,
		     const struct kreg_from *from)
{
	(void)state;
	usleep(1000000);
	return kreg_reply(srv, from, "pong", 4);
}

static const struct kreg_module slow = { .handle_call = slow_call };

struct forger {
	int name[2];
};

static int find_reply_addresses(const struct kreg_entry_info *e, void *arg)
{
	(void)arg;
	return strstr(e->name, ".reply.") ? 1 : 0;
}

/* As nobody: finds no reply address, and even told one, cannot answer for the server. */
static int forge_replies(void *arg)
{
	struct forger *f = arg;
	char reply_to[KREG_NAME_MAX + 1] = "", buf[256];
	struct kreg_conn *c;
	struct raw_nl n;
	uint64_t ref;
	size_t len;
	ssize_t got;

	if (kreg_open(&c) || raw_nl_open(&n))
		return 1;
	if (kreg_list(c, find_reply_addresses, NULL) == 1)
		return 2;
	got = read(f->name[0], reply_to, sizeof(reply_to) - 1);
	if (got <= 0)
		return 3;
	/*
	 * References as libkreg made them before (the monotonic clock in ms
	 * when the reply mailbox was made, shifted, plus the calls made): the
	 * last two seconds of them, in both frames. Today all are wrong.
	 */
	{
		/* Each guess is two sends and their acks: fewer under KASAN. */
		uint64_t now, window = (uint64_t)scaled(2000, 400);
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
		for (ref = 0; ref < window; ref++) {
			uint64_t guess = ((now - ref) << 20) + 2;

			len = forge_old(buf, KREG_FRAME_REPLY, guess, "", "forged");
			raw_send_to(&n, reply_to, NULL, 0, buf, len);
			len = forge(buf, KREG_FRAME_REPLY, guess, 0, "forged");
			raw_send_to(&n, reply_to, NULL, 0, buf, len);
		}
	}
	/* Nor may it claim the server's name. */
	len = forge(buf, KREG_FRAME_REPLY, 1, 0, "forged");
	if (raw_send_to(&n, reply_to, "hostile.slow", 0, buf, len) != -EPERM)
		return 4;
	raw_nl_close(&n);
	kreg_close(c);
	return 0;
}

struct caller {
	struct kreg_via via;
	char reply[8];
	size_t len;
	int err;
};

static void *call_slowly(void *arg)
{
	struct caller *c = arg;

	c->err = kreg_call(&c->via, "ping", 4, c->reply, sizeof(c->reply), &c->len, 5000);
	return NULL;
}

TEST_F_TIMEOUT(hostile, nobody_can_answer_for_a_server, 120)
{
	enum kreg_started how;
	struct caller call = { 0 };
	struct forger f;
	pthread_t t;
	pid_t server, forger;
	int status;

	ASSERT_EQ(0, pipe(f.name));
	ASSERT_EQ(0, kreg_start_link(self->c, "hostile.slow", &slow, NULL, &server, &how));
	ASSERT_EQ(0, kreg_via_tuple(self->c, "hostile.slow", &call.via));
	/* The first call registers the reply address; the second is the target. */
	ASSERT_EQ(0, kreg_call(&call.via, "x", 1, NULL, 0, NULL, 5000));
	forger = fork_as(NOBODY, forge_replies, &f);
	ASSERT_LE(0, forger);
	ASSERT_EQ(0, pthread_create(&t, NULL, call_slowly, &call));
	/* The test tells the forger what it could not find itself. */
	usleep(50000);
	ASSERT_EQ((ssize_t)strlen(self->c->reply_name),
		  write(f.name[1], self->c->reply_name, strlen(self->c->reply_name)));
	ASSERT_EQ(forger, waitpid(forger, &status, 0));
	EXPECT_EQ(0, status_of(status));
	pthread_join(t, NULL);
	EXPECT_EQ(0, call.err);
	EXPECT_EQ(4, call.len);
	EXPECT_EQ(0, memcmp(call.reply, "pong", 4));
	kreg_stop(&call.via, 5000);
	waitpid(server, NULL, 0);
}

/* --- item 6: a request is judged by its socket's opener ---------------------- */

static int send_fd(int sock, int fd)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = "f", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = control, .msg_controllen = sizeof(control) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char control[CMSG_SPACE(sizeof(int))], byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = control, .msg_controllen = sizeof(control) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * As nobody: opens a socket and hands it to root, which writes a SUBSCRIBE,
 * a WHEREIS of a hidden name and a REGISTER into it (the CVE-2014-0181
 * pattern: a privileged writer on someone's descriptor). What comes back
 * is what nobody may have: an ENOENT, an EACCES, and no hidden event.
 */
static int open_for_root(void *arg)
{
	int *pair = arg;
	static struct raw_msg ev;
	static char buf[RAW_NL_BUF];
	int acks[3], nacks = 0;
	struct raw_nl n;

	if (raw_nl_open(&n) || send_fd(pair[1], n.fd))
		return 1;
	if (wait_byte(pair[1]) != 'w')
		return 2;
	while (nacks < 3) {
		ssize_t len = raw_recv(&n, buf, sizeof(buf), 5000);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (len < 0)
			return 3;
		for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type == NLMSG_ERROR && nacks < 3)
				acks[nacks++] = ((const struct nlmsgerr *)NLMSG_DATA(nlh))->error;
			else if (nlh->nlmsg_type == n.family && raw_cmd(nlh) == KREG_CMD_WHEREIS)
				return 4;	/* the hidden holder's pid */
		}
	}
	if (acks[0] != 0 || acks[1] != -ENOENT || acks[2] != -EACCES)
		return 5;
	if (wait_byte(pair[1]) != 'e')
		return 6;
	/* The public name's event comes; the hidden one's never does. */
	if (raw_next(&n, KREG_CMD_REGISTERED, &ev, 5000) ||
	    strcmp(raw_attr_str(&ev.nlh, KREG_A_NAME), "pub.sentinel"))
		return 7;
	raw_nl_close(&n);
	return 0;
}

TEST_F(hostile, a_privileged_writer_lends_nobody_its_rights)
{
	struct raw_nl n = { .fd = -1 };
	static struct raw_msg m;
	int pair[2], status;
	pid_t child;

	ASSERT_EQ(0, kreg_register(self->c, "secret.svc", self->sleepers[0], NULL));
	ASSERT_EQ(0, load_policy(self->c, "allow see * everyone\n"
					  "deny see secret.* everyone\n"));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, pair));
	child = fork_as(NOBODY, open_for_root, pair);
	ASSERT_LE(0, child);
	ASSERT_EQ(0, raw_nl_open(&n));
	close(n.fd);
	n.fd = recv_fd(pair[0]);
	ASSERT_LE(0, n.fd);
	/* Root writes; nobody reads. */
	raw_kreg_msg(&m, &n, KREG_CMD_SUBSCRIBE);
	ASSERT_EQ(0, raw_send(&n, &m));
	raw_kreg_msg(&m, &n, KREG_CMD_WHEREIS);
	raw_put_str(&m, KREG_A_NAME, "secret.svc");
	ASSERT_EQ(0, raw_send(&n, &m));
	raw_kreg_msg(&m, &n, KREG_CMD_REGISTER);
	raw_put_str(&m, KREG_A_NAME, "secret.mine");
	ASSERT_EQ(0, raw_send(&n, &m));
	give_byte(pair[0], 'w');
	ASSERT_EQ(0, kreg_register(self->c, "secret.svc2", self->sleepers[1], NULL));
	ASSERT_EQ(0, kreg_register(self->c, "pub.sentinel", self->sleepers[2], NULL));
	give_byte(pair[0], 'e');
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status_of(status));
	raw_nl_close(&n);
}

/* --- item 7: subscriptions are limited, and cost unrelated sockets nothing --- */

/* As nobody: @arg subscriptions may be had, and not one more. */
static int subscribe_many(void *arg)
{
	int limit = *(int *)arg, i, err = 0;
	struct raw_nl n[64];

	for (i = 0; i <= limit && !err; i++)
		err = raw_nl_open(&n[i]) ? -EIO : raw_nl_subscribe(&n[i]);
	/* All of them open while counting: i is one past the failure. */
	return i == limit + 1 && err == -EDQUOT ? 0 : 1 + i;
}

struct ns_subscribers {
	int limit;
	int result[2];
};

/* In a user namespace owned by nobody: its uids share nobody's limit. */
static int subscribe_as_ns_uids(void *arg)
{
	struct ns_subscribers *s = arg;
	int ok = 0, i, status;

	for (i = 0; i < 4; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			struct raw_nl n[16];
			int j, got = 0;

			if (setresuid(i, i, i))
				_exit(200);
			for (j = 0; j < s->limit; j++)
				got += !raw_nl_open(&n[j]) && !raw_nl_subscribe(&n[j]);
			if (write(s->result[1], &got, sizeof(got)) != sizeof(got))
				_exit(201);
			pause();	/* keep them until the parent has counted */
			_exit(0);
		}
	}
	for (i = 0; i < 4; i++) {
		int got;

		if (read(s->result[0], &got, sizeof(got)) != sizeof(got))
			return 1;
		ok += got;
	}
	/* Pid 1 returns: the kernel ends the namespace's other processes. */
	(void)status;
	return ok == s->limit ? 0 : 2;
}

static int lock_count(struct lock_probe *probe)
{
	return (int)probe->bss->hits;
}

/* The address of kreg's table lock, from kallsyms. */
static unsigned long long table_lock_address(void)
{
	unsigned long long addr = 0, a;
	char line[256], type, sym[128];
	FILE *f = fopen("/proc/kallsyms", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %127s", &a, &type, sym) == 3 &&
		    !strcmp(sym, "kreg_table_mutex"))
			addr = a;
	if (f)
		fclose(f);
	return addr;
}

TEST_F(hostile, subscriptions_are_limited_per_uid_and_user_namespace_owner)
{
	struct ns_subscribers ns = { .limit = 8 };
	struct userns_spec spec = { .owner = NOBODY, .base = 300000, .n = 4,
				    .flags = CLONE_NEWPID, .fn = subscribe_as_ns_uids,
				    .arg = &ns };
	struct raw_nl n[10];
	int limit = 8, i;

	ASSERT_EQ(0, write_param("max_subscriptions", limit));
	EXPECT_EQ(0, run_as(NOBODY, subscribe_many, &limit));
	ASSERT_EQ(0, pipe(ns.result));
	EXPECT_EQ(0, run_in_userns(&spec));
	/* CAP_SYS_RESOURCE is not limited. */
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, raw_nl_open(&n[i]));
		EXPECT_EQ(0, raw_nl_subscribe(&n[i]));
	}
	for (i = 0; i < 10; i++)
		raw_nl_close(&n[i]);
}

/* Closing a generic netlink socket that never spoke to kreg takes no kreg lock. */
TEST_F(hostile, closing_an_unrelated_socket_takes_no_table_lock)
{
	unsigned long long lock = table_lock_address();
	struct lock_probe *probe;
	struct btf *btf;
	bool nested;
	int i;

	ASSERT_NE(0, lock);
	btf = btf__load_vmlinux_btf();
	ASSERT_NE(NULL, btf);
	nested = btf__find_by_name_kind(btf, "mutex_lock_nested", BTF_KIND_FUNC) > 0;
	btf__free(btf);
	probe = lock_probe__open();
	ASSERT_NE(NULL, probe);
	probe->rodata->target = lock;
	bpf_program__set_autoload(probe->progs.on_mutex_lock, !nested);
	bpf_program__set_autoload(probe->progs.on_mutex_lock_nested, nested);
	ASSERT_EQ(0, lock_probe__load(probe));
	ASSERT_EQ(0, lock_probe__attach(probe));
	/* The probe sees the lock: a registration takes it. */
	ASSERT_EQ(0, kreg_register(self->c, "hostile.lock", self->sleepers[0], NULL));
	ASSERT_LT(0, lock_count(probe));
	probe->bss->hits = 0;
	for (i = 0; i < 64; i++) {
		int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
		struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
		close(fd);
	}
	usleep(100000);
	EXPECT_EQ(0, lock_count(probe));
	lock_probe__destroy(probe);
}

/* --- item 8: a user's subordinate uids share its quota; entries are charged -- */

struct ns_quota {
	int result[2];
	int n;
};

/* Each of the namespace's uids registers its own user.UID. name. */
static int register_as_ns_uids(void *arg)
{
	struct ns_quota *q = arg;
	int ok = 0, i, status;

	for (i = 0; i < q->n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			struct kreg_conn *c;
			char name[64];
			int got;

			if (setresuid(i, i, i) || kreg_open(&c))
				_exit(200);
			snprintf(name, sizeof(name), "user.%d.quota", 200000 + i);
			got = kreg_register(c, name, 0, NULL) == 0;
			if (write(q->result[1], &got, sizeof(got)) != sizeof(got))
				_exit(201);
			pause();
			_exit(0);
		}
	}
	for (i = 0; i < q->n; i++) {
		int got;

		if (read(q->result[0], &got, sizeof(got)) != sizeof(got))
			return 1;
		ok += got;
	}
	(void)status;
	return ok;
}

TEST_F(hostile, subordinate_uids_share_their_owners_quota)
{
	struct ns_quota q = { .n = 16 };
	struct userns_spec spec = { .owner = ALICE, .base = 200000, .n = 16,
				    .flags = CLONE_NEWPID, .fn = register_as_ns_uids,
				    .arg = &q };

	ASSERT_EQ(0, write_param("max_per_uid", 8));
	ASSERT_EQ(0, pipe(q.result));
	/* 16 uids of Alice's, one name each: Alice's quota of 8, not 16 of 8. */
	EXPECT_EQ(8, run_in_userns(&spec));
}

static long slab_of(const char *cgroup)
{
	char path[128], key[64];
	long value, slab = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", cgroup);
	f = fopen(path, "r");
	while (f && fscanf(f, "%63s %ld", key, &value) == 2)
		if (!strcmp(key, "slab_unreclaimable"))
			slab = value;
	if (f)
		fclose(f);
	return slab;
}

#define CHARGED	CGROUP "/kreg-charged"

/* Put by root in a cgroup of its own, then as nobody: registers 1000 names. */
static int register_in_charged(void *arg)
{
	static const char value[200] = "v";
	struct kreg_conn *c;
	char name[32];
	int i;

	(void)arg;
	if (enter_cgroup(CHARGED) || setgroups(0, NULL) ||
	    setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY) ||
	    kreg_open(&c))
		return 1;
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "charged.%d", i);
		if (kreg_register_meta(c, name, 0, value, sizeof(value), NULL))
			return 2;
	}
	/* Hold them while the test reads the charge. */
	pause();
	return 0;
}

/* A registrant's names are charged to its own memory cgroup (SLAB_ACCOUNT). */
TEST_F(hostile, names_are_charged_to_their_registrant)
{
	long before, after;
	pid_t child;
	int tries;

	ASSERT_EQ(0, cgroup_ready());
	mkdir(CHARGED, 0755);
	before = slab_of(CHARGED);
	ASSERT_LE(0, before);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0)
		_exit(register_in_charged(NULL));
	/* 1000 entries of the 512-byte class: at least 400 KiB more. */
	for (tries = 0; tries < 500; tries++) {
		after = slab_of(CHARGED);
		if (after - before >= 1000 * 400)
			break;
		usleep(10000);
	}
	EXPECT_LE(1000 * 400, after - before);
	kill_and_reap(child);
	for (tries = 0; tries < 100 && rmdir(CHARGED); tries++)
		usleep(20000);
}

/* --- item 9: a policy holds from the first name; no unprivileged autoload --- */

static int hold_app_x(void *arg)
{
	struct kreg_conn *c;
	int *ready = arg;

	if (kreg_open(&c) || kreg_register(c, "app.x", 0, NULL))
		return 1;
	give_byte(ready[1], 'h');
	pause();
	return 0;
}

TEST_F(hostile, a_policy_releases_what_it_denies)
{
	struct kreg_conn *mon;
	struct kreg_event ev;
	int ready[2], err;
	pid_t holder;

	ASSERT_EQ(0, pipe(ready));
	holder = fork_as(ALICE, hold_app_x, ready);
	ASSERT_LE(0, holder);
	ASSERT_EQ('h', wait_byte(ready[0]));
	ASSERT_EQ(0, kreg_open(&mon));
	ASSERT_EQ(0, kreg_subscribe(mon));
	ASSERT_EQ(0, load_policy(self->c, "allow own app.* uid 2000\n"
					  "allow see * everyone\n"));
	/* Gone, and its watchers told why. */
	do {
		err = kreg_next_event(mon, &ev, 5000);
	} while (!err && strcmp(ev.name, "app.x"));
	ASSERT_EQ(0, err);
	EXPECT_EQ(KREG_EVENT_UNREGISTERED, ev.kind);
	EXPECT_EQ(KREG_REASON_REVOKED, ev.reason);
	EXPECT_STREQ("revoked", kreg_reason_name(ev.reason));
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "app.x", &(pid_t){ 0 }));
	kreg_close(mon);
	kill_and_reap(holder);
}

/* Nobody can have the kernel load kreg by asking for its family: it has no alias. */
TEST(kreg_ko_has_no_module_alias)
{
	static char buf[8 << 20];
	size_t n;
	FILE *f = fopen("/kreg.ko", "rb");

	ASSERT_NE(NULL, f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ASSERT_LT(0, n);
	EXPECT_EQ(NULL, memmem(buf, n, "alias=net-pf-16-proto-16-family-kreg", 36));
	/* The module is not empty of modinfo: the check reads the right thing. */
	EXPECT_NE(NULL, memmem(buf, n, "description=kreg", 16));
}

/* --- item 10: the smaller ones ----------------------------------------------- */

TEST(a_uid_has_one_spelling)
{
	struct raw_nl n;

	ASSERT_EQ(0, raw_nl_open(&n));
	EXPECT_EQ(-EINVAL, raw_nl_register(&n, "user.01000.x"));
	EXPECT_EQ(-EINVAL, raw_nl_register(&n, "user.00.x"));
	EXPECT_EQ(0, raw_nl_register(&n, "user.0.spelled"));
	EXPECT_EQ(0, raw_nl_unregister(&n, "user.0.spelled"));
	raw_nl_close(&n);
}

/*
 * Chosen names that all hash to one slot of the view, from its published
 * seed: none is stored beyond the probe window, lookups stay bounded, and
 * every one is still found (through the kernel when the view left it out).
 */
TEST_F_TIMEOUT(hostile, chosen_collisions_stay_within_the_probe_window, 120)
{
	struct raw_view v;
	char (*names)[32] = calloc(200, 32);
	char filler[32];
	uint32_t mask, home, hash, i, n = 0, worst = 0, want;
	const uint32_t *index;
	struct kreg_conn *nl;
	unsigned long k;
	pid_t found;

	ASSERT_NE(NULL, names);
	/* A view of some size, settled, which the collisions will not make grow. */
	for (i = 0; i < 1000; i++) {
		snprintf(filler, sizeof(filler), "probe.fill.%u", i);
		ASSERT_EQ(0, kreg_register(self->c, filler, self->sleepers[0], NULL));
	}
	ASSERT_EQ(0, raw_view_wait(&v, "probe.fill.999"));
	/* As many as fit before the view grows (at 7/8): twice the window at least. */
	want = v.h->capacity * 7 / 8 - v.h->entries - 8;
	if (want > 200)
		want = 200;
	ASSERT_LE(2 * KREG_VIEW_PROBE_MAX, want);
	mask = v.h->index_slots - 1;
	home = raw_view_hash(&v, "probe.target") & mask;
	for (k = 0; n < want && k < 50000000; k++) {
		snprintf(names[n], 32, "probe.c%lu", k);
		if ((raw_view_hash(&v, names[n]) & mask) == home)
			n++;
	}
	ASSERT_EQ(want, n);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, kreg_register(self->c, names[i], self->sleepers[1], NULL));
	/* Raw: no record of theirs beyond the window. */
	index = (const uint32_t *)((const char *)v.h + v.h->index_offset);
	for (i = 0; i <= mask; i++) {
		uint32_t slot = index[i];
		const struct kreg_view_record *r;
		uint32_t dist;

		if (!slot || slot == KREG_VIEW_TOMBSTONE)
			continue;
		r = raw_view_record(&v, slot - 1);
		hash = r->hash & mask;
		dist = (i - hash) & mask;
		if (dist > worst)
			worst = dist;
	}
	EXPECT_GT(KREG_VIEW_PROBE_MAX, worst);
	/* The view searched is the one they went into, not an emptied one. */
	EXPECT_EQ(KREG_VIEW_LIVE, v.h->state);
	raw_view_unmap(&v);
	/* And every one of them is found, through the view or the kernel. */
	setenv("KREG_VIEW", "off", 1);
	ASSERT_EQ(0, kreg_open(&nl));
	unsetenv("KREG_VIEW");
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, kreg_whereis_name(self->c, names[i], &found));
		EXPECT_EQ(self->sleepers[1], found);
		ASSERT_EQ(0, kreg_whereis_name(nl, names[i], &found));
		EXPECT_EQ(self->sleepers[1], found);
	}
	for (i = 0; i < n; i++)
		kreg_unregister(self->c, names[i]);
	for (i = 0; i < 1000; i++) {
		snprintf(filler, sizeof(filler), "probe.fill.%u", i);
		kreg_unregister(self->c, filler);
	}
	kreg_close(nl);
	free(names);
}

/*
 * A retired view kept open costs its header page, not the view. A policy's
 * arrival has the view rebuilt: an attacker could have it retire views at
 * will, by making it grow and shrink.
 */
TEST_F_TIMEOUT(hostile, a_retired_view_kept_open_is_emptied, 120)
{
	struct raw_view old;
	char name[32];
	struct stat st;
	int i, tries;

	for (i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "retire.n%d", i);
		ASSERT_EQ(0, kreg_register(self->c, name, self->sleepers[0], NULL));
	}
	ASSERT_EQ(0, raw_view_map(&old, 1));
	ASSERT_EQ(0, fstat(old.fd, &st));
	ASSERT_LT(4096, st.st_blocks * 512);
	ASSERT_EQ(0, load_policy(self->c, "allow all * everyone\n"));
	for (tries = 0; tries < 500; tries++) {
		if (old.h->state == KREG_VIEW_RETIRED && !fstat(old.fd, &st) &&
		    st.st_blocks * 512 <= 4096)
			break;
		usleep(10000);
	}
	EXPECT_EQ(KREG_VIEW_RETIRED, old.h->state);
	ASSERT_EQ(0, fstat(old.fd, &st));
	EXPECT_GE(4096, st.st_blocks * 512);
	raw_view_unmap(&old);
	for (i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "retire.n%d", i);
		kreg_unregister(self->c, name);
	}
}

/*
 * A handle that mapped the view, used by a child in a new pid namespace:
 * its answers are the child's, never initial-namespace pids.
 */
static int look_from_new_pid_ns(void *arg)
{
	struct kreg_conn *c = arg;
	pid_t found = 0;
	int err = kreg_whereis_name(c, "host.seen", &found);

	return err == KREG_UNDEFINED ? 0 : 10 + (found != 0);
}

static int child_in_new_pid_ns(void *arg)
{
	return run_as_pid1(CLONE_NEWPID, look_from_new_pid_ns, arg);
}

TEST_F(hostile, a_child_in_a_new_pid_namespace_gets_no_host_pid)
{
	pid_t found;

	ASSERT_EQ(0, kreg_register(self->c, "host.seen", self->sleepers[0], NULL));
	/* Two lookups: the second maps the view. */
	ASSERT_EQ(0, kreg_whereis_name(self->c, "host.seen", &found));
	ASSERT_EQ(0, kreg_whereis_name(self->c, "host.seen", &found));
	ASSERT_NE(NULL, self->c->view.hdr);
	EXPECT_EQ(0, run_child(child_in_new_pid_ns, self->c));
}

/*
 * A set-user-ID program ignores KREG_REGISTRY (secure_getenv()): its caller
 * cannot pick the provider it trusts. The test runs a set-user-ID copy of
 * itself, which says what it was given.
 */
__attribute__((constructor)) static void provider_probe(void)
{
	enum kreg_provider provider;
	int err;

	if (!getenv("KREG_TEST_PROVIDER_PROBE"))
		return;
	err = kreg_configured_provider(&provider);
	_exit(err ? 2 : provider == KREG_PROVIDER_KERNEL ? 0 : 3);
}

static int run_setuid_copy(void *arg)
{
	char *argv[] = { arg, NULL };
	char *envp[] = { "KREG_TEST_PROVIDER_PROBE=1", "KREG_REGISTRY=nonsense", NULL };

	execve(arg, argv, envp);
	return 99;
}

TEST(a_setuid_program_ignores_the_callers_registry)
{
	static char buf[16 << 20];
	const char *copy = "/tmp/kreg-setuid-probe";
	ssize_t n;
	int in, out;

	in = open("/proc/self/exe", O_RDONLY);
	ASSERT_LE(0, in);
	out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ASSERT_LE(0, out);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ASSERT_EQ(n, write(out, buf, n));
	close(in);
	close(out);
	ASSERT_EQ(0, chown(copy, 0, 0));
	ASSERT_EQ(0, chmod(copy, 04755));
	EXPECT_EQ(0, run_as(NOBODY, run_setuid_copy, (void *)copy));
	unlink(copy);
}

TEST_HARNESS_MAIN
