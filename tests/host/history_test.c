// SPDX-License-Identifier: GPL-2.0
/*
 * The cluster suite's history checker (tests/cluster/history.h), on
 * histories made by hand: it must find every violation it claims to, or
 * the cluster suite proves nothing. The first case is what a kregd that
 * skipped the claim's compare produces (two nodes both win one name).
 */
#include "cluster/history.h"
#include "kselftest_harness.h"

static struct history h;

TEST(two_winners_of_one_name_are_a_double_holder)
{
	memset(&h, 0, sizeof(h));
	history_grant(&h, "race.1", "node1", 10, 100, 120);
	history_grant(&h, "race.1", "node2", 11, 101, 125);
	EXPECT_EQ(1, history_check(&h, stderr));
}

TEST(a_grant_before_the_last_holder_let_go_is_a_double_holder)
{
	struct hold *a;

	memset(&h, 0, sizeof(h));
	a = history_grant(&h, "n", "node1", 10, 100, 120);
	history_cease(a, CEASE_ASKED, 500);
	history_grant(&h, "n", "node2", 12, 300, 400);
	EXPECT_EQ(1, history_check(&h, stderr));
}

TEST(a_grant_after_the_last_holder_let_go_is_fine)
{
	struct hold *a;

	memset(&h, 0, sizeof(h));
	a = history_grant(&h, "n", "node1", 10, 100, 120);
	history_cease(a, CEASE_ASKED, 500);
	history_grant(&h, "n", "node2", 12, 510, 530);
	EXPECT_EQ(0, history_check(&h, stderr));
}

TEST(tokens_must_increase)
{
	struct hold *a;

	memset(&h, 0, sizeof(h));
	a = history_grant(&h, "n", "node1", 10, 100, 120);
	history_cease(a, CEASE_ASKED, 500);
	history_grant(&h, "n", "node2", 9, 510, 530);
	EXPECT_EQ(1, history_check(&h, stderr));
}

TEST(a_cut_off_holder_is_fenced_before_its_name_is_asked_for_again)
{
	struct hold *a;

	memset(&h, 0, sizeof(h));
	a = history_grant(&h, "n", "node1", 10, 100, 120);
	history_cease(a, CEASE_LOST, 200);
	a->fenced_ms = 2600;
	history_grant(&h, "n", "node2", 12, 2500, 2700);
	EXPECT_EQ(1, history_check(&h, stderr));
	a->fenced_ms = 2400;
	EXPECT_EQ(0, history_check(&h, stderr));
}

TEST(a_frozen_holder_acts_only_after_it_was_fenced)
{
	struct hold *a;

	memset(&h, 0, sizeof(h));
	a = history_grant(&h, "n", "node1", 10, 100, 120);
	history_cease(a, CEASE_LOST, 200);
	a->resumed_ms = 5000;
	a->acted_ms = 5100;
	a->fenced_ms = 5200;
	history_grant(&h, "n", "node2", 12, 3000, 3100);
	EXPECT_EQ(1, history_check(&h, stderr));
	a->fenced_ms = 5050;
	EXPECT_EQ(0, history_check(&h, stderr));
}

TEST_HARNESS_MAIN
