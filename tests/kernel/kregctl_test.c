// SPDX-License-Identifier: GPL-2.0
/*
 * kregctl as scripts use it: -j prints JSON that jq parses, with the
 * figures the text shows; monitor prints one JSON object per line; every
 * command answers --help.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "helpers.h"
#include "kselftest_harness.h"

/* Runs a shell command line; its exit status, or 128 + the killing signal. */
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	status = system(cmd);
	if (status < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

FIXTURE(ctl) {
	pid_t a;
};

FIXTURE_SETUP(ctl)
{
	self->a = spawn_sleeper();
	ASSERT_LT(0, self->a);
	ASSERT_EQ(0, sh("kregctl register ctl.json %d --meta 'role=db' >/dev/null", self->a));
}

FIXTURE_TEARDOWN(ctl)
{
	kill_and_reap(self->a);
	sh("kregctl unregister ctl.json 2>/dev/null");
	/* A test killed by its timeout leaves no policy to the next. */
	sh("kregctl policy unload >/dev/null 2>&1");
}

/*
 * Each of these runs a dozen or more kregctl | jq pipelines: a second or
 * more apiece on the debug kernel in TCG, so they get a longer timeout
 * than the harness's 30 s, and the JSON checks are split by command group.
 */
#define CTL_TIMEOUT 120

/* No setup: the harness gives a timeout to fixture tests only. */
FIXTURE(plain) {
};

FIXTURE_SETUP(plain)
{
}

FIXTURE_TEARDOWN(plain)
{
}

TEST_F_TIMEOUT(ctl, lookups_speak_json, CTL_TIMEOUT)
{
	int a = self->a;

	EXPECT_EQ(0, sh("kregctl -j whereis ctl.json | jq -e '.name == \"ctl.json\" and .pid == %d'", a));
	EXPECT_EQ(0, sh("kregctl -j await ctl.json 100 | jq -e '.pid == %d'", a));
	/* Undefined: a document still, and exit status 1. */
	EXPECT_EQ(0, sh("kregctl -j whereis ctl.nobody | jq -e '.pid == null'"));
	EXPECT_EQ(1, sh("kregctl -j whereis ctl.nobody >/dev/null 2>&1"));
	EXPECT_EQ(0, sh("kregctl -j list | jq -e '.snapshot and (.names | map(select(.name == "
			"\"ctl.json\")) | .[0] | .pid == %d and .uid == 0 and .meta == \"role=db\" "
			"and (.mailbox | not) and (.registered | test(\"Z$\")))'", a));
}

TEST_F_TIMEOUT(ctl, status_and_bpf_speak_json, CTL_TIMEOUT)
{
	EXPECT_EQ(0, sh("kregctl -j status | jq -e '(.version | length > 0) and .entries >= 1 "
			"and .max_entries > 0 and .uid == 0 and (.exit_cleanup | type == \"boolean\") "
			"and .policy_loaded == false'"));
	/* Whatever an earlier test program left (one killed by its timeout keeps its attach). */
	EXPECT_EQ(0, sh("kregctl bpf detach >/dev/null"));
	EXPECT_EQ(0, sh("kregctl -j bpf status | jq -e '.attached == false'"));
}

TEST_F_TIMEOUT(ctl, policy_speaks_json, CTL_TIMEOUT)
{
	EXPECT_EQ(0, sh("kregctl -j policy show | jq -e '.loaded == false and .rules == []'"));
	EXPECT_EQ(0, sh("kregctl -j policy check 1000 user.1000.x own | jq -e '.allowed and "
			".decided_by == \"user namespace\" and .rule == null'"));
	EXPECT_EQ(0, sh("printf 'allow see,send ctl.* gid 7\\n' >/tmp/ctl.conf && "
			"kregctl -j policy load /tmp/ctl.conf | jq -e '.loaded == 1'"));
	EXPECT_EQ(0, sh("kregctl -j policy show | jq -e '.loaded and .rules[0].effect == \"allow\" "
			"and .rules[0].rights == [\"see\", \"send\"] and .rules[0].who == \"gid\" "
			"and .rules[0].id == 7 and .rules[0].source == \"/tmp/ctl.conf:1\"'"));
	EXPECT_EQ(0, sh("kregctl -j policy check 1000 ctl.json send | jq -e '.allowed == false "
			"and .decided_by == \"default\"'"));
	/* Another node's processes: only the rules about them. */
	EXPECT_EQ(0, sh("printf 'allow see,send ctl.* gid 7\\nallow see,send ctl.* node node-b\\n' "
			">/tmp/ctl.conf && kregctl policy load /tmp/ctl.conf >/dev/null"));
	EXPECT_EQ(0, sh("kregctl -j policy show | jq -e '.rules[1].who == \"node\" and "
			".rules[1].node == \"node-b\"'"));
	EXPECT_EQ(0, sh("kregctl -j policy check node node-b ctl.json send | jq -e '.allowed and "
			".node == \"node-b\" and .decided_by == \"rule\" and .rule.node == \"node-b\"'"));
	EXPECT_EQ(1, sh("kregctl policy check node node-c ctl.json send"));
	EXPECT_EQ(0, sh("kregctl policy check node node-c ctl.json send | grep -q "
			"'deny: node node-c.s processes may not send ctl.json'"));
	EXPECT_EQ(0, sh("kregctl -j policy unload | jq -e '.loaded == false'"));
}

/* Names may hold quotes and backslashes; values any byte. */
/* A name has no quote to escape (the grammar refuses it); a value may have any. */
TEST_F_TIMEOUT(ctl, strings_are_escaped, CTL_TIMEOUT)
{
	EXPECT_EQ(2, sh("out=$(kregctl register 'ctl.we\"ird\\name' %d 2>&1); st=$?; "
			"echo \"$out\" | grep -qF 'name has a byte other than a letter' && exit $st; "
			"exit 99", self->a));
	EXPECT_EQ(0, sh("kregctl register ctl.weird %d --meta \"$(printf 'we\"ird\\\\a\\tb')\" "
			">/dev/null", self->a));
	EXPECT_EQ(0, sh("kregctl -j list | jq -e '.names | map(select(.name == "
			"\"ctl.weird\")) | .[0].meta == \"we\\\"ird\\\\a\\tb\"'"));
	EXPECT_EQ(0, sh("kregctl unregister ctl.weird"));
}

/* A value in UTF-8 comes out as itself under -j, not byte by byte. */
TEST_F_TIMEOUT(ctl, utf8_values_are_utf8_in_json, CTL_TIMEOUT)
{
	EXPECT_EQ(0, sh("kregctl register ctl.utf %d --meta 'caf\xc3\xa9 \xe6\x97\xa5' >/dev/null",
			self->a));
	EXPECT_EQ(0, sh("kregctl -j list | grep -qF '\"meta\":\"caf\xc3\xa9 \xe6\x97\xa5\"'"));
	EXPECT_EQ(0, sh("kregctl unregister ctl.utf"));
}

/*
 * Whoever may send to a name writes on the terminal of the operator who
 * holds it with `kregctl register NAME`: its escape sequences are shown,
 * never run.
 */
TEST_F_TIMEOUT(plain, a_message_cannot_drive_the_operators_terminal, CTL_TIMEOUT)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY), slave, i, status;
	char out[1024] = "";
	size_t got = 0;
	pid_t pid;

	ASSERT_LE(0, master);
	ASSERT_EQ(0, grantpt(master));
	ASSERT_EQ(0, unlockpt(master));
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	ASSERT_LE(0, slave);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		dup2(slave, 1);
		execlp("kregctl", "kregctl", "register", "ctl.tty", "-n", "1", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && sh("kregctl whereis ctl.tty >/dev/null 2>&1"); i++)
		usleep(50000);
	ASSERT_EQ(0, sh("kregctl send ctl.tty \"$(printf '\\033]0;pwned\\007\\033[31mred')\""));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	for (;;) {
		struct pollfd p = { .fd = master, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 500) != 1)
			break;
		n = read(master, out + got, sizeof(out) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	EXPECT_NE(NULL, strstr(out, "\\x1b]0;pwned\\x07\\x1b[31mred")) TH_LOG("read: %s", out);
	EXPECT_EQ(NULL, memchr(out, 0x1b, got));
	EXPECT_EQ(NULL, memchr(out, 0x07, got));
	close(slave);
	close(master);
}

/* list PATTERN --pid: the kernel filters, and kregctl says so in its listing. */
TEST_F_TIMEOUT(ctl, list_filters_by_pattern_and_holder, CTL_TIMEOUT)
{
	EXPECT_EQ(0, sh("kregctl register ctl.other %d --meta x >/dev/null", getpid()));
	EXPECT_EQ(0, sh("kregctl -j list 'ctl.*' --pid %d | jq -e '[.names[].name] == "
			"[\"ctl.json\"]'", self->a));
	EXPECT_EQ(0, sh("kregctl -j list ctl.other | jq -e '[.names[].name] == [\"ctl.other\"]'"));
	EXPECT_EQ(0, sh("kregctl -j list 'nothing-here.*' | jq -e '.names == []'"));
	EXPECT_EQ(2, sh("kregctl list 'ctl*' 2>/dev/null"));
	EXPECT_EQ(0, sh("kregctl unregister ctl.other"));
}

/* A server, as an operator reaches it from the shell (as busctl call does D-Bus). */
static int casts_init(struct kreg_server *srv, void *args, void **state)
{
	static long casts;

	(void)srv;
	(void)args;
	*state = &casts;
	return 0;
}

static int answer_call(struct kreg_server *srv, void *state, const void *req, size_t len,
		       const struct kreg_from *from)
{
	char out[128];
	int n = snprintf(out, sizeof(out), "pong:%.*s:%ld", (int)len, (const char *)req,
			 *(long *)state);

	return kreg_reply(srv, from, out, (size_t)n);
}

static int count_cast(struct kreg_server *srv, void *state, const void *msg, size_t len)
{
	(void)srv;
	(void)msg;
	(void)len;
	++*(long *)state;
	return KREG_CONTINUE;
}

TEST_F_TIMEOUT(plain, a_server_answers_kregctl_call_cast_and_stop, CTL_TIMEOUT)
{
	static const struct kreg_module answering = {
		.init = casts_init, .handle_call = answer_call, .handle_cast = count_cast,
	};
	enum kreg_started how;
	struct kreg_conn *c;
	pid_t pid;

	ASSERT_EQ(0, kreg_open(&c));
	ASSERT_EQ(0, kreg_start_link(c, "ctl.srv", &answering, NULL, &pid, &how));
	EXPECT_EQ(0, sh("test \"$(kregctl call ctl.srv ping)\" = pong:ping:0"));
	EXPECT_EQ(0, sh("kregctl cast ctl.srv anything"));
	EXPECT_EQ(0, sh("test \"$(kregctl call ctl.srv again --timeout 3000)\" = pong:again:1"));
	EXPECT_EQ(0, sh("kregctl -j call ctl.srv j | jq -e '.name == \"ctl.srv\" and "
			".reply == \"pong:j:1\"'"));
	EXPECT_EQ(1, sh("kregctl call ctl.nobody x 2>/dev/null"));
	EXPECT_EQ(2, sh("kregctl call ctl.srv 2>/dev/null"));
	EXPECT_EQ(0, sh("kregctl stop ctl.srv"));
	EXPECT_EQ(pid, waitpid(pid, NULL, 0));
	EXPECT_EQ(1, sh("kregctl whereis ctl.srv 2>/dev/null"));
	kreg_close(c);
}

/* COMM and UNIT: what the holder calls itself (escaped: it chose it), and its unit. */
TEST_F_TIMEOUT(ctl, list_says_each_holders_command_and_unit, CTL_TIMEOUT)
{
	int go[2];
	pid_t evil;
	char byte;

	EXPECT_EQ(0, sh("kregctl -j list ctl.json | jq -e '.names[0].comm == \"kregctl_test\" "
			"and .names[0].unit == null'"));
	ASSERT_EQ(0, pipe(go));
	evil = fork();
	ASSERT_LE(0, evil);
	if (evil == 0) {
		prctl(PR_SET_NAME, "\x1b[31mevil", 0, 0, 0);
		close(go[0]);
		if (write(go[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(go[0], &byte, 1));
	EXPECT_EQ(0, sh("kregctl register ctl.evil %d >/dev/null", evil));
	EXPECT_EQ(0, sh("kregctl list ctl.evil | grep -qF '\\x1b[31mevil'"));
	EXPECT_EQ(1, sh("kregctl list ctl.evil | grep -q \"$(printf '\\033')\""));
	kill(evil, SIGKILL);
	waitpid(evil, NULL, 0);
	sh("kregctl unregister ctl.evil 2>/dev/null");
	close(go[0]);
	close(go[1]);
}

TEST_F_TIMEOUT(ctl, monitor_prints_a_json_line_per_event, CTL_TIMEOUT)
{
	EXPECT_EQ(0, sh("(kregctl -j monitor -n 2 >/tmp/ctl.events &) ; sleep 1; "
			"kregctl register ctl.ev %d >/dev/null && kregctl unregister ctl.ev && "
			"for i in 1 2 3 4 5 6 7 8 9 10; do "
			"[ $(wc -l </tmp/ctl.events) -ge 2 ] && break; sleep 0.5; done", self->a));
	EXPECT_EQ(0, sh("jq -e -s 'length == 2 and .[0].event == \"registered\" and "
			".[0].name == \"ctl.ev\" and .[0].pid == %d and .[1].event == \"unregistered\" "
			"and .[1].reason == \"explicit\"' /tmp/ctl.events", self->a));
}

static int update_as_nobody(void *arg)
{
	(void)arg;
	return sh("kregctl update ctl.json role=theirs 2>/dev/null");
}

/* A value changes in place: lookups, the listing and monitor say so. */
TEST_F_TIMEOUT(ctl, update_changes_the_value_in_place, CTL_TIMEOUT)
{
	EXPECT_EQ(0, sh("(kregctl -j monitor -n 1 >/tmp/ctl.updates &) ; sleep 1; "
			"kregctl update ctl.json role=replica && "
			"for i in 1 2 3 4 5 6 7 8 9 10; do "
			"[ $(wc -l </tmp/ctl.updates) -ge 1 ] && break; sleep 0.5; done"));
	EXPECT_EQ(0, sh("jq -e -s 'length == 1 and .[0].event == \"updated\" and "
			".[0].name == \"ctl.json\" and .[0].pid == %d and .[0].meta == \"role=replica\"' "
			"/tmp/ctl.updates", self->a));
	EXPECT_EQ(0, sh("kregctl -j list ctl.json | jq -e '.names[0].pid == %d and "
			".names[0].meta == \"role=replica\"'", self->a));
	/* Another uid's update is an error; a name nobody holds, exit status 1. */
	EXPECT_EQ(2, run_as(65534, update_as_nobody, NULL));
	EXPECT_EQ(1, sh("kregctl update ctl.nobody x 2>/dev/null"));
	EXPECT_EQ(0, sh("kregctl -j list ctl.json | jq -e '.names[0].meta == \"role=replica\"'"));
}

/*
 * register --queue: in line behind the holder (said on stderr, with its
 * pid), then, the holder killed, kregctl holds the name and serves it.
 */
TEST_F_TIMEOUT(ctl, register_queue_waits_in_line_then_holds_the_name, CTL_TIMEOUT)
{
	EXPECT_EQ(0, sh("(kregctl register ctl.json --queue -n 1 >/tmp/ctl.queue "
			"2>/tmp/ctl.queue.err &) ; for i in 1 2 3 4 5 6 7 8 9 10; do "
			"grep -q 'waiting in line' /tmp/ctl.queue.err && break; sleep 0.5; done; "
			"grep -q '^kregctl: ctl.json is held by pid %d; waiting in line for it$' "
			"/tmp/ctl.queue.err", self->a));
	/* Still the holder's: a place in line is no name. */
	EXPECT_EQ(0, sh("[ \"$(kregctl whereis ctl.json)\" = %d ]", self->a));
	kill_and_reap(self->a);
	self->a = spawn_sleeper();
	EXPECT_EQ(0, sh("for i in 1 2 3 4 5 6 7 8 9 10; do "
			"[ \"$(kregctl whereis ctl.json 2>/dev/null)\" = \"$(pidof kregctl)\" ] && break; "
			"sleep 0.5; done; kregctl send ctl.json hello && "
			"for i in 1 2 3 4 5 6 7 8 9 10; do grep -q hello /tmp/ctl.queue && break; "
			"sleep 0.5; done; grep -q ': hello$' /tmp/ctl.queue"));
	/* Queueing binds kregctl itself: with a PID it is a usage error. */
	EXPECT_EQ(2, sh("kregctl register ctl.other 1 --queue 2>/dev/null"));
}

TEST_F_TIMEOUT(plain, every_command_answers_help, CTL_TIMEOUT)
{
	static const char *const commands[] = {
		"register", "unregister", "update", "whereis", "await", "list", "send", "call", "cast",
		"stop", "run",
		"monitor", "bpf", "status", "policy",
	};
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		EXPECT_EQ(0, sh("kregctl %s --help | grep -q '^usage: kregctl \\[-j\\] %s$'",
				commands[i], commands[i]));
	EXPECT_EQ(0, sh("kregctl --help | grep -q -- '--json'"));
}

TEST_HARNESS_MAIN
