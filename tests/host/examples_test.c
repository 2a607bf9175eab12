// SPDX-License-Identifier: GPL-2.0
/*
 * The loop examples (examples/), built and run as a user would run them, on
 * the local provider: each serves calls from its own loop, quits when asked,
 * and stops in order on SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

static const char *const examples[] = { "epoll_server", "sd_event_server" };

/* Starts example @i with @args; its stdout is *@out. */
static pid_t start_example(int i, const char *arg1, const char *arg2, FILE **out)
{
	char path[512];
	int fds[2];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/examples/%s",
		 getenv("BUILD") ? getenv("BUILD") : "build", examples[i]);
	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		setenv("KREG_REGISTRY", "local", 1);
		execl(path, path, arg1, arg2, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	*out = fdopen(fds[0], "r");
	return pid;
}

/* Reads lines until one contains @want (true), or the end (false). */
static bool read_until(FILE *out, const char *want)
{
	char line[256];

	while (fgets(line, sizeof(line), out))
		if (strstr(line, want))
			return true;
	return false;
}

TEST(each_example_answers_its_client_and_quits_when_asked)
{
	int i, status;

	for (i = 0; i < 2; i++) {
		FILE *out;
		pid_t pid = start_example(i, "--calls", "40", &out);

		ASSERT_LT(0, pid);
		EXPECT_TRUE(read_until(out, "example.counter: ready")) TH_LOG("%s", examples[i]);
		EXPECT_TRUE(read_until(out, "example.counter: stopped after 40 calls (orderly)"));
		EXPECT_TRUE(read_until(out, "client: 40 of 40 calls answered"));
		read_until(out, "\a");	/* to its end: a closed pipe would kill it */
		fclose(out);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) TH_LOG("%s", examples[i]);
	}
}

TEST(each_example_stops_in_order_on_sigterm)
{
	int i, status;

	for (i = 0; i < 2; i++) {
		FILE *out;
		pid_t pid = start_example(i, "example.term", NULL, &out);

		ASSERT_LT(0, pid);
		ASSERT_TRUE(read_until(out, "example.term: ready")) TH_LOG("%s", examples[i]);
		kill(pid, SIGTERM);
		EXPECT_TRUE(read_until(out, "example.term: stopped after 0 calls (orderly)"));
		read_until(out, "\a");	/* to its end: a closed pipe would kill it */
		fclose(out);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) TH_LOG("%s", examples[i]);
	}
}

TEST_HARNESS_MAIN
