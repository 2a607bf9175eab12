// SPDX-License-Identifier: GPL-2.0
/*
 * The names' grammar, as the uapi header states it (kreg_name_problem_of(),
 * which kreg.ko, libkreg and kregctl all use), against the grammar written
 * a second way (tests/name_oracle.h): fixed cases, then random names.
 */
#include <linux/kreg.h>
#include <stdio.h>

#include "kselftest_harness.h"
#include "name_oracle.h"

static const struct {
	const char *name;
	const char *why;	/* NULL: a good name */
} cases[] = {
	{ "orders-db", NULL },
	{ "a", NULL },
	{ "Orders_DB.v-2.x9", NULL },
	{ "user.0.x", NULL },
	{ "user.1000.reply.00ff", NULL },
	{ "user.0abc.x", NULL },		/* that element is no number */
	{ "user.0", NULL },
	{ "", "name is empty" },
	{ "a b", "name has a byte other than a letter, a digit, '_', '-' or '.'" },
	{ "caf\xc3\xa9", "name has a byte other than a letter, a digit, '_', '-' or '.'" },
	{ "orders.*", "'*' is never part of a name (it is a pattern's wildcard)" },
	{ "secret.", "name ends with a dot" },
	{ ".hidden", "name starts with a dot" },
	{ "a..b", "name has an empty element (two dots in a row)" },
	{ "user.01000.x", "the uid of a user.UID. name has a leading zero" },
	{ "user.00.x", "the uid of a user.UID. name has a leading zero" },
	{ "user.007", "the uid of a user.UID. name has a leading zero" },
};

TEST(each_documented_case_gets_its_verdict)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = kreg_name_problem_of(cases[i].name, strlen(cases[i].name));

		if (cases[i].why) {
			EXPECT_STREQ(cases[i].why, got ? got : "(accepted)");
		} else {
			EXPECT_EQ(NULL, got);
		}
		EXPECT_EQ(!cases[i].why, oracle_name_ok(cases[i].name, strlen(cases[i].name)));
	}
}

TEST(the_length_limit_is_255_bytes)
{
	char name[257];

	memset(name, 'n', sizeof(name));
	EXPECT_EQ(NULL, kreg_name_problem_of(name, 255));
	EXPECT_STREQ("name is longer than 255 bytes", kreg_name_problem_of(name, 256));
}

TEST(random_names_get_the_oracles_verdict)
{
	unsigned int seed = 20261207;
	int i, good = 0;
	char name[512];

	for (i = 0; i < 50000; i++) {
		size_t len = oracle_random_name(name, &seed);
		bool ok = !kreg_name_problem_of(name, len);

		if (ok != oracle_name_ok(name, len)) {
			TH_LOG("\"%s\": the header says %s", name, ok ? "good" : "bad");
			ASSERT_EQ(oracle_name_ok(name, len), ok);
		}
		good += ok;
	}
	/* Both kinds were tried. */
	EXPECT_LT(1000, good);
	EXPECT_LT(1000, i - good);
}

TEST(patterns_are_a_name_a_prefix_or_the_star)
{
	EXPECT_EQ(NULL, kreg_pattern_problem_of("*"));
	EXPECT_EQ(NULL, kreg_pattern_problem_of("orders.*"));
	EXPECT_EQ(NULL, kreg_pattern_problem_of("orders"));
	EXPECT_EQ(NULL, kreg_pattern_problem_of("user.1000.*"));
	EXPECT_NE(NULL, kreg_pattern_problem_of("orders*"));
	EXPECT_NE(NULL, kreg_pattern_problem_of("*.x"));
	EXPECT_NE(NULL, kreg_pattern_problem_of(".*"));
	EXPECT_NE(NULL, kreg_pattern_problem_of("a..*"));
	EXPECT_NE(NULL, kreg_pattern_problem_of(""));
	EXPECT_NE(NULL, kreg_pattern_problem_of("user.01.*"));
}

/* A prefix must leave room for one more byte in a name. */
TEST(a_prefix_pattern_fits_a_name)
{
	char p[KREG_NAME_MAX + 3];

	memset(p, 'p', sizeof(p));
	memcpy(p + KREG_NAME_MAX - 2, ".*", 3);
	EXPECT_EQ(NULL, kreg_pattern_problem_of(p));	/* 253 bytes, then ".*" */
	memset(p, 'p', sizeof(p));
	memcpy(p + KREG_NAME_MAX - 1, ".*", 3);
	EXPECT_STREQ("the pattern is longer than a name", kreg_pattern_problem_of(p));
}

TEST_HARNESS_MAIN
