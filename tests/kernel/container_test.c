// SPDX-License-Identifier: GPL-2.0
/*
 * A container gets nothing of the host's, attacked as a container would:
 * over raw netlink (raw_nl.h), from a Docker-style container (the host's
 * uids, its own pid, net and mount namespaces) or a user namespace. The
 * holes these prove closed were found by a review of issue 17's fix: each
 * test failed on the module before this one.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include "container.h"
#include "helpers.h"
#include "kselftest_harness.h"
#include "raw_nl.h"

#define NOBODY	65534

FIXTURE(container) {
	struct kreg_conn *c;
	long max_per_uid, max_subscriptions;
};

FIXTURE_SETUP(container)
{
	ASSERT_EQ(0, kreg_open(&self->c));
	ASSERT_EQ(0, kreg_policy_unload(self->c));
	self->max_per_uid = read_param("max_per_uid");
	self->max_subscriptions = read_param("max_subscriptions");
}

FIXTURE_TEARDOWN(container)
{
	write_param("max_per_uid", self->max_per_uid);
	write_param("max_subscriptions", self->max_subscriptions);
	kreg_policy_unload(self->c);
	kreg_close(self->c);
}

/* --- squatting: a Docker container's root is not the host's root ---------- */

/*
 * As root of a Docker-style container: "user.0." names are the host root's,
 * free or not; a reply address (bound, under "user.0.reply.") is its own.
 */
static int squat_root_names(void *arg)
{
	struct raw_nl n;

	(void)arg;
	if (raw_nl_open(&n))
		return 1;
	if (raw_nl_register(&n, "user.0.svc") != -EACCES)
		return 2;
	if (raw_nl_register_flags(&n, "user.0.svc", KREG_F_MAILBOX_BOUND) != -EACCES)
		return 3;
	if (raw_nl_register(&n, "user.0.reply.squat") != -EACCES)
		return 4;
	if (raw_nl_register_flags(&n, "user.0.reply.mine", KREG_F_MAILBOX_BOUND))
		return 5;
	raw_nl_close(&n);
	return 0;
}

TEST_F(container, a_docker_style_container_cannot_squat_the_hosts_names)
{
	EXPECT_EQ(0, run_docker_style(squat_root_names, NULL));
	/* The host's root finds its name free. */
	EXPECT_EQ(0, kreg_register(self->c, "user.0.svc", 0, NULL));
	kreg_unregister(self->c, "user.0.svc");
}

/* --- accounts: a container is one, whatever uid it switches to --------------- */

struct tally {
	int result[2];
	uid_t first;
	int n;
	bool subscribe;		/* subscriptions, not names */
};

/* Forks @t->n children, each as uid first + i, each asking once; how many got it. */
static int ask_as_many_uids(void *arg)
{
	struct tally *t = arg;
	int ok = 0, i;

	for (i = 0; i < t->n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			uid_t uid = t->first + i;
			struct raw_nl n;
			char name[64];
			int got;

			if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid) || raw_nl_open(&n))
				_exit(200);
			snprintf(name, sizeof(name), "user.%u.reply.tally", uid);
			got = (t->subscribe ? raw_nl_subscribe(&n) :
			       raw_nl_register_flags(&n, name, KREG_F_MAILBOX_BOUND)) == 0;
			if (write(t->result[1], &got, sizeof(got)) != sizeof(got))
				_exit(201);
			/* Held until the container ends. */
			pause();
			_exit(0);
		}
	}
	for (i = 0; i < t->n; i++) {
		int got;

		if (read(t->result[0], &got, sizeof(got)) != sizeof(got))
			return 255;
		ok += got;
	}
	return ok;
}

/*
 * Docker keeps CAP_SETUID in its containers: the container's processes may
 * become any uid, and must not get a quota for each.
 */
TEST_F(container, a_docker_style_container_has_one_quota_whatever_its_uids)
{
	struct tally names = { .first = 3000, .n = 16 };
	struct tally subs = { .first = 3000, .n = 16, .subscribe = true };
	uint32_t setuid_caps = (1U << CAP_SETUID) | (1U << CAP_SETGID);

	ASSERT_EQ(0, write_param("max_per_uid", 8));
	ASSERT_EQ(0, write_param("max_subscriptions", 4));
	ASSERT_EQ(0, pipe(names.result));
	ASSERT_EQ(0, pipe(subs.result));
	EXPECT_EQ(8, run_docker_style_keeping(ask_as_many_uids, &names, setuid_caps));
	EXPECT_EQ(4, run_docker_style_keeping(ask_as_many_uids, &subs, setuid_caps));
}

struct counted {
	int base;
	int status_entries;
};

/* In a user namespace root made: registers its own names until refused. */
static int fill_own_quota(void *arg)
{
	struct counted *c = arg;
	static struct raw_msg reply;
	struct raw_nl n;
	char name[64];
	int i;

	if (raw_nl_open(&n))
		return 255;
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "user.%d.q%d", c->base, i);
		if (raw_nl_register(&n, name))
			break;
	}
	/* STATUS counts this container's names, not root's. */
	if (raw_nl_status(&n, &reply) ||
	    raw_attr_u32(&reply.nlh, KREG_A_UID_ENTRIES) != (uint32_t)i)
		return 254;
	raw_nl_close(&n);
	return i;
}

/*
 * LXD, rootful Podman and Kubernetes' user namespaces are made by root: each
 * is an account of its own, not one more share of root's.
 */
TEST_F(container, user_namespaces_root_made_are_accounts_of_their_own)
{
	struct counted a = { .base = 300000 }, b = { .base = 400000 };
	struct userns_spec one = { .owner = 0, .base = 300000, .n = 1,
				   .flags = CLONE_NEWPID, .fn = fill_own_quota, .arg = &a };
	struct userns_spec two = { .owner = 0, .base = 400000, .n = 1,
				   .flags = CLONE_NEWPID, .fn = fill_own_quota, .arg = &b };
	pid_t root_holders[4];
	int i;

	ASSERT_EQ(0, write_param("max_per_uid", 4));
	/* Root's own quota, full: no container may be charged against it. */
	for (i = 0; i < 4; i++) {
		char name[32];

		root_holders[i] = spawn_sleeper();
		snprintf(name, sizeof(name), "root.q%d", i);
		ASSERT_EQ(0, kreg_register(self->c, name, root_holders[i], NULL));
	}
	EXPECT_EQ(4, run_in_userns(&one));
	EXPECT_EQ(4, run_in_userns(&two));
	for (i = 0; i < 4; i++)
		kill_and_reap(root_holders[i]);
}

/* --- calls in a user namespace whose uids are not the host's ---------------- */

static int echo_call(struct kreg_server *srv, void *state, const void *req, size_t len,
		     const struct kreg_from *from)
{
	(void)state;
	return kreg_reply(srv, from, req, len);
}

static const struct kreg_module echo = { .handle_call = echo_call };

/*
 * Its uid 0 is the host's 500000: its own names are "user.500000.", and so
 * must libkreg's reply mailbox be, or every call fails with EACCES.
 */
static int call_in_userns(void *arg)
{
	enum kreg_started how;
	struct kreg_conn *c;
	struct kreg_via via;
	char reply[8] = "";
	size_t len = 0;
	pid_t server;
	int err;

	(void)arg;
	if (kreg_open(&c))
		return 1;
	if (kreg_start_link(c, "user.500000.echo", &echo, NULL, &server, &how))
		return 2;
	if (kreg_via_tuple(c, "user.500000.echo", &via))
		return 3;
	err = kreg_call(&via, "ping", 4, reply, sizeof(reply), &len, 5000);
	if (err) {
		fprintf(stderr, "call: %s (%s)\n", kreg_strerror(err), kreg_last_error(c));
		return 4;
	}
	if (len != 4 || memcmp(reply, "ping", 4))
		return 5;
	kreg_stop(&via, 5000);
	waitpid(server, NULL, 0);
	kreg_close(c);
	return 0;
}

TEST_F(container, a_call_works_in_a_user_namespace_of_its_own_uids)
{
	struct userns_spec spec = { .owner = 0, .base = 500000, .n = 1,
				    .flags = CLONE_NEWPID, .fn = call_in_userns };

	EXPECT_EQ(0, run_in_userns(&spec));
}

/* --- a socket is judged where it was opened ------------------------------- */

/*
 * A socket opened in another network namespace (a container's, say) and
 * written into by the host: the request would be judged as the host's
 * (the opener's credentials, the writer's pid namespace). It is refused.
 */
static int write_into_foreign_socket(void *arg)
{
	static struct raw_msg m;
	struct raw_nl n;
	int home, err;

	(void)arg;
	home = open("/proc/self/ns/net", O_RDONLY);
	if (home < 0 || unshare(CLONE_NEWNET) || raw_nl_open(&n))
		return 1;
	if (setns(home, CLONE_NEWNET))
		return 2;
	if (raw_nl_whereis(&n, "foreign.name") != -EPERM)
		return 3;
	raw_kreg_msg(&m, &n, KREG_CMD_LIST);
	m.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	err = raw_dump(&n, &m);
	if (err != -EPERM)
		return 4;
	if (raw_nl_subscribe(&n) != -EPERM)
		return 5;
	raw_nl_close(&n);
	return 0;
}

TEST_F(container, a_socket_from_another_network_namespace_is_refused)
{
	ASSERT_EQ(0, kreg_register(self->c, "foreign.name", 0, NULL));
	EXPECT_EQ(0, run_child(write_into_foreign_socket, NULL));
	kreg_unregister(self->c, "foreign.name");
}

/* --- mail tells a container nothing of a host sender ----------------------- */

struct mailbox_wait {
	int ready[2], done[2];
};

/* In a Docker-style container: a reply address, and what the host's mail says. */
static int receive_host_mail(void *arg)
{
	struct mailbox_wait *w = arg;
	static struct raw_msg msg;
	struct raw_nl n;
	char b = 'r';

	if (raw_nl_open(&n) ||
	    raw_nl_register_flags(&n, "user.0.reply.inbox", KREG_F_MAILBOX_BOUND))
		return 1;
	if (write(w->ready[1], &b, 1) != 1)
		return 2;
	if (raw_next(&n, KREG_CMD_DELIVER, &msg, 5000))
		return 3;
	if (raw_attr_u32(&msg.nlh, KREG_A_SENDER_PID) != 0)
		return 4;
	/* The host's cgroup ids are no container's business either. */
	if (raw_attr(&msg.nlh, KREG_A_SENDER_CGROUP) &&
	    *(const uint64_t *)raw_attr_data(raw_attr(&msg.nlh, KREG_A_SENDER_CGROUP)))
		return 5;
	raw_nl_close(&n);
	return 0;
}

TEST_F(container, mail_tells_a_container_nothing_of_a_host_sender)
{
	struct mailbox_wait w;
	pid_t pid;
	char b;
	int status;

	ASSERT_EQ(0, pipe(w.ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(run_docker_style(receive_host_mail, &w));
	ASSERT_EQ(1, read(w.ready[0], &b, 1));
	/* Anyone may send to a reply address. */
	ASSERT_EQ(0, kreg_send(self->c, "user.0.reply.inbox", "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status_of(status));
}

TEST_HARNESS_MAIN
