// SPDX-License-Identifier: GPL-2.0
/*
 * SEND: by-name delivery to the registering socket, its errors, who sent
 * each message, and backpressure that never drops a message silently, never
 * breaks the holder's own requests, and gives each sending uid its share.
 */
#include <sched.h>

#include "helpers.h"
#include "kselftest_harness.h"

FIXTURE(mb) {
	struct kreg_conn *rx, *tx;
	struct kreg_message msg;
};

FIXTURE_SETUP(mb)
{
	ASSERT_EQ(0, kreg_open(&self->rx));
	ASSERT_EQ(0, kreg_open(&self->tx));
}

FIXTURE_TEARDOWN(mb)
{
	kreg_close(self->tx);
	kreg_close(self->rx);
}

TEST_F(mb, delivers_payload_name_and_sender)
{
	ASSERT_EQ(0, kreg_register(self->rx, "mb-rx", 0, NULL));
	ASSERT_EQ(0, kreg_send(self->tx, "mb-rx", "hello", 5));
	ASSERT_EQ(0, kreg_recv(self->rx, &self->msg, 2000));
	EXPECT_STREQ("mb-rx", self->msg.name);
	EXPECT_EQ(getpid(), self->msg.sender);
	ASSERT_EQ(5, self->msg.len);
	EXPECT_EQ(0, memcmp("hello", self->msg.data, 5));
	EXPECT_EQ(-ETIMEDOUT, kreg_recv(self->rx, &self->msg, 0));
	EXPECT_EQ(0, kreg_unregister(self->rx, "mb-rx"));
}

TEST_F(mb, sender_is_the_sending_process)
{
	pid_t child;
	int status;

	ASSERT_EQ(0, kreg_register(self->rx, "mb-sender", 0, NULL));
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		struct kreg_conn *c;

		_exit(kreg_open(&c) || kreg_send(c, "mb-sender", "ping", 4));
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, kreg_recv(self->rx, &self->msg, 2000));
	EXPECT_EQ(child, self->msg.sender);
	EXPECT_EQ(0, kreg_unregister(self->rx, "mb-sender"));
}

TEST_F(mb, largest_payload_arrives_intact_and_one_more_byte_is_emsgsize)
{
	static unsigned char big[KREG_PAYLOAD_MAX + 1];
	struct nl_msg *raw;
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7);
	ASSERT_EQ(0, kreg_register(self->rx, "mb-big", 0, NULL));
	ASSERT_EQ(0, kreg_send(self->tx, "mb-big", big, KREG_PAYLOAD_MAX));
	ASSERT_EQ(0, kreg_recv(self->rx, &self->msg, 2000));
	ASSERT_EQ(KREG_PAYLOAD_MAX, self->msg.len);
	EXPECT_EQ(0, memcmp(big, self->msg.data, KREG_PAYLOAD_MAX));

	EXPECT_EQ(-EMSGSIZE, kreg_send(self->tx, "mb-big", big, sizeof(big)));
	/* The kernel refuses it too, whoever builds the request. */
	raw = kreg_msg_new(self->tx, KREG_CMD_SEND, sizeof(big));
	ASSERT_NE(NULL, raw);
	ASSERT_EQ(0, kreg_put_name(raw, "mb-big"));
	ASSERT_EQ(0, nla_put(raw, KREG_A_PAYLOAD, sizeof(big), big));
	EXPECT_EQ(-EMSGSIZE, kreg_request(self->tx, raw, KREG_REQ_ACK, NULL, NULL));
	EXPECT_NE(NULL, strstr(kreg_last_error(self->tx), "KREG_PAYLOAD_MAX"));
	EXPECT_EQ(-ETIMEDOUT, kreg_recv(self->rx, &self->msg, 100));
	EXPECT_EQ(0, kreg_unregister(self->rx, "mb-big"));
}

TEST_F(mb, absent_name_is_enoent)
{
	EXPECT_EQ(-ENOENT, kreg_send(self->tx, "mb-nobody", "x", 1));
	EXPECT_STREQ("the name is not registered", kreg_last_error(self->tx));
}

TEST_F(mb, closed_mailbox_keeps_the_name_and_refuses_messages)
{
	struct kreg_conn *gone;
	pid_t pid;

	ASSERT_EQ(0, kreg_open(&gone));
	ASSERT_EQ(0, kreg_register(gone, "mb-closed", 0, NULL));
	kreg_close(gone);

	ASSERT_EQ(0, kreg_whereis_name(self->tx, "mb-closed", &pid));
	EXPECT_EQ(getpid(), pid);
	EXPECT_EQ(-ECONNREFUSED, kreg_send(self->tx, "mb-closed", "x", 1));
	EXPECT_NE(NULL, strstr(kreg_last_error(self->tx), "no mailbox"));
	EXPECT_EQ(0, kreg_unregister(self->tx, "mb-closed"));
}

TEST_F(mb, dead_holder_is_enoent_not_a_delivery)
{
	pid_t child = fork();
	int status;

	ASSERT_GE(child, 0);
	if (child == 0) {
		struct kreg_conn *c;

		_exit(kreg_open(&c) || kreg_register(c, "mb-dead", 0, NULL));
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(0, status);
	EXPECT_EQ(-ENOENT, kreg_send(self->tx, "mb-dead", "x", 1));
}

TEST_F_TIMEOUT(mb, full_mailbox_is_eagain_and_nothing_is_lost, 120)
{
	static unsigned char payload[4096];
	long sent = 0, got = 0, out_of_order = 0;
	int err;

	ASSERT_EQ(0, kreg_register(self->rx, "mb-full", 0, NULL));
	/* The receiver does not read: its socket buffer fills. */
	for (;;) {
		memcpy(payload, &sent, sizeof(sent));
		err = kreg_send(self->tx, "mb-full", payload, sizeof(payload));
		if (err)
			break;
		ASSERT_LT(++sent, 100000);
	}
	ASSERT_EQ(-EAGAIN, err);
	EXPECT_NE(NULL, strstr(kreg_last_error(self->tx), "full"));
	ASSERT_GT(sent, 0);

	/* Everything accepted arrives, in order; nothing else does. */
	while (kreg_recv(self->rx, &self->msg, 500) == 0) {
		long seq;

		memcpy(&seq, self->msg.data, sizeof(seq));
		out_of_order += seq != got;
		got++;
	}
	EXPECT_EQ(sent, got);
	EXPECT_EQ(0, out_of_order);

	/* Drained, it takes messages again. */
	EXPECT_EQ(0, kreg_send(self->tx, "mb-full", "again", 5));
	ASSERT_EQ(0, kreg_recv(self->rx, &self->msg, 2000));
	EXPECT_EQ(5, self->msg.len);
	EXPECT_EQ(0, kreg_unregister(self->rx, "mb-full"));
}

/*
 * Mail never shares a buffer with the replies to the holder's own requests
 * (its handle's request socket), and kreg keeps room in the mailbox socket
 * for the reply to a REGISTER: a full mailbox breaks none of them.
 */
TEST_F_TIMEOUT(mb, a_full_mailbox_never_fails_its_holders_own_requests, 120)
{
	static unsigned char payload[4096];
	long sent = 0, got = 0, out_of_order = 0;
	struct kreg_status st;
	pid_t pid = 12345;

	ASSERT_EQ(0, kreg_register(self->rx, "mb-own", 0, NULL));
	for (;;) {
		memcpy(payload, &sent, sizeof(sent));
		if (kreg_send(self->tx, "mb-own", payload, sizeof(payload)))
			break;
		ASSERT_LT(++sent, 100000);
	}
	ASSERT_GT(sent, 0);
	EXPECT_EQ(0, kreg_whereis_name(self->rx, "mb-own", &pid));
	EXPECT_EQ(getpid(), pid);
	EXPECT_EQ(0, kreg_status(self->rx, &st));
	EXPECT_EQ(0, kreg_register(self->rx, "mb-own-2", 0, NULL));
	EXPECT_EQ(0, kreg_unregister(self->rx, "mb-own-2"));
	/* Everything delivered is still there, in order. */
	while (kreg_recv(self->rx, &self->msg, 500) == 0) {
		long seq;

		memcpy(&seq, self->msg.data, sizeof(seq));
		out_of_order += seq != got;
		got++;
	}
	EXPECT_EQ(sent, got);
	EXPECT_EQ(0, out_of_order);
	EXPECT_EQ(0, kreg_unregister(self->rx, "mb-own"));
}

/* As its own uid, sends numbered messages to @arg's name until refused; how many. */
static int flood_as_user(void *arg)
{
	static unsigned char payload[4096];
	struct kreg_conn *c;
	long sent = 0;
	int err;

	if (kreg_open(&c))
		return 255;
	for (;;) {
		memcpy(payload, &sent, sizeof(sent));
		err = kreg_send(c, arg, payload, sizeof(payload));
		if (err)
			break;
		sent++;
	}
	kreg_close(c);
	/* Refused for room only, and small enough to tell as a status. */
	return err == -EAGAIN && sent < 250 ? (int)sent : 255;
}

static int flood_as(uid_t uid, const char *name)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			_exit(255);
		_exit(flood_as_user((void *)name));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * kdbus capped what one user may queue in another's pool: here no sending
 * uid may take more than half of what the others leave free, so a flood by
 * one uid still leaves room for the next, and the holder loses nothing.
 */
TEST_F_TIMEOUT(mb, one_flooding_uid_leaves_room_for_another, 120)
{
	long got[2] = { 0, 0 }, out_of_order = 0, seq;
	int first, second, who;

	ASSERT_EQ(0, kreg_register(self->rx, "mb-shared", 0, NULL));
	first = flood_as(UNPRIVILEGED_UID, "mb-shared");
	ASSERT_GT(first, 0);
	ASSERT_LT(first, 255);
	second = flood_as(UNPRIVILEGED_UID + 1, "mb-shared");
	EXPECT_GT(second, 0);
	ASSERT_LT(second, 255);
	/* The first flood took at most half of the mailbox, the second half the rest. */
	EXPECT_LE(second, first);
	while (kreg_recv(self->rx, &self->msg, 500) == 0) {
		who = self->msg.sender_uid == UNPRIVILEGED_UID + 1;
		EXPECT_EQ(UNPRIVILEGED_UID + who, self->msg.sender_uid);
		memcpy(&seq, self->msg.data, sizeof(seq));
		out_of_order += seq != got[who];
		got[who]++;
	}
	EXPECT_EQ(first, got[0]);
	EXPECT_EQ(second, got[1]);
	EXPECT_EQ(0, out_of_order);
	/* Read, the mailbox takes the first uid's mail again. */
	EXPECT_EQ(first, flood_as(UNPRIVILEGED_UID, "mb-shared"));
	EXPECT_EQ(0, kreg_unregister(self->rx, "mb-shared"));
}

static int send_one_as_user(void *arg)
{
	struct kreg_conn *c;

	return kreg_open(&c) || kreg_send(c, arg, "who", 3);
}

TEST_F(mb, every_message_says_who_sent_it)
{
	ASSERT_EQ(0, kreg_register(self->rx, "mb-creds", 0, NULL));
	ASSERT_EQ(0, run_as(UNPRIVILEGED_UID, send_one_as_user, "mb-creds"));
	ASSERT_EQ(0, kreg_recv(self->rx, &self->msg, 2000));
	EXPECT_EQ(UNPRIVILEGED_UID, self->msg.sender_uid);
	EXPECT_EQ(UNPRIVILEGED_UID, self->msg.sender_gid);
	EXPECT_NE(0, self->msg.sender_cgroup);
	EXPECT_GT(self->msg.sender, 0);
	EXPECT_EQ(0, kreg_unregister(self->rx, "mb-creds"));
}

TEST_F(mb, names_and_mail_cross_network_namespaces)
{
	int ready[2], status;
	pid_t child, pid;
	char byte;

	ASSERT_EQ(0, pipe(ready));
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		struct kreg_conn *c;
		static struct kreg_message m;

		/* Registered and served from its own network namespace. */
		if (unshare(CLONE_NEWNET) || kreg_open(&c) ||
		    kreg_register(c, "mb-netns", 0, NULL) || write(ready[1], "r", 1) != 1)
			_exit(1);
		if (kreg_recv(c, &m, 5000) || m.len != 5 || memcmp(m.data, "hello", 5))
			_exit(2);
		_exit(kreg_send(c, "mb-netns-reply", "back", 4) ? 3 : 0);
	}
	ASSERT_EQ(1, read(ready[0], &byte, 1));
	ASSERT_EQ(0, kreg_register(self->rx, "mb-netns-reply", 0, NULL));
	ASSERT_EQ(0, kreg_whereis_name(self->tx, "mb-netns", &pid));
	EXPECT_EQ(child, pid);
	ASSERT_EQ(0, kreg_send(self->tx, "mb-netns", "hello", 5));
	ASSERT_EQ(0, kreg_recv(self->rx, &self->msg, 5000));
	EXPECT_EQ(child, self->msg.sender);
	EXPECT_EQ(0, memcmp("back", self->msg.data, 4));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status);
	/* Gone with its holder (and dropped now: no exit cleanup in this test). */
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->tx, "mb-netns", &pid));
	EXPECT_EQ(0, kreg_unregister(self->rx, "mb-netns-reply"));
}

TEST_F(mb, deliveries_during_a_request_wait_for_recv)
{
	pid_t pid;

	ASSERT_EQ(0, kreg_register(self->rx, "mb-busy", 0, NULL));
	ASSERT_EQ(0, kreg_send(self->tx, "mb-busy", "one", 3));
	/* rx makes a request while a delivery sits in its socket. */
	ASSERT_EQ(0, kreg_whereis_name(self->rx, "mb-busy", &pid));
	ASSERT_EQ(0, kreg_recv(self->rx, &self->msg, 2000));
	EXPECT_EQ(3, self->msg.len);
	EXPECT_EQ(0, memcmp("one", self->msg.data, 3));
	EXPECT_EQ(0, kreg_unregister(self->rx, "mb-busy"));
}

TEST_HARNESS_MAIN
