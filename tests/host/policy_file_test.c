// SPDX-License-Identifier: GPL-2.0
/*
 * Policy files as kregctl policy load reads them: rules, comments, a
 * directory's *.conf files in name order, names of users and groups, and a
 * bad line failing the whole read with FILE:LINE and the reason. Runs on the
 * host, under ASan and UBSan; what the kernel then does with the rules is
 * tests/kernel/access_test.c's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kreg.h"
#include "kselftest_harness.h"

FIXTURE(pf) {
	char dir[64];
	struct kreg_rule *rules;
	size_t n;
	char error[512];
};

FIXTURE_SETUP(pf)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/kreg-pf-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	self->rules = NULL;
	self->n = 0;
}

FIXTURE_TEARDOWN(pf)
{
	char cmd[128];

	free(self->rules);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		TH_LOG("could not remove %s", self->dir);
}

/* Writes @text to DIR/@name; the path. */
static const char *put(FIXTURE_DATA(pf) *self, const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", self->dir, name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

TEST_F(pf, rules_comments_and_blank_lines)
{
	const char *path = put(self, "a.conf",
			       "# Who may run and use the orders service.\n"
			       "\n"
			       "allow own        orders.*  uid 1000   # Alice runs it\n"
			       "allow see,send   orders.*  gid 1002\n"
			       "  deny send      orders.admin everyone\n"
			       "allow all        *         everyone\n");
	char text[512];

	ASSERT_NE(NULL, path);
	ASSERT_EQ(0, kreg_policy_read(path, &self->rules, &self->n, self->error,
				      sizeof(self->error))) TH_LOG("%s", self->error);
	ASSERT_EQ(4, self->n);
	EXPECT_EQ(KREG_EFFECT_ALLOW, self->rules[0].effect);
	EXPECT_EQ(KREG_RIGHT_OWN, self->rules[0].rights);
	EXPECT_STREQ("orders.*", self->rules[0].pattern);
	EXPECT_EQ(KREG_WHO_UID, self->rules[0].who);
	EXPECT_EQ(1000, self->rules[0].id);
	EXPECT_EQ(KREG_RIGHT_SEE | KREG_RIGHT_SEND, self->rules[1].rights);
	EXPECT_EQ(KREG_WHO_GID, self->rules[1].who);
	EXPECT_EQ(KREG_EFFECT_DENY, self->rules[2].effect);
	EXPECT_EQ(KREG_WHO_EVERYONE, self->rules[2].who);
	EXPECT_EQ(KREG_RIGHTS_ALL, self->rules[3].rights);
	/* Each rule remembers where it came from. */
	snprintf(text, sizeof(text), "%s:3", path);
	EXPECT_STREQ(text, self->rules[0].source);
	snprintf(text, sizeof(text), "%s:6", path);
	EXPECT_STREQ(text, self->rules[3].source);
	/* And says itself as a file would. */
	ASSERT_EQ(0, kreg_rule_format(&self->rules[1], text, sizeof(text)));
	EXPECT_STREQ("allow see,send orders.* gid 1002", text);
	ASSERT_EQ(0, kreg_rule_format(&self->rules[3], text, sizeof(text)));
	EXPECT_STREQ("allow all * everyone", text);
}

TEST_F(pf, a_directory_is_its_conf_files_in_name_order)
{
	ASSERT_NE(NULL, put(self, "20-b.conf", "allow see b.* everyone\n"));
	ASSERT_NE(NULL, put(self, "10-a.conf", "allow see a.* everyone\n"));
	ASSERT_NE(NULL, put(self, "30-c.conf.dpkg-old", "nonsense that is never read\n"));
	ASSERT_NE(NULL, put(self, ".hidden.conf", "nonsense that is never read\n"));
	ASSERT_EQ(0, kreg_policy_read(self->dir, &self->rules, &self->n, self->error,
				      sizeof(self->error))) TH_LOG("%s", self->error);
	ASSERT_EQ(2, self->n);
	EXPECT_STREQ("a.*", self->rules[0].pattern);
	EXPECT_STREQ("b.*", self->rules[1].pattern);
	EXPECT_NE(NULL, strstr(self->rules[1].source, "20-b.conf:1"));
}

TEST_F(pf, users_and_groups_by_name)
{
	const char *path = put(self, "n.conf", "allow own root.* user root\n"
					       "allow see root.* group root\n");

	ASSERT_EQ(0, kreg_policy_read(path, &self->rules, &self->n, self->error,
				      sizeof(self->error))) TH_LOG("%s", self->error);
	ASSERT_EQ(2, self->n);
	EXPECT_EQ(KREG_WHO_UID, self->rules[0].who);
	EXPECT_EQ(0, self->rules[0].id);
	EXPECT_EQ(KREG_WHO_GID, self->rules[1].who);
	EXPECT_EQ(0, self->rules[1].id);
}

/* Processes of other nodes, whose messages kregd relays: a node, or the cluster. */
TEST_F(pf, other_nodes_by_name_and_the_whole_cluster)
{
	const char *path = put(self, "c.conf", "allow see,send orders.* node node-2.dc1\n"
					       "deny send orders.admin cluster\n");
	char text[256];

	ASSERT_EQ(0, kreg_policy_read(path, &self->rules, &self->n, self->error,
				      sizeof(self->error))) TH_LOG("%s", self->error);
	ASSERT_EQ(2, self->n);
	EXPECT_EQ(KREG_WHO_NODE, self->rules[0].who);
	EXPECT_STREQ("node-2.dc1", self->rules[0].node);
	EXPECT_EQ(KREG_WHO_CLUSTER, self->rules[1].who);
	EXPECT_STREQ("", self->rules[1].node);
	ASSERT_EQ(0, kreg_rule_format(&self->rules[0], text, sizeof(text)));
	EXPECT_STREQ("allow see,send orders.* node node-2.dc1", text);
	ASSERT_EQ(0, kreg_rule_format(&self->rules[1], text, sizeof(text)));
	EXPECT_STREQ("deny send orders.admin cluster", text);
}

/* The first bad line of @text, alone in a file: the error for it. */
static int read_bad(FIXTURE_DATA(pf) *self, const char *text, char *want_where, size_t size)
{
	const char *path = put(self, "bad.conf", text);

	snprintf(want_where, size, "%s:2: ", path ? path : "?");
	return kreg_policy_read(path, &self->rules, &self->n, self->error,
				sizeof(self->error));
}

TEST_F(pf, a_bad_line_fails_the_read_with_file_line_and_reason)
{
	static const struct {
		const char *line;
		const char *says;
	} bad[] = {
		{ "permit see x.* everyone", "allow or deny" },
		{ "allow talk x.* everyone", "own, see, send or all" },
		{ "allow see orders* everyone", "'*'" },
		{ "allow see *.x everyone", "'*'" },
		{ "allow see x.* uid", "everyone, uid N" },
		{ "allow see x.* user no-such-user-here", "no such user" },
		{ "allow see x.* group no-such-group-here", "no such group" },
		{ "allow see x.* everyone and more", "everyone, uid N" },
		{ "allow see x.*", "EFFECT RIGHTS PATTERN WHO" },
		{ "allow see x.* uid 99999999999", "no such user" },
		{ "allow see x.* node", "node NAME or cluster" },
		{ "allow see x.* node bad/name", "a node's name" },
		{ "allow see x.* node 0123456789012345678901234567890123456789012345678901234567890123",
		  "a node's name" },
		{ "allow see x.* cluster node-2", "node NAME or cluster" },
		{ "allow all x.* cluster", "own no name here" },
		{ "allow own,send x.* node node-2", "own no name here" },
	};
	char text[256], where[192];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "allow see fine.* everyone\n%s\n", bad[i].line);
		EXPECT_EQ(-EINVAL, read_bad(self, text, where, sizeof(where)))
			TH_LOG("accepted: %s", bad[i].line);
		EXPECT_EQ(0, strncmp(where, self->error, strlen(where)))
			TH_LOG("%s: %s", bad[i].line, self->error);
		if (bad[i].says)
			EXPECT_NE(NULL, strstr(self->error, bad[i].says))
				TH_LOG("%s: %s", bad[i].line, self->error);
		/* Nothing was returned: a policy loads whole or not at all. */
		EXPECT_EQ(0, self->n);
	}
}

TEST_F(pf, a_missing_path_is_the_systems_error)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/none", self->dir);
	EXPECT_EQ(-ENOENT, kreg_policy_read(path, &self->rules, &self->n, self->error,
					    sizeof(self->error)));
	EXPECT_NE(NULL, strstr(self->error, path));
}

/* The example shipped in docs/ is a policy kregctl loads as it is. */
TEST(the_documented_example_reads)
{
	struct kreg_rule *rules = NULL;
	char error[512];
	size_t n = 0;

	ASSERT_EQ(0, kreg_policy_read("docs/policy.d", &rules, &n, error, sizeof(error)))
		TH_LOG("%s", error);
	EXPECT_EQ(6, n);
	free(rules);
}

TEST(the_local_provider_has_no_access_control)
{
	struct kreg_rule rule = { .effect = KREG_EFFECT_ALLOW, .rights = KREG_RIGHT_SEE,
				  .pattern = "*", .who = KREG_WHO_EVERYONE };
	struct kreg_verdict v;
	struct kreg_conn *c;

	ASSERT_EQ(0, kreg_open_provider(&c, KREG_PROVIDER_LOCAL));
	EXPECT_EQ(-EOPNOTSUPP, kreg_policy_set(c, &rule, 1));
	EXPECT_EQ(-EOPNOTSUPP, kreg_policy_check(c, 0, 0, NULL, 0, "x", KREG_RIGHT_SEE, &v));
	EXPECT_NE(NULL, strstr(kreg_last_error(c), "local provider"));
	kreg_close(c);
}

TEST_HARNESS_MAIN
