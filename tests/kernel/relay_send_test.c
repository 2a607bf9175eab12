// SPDX-License-Identifier: GPL-2.0
/*
 * Sends for another node's process, as kregd relays them (raw netlink, as
 * the relay): the receiver learns which node and which process there sent
 * it, never a process or uid of this host; nobody but the relay may speak
 * for another node; such a sender is none of this host's uids and not
 * "everyone" under a policy; its node's flood is held to one share; and a
 * send meant for one holder of a cluster name (its fencing token) never
 * reaches the next one.
 */
#include "cleanup.h"
#include "helpers.h"
#include "kselftest_harness.h"
#include "raw_nl.h"
#include "relay_raw.h"

#define NOBODY	65534

/* A remote sender, as the relay tells it. */
struct remote {
	const char	*node;	/* NULL: none (an ordinary SEND) */
	uint32_t	pid, uid, gid;
};

/*
 * SEND @text to @name, for @r if given, meant for @token's holder if not 0,
 * as the holder of @from if not NULL.
 */
static int send_from_as(struct raw_nl *n, const char *name, const struct remote *r,
			uint64_t token, const char *from, const char *text)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, KREG_CMD_SEND);
	raw_put_str(&m, KREG_A_NAME, name);
	if (from)
		raw_put_str(&m, KREG_A_FROM_NAME, from);
	if (r && r->node)
		raw_put_str(&m, KREG_A_NODE, r->node);
	if (r) {
		raw_put_u32(&m, KREG_A_REMOTE_PID, r->pid);
		raw_put_u32(&m, KREG_A_REMOTE_UID, r->uid);
		raw_put_u32(&m, KREG_A_REMOTE_GID, r->gid);
	}
	if (token)
		raw_put_u64(&m, KREG_A_TOKEN, token);
	raw_put(&m, KREG_A_PAYLOAD, text, strlen(text));
	return raw_request(n, &m, NULL);
}

static int send_as(struct raw_nl *n, const char *name, const struct remote *r,
		   uint64_t token, const char *text)
{
	return send_from_as(n, name, r, token, NULL, text);
}

static const struct remote node_b = { "node-b", 4242, 1000, 1001 };

FIXTURE(relayed) {
	struct raw_nl relay, holder, user;
	struct kreg_conn *c;
};

FIXTURE_SETUP(relayed)
{
	ASSERT_EQ(0, kreg_open(&self->c));
	ASSERT_EQ(0, kreg_policy_unload(self->c));
	ASSERT_EQ(0, raw_nl_open(&self->relay));
	ASSERT_EQ(0, raw_nl_open(&self->holder));
	ASSERT_EQ(0, raw_nl_open(&self->user));
	ASSERT_EQ(0, relay_bind(&self->relay, "node-a"));
}

/*
 * Every name the tests take, released whatever happened: a holder that
 * merely exits keeps its cluster names until they are next touched, and
 * the relay's tests count what fencing takes.
 */
static const char *const names[] = {
	"svc.relayed", "svc.spoofed", "svc.relays-own", "svc.pol", "svc.flood", "svc.nodes.a",
	"cluster.tok", "plain.tok", "svc.answers",
};

FIXTURE_TEARDOWN(relayed)
{
	char reply[64];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		raw_nl_unregister(&self->holder, names[i]);
		raw_nl_unregister(&self->relay, names[i]);
	}
	snprintf(reply, sizeof(reply), "user.%u.reply.r1", getuid());
	raw_nl_unregister(&self->holder, reply);
	kreg_policy_unload(self->c);
	raw_nl_close(&self->user);
	raw_nl_close(&self->holder);
	raw_nl_close(&self->relay);
	kreg_close(self->c);
}

TEST_F(relayed, a_relayed_message_says_which_node_and_process_sent_it)
{
	static struct raw_msg d;
	const struct nlattr *payload;

	ASSERT_EQ(0, raw_nl_register(&self->holder, "svc.relayed"));
	ASSERT_EQ(0, send_as(&self->relay, "svc.relayed", &node_b, 0, "hello"));
	ASSERT_EQ(0, raw_next(&self->holder, KREG_CMD_DELIVER, &d, 3000));
	EXPECT_STREQ("node-b", raw_attr_str(&d.nlh, KREG_A_NODE));
	EXPECT_EQ(4242, raw_attr_u32(&d.nlh, KREG_A_REMOTE_PID));
	EXPECT_EQ(1000, raw_attr_u32(&d.nlh, KREG_A_REMOTE_UID));
	EXPECT_EQ(1001, raw_attr_u32(&d.nlh, KREG_A_REMOTE_GID));
	/* No process, uid or gid of this host: not the relay's, not root's. */
	EXPECT_EQ(0, raw_attr_u32(&d.nlh, KREG_A_SENDER_PID));
	EXPECT_EQ(UINT32_MAX, raw_attr_u32(&d.nlh, KREG_A_SENDER_UID));
	EXPECT_EQ(UINT32_MAX, raw_attr_u32(&d.nlh, KREG_A_SENDER_GID));
	EXPECT_EQ(KREG_SENDER_F_REMOTE, raw_attr_u32(&d.nlh, KREG_A_SENDER_FLAGS));
	payload = raw_attr(&d.nlh, KREG_A_PAYLOAD);
	ASSERT_NE(NULL, payload);
	EXPECT_EQ(5, payload->nla_len - NLA_HDRLEN);
	EXPECT_EQ(0, memcmp("hello", raw_attr_data(payload), 5));
	/* The relay's own send is its own: no node, its pid. */
	ASSERT_EQ(0, send_as(&self->relay, "svc.relayed", NULL, 0, "mine"));
	ASSERT_EQ(0, raw_next(&self->holder, KREG_CMD_DELIVER, &d, 3000));
	EXPECT_EQ(NULL, raw_attr(&d.nlh, KREG_A_NODE));
	EXPECT_EQ(getpid(), (pid_t)raw_attr_u32(&d.nlh, KREG_A_SENDER_PID));
	EXPECT_EQ(0, raw_attr_u32(&d.nlh, KREG_A_SENDER_FLAGS) & KREG_SENDER_F_REMOTE);
}

/*
 * As nobody, or root on a socket that is not the relay, or a process that
 * inherited the relay's socket without CAP_SYS_ADMIN: nobody speaks for a
 * node.
 */
static int claim_a_node(void *arg)
{
	struct remote no_node = node_b;
	struct raw_nl n;

	no_node.node = NULL;
	if (arg) {
		/* The relay's own socket, in a process that is no administrator. */
		return send_as(arg, "svc.spoofed", &node_b, 0, "forged") == -EPERM ? 0 : 4;
	}
	if (raw_nl_open(&n))
		return 1;
	if (send_as(&n, "svc.spoofed", &node_b, 0, "forged") != -EPERM)
		return 2;
	/* A remote pid or uid without a node is no remote sender: refused. */
	if (send_as(&n, "svc.spoofed", &no_node, 0, "forged") != -EINVAL)
		return 3;
	raw_nl_close(&n);
	return 0;
}

TEST_F(relayed, only_the_relay_sends_for_another_node)
{
	static struct raw_msg m, d;

	ASSERT_EQ(0, raw_nl_register(&self->holder, "svc.spoofed"));
	struct remote self_node = node_b, no_uid = node_b;

	EXPECT_EQ(0, run_as(NOBODY, claim_a_node, NULL));
	EXPECT_EQ(0, claim_a_node(NULL));
	EXPECT_EQ(0, run_as(NOBODY, claim_a_node, &self->relay));
	/* Even the relay releases no name for another node's process. */
	ASSERT_EQ(0, raw_nl_register(&self->relay, "svc.relays-own"));
	raw_kreg_msg(&m, &self->relay, KREG_CMD_SEND);
	raw_put_str(&m, KREG_A_NAME, "svc.spoofed");
	raw_put_str(&m, KREG_A_NODE, "node-b");
	raw_put_u32(&m, KREG_A_REMOTE_PID, 1);
	raw_put_u32(&m, KREG_A_REMOTE_UID, 1);
	raw_put_u32(&m, KREG_A_REMOTE_GID, 1);
	raw_put_str(&m, KREG_A_FROM_NAME, "svc.relays-own");
	raw_put_u32(&m, KREG_A_SEND_FLAGS, KREG_SEND_F_RELEASE_FROM);
	raw_put(&m, KREG_A_PAYLOAD, "forged", 6);
	EXPECT_EQ(-EINVAL, raw_request(&self->relay, &m, NULL));
	EXPECT_EQ(getpid(), raw_nl_whereis(&self->user, "svc.relays-own"));
	/* Not this node's own name, and never without the sender's ids. */
	self_node.node = "node-a";
	EXPECT_EQ(-EINVAL, send_as(&self->relay, "svc.spoofed", &self_node, 0, "forged"));
	raw_kreg_msg(&m, &self->relay, KREG_CMD_SEND);
	raw_put_str(&m, KREG_A_NAME, "svc.spoofed");
	raw_put_str(&m, KREG_A_NODE, no_uid.node);
	raw_put_u32(&m, KREG_A_REMOTE_PID, no_uid.pid);
	raw_put(&m, KREG_A_PAYLOAD, "forged", 6);
	EXPECT_EQ(-EINVAL, raw_request(&self->relay, &m, NULL));
	/* A node's name the relay could not have had from etcd: refused. */
	raw_kreg_msg(&m, &self->relay, KREG_CMD_SEND);
	raw_put_str(&m, KREG_A_NAME, "svc.spoofed");
	raw_put_str(&m, KREG_A_NODE, "node b");
	raw_put(&m, KREG_A_PAYLOAD, "forged", 6);
	EXPECT_EQ(-EINVAL, raw_request(&self->relay, &m, NULL));
	/* None of it arrived. */
	EXPECT_EQ(-ETIMEDOUT, raw_next(&self->holder, KREG_CMD_DELIVER, &d, 300));
}

/* Nobody on this host, sending where the policy lets everyone send. */
static int send_as_nobody(void *arg)
{
	struct raw_nl n;
	int err;

	if (raw_nl_open(&n))
		return 100;
	err = send_as(&n, arg, NULL, 0, "local");
	raw_nl_close(&n);
	return -err;
}

TEST_F(relayed, under_a_policy_another_nodes_process_is_no_uid_and_not_everyone)
{
	static struct raw_msg d;
	struct remote as_root = node_b;
	char reply[64];

	as_root.uid = 0;
	as_root.gid = 0;
	/*
	 * Every name first: a request on the holder's socket skips the mail
	 * that comes before its answer.
	 */
	snprintf(reply, sizeof(reply), "user.%u.reply.r1", getuid());
	ASSERT_EQ(0, raw_nl_register_flags(&self->holder, reply, KREG_F_MAILBOX_BOUND));
	ASSERT_EQ(0, raw_nl_register(&self->holder, "svc.pol"));
	ASSERT_EQ(0, load_policy(self->c, "allow see,send svc.* everyone\n"
					  "allow see,send svc.* uid 0\n"));
	EXPECT_EQ(0, run_as(NOBODY, send_as_nobody, "svc.pol"));
	/* Root elsewhere is not root here; "everyone" is this host's. */
	EXPECT_EQ(-ENOENT, send_as(&self->relay, "svc.pol", &as_root, 0, "remote"));
	/* A reply address takes an answer from anyone who knows it, remote too. */
	EXPECT_EQ(0, send_as(&self->relay, reply, &node_b, 0, "answer"));
	ASSERT_EQ(0, kreg_policy_unload(self->c));
	/* Without a policy, the cluster's nodes send where the host may. */
	EXPECT_EQ(0, send_as(&self->relay, "svc.pol", &as_root, 0, "remote"));
	for (int i = 0; i < 3; i++) {
		static const char *const to[] = { "svc.pol", NULL, "svc.pol" };
		static const char *const text[] = { "local", "answer", "remote" };
		const struct nlattr *payload;

		ASSERT_EQ(0, raw_next(&self->holder, KREG_CMD_DELIVER, &d, 3000));
		EXPECT_STREQ(to[i] ? to[i] : reply, raw_attr_str(&d.nlh, KREG_A_NAME));
		payload = raw_attr(&d.nlh, KREG_A_PAYLOAD);
		ASSERT_NE(NULL, payload);
		EXPECT_EQ(strlen(text[i]), payload->nla_len - NLA_HDRLEN);
		EXPECT_EQ(0, memcmp(text[i], raw_attr_data(payload), strlen(text[i])));
		EXPECT_EQ(i == 0 ? 0 : KREG_SENDER_F_REMOTE,
			  raw_attr_u32(&d.nlh, KREG_A_SENDER_FLAGS) & KREG_SENDER_F_REMOTE);
	}
	EXPECT_EQ(-ETIMEDOUT, raw_next(&self->holder, KREG_CMD_DELIVER, &d, 300));
}

/* POLICY_SET of one rule "allow see svc.* WHO" with KREG_RULE_A_NODE @node, raw. */
static int raw_rule(struct raw_nl *n, uint32_t who, const char *node)
{
	static struct raw_msg m;
	struct nlattr *policy, *rule;

	raw_kreg_msg(&m, n, KREG_CMD_POLICY_SET);
	policy = raw_nest_start(&m, KREG_A_POLICY);
	rule = raw_nest_start(&m, KREG_A_RULE);
	raw_put_u32(&m, KREG_RULE_A_EFFECT, KREG_EFFECT_ALLOW);
	raw_put_u32(&m, KREG_RULE_A_RIGHTS, KREG_RIGHT_SEE);
	raw_put_str(&m, KREG_RULE_A_PATTERN, "svc.*");
	raw_put_u32(&m, KREG_RULE_A_WHO, who);
	if (who == KREG_WHO_UID)
		raw_put_u32(&m, KREG_RULE_A_ID, 1000);
	raw_put_str(&m, KREG_RULE_A_NODE, node);
	raw_nest_end(&m, rule);
	raw_nest_end(&m, policy);
	return raw_request(n, &m, NULL);
}

/* POLICY_CHECK about a node and a uid at once: which is it? */
static int raw_check_node_and_uid(struct raw_nl *n)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, KREG_CMD_POLICY_CHECK);
	raw_put_str(&m, KREG_A_NAME, "svc.nodes.a");
	raw_put_str(&m, KREG_A_NODE, "node-b");
	raw_put_u32(&m, KREG_A_UID, 0);
	raw_put_u32(&m, KREG_A_RIGHT, KREG_RIGHT_SEE);
	return raw_request(n, &m, NULL);
}

/* The rules about a node, or the cluster, and they alone, decide for its processes. */
TEST_F(relayed, rules_about_a_node_or_the_cluster_decide_for_its_processes)
{
	struct remote node_c = node_b;
	struct kreg_rule bad = {
		.effect = KREG_EFFECT_ALLOW, .rights = KREG_RIGHT_SEE,
		.pattern = "svc.*", .who = KREG_WHO_NODE, .node = "",
	};
	struct kreg_message *msg = calloc(1, sizeof(*msg));
	struct kreg_verdict v;
	struct kreg_conn *rc;

	ASSERT_NE(NULL, msg);
	node_c.node = "node-c";
	ASSERT_EQ(0, kreg_open(&rc));
	ASSERT_EQ(0, kreg_register(rc, "svc.nodes.a", 0, NULL));
	ASSERT_EQ(0, load_policy(self->c, "allow see,send svc.nodes.* node node-b\n"
					  "allow see svc.nodes.* cluster\n"
					  "allow see,send svc.nodes.* everyone\n"));
	EXPECT_EQ(0, send_as(&self->relay, "svc.nodes.a", &node_b, 0, "from b"));
	/* node-c may see the name (the cluster's rule), not send to it. */
	EXPECT_EQ(-EACCES, send_as(&self->relay, "svc.nodes.a", &node_c, 0, "from c"));
	/* What the receiver learns, through libkreg. */
	ASSERT_EQ(0, kreg_recv(rc, msg, 3000));
	EXPECT_STREQ("node-b", msg->sender_node);
	EXPECT_EQ(4242, msg->sender_remote_pid);
	EXPECT_EQ(1000, msg->sender_remote_uid);
	EXPECT_EQ(1001, msg->sender_remote_gid);
	EXPECT_EQ(0, msg->sender);
	EXPECT_EQ((uid_t)-1, msg->sender_uid);
	EXPECT_EQ(KREG_SENDER_F_REMOTE, msg->sender_flags);
	EXPECT_EQ(6, msg->len);
	EXPECT_EQ(-ETIMEDOUT, kreg_recv(rc, msg, 200));
	/* The administrator asks the kernel the same. */
	ASSERT_EQ(0, kreg_policy_check_node(self->c, "node-b", "svc.nodes.a", KREG_RIGHT_SEND, &v));
	EXPECT_TRUE(v.allowed);
	EXPECT_EQ(KREG_BY_RULE, v.by);
	ASSERT_TRUE(v.has_rule);
	EXPECT_EQ(KREG_WHO_NODE, v.rule.who);
	EXPECT_STREQ("node-b", v.rule.node);
	ASSERT_EQ(0, kreg_policy_check_node(self->c, "node-c", "svc.nodes.a", KREG_RIGHT_SEND, &v));
	EXPECT_FALSE(v.allowed);
	ASSERT_EQ(0, kreg_policy_check_node(self->c, "node-c", "svc.nodes.a", KREG_RIGHT_SEE, &v));
	EXPECT_TRUE(v.allowed);
	EXPECT_EQ(KREG_WHO_CLUSTER, v.rule.who);
	/* Never an owner: no rule gives another node's process a name here. */
	ASSERT_EQ(0, kreg_policy_check_node(self->c, "node-b", "user.0.x", KREG_RIGHT_OWN, &v));
	EXPECT_FALSE(v.allowed);
	/* A rule about a node names one, and gives no name to own; the policy in force stays. */
	EXPECT_EQ(-EINVAL, kreg_policy_set(self->c, &bad, 1));
	bad.rights = KREG_RIGHT_OWN | KREG_RIGHT_SEE;
	strcpy(bad.node, "node-b");
	EXPECT_EQ(-EINVAL, kreg_policy_set(self->c, &bad, 1));
	bad.who = KREG_WHO_CLUSTER;
	EXPECT_EQ(-EINVAL, kreg_policy_set(self->c, &bad, 1));
	EXPECT_EQ(-EINVAL, raw_rule(&self->relay, KREG_WHO_UID, "node-b"));
	EXPECT_EQ(-EINVAL, raw_rule(&self->relay, KREG_WHO_CLUSTER, "node-b"));
	EXPECT_EQ(-EINVAL, raw_rule(&self->relay, KREG_WHO_NODE, "n\xe9ud"));
	EXPECT_EQ(-EINVAL, raw_check_node_and_uid(&self->relay));
	EXPECT_EQ(0, kreg_policy_check_node(self->c, "node-b", "svc.nodes.a",
					    KREG_RIGHT_SEND, &v));
	EXPECT_TRUE(v.allowed);
	kreg_unregister(rc, "svc.nodes.a");
	kreg_close(rc);
	free(msg);
}

TEST_F(relayed, another_nodes_flood_is_held_to_its_share)
{
	struct remote node_c = node_b, other_uid = node_b;
	int sent, err = 0;

	node_c.node = "node-c";
	ASSERT_EQ(0, raw_nl_register(&self->holder, "svc.flood"));
	for (sent = 0; sent < 100000; sent++) {
		err = send_as(&self->relay, "svc.flood", &node_b, 0, "flood");
		if (err)
			break;
	}
	EXPECT_EQ(-EAGAIN, err);
	EXPECT_LT(0, sent);
	/* Whatever uid it claims there, the node is one sender here. */
	other_uid.uid = 2000;
	EXPECT_EQ(-EAGAIN, send_as(&self->relay, "svc.flood", &other_uid, 0, "more"));
	/* This host's senders, and another node, keep their room. */
	EXPECT_EQ(0, send_as(&self->user, "svc.flood", NULL, 0, "local"));
	EXPECT_EQ(0, send_as(&self->relay, "svc.flood", &node_c, 0, "node-c"));
	TH_LOG("node-b's share of the mailbox: %d messages", sent);
}

/* The next delivery on @n is to cluster.tok, saying @text. */
static void expect_mail(struct __test_metadata *_metadata, struct raw_nl *n, const char *text)
{
	static struct raw_msg d;
	const struct nlattr *payload;

	ASSERT_EQ(0, raw_next(n, KREG_CMD_DELIVER, &d, 3000));
	EXPECT_STREQ("cluster.tok", raw_attr_str(&d.nlh, KREG_A_NAME));
	payload = raw_attr(&d.nlh, KREG_A_PAYLOAD);
	ASSERT_NE(NULL, payload);
	EXPECT_EQ(strlen(text), payload->nla_len - NLA_HDRLEN);
	EXPECT_EQ(0, memcmp(text, raw_attr_data(payload), strlen(text)));
}

TEST_F(relayed, a_send_meant_for_one_holder_never_reaches_the_next)
{
	static struct raw_msg m, d;

	ASSERT_EQ(0, raw_nl_register(&self->holder, "plain.tok"));
	ASSERT_EQ(0, raw_nl_register_flags(&self->holder, "cluster.tok", KREG_F_CLUSTER));
	ASSERT_EQ(0, relay_commit(&self->relay, "cluster.tok", getpid(), 77));
	EXPECT_EQ(0, send_as(&self->user, "cluster.tok", NULL, 77, "for 77"));
	EXPECT_EQ(0, send_as(&self->relay, "cluster.tok", &node_b, 77, "for 77, relayed"));
	EXPECT_EQ(-ESTALE, send_as(&self->user, "cluster.tok", NULL, 76, "for 76"));
	EXPECT_EQ(-ESTALE, send_as(&self->relay, "cluster.tok", &node_b, 78, "for 78"));
	/* Exactly the two meant for 77 arrived (read now: requests skip mail). */
	expect_mail(_metadata, &self->holder, "for 77");
	expect_mail(_metadata, &self->holder, "for 77, relayed");
	/* The name's next holder: the old token reaches nobody, the new one it. */
	ASSERT_EQ(0, raw_nl_unregister(&self->holder, "cluster.tok"));
	ASSERT_EQ(0, raw_nl_register_flags(&self->holder, "cluster.tok", KREG_F_CLUSTER));
	/* Not yet committed: absent, whatever the token. */
	EXPECT_EQ(-ENOENT, send_as(&self->user, "cluster.tok", NULL, 77, "pending"));
	ASSERT_EQ(0, relay_commit(&self->relay, "cluster.tok", getpid(), 80));
	EXPECT_EQ(-ESTALE, send_as(&self->user, "cluster.tok", NULL, 77, "for 77, late"));
	EXPECT_EQ(-ESTALE, send_as(&self->relay, "cluster.tok", &node_b, 77, "for 77, late"));
	EXPECT_EQ(0, send_as(&self->user, "cluster.tok", NULL, 80, "for 80"));
	/* A name that is no cluster name has no holder any token was granted to. */
	EXPECT_EQ(-ESTALE, send_as(&self->user, "plain.tok", NULL, 5, "for 5"));
	/* No token is 0. */
	raw_kreg_msg(&m, &self->user, KREG_CMD_SEND);
	raw_put_str(&m, KREG_A_NAME, "cluster.tok");
	raw_put_u64(&m, KREG_A_TOKEN, 0);
	raw_put(&m, KREG_A_PAYLOAD, "x", 1);
	EXPECT_EQ(-EINVAL, raw_request(&self->user, &m, NULL));
	/* A name held on another node is its relay's to reach, with a token or not. */
	ASSERT_EQ(0, relay_mirror(&self->relay, "cluster.away", "node-b", 7, 90, NULL));
	EXPECT_EQ(-EREMOTE, send_as(&self->relay, "cluster.away", &node_b, 90, "loop"));
	EXPECT_EQ(-ESTALE, send_as(&self->user, "cluster.away", NULL, 89, "old"));
	/* Then only the one meant for 80. */
	expect_mail(_metadata, &self->holder, "for 80");
	EXPECT_EQ(-ETIMEDOUT, raw_next(&self->holder, KREG_CMD_DELIVER, &d, 300));
}

/*
 * A call's answer across nodes: another node's process names a name it
 * holds there. A cluster name, only if this node's mirror says its node
 * holds it; a reply address of its node's ("user."); nothing else.
 */
TEST_F(relayed, a_remote_sender_names_only_what_its_node_holds)
{
	static struct raw_msg d;
	static const struct remote node_c = { "node-c", 7, 1000, 1000 };

	ASSERT_EQ(0, raw_nl_register(&self->holder, "svc.answers"));
	ASSERT_EQ(0, relay_mirror(&self->relay, "cluster.echo", "node-b", 4242, 31, NULL));
	/* node-b's server answers from its name: it is node-b's, as the mirror says. */
	ASSERT_EQ(0, send_from_as(&self->relay, "svc.answers", &node_b, 0, "cluster.echo",
				  "pong"));
	ASSERT_EQ(0, raw_next(&self->holder, KREG_CMD_DELIVER, &d, 3000));
	EXPECT_STREQ("cluster.echo", raw_attr_str(&d.nlh, KREG_A_FROM_NAME));
	EXPECT_STREQ("node-b", raw_attr_str(&d.nlh, KREG_A_NODE));
	EXPECT_EQ(KREG_SENDER_F_REMOTE, raw_attr_u32(&d.nlh, KREG_A_SENDER_FLAGS));
	/* node-c says it too: not node-c's. */
	EXPECT_EQ(-EPERM, send_from_as(&self->relay, "svc.answers", &node_c, 0, "cluster.echo",
				       "forged"));
	/* A cluster name nobody holds, or held here: no remote sender's. */
	EXPECT_EQ(-EPERM, send_from_as(&self->relay, "svc.answers", &node_b, 0, "cluster.none",
				       "forged"));
	/* A name of this node's, which no other node's process holds. */
	EXPECT_EQ(-EPERM, send_from_as(&self->relay, "svc.answers", &node_b, 0, "svc.relayed",
				       "forged"));
	/* A user's name that is no reply address: no receiver may take it for a local uid's. */
	EXPECT_EQ(-EPERM, send_from_as(&self->relay, "svc.answers", &node_b, 0, "user.1000.app",
				       "forged"));
	EXPECT_EQ(-EPERM, send_from_as(&self->relay, "svc.answers", &node_b, 0,
				       "user.x.reply.00aa", "forged"));
	/* Another uid's reply address there: not this sender's. */
	EXPECT_EQ(-EPERM, send_from_as(&self->relay, "svc.answers", &node_b, 0,
				       "user.1001.reply.00000000000000aa", "forged"));
	/* A caller's reply address on node-b, of its uid there: it rides along. */
	ASSERT_EQ(0, send_from_as(&self->relay, "svc.answers", &node_b, 0,
				  "user.1000.reply.00000000000000aa", "call"));
	ASSERT_EQ(0, raw_next(&self->holder, KREG_CMD_DELIVER, &d, 3000));
	EXPECT_STREQ("user.1000.reply.00000000000000aa", raw_attr_str(&d.nlh, KREG_A_FROM_NAME));
	EXPECT_STREQ("node-b", raw_attr_str(&d.nlh, KREG_A_NODE));
	/* Nothing else arrived. */
	EXPECT_EQ(-ETIMEDOUT, raw_next(&self->holder, KREG_CMD_DELIVER, &d, 300));
}

/* Writes @text to tracefs file @file: 0 or -errno. */
static int tracefs_write(const char *file, const char *text)
{
	char path[256];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/sys/kernel/tracing/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* The trace buffer's text, into @buf. */
static ssize_t tracefs_read(char *buf, size_t size)
{
	int fd = open("/sys/kernel/tracing/trace", O_RDONLY);
	ssize_t n, at = 0;

	if (fd < 0)
		return -errno;
	while (at < (ssize_t)size - 1 && (n = read(fd, buf + at, size - 1 - at)) > 0)
		at += n;
	buf[at] = '\0';
	close(fd);
	return at;
}

/* An operator tracing sends and denials sees the node, not only kregd's pid. */
TEST_F(relayed, the_tracepoints_say_which_node_a_send_was_for)
{
	static char trace[1 << 16];
	struct remote node_c = node_b;

	node_c.node = "node-c";
	ASSERT_EQ(0, raw_nl_register(&self->holder, "svc.pol"));
	ASSERT_EQ(0, load_policy(self->c, "allow see svc.pol cluster\n"));
	ASSERT_EQ(0, tracefs_write("trace", ""));
	ASSERT_EQ(0, tracefs_write("events/kreg/kreg_send/enable", "1"));
	ASSERT_EQ(0, tracefs_write("events/kreg/kreg_denied/enable", "1"));
	EXPECT_EQ(-EACCES, send_as(&self->relay, "svc.pol", &node_c, 0, "denied"));
	tracefs_write("events/kreg/kreg_send/enable", "0");
	tracefs_write("events/kreg/kreg_denied/enable", "0");
	ASSERT_LT(0, tracefs_read(trace, sizeof(trace)));
	EXPECT_NE(NULL, strstr(trace, "kreg_denied: name=svc.pol"));
	EXPECT_NE(NULL, strstr(trace, "node=node-c right=send")) TH_LOG("%s", trace);
	EXPECT_NE(NULL, strstr(trace, "result=-13 node=node-c")) TH_LOG("%s", trace);
}

TEST_HARNESS_MAIN
