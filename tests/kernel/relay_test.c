// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's side of cluster names, driven as kregd drives it (raw
 * netlink, as a relay): a claim holds a name on this node and reads as
 * absent until the relay commits it; mirrors of names held on other nodes
 * are told with their node, pid there and token, never as a local pid,
 * in lookups, lists, events and the view; fencing takes this node's
 * holders' names with a reason they see, and the kernel fences by itself
 * at the lease's deadline; nobody but the relay may do any of it.
 */
#include "cleanup.h"
#include "helpers.h"
#include "kselftest_harness.h"
#include "raw_nl.h"
#include "relay_raw.h"
#include "view_raw.h"

#define NOBODY	65534

static int relay_unmirror(struct raw_nl *n, const char *name, uint64_t token, uint32_t reason)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, KREG_CMD_UNMIRROR);
	raw_put_str(&m, KREG_A_NAME, name);
	if (token)
		raw_put_u64(&m, KREG_A_TOKEN, token);
	raw_put_u32(&m, KREG_A_REASON, reason);
	return raw_request(n, &m, NULL);
}

/* FENCE: how many names went, or a negative errno. */
static int relay_fence(struct raw_nl *n, const char *name)
{
	static struct raw_msg m, reply;
	int err;

	raw_kreg_msg(&m, n, KREG_CMD_FENCE);
	if (name)
		raw_put_str(&m, KREG_A_NAME, name);
	reply.nlh.nlmsg_len = 0;
	err = raw_request(n, &m, &reply);
	return err ? err : (int)raw_attr_u32(&reply.nlh, KREG_A_ENTRIES);
}

static int relay_progress(struct raw_nl *n, uint64_t revision, uint64_t heard_ns)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, KREG_CMD_PROGRESS);
	raw_put_u64(&m, KREG_A_REVISION, revision);
	raw_put_u64(&m, KREG_A_HEARD_NS, heard_ns);
	return raw_request(n, &m, NULL);
}

FIXTURE(relay) {
	struct raw_nl relay, user, mon;
	struct kreg_conn *c;
};

FIXTURE_SETUP(relay)
{
	ASSERT_EQ(0, kreg_open(&self->c));
	ASSERT_EQ(0, kreg_policy_unload(self->c));
	ASSERT_EQ(0, raw_nl_open(&self->relay));
	ASSERT_EQ(0, raw_nl_open(&self->user));
	ASSERT_EQ(0, raw_nl_open(&self->mon));
	ASSERT_EQ(0, raw_nl_subscribe(&self->mon));
	ASSERT_EQ(0, relay_bind(&self->relay, "node-a"));
}

FIXTURE_TEARDOWN(relay)
{
	struct raw_nl n;

	/* No deadline left behind for the tests after these (the module stays). */
	if (relay_lease(&self->relay, 0) && !raw_nl_open(&n)) {
		relay_bind(&n, "node-a");
		relay_lease(&n, 0);
		raw_nl_close(&n);
	}
	raw_nl_close(&self->mon);
	raw_nl_close(&self->user);
	raw_nl_close(&self->relay);
	kreg_close(self->c);
}

/* The next event about @name: its command. */
static int next_event_of(struct raw_nl *n, const char *name, struct raw_msg *ev)
{
	static char buf[RAW_NL_BUF];

	for (;;) {
		ssize_t len = raw_recv(n, buf, sizeof(buf), 3000);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (len < 0)
			return (int)len;
		for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type != n->family ||
			    strcmp(raw_attr_str(nlh, KREG_A_NAME), name))
				continue;
			memcpy(ev->buf, nlh, nlh->nlmsg_len);
			return raw_cmd(nlh);
		}
	}
}

TEST_F(relay, cluster_names_are_claimed_and_read_as_absent_until_committed)
{
	static struct raw_msg reply, ev;

	/* Registered like any name: refused, with the reason. */
	EXPECT_EQ(-EPERM, raw_nl_register(&self->user, "cluster.orders"));
	EXPECT_EQ(-EINVAL, claim(&self->user, "orders"));
	/* A claim: held here, but absent to all until the cluster has decided. */
	ASSERT_EQ(0, claim(&self->user, "cluster.orders"));
	EXPECT_EQ(-ENOENT, raw_nl_whereis(&self->user, "cluster.orders"));
	EXPECT_EQ(-EBUSY, claim(&self->relay, "cluster.orders"));
	EXPECT_EQ(-ENOENT, raw_send_to(&self->relay, "cluster.orders", NULL, 0, "x", 1));
	/* The relay sees it, to decide it. */
	EXPECT_EQ(getpid(), raw_nl_whereis(&self->relay, "cluster.orders"));
	/* Committed with its token: a name like any other, announced now. */
	ASSERT_EQ(0, relay_commit(&self->relay, "cluster.orders", getpid(), 42));
	EXPECT_EQ(KREG_CMD_REGISTERED, next_event_of(&self->mon, "cluster.orders", &ev));
	EXPECT_EQ(42, raw_attr_u64(&ev.nlh, KREG_A_TOKEN));
	EXPECT_STREQ("node-a", raw_attr_str(&ev.nlh, KREG_A_NODE));
	reply.nlh.nlmsg_len = 0;
	ASSERT_EQ(0, raw_name_request(&self->user, KREG_CMD_WHEREIS, "cluster.orders", &reply));
	EXPECT_EQ(getpid(), raw_attr_u32(&reply.nlh, KREG_A_PID));
	EXPECT_EQ(42, raw_attr_u64(&reply.nlh, KREG_A_TOKEN));
	EXPECT_STREQ("node-a", raw_attr_str(&reply.nlh, KREG_A_NODE));
	EXPECT_EQ(-ENOENT, relay_commit(&self->relay, "cluster.orders", getpid(), 43));
	ASSERT_EQ(0, raw_nl_unregister(&self->user, "cluster.orders"));
	EXPECT_EQ(KREG_CMD_UNREGISTERED, next_event_of(&self->mon, "cluster.orders", &ev));
}

TEST_F(relay, a_claim_dropped_before_its_commit_was_never_announced)
{
	static struct raw_msg ev;

	ASSERT_EQ(0, claim(&self->user, "cluster.lost"));
	ASSERT_EQ(0, raw_nl_unregister(&self->user, "cluster.lost"));
	EXPECT_EQ(-ENOENT, relay_commit(&self->relay, "cluster.lost", getpid(), 7));
	/* Neither registered nor unregistered: the claim was nobody's business. */
	EXPECT_EQ(-ETIMEDOUT, next_event_of(&self->mon, "cluster.lost", &ev));
}

TEST_F(relay, a_name_held_on_another_node_is_never_a_local_pid)
{
	static struct raw_msg reply, ev;
	struct kreg_holder h;
	pid_t pid;

	ASSERT_EQ(0, relay_mirror(&self->relay, "cluster.billing", "node-b", 4242, 77,
				  "role=main"));
	EXPECT_EQ(KREG_CMD_REGISTERED, next_event_of(&self->mon, "cluster.billing", &ev));
	EXPECT_EQ(0, raw_attr_u32(&ev.nlh, KREG_A_PID));
	EXPECT_EQ(4242, raw_attr_u32(&ev.nlh, KREG_A_REMOTE_PID));
	EXPECT_STREQ("node-b", raw_attr_str(&ev.nlh, KREG_A_NODE));
	reply.nlh.nlmsg_len = 0;
	ASSERT_EQ(0, raw_name_request(&self->user, KREG_CMD_WHEREIS, "cluster.billing", &reply));
	EXPECT_EQ(0, raw_attr_u32(&reply.nlh, KREG_A_PID));
	EXPECT_EQ(4242, raw_attr_u32(&reply.nlh, KREG_A_REMOTE_PID));
	EXPECT_EQ(77, raw_attr_u64(&reply.nlh, KREG_A_TOKEN));
	/* Through libkreg: not a pid here, and where it is, with its token. */
	EXPECT_EQ(-EREMOTE, kreg_whereis_name(self->c, "cluster.billing", &pid));
	ASSERT_EQ(0, kreg_whereis_holder(self->c, "cluster.billing", 0, &h));
	EXPECT_FALSE(h.local);
	EXPECT_EQ(4242, h.pid);
	EXPECT_STREQ("node-b", h.node);
	EXPECT_EQ(77, h.token);
	/* Neither sent to here, nor released here, nor taken by a claim. */
	EXPECT_EQ(-EREMOTE, raw_send_to(&self->user, "cluster.billing", NULL, 0, "x", 1));
	EXPECT_EQ(-EREMOTE, raw_nl_unregister(&self->user, "cluster.billing"));
	EXPECT_EQ(-EEXIST, claim(&self->user, "cluster.billing"));
	/* The same mirror again changes nothing; another holder replaces it. */
	EXPECT_EQ(0, relay_mirror(&self->relay, "cluster.billing", "node-b", 4242, 77, NULL));
	ASSERT_EQ(0, relay_mirror(&self->relay, "cluster.billing", "node-c", 99, 80, NULL));
	EXPECT_EQ(KREG_CMD_UNREGISTERED, next_event_of(&self->mon, "cluster.billing", &ev));
	EXPECT_EQ(KREG_REASON_REMOTE, raw_attr_u32(&ev.nlh, KREG_A_REASON));
	EXPECT_EQ(KREG_CMD_REGISTERED, next_event_of(&self->mon, "cluster.billing", &ev));
	EXPECT_EQ(80, raw_attr_u64(&ev.nlh, KREG_A_TOKEN));
	/* Let go with the reason the relay gives, and only with its token. */
	EXPECT_EQ(-ENOENT, relay_unmirror(&self->relay, "cluster.billing", 77,
					  KREG_REASON_NODE_LOST));
	ASSERT_EQ(0, relay_unmirror(&self->relay, "cluster.billing", 80, KREG_REASON_NODE_LOST));
	EXPECT_EQ(KREG_CMD_UNREGISTERED, next_event_of(&self->mon, "cluster.billing", &ev));
	EXPECT_EQ(KREG_REASON_NODE_LOST, raw_attr_u32(&ev.nlh, KREG_A_REASON));
}

TEST_F(relay, a_mirror_replaces_a_claim_this_node_lost)
{
	static struct raw_msg reply;

	ASSERT_EQ(0, claim(&self->user, "cluster.race"));
	ASSERT_EQ(0, relay_mirror(&self->relay, "cluster.race", "node-b", 5, 9, NULL));
	/* The claim is gone: committing it fails, and the winner is what reads. */
	EXPECT_EQ(-ENOENT, relay_commit(&self->relay, "cluster.race", getpid(), 8));
	reply.nlh.nlmsg_len = 0;
	ASSERT_EQ(0, raw_name_request(&self->user, KREG_CMD_WHEREIS, "cluster.race", &reply));
	EXPECT_STREQ("node-b", raw_attr_str(&reply.nlh, KREG_A_NODE));
	/* A mirror never replaces a name held here: that is the relay's to fence. */
	ASSERT_EQ(0, claim(&self->user, "cluster.here"));
	ASSERT_EQ(0, relay_commit(&self->relay, "cluster.here", getpid(), 3));
	EXPECT_EQ(-EEXIST, relay_mirror(&self->relay, "cluster.here", "node-b", 5, 4, NULL));
	raw_nl_unregister(&self->user, "cluster.here");
	relay_unmirror(&self->relay, "cluster.race", 0, KREG_REASON_REMOTE);
}

TEST_F(relay, fencing_takes_this_nodes_cluster_names_with_their_reason)
{
	static struct raw_msg ev;

	ASSERT_EQ(0, claim(&self->user, "cluster.f1"));
	ASSERT_EQ(0, relay_commit(&self->relay, "cluster.f1", getpid(), 11));
	ASSERT_EQ(0, claim(&self->user, "cluster.f2"));
	ASSERT_EQ(0, relay_mirror(&self->relay, "cluster.f3", "node-b", 5, 12, NULL));
	ASSERT_EQ(0, raw_nl_register(&self->user, "plain.kept"));
	/* The committed one and the claim go; the mirror and a plain name stay. */
	EXPECT_EQ(2, relay_fence(&self->relay, NULL));
	EXPECT_EQ(KREG_CMD_REGISTERED, next_event_of(&self->mon, "cluster.f1", &ev));
	EXPECT_EQ(KREG_CMD_UNREGISTERED, next_event_of(&self->mon, "cluster.f1", &ev));
	EXPECT_EQ(KREG_REASON_FENCED, raw_attr_u32(&ev.nlh, KREG_A_REASON));
	EXPECT_EQ(-ENOENT, raw_nl_whereis(&self->user, "cluster.f1"));
	EXPECT_EQ(-ENOENT, raw_nl_unregister(&self->user, "cluster.f2"));
	EXPECT_EQ(0, raw_nl_whereis(&self->user, "cluster.f3"));
	EXPECT_LT(0, raw_nl_whereis(&self->user, "plain.kept"));
	EXPECT_EQ(0, relay_fence(&self->relay, "plain.kept"));
	raw_nl_unregister(&self->user, "plain.kept");
	relay_unmirror(&self->relay, "cluster.f3", 0, KREG_REASON_REMOTE);
}

/* As nobody, or root through another socket: no relay's command is heard. */
static int play_relay(void *arg)
{
	struct raw_nl n;

	(void)arg;
	if (raw_nl_open(&n))
		return 1;
	if (relay_bind(&n, "impostor") != -EPERM && relay_bind(&n, "impostor") != -EBUSY)
		return 2;
	if (relay_mirror(&n, "cluster.fake", "node-x", 1, 1, NULL) != -EPERM)
		return 3;
	if (relay_fence(&n, NULL) != -EPERM)
		return 4;
	if (relay_progress(&n, 5, 5) != -EPERM)
		return 5;
	if (relay_lease(&n, 1) != -EPERM)
		return 6;
	raw_nl_close(&n);
	return 0;
}

TEST_F(relay, only_the_relay_commits_mirrors_and_fences)
{
	static struct raw_msg m;

	EXPECT_EQ(0, run_as(NOBODY, play_relay, NULL));
	/* Root, but not the relay: a second relay is refused while the first lives. */
	EXPECT_EQ(0, play_relay(NULL));
	/* The relay's attributes on another command: refused. */
	raw_kreg_msg(&m, &self->user, KREG_CMD_WHEREIS);
	raw_put_str(&m, KREG_A_NAME, "cluster.x");
	raw_put_u64(&m, KREG_A_TOKEN, 1);
	EXPECT_EQ(-EINVAL, raw_request(&self->user, &m, NULL));
}

/*
 * The node's lease deadline is the kernel's: at it, this node's holders are
 * fenced whether kregd is there or not, and nothing is committed after it.
 */
TEST_F(relay, the_kernel_fences_at_the_lease_deadline_with_the_relay_gone)
{
	static struct raw_msg ev;

	ASSERT_EQ(0, claim(&self->user, "cluster.deadline"));
	ASSERT_EQ(0, relay_commit(&self->relay, "cluster.deadline", getpid(), 21));
	ASSERT_EQ(0, relay_lease(&self->relay, boottime_in_ms(300)));
	EXPECT_EQ(KREG_CMD_REGISTERED, next_event_of(&self->mon, "cluster.deadline", &ev));
	/* kregd dies: nobody is left to fence, but the kernel. */
	raw_nl_close(&self->relay);
	EXPECT_EQ(getpid(), raw_nl_whereis(&self->user, "cluster.deadline"));
	EXPECT_EQ(KREG_CMD_UNREGISTERED, next_event_of(&self->mon, "cluster.deadline", &ev));
	EXPECT_EQ(KREG_REASON_FENCED, raw_attr_u32(&ev.nlh, KREG_A_REASON));
	EXPECT_EQ(21, raw_attr_u64(&ev.nlh, KREG_A_TOKEN));
	EXPECT_EQ(-ENOENT, raw_nl_whereis(&self->user, "cluster.deadline"));
	/* A new kregd: past the deadline, nothing is committed until it sets another. */
	ASSERT_EQ(0, raw_nl_open(&self->relay));
	ASSERT_EQ(0, relay_bind(&self->relay, "node-a"));
	ASSERT_EQ(0, claim(&self->user, "cluster.after"));
	EXPECT_EQ(-ESTALE, relay_commit(&self->relay, "cluster.after", getpid(), 22));
	ASSERT_EQ(0, relay_lease(&self->relay, boottime_in_ms(60000)));
	EXPECT_EQ(0, relay_commit(&self->relay, "cluster.after", getpid(), 22));
	EXPECT_EQ(getpid(), raw_nl_whereis(&self->user, "cluster.after"));
	raw_nl_unregister(&self->user, "cluster.after");
}

TEST_F(relay, a_renewed_deadline_fences_nothing_and_mirrors_are_never_fenced)
{
	static struct raw_msg ev;

	ASSERT_EQ(0, claim(&self->user, "cluster.renewed"));
	ASSERT_EQ(0, relay_commit(&self->relay, "cluster.renewed", getpid(), 31));
	ASSERT_EQ(0, relay_mirror(&self->relay, "cluster.theirs", "node-b", 5, 32, NULL));
	ASSERT_EQ(0, relay_lease(&self->relay, boottime_in_ms(200)));
	/* Renewed before it passes, as every keepalive does. */
	ASSERT_EQ(0, relay_lease(&self->relay, boottime_in_ms(60000)));
	usleep(500000);
	EXPECT_EQ(getpid(), raw_nl_whereis(&self->user, "cluster.renewed"));
	/* A deadline in the past fences at once; another node's holder is not this node's. */
	ASSERT_EQ(0, relay_lease(&self->relay, boottime_in_ms(0)));
	EXPECT_EQ(KREG_CMD_REGISTERED, next_event_of(&self->mon, "cluster.renewed", &ev));
	EXPECT_EQ(KREG_CMD_UNREGISTERED, next_event_of(&self->mon, "cluster.renewed", &ev));
	EXPECT_EQ(KREG_REASON_FENCED, raw_attr_u32(&ev.nlh, KREG_A_REASON));
	EXPECT_EQ(0, raw_nl_whereis(&self->user, "cluster.theirs"));
	relay_unmirror(&self->relay, "cluster.theirs", 0, KREG_REASON_REMOTE);
}

TEST_F(relay, mirrors_go_with_the_relays_socket)
{
	static struct raw_msg ev;

	ASSERT_EQ(0, relay_mirror(&self->relay, "cluster.gone", "node-b", 5, 5, NULL));
	raw_nl_close(&self->relay);
	EXPECT_EQ(KREG_CMD_REGISTERED, next_event_of(&self->mon, "cluster.gone", &ev));
	EXPECT_EQ(KREG_CMD_UNREGISTERED, next_event_of(&self->mon, "cluster.gone", &ev));
	EXPECT_EQ(KREG_REASON_CLOSED, raw_attr_u32(&ev.nlh, KREG_A_REASON));
	/* No relay now: claims are refused, and a new relay may bind. */
	EXPECT_EQ(-ENOTCONN, claim(&self->user, "cluster.later"));
	ASSERT_EQ(0, raw_nl_open(&self->relay));
	EXPECT_EQ(0, relay_bind(&self->relay, "node-a2"));
}

TEST_F(relay, the_view_tells_mirrors_with_their_node_and_the_copys_age)
{
	struct kreg_holder h;
	struct raw_view v;
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	ASSERT_EQ(0, relay_progress(&self->relay, 1234, now - 3000000000ULL));
	ASSERT_EQ(0, relay_mirror(&self->relay, "cluster.viewed", "node-b", 4321, 55, "v=1"));
	ASSERT_EQ(0, raw_view_wait_pid(&v, "cluster.viewed", 4321));
	EXPECT_EQ(1234, v.h->cluster_revision);
	raw_view_unmap(&v);
	/* libkreg reads it from the view, with the copy's age. */
	ASSERT_EQ(0, kreg_whereis_holder(self->c, "cluster.viewed", 0, &h));
	EXPECT_FALSE(h.local);
	EXPECT_EQ(4321, h.pid);
	EXPECT_STREQ("node-b", h.node);
	EXPECT_EQ(55, h.token);
	EXPECT_LE(3000, h.age_ms);
	EXPECT_GT(60000, h.age_ms);
	relay_unmirror(&self->relay, "cluster.viewed", 0, KREG_REASON_REMOTE);
}

TEST_HARNESS_MAIN
