// SPDX-License-Identifier: GPL-2.0
/*
 * kregctl: the operator's view of the kreg registry.
 *
 * Exit status: 0 success, 1 the name is not registered, 2 any other error.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "kreg.h"
#include "kregctl.h"
#include "text.h"

static volatile sig_atomic_t stop_requested;

bool ctl_json;
struct json ctl_out;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* What each command takes and does, for the usage and for COMMAND --help. */
static const struct {
	const char *name;
	const char *help;
} usages[] = {
	{ "register", "  register NAME [PID] [--meta VALUE] [-n N] [--queue]\n"
	  "                           bind NAME to PID (your own child, or any process\n"
	  "                           with CAP_SYS_ADMIN), with an optional VALUE;\n"
	  "                           without PID, hold NAME as kregctl itself and\n"
	  "                           print what is sent to it until interrupted\n"
	  "                           (-n N: stop after N messages; --queue: if NAME\n"
	  "                           is held, wait in line and hold it when its\n"
	  "                           holder goes)\n" },
	{ "unregister", "  unregister NAME          release NAME\n" },
	{ "update", "  update NAME [VALUE]      change the value of NAME's registration in place\n"
	  "                           (without VALUE: empty); only its registrant may\n" },
	{ "whereis", "  whereis NAME             print the pid that holds NAME\n" },
	{ "await", "  await NAME [TIMEOUT_MS]  wait until NAME is registered, print its pid\n" },
	{ "list", "  list [PATTERN] [--pid PID]\n"
	  "                           print the names (that match PATTERN: NAME, PREFIX.*\n"
	  "                           or *; held by PID): NAME NODE PID UID REGISTERED\n"
	  "                           MAILBOX COMM UNIT (its systemd unit) META (a cluster\n"
	  "                           name held on another node: its node, its pid there)\n" },
	{ "send", "  send NAME MESSAGE        deliver MESSAGE to NAME's mailbox (- reads stdin);\n"
	  "                           a cluster name held on another node through kregd\n" },
	{ "call", "  call NAME REQUEST [--timeout MS]\n"
	  "                           call the server NAME (as kreg_call(): its\n"
	  "                           handle_call answers) and print the answer\n" },
	{ "cast", "  cast NAME MESSAGE        cast MESSAGE to the server NAME (handle_cast)\n" },
	{ "stop", "  stop NAME [--timeout MS] stop the server NAME (its terminate runs; only\n"
	  "                           its owner may)\n" },
	{ "run", "  run NAME [--restart permanent|transient|temporary] [--max-restarts N]\n"
	  "      [--max-seconds S] [--shutdown MS] -- CMD [ARGS]\n"
	  "                           run CMD under NAME, restarted as asked (default:\n"
	  "                           permanent, at most 3 restarts in 5 s, SIGKILL 5 s\n"
	  "                           after SIGTERM); SIGINT or SIGTERM stops it\n" },
	{ "monitor", "  monitor [-n N]           print registrations, updates and unregistrations\n"
	  "                           as they happen (-n N: stop after N events)\n" },
	{ "bpf", "  bpf attach|detach|status BPF exit cleanup: names vanish the instant their\n"
	  "                           process dies (pinned under " KREG_BPF_PIN_DIR ")\n" },
	{ "status", "  status                   the module's version, names held, limits, your\n"
	  "                           uid's quota, exit cleanup, policy\n" },
	{ "cluster", "  cluster status           this node in its cluster (kregd): lease, time left\n"
	  "                           before fencing, etcd endpoints, the copy's age, and\n"
	  "                           the links to peers: state, round trip, queued bytes\n" },
	{ "policy", "  policy load FILE|DIR     replace the access policy by the rules of FILE, or\n"
	  "                           of DIR/*.conf (e.g. /etc/kreg/policy.d)\n"
	  "  policy check-file FILE|DIR\n"
	  "                           read the rules as load would, load nothing (no\n"
	  "                           module needed)\n"
	  "  policy unload            back to the defaults (no policy)\n"
	  "  policy show              print the loaded rules, with where each came from\n"
	  "  policy check UID NAME own|see|send\n"
	  "  policy check node NODE NAME own|see|send\n"
	  "                           say whether UID (a number or a user), or a process\n"
	  "                           of node NODE that kregd relays, may, and what\n"
	  "                           decides it (exit status 1: it may not)\n" },
};

static const char usage_tail[] =
	"\n"
	"Options (before COMMAND):\n"
	"  -j, --json               print JSON: one document, or one line per event or\n"
	"                           message for monitor and register\n"
	"  -h, --help               this text; COMMAND --help: that command's\n"
	"  -V, --version            kregctl's version and its protocol's\n"
	"\n"
	"Exit status: 0 success, 1 name not registered, 2 error.\n";

void ctl_usage(FILE *out)
{
	size_t i;

	fputs("usage: kregctl [-j] COMMAND [ARGS]\n\n", out);
	for (i = 0; i < sizeof(usages) / sizeof(usages[0]); i++)
		fputs(usages[i].help, out);
	fputs(usage_tail, out);
}

/* COMMAND --help: that command alone; after a mistake, without the options. */
static void command_usage(const char *name, FILE *out, bool full)
{
	size_t i;

	for (i = 0; i < sizeof(usages) / sizeof(usages[0]); i++)
		if (!strcmp(usages[i].name, name))
			fprintf(out, "usage: kregctl [-j] %s\n\n%s%s", name, usages[i].help,
				full ? usage_tail : "");
}

/* The command being run (argv[1]), for its usage on a mistake. */
static const char *ctl_command = "kregctl";
static struct kreg_conn *ctl_conn;

/* One line on standard error; under -j, a JSON object there instead. */
static void ctl_error(const char *what, const char *message, int err)
{
	struct json j;

	if (!ctl_json) {
		fprintf(stderr, "kregctl: %s: %s\n", what, message);
		return;
	}
	json_start(&j, stderr);
	json_object(&j, NULL);
	json_string(&j, "error", message);
	json_string(&j, "about", what);
	json_int(&j, "errno", err < 0 ? -err : err);
	json_end(&j, '}');
}

int ctl_bad_usage(const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ctl_error(ctl_command, what, EINVAL);
	if (!ctl_json)
		command_usage(ctl_command, stderr, false);
	return EXIT_ERROR;
}

/* Reports @err for @what in the kernel's own words when it gave some. */
int ctl_fail(struct kreg_conn *conn, const char *what, int err)
{
	const char *detail = conn ? kreg_last_error(conn) : "";

	ctl_error(what, *detail ? detail : kreg_strerror(err), err);
	return err == -ENOENT ? EXIT_NOTFOUND : EXIT_ERROR;
}

int ctl_open(struct kreg_conn **connp)
{
	int err;

	/* An operator's tool: always the host's table, whatever KREG_REGISTRY says. */
	if (!ctl_conn) {
		err = kreg_open_provider(&ctl_conn, KREG_PROVIDER_KERNEL);
		if (err) {
			/* kreg_strerror() carries the hint: how to load it. */
			ctl_error(ctl_command, kreg_strerror(err), err);
			return EXIT_ERROR;
		}
	}
	*connp = ctl_conn;
	return 0;
}

int ctl_check_name(const char *name)
{
	const char *problem = kreg_name_problem_of(name, strnlen(name, KREG_NAME_MAX + 1));

	if (!problem)
		return 0;
	ctl_error(name, problem, EINVAL);
	return EXIT_ERROR;
}

static int parse_int(const char *what, const char *text, long min, long *out)
{
	char *end;

	*out = strtol(text, &end, 10);
	if (*end || end == text || *out < min) {
		ctl_bad_usage("%s wants a number >= %ld, not '%s'", what, min, text);
		return -EINVAL;
	}
	return 0;
}

/* An optional "-n N" at argv[*i]: a positive count, and *i past it. */
static int parse_count(int argc, char **argv, int *i, long *count)
{
	if (*i + 1 < argc && strcmp(argv[*i], "-n") == 0) {
		if (parse_int("-n", argv[*i + 1], 1, count))
			return -EINVAL;
		*i += 2;
	}
	return 0;
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/*
 * Bytes another process chose (a message, a server's answer), as text:
 * never raw to a terminal, as they are to a pipe.
 */
static void print_payload(const void *data, size_t len)
{
	if (isatty(STDOUT_FILENO))
		text_write_escaped(stdout, data, len);
	else
		fwrite(data, 1, len, stdout);
	putchar('\n');
}

static int serve(struct kreg_conn *conn, const char *name, long count)
{
	static struct kreg_message msg;
	int err;

	catch_stop_signals();
	fprintf(stderr, "kregctl: %s registered to pid %d; printing messages sent to it (Ctrl-C stops)\n",
		name, (int)getpid());
	while (!stop_requested && count != 0) {
		err = kreg_recv(conn, &msg, 250);
		if (err == -ETIMEDOUT)
			continue;
		if (err)
			return ctl_fail(conn, "receive", err);
		if (ctl_json) {
			json_object(&ctl_out, NULL);
			json_string(&ctl_out, "name", msg.name);
			json_int(&ctl_out, "sender_pid", msg.sender);
			json_uint(&ctl_out, "sender_uid", msg.sender_uid);
			json_uint(&ctl_out, "sender_gid", msg.sender_gid);
			json_uint(&ctl_out, "sender_cgroup", msg.sender_cgroup);
			json_bytes(&ctl_out, "data", msg.data, msg.len);
			json_end(&ctl_out, '}');
		} else {
			printf("%s from %d (uid %u): ", msg.name, (int)msg.sender,
			       (unsigned int)msg.sender_uid);
			print_payload(msg.data, msg.len);
		}
		fflush(stdout);
		if (count > 0)
			count--;
	}
	err = kreg_unregister(conn, name);
	return err ? ctl_fail(conn, name, err) : 0;
}

/* NAME and its PID (0: undefined), the answer of register, whereis and await. */
static void print_name_pid(const char *name, pid_t pid)
{
	if (!ctl_json) {
		if (pid)
			printf("%s %d\n", name, (int)pid);
		return;
	}
	json_object(&ctl_out, NULL);
	json_string(&ctl_out, "name", name);
	if (pid)
		json_int(&ctl_out, "pid", pid);
	else
		json_null(&ctl_out, "pid");
	json_end(&ctl_out, '}');
}

/* The answer of whereis and await: the pid alone as text. */
static void print_pid(const char *name, pid_t pid)
{
	if (ctl_json)
		print_name_pid(name, pid);
	else
		printf("%d\n", (int)pid);
}

static int cmd_register(struct kreg_conn *conn, int argc, char **argv)
{
	const char *meta = NULL;
	bool queue = false;
	long count = -1;
	pid_t pid = 0, holder = 0;
	char *end;
	int i, err;

	if (argc < 2)
		return ctl_bad_usage("which NAME?");
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--meta") && i + 1 < argc) {
			meta = argv[++i];
		} else if (!strcmp(argv[i], "--queue")) {
			queue = true;
		} else if (!strcmp(argv[i], "-n")) {
			if (i + 1 >= argc)
				return ctl_bad_usage("-n takes a count");
			if (parse_count(argc, argv, &i, &count))
				return EXIT_ERROR;
			i--;
		} else if (!pid) {
			long v = strtol(argv[i], &end, 10);

			if (*end || end == argv[i] || v <= 0 || v > INT_MAX)
				return ctl_bad_usage("'%s' is not a pid", argv[i]);
			pid = (pid_t)v;
		} else {
			return ctl_bad_usage("unexpected argument '%s'", argv[i]);
		}
	}
	if (queue && pid)
		return ctl_bad_usage("--queue holds NAME as kregctl itself: no PID");
	if (ctl_check_name(argv[1]) || ctl_open(&conn))
		return EXIT_ERROR;
	if (queue)
		err = kreg_register_queued(conn, argv[1], meta, meta ? strlen(meta) : 0, &holder);
	else
		err = kreg_register_meta(conn, argv[1], pid, meta, meta ? strlen(meta) : 0,
					 &holder);
	if (err == -EINPROGRESS) {
		/* In line: the name is this process's the moment its holder goes. */
		if (holder)
			fprintf(stderr, "kregctl: %s is held by pid %d; waiting in line for it\n",
				argv[1], (int)holder);
		else
			fprintf(stderr, "kregctl: %s is held by a process you cannot see; waiting in line for it\n",
				argv[1]);
		err = kreg_await_own(conn, argv[1], -1);
		if (err) {
			/* Its own words: the handle's last error is the registration's. */
			ctl_error(argv[1], kreg_strerror(err), -err);
			return EXIT_ERROR;
		}
	}
	if (err == -EEXIST && holder) {
		char why[64];

		snprintf(why, sizeof(why), "already registered to pid %d", (int)holder);
		ctl_error(argv[1], why, EEXIST);
		return EXIT_ERROR;
	}
	if (err)
		return ctl_fail(conn, argv[1], err);
	if (pid) {
		print_name_pid(argv[1], holder);
		return 0;
	}
	return serve(conn, argv[1], count);
}

static int cmd_unregister(struct kreg_conn *conn, int argc, char **argv)
{
	int err;

	if (argc != 2)
		return ctl_bad_usage(argc < 2 ? "which NAME?" : "one NAME only");
	if (ctl_check_name(argv[1]) || ctl_open(&conn))
		return EXIT_ERROR;
	err = kreg_unregister(conn, argv[1]);
	return err ? ctl_fail(conn, argv[1], err) : 0;
}

static int cmd_update(struct kreg_conn *conn, int argc, char **argv)
{
	const char *value = argc > 2 ? argv[2] : "";
	int err;

	if (argc < 2 || argc > 3)
		return ctl_bad_usage(argc < 2 ? "which NAME?" : "one NAME and one VALUE only");
	if (ctl_check_name(argv[1]) || ctl_open(&conn))
		return EXIT_ERROR;
	err = kreg_update_meta(conn, argv[1], value, strlen(value));
	return err ? ctl_fail(conn, argv[1], err) : 0;
}

static int cmd_whereis(struct kreg_conn *conn, int argc, char **argv)
{
	pid_t pid;
	int ret;

	if (argc != 2)
		return ctl_bad_usage(argc < 2 ? "which NAME?" : "one NAME only");
	if (ctl_check_name(argv[1]) || ctl_open(&conn))
		return EXIT_ERROR;
	ret = kreg_whereis_name(conn, argv[1], &pid);
	if (ret == KREG_UNDEFINED) {
		print_name_pid(argv[1], 0);
		fprintf(stderr, "kregctl: %s: undefined (no live process holds it)\n", argv[1]);
		return EXIT_NOTFOUND;
	}
	if (ret)
		return ctl_fail(conn, argv[1], ret);
	print_pid(argv[1], pid);
	return 0;
}

/* A registration's value: printable UTF-8 as is, escaped where not. */
static void print_value(FILE *out, const unsigned char *v, size_t len)
{
	if (!len)
		fputs("-", out);
	text_write_escaped(out, v, len);
}

static int cmd_await(struct kreg_conn *conn, int argc, char **argv)
{
	long timeout = -1;
	char *end;
	pid_t pid;
	int err;

	if (argc < 2 || argc > 3)
		return ctl_bad_usage(argc < 2 ? "which NAME?" : "NAME and a timeout only");
	if (argc == 3) {
		timeout = strtol(argv[2], &end, 10);
		if (*end || timeout < 0 || timeout > INT_MAX)
			return ctl_bad_usage("'%s' is not a timeout in milliseconds", argv[2]);
	}
	if (ctl_check_name(argv[1]) || ctl_open(&conn))
		return EXIT_ERROR;
	err = kreg_await_name(conn, argv[1], (int)timeout, &pid);
	if (err == -ETIMEDOUT) {
		print_name_pid(argv[1], 0);
		fprintf(stderr, "kregctl: %s: still undefined after %ld ms\n", argv[1], timeout);
		return EXIT_NOTFOUND;
	}
	if (err)
		return ctl_fail(conn, argv[1], err);
	print_pid(argv[1], pid);
	return 0;
}

/* The child of `kregctl run`: it has taken its name; now it becomes CMD. */
static int exec_command(struct kreg_conn *conn, void *arg)
{
	char **argv = arg;

	(void)conn;
	execvp(argv[0], argv);
	fprintf(stderr, "kregctl: run: %s: %s\n", argv[0], strerror(errno));
	return 127;
}

static int cmd_run(struct kreg_conn *conn, int argc, char **argv)
{
	static const char *const types[] = { "permanent", "transient", "temporary" };
	struct kreg_child_spec spec = { .start = exec_command, .shutdown_ms = 5000 };
	long max_restarts = 3, max_seconds = 5, shutdown = 5000;
	struct kreg_supervisor *sup;
	pid_t pid;
	int i, err;

	for (i = 2; i < argc && strcmp(argv[i], "--"); i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		size_t t;

		if (!val)
			goto usage;
		if (!strcmp(opt, "--restart")) {
			for (t = 0; t < 3 && strcmp(val, types[t]); t++)
				;
			if (t == 3)
				goto usage;
			spec.restart = (enum kreg_restart)t;
		} else if (!strcmp(opt, "--max-restarts")) {
			if (parse_int(opt, val, 0, &max_restarts))
				return EXIT_ERROR;
		} else if (!strcmp(opt, "--max-seconds")) {
			if (parse_int(opt, val, 1, &max_seconds))
				return EXIT_ERROR;
		} else if (!strcmp(opt, "--shutdown")) {
			if (parse_int(opt, val, 0, &shutdown))
				return EXIT_ERROR;
		} else {
			goto usage;
		}
	}
	if (argc < 2 || i >= argc - 1)
		goto usage;
	spec.name = argv[1];
	spec.arg = &argv[i + 1];
	spec.shutdown_ms = (int)shutdown;
	if (ctl_check_name(spec.name) || ctl_open(&conn))
		return EXIT_ERROR;

	/* Say so now rather than have the child fail to take a held name. */
	if (kreg_whereis_name(conn, spec.name, &pid) == 0) {
		fprintf(stderr, "kregctl: %s is already registered to pid %d\n", spec.name,
			(int)pid);
		return EXIT_ERROR;
	}
	err = kreg_supervisor_new_on(&sup, conn, KREG_ONE_FOR_ONE, (int)max_restarts,
				     (int)max_seconds);
	if (!err)
		err = kreg_start_child(sup, &spec, &pid, NULL);
	/* Not a request on conn: its last error would be the lookup's above. */
	if (err)
		return ctl_fail(NULL, "run", err);
	fprintf(stderr, "kregctl: supervising %s: %s (pid %d)\n", spec.name, argv[i + 1],
		(int)pid);

	catch_stop_signals();
	do {
		err = kreg_supervisor_run(sup, 250);
	} while (err == -ETIMEDOUT && !stop_requested);
	kreg_supervisor_free(sup);
	if (err == -ELOOP) {
		fprintf(stderr, "kregctl: %s restarted more than %ld times in %ld s; stopped\n",
			spec.name, max_restarts, max_seconds);
		return EXIT_ERROR;
	}
	if (err && err != -ETIMEDOUT)
		return ctl_fail(NULL, "run", err);
	return 0;
usage:
	return ctl_bad_usage("NAME, options, then -- and the command to run");
}

/* One try at a listing: text lines, or a whole JSON document, in a buffer. */
struct listing {
	FILE *out;
	struct json json;
};

/*
 * What this host says of holder @pid: its command (comm, which the process
 * sets itself: shown escaped) and its systemd unit, from its cgroup v2
 * path ("-" when it has none, or is another node's).
 */
static void holder_comm_unit(pid_t pid, char *comm, size_t csize, char *unit, size_t usize)
{
	char path[64], line[512];
	FILE *f;

	snprintf(comm, csize, "-");
	snprintf(unit, usize, "-");
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(comm, csize, "%.*s", (int)csize - 1, line);
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	/*
	 * The first unit from the root, as sd_pid_get_unit() takes it: below a
	 * user's manager (user@UID.service) the user names cgroups as it likes,
	 * so what is deeper is that user's to say, not the system's.
	 */
	while (fgets(line, sizeof(line), f)) {
		char *part, *save = NULL;

		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "0::", 3))
			continue;
		for (part = strtok_r(line + 3, "/", &save); part;
		     part = strtok_r(NULL, "/", &save)) {
			size_t n = strlen(part);

			if ((n > 8 && !strcmp(part + n - 8, ".service")) ||
			    (n > 6 && !strcmp(part + n - 6, ".scope"))) {
				snprintf(unit, usize, "%.*s", (int)usize - 1, part);
				break;
			}
		}
	}
	fclose(f);
}

static int print_entry(const struct kreg_entry_info *e, void *arg)
{
	char comm[64], unit[256];
	time_t secs = (time_t)(e->registered_ns / 1000000000ULL);
	struct listing *l = arg;
	char when[32];
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	holder_comm_unit(e->node && !e->pid ? 0 : e->pid, comm, sizeof(comm), unit, sizeof(unit));
	if (ctl_json) {
		json_object(&l->json, NULL);
		json_string(&l->json, "name", e->name);
		if (e->node)
			json_string(&l->json, "node", e->node);
		else
			json_null(&l->json, "node");
		/* A holder on another node: its pid there (local: false). */
		json_int(&l->json, "pid", e->node && !e->pid ? e->remote_pid : e->pid);
		json_bool(&l->json, "local", !(e->node && !e->pid));
		if (e->token)
			json_uint(&l->json, "token", e->token);
		if (e->uid != (uid_t)-1)
			json_uint(&l->json, "uid", e->uid);
		else
			json_null(&l->json, "uid");
		json_string(&l->json, "registered", when);
		json_uint(&l->json, "registered_ns", e->registered_ns);
		json_bool(&l->json, "mailbox", e->has_mailbox);
		json_bytes(&l->json, "comm", comm, strlen(comm));
		if (strcmp(unit, "-"))
			json_bytes(&l->json, "unit", unit, strlen(unit));
		else
			json_null(&l->json, "unit");
		if (e->meta_len)
			json_bytes(&l->json, "meta", e->meta, e->meta_len);
		else
			json_null(&l->json, "meta");
		json_end(&l->json, '}');
		return 0;
	}
	if (e->node && !e->pid)
		/* Held on another node: its pid there, and no uid of this host's. */
		fprintf(l->out, "%-32s %-12s %8d %6s %s %-7s ", e->name, e->node,
			(int)e->remote_pid, "-", when, e->has_mailbox ? "yes" : "no");
	else
		fprintf(l->out, "%-32s %-12s %8d %6u %s %-7s ", e->name, e->node ? e->node : "-",
			(int)e->pid, (unsigned int)e->uid, when, e->has_mailbox ? "yes" : "no");
	/* The command, and a unit's name, are the holder's choice: escaped, as values are. */
	text_write_escaped(l->out, comm, strlen(comm));
	fprintf(l->out, "%*s ", (int)(15 - (strlen(comm) < 15 ? strlen(comm) : 15)), "");
	text_write_escaped(l->out, unit, strlen(unit));
	fprintf(l->out, "%*s ", (int)(24 - (strlen(unit) < 24 ? strlen(unit) : 24)), "");
	print_value(l->out, e->meta, e->meta_len);
	fputc('\n', l->out);
	return 0;
}

/* Tries this often for a listing during which the table did not change. */
#define LIST_TRIES 5

static int cmd_list(struct kreg_conn *conn, int argc, char **argv)
{
	struct kreg_match match = { 0 };
	struct listing l;
	char *text = NULL;
	size_t size = 0;
	long pid;
	int i, tries, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pid") && i + 1 < argc) {
			if (parse_int("--pid", argv[++i], 1, &pid) || pid > INT_MAX)
				return ctl_bad_usage("--pid takes a process id");
			match.pid = (pid_t)pid;
		} else if (!match.pattern && argv[i][0] != '-') {
			if (kreg_pattern_problem_of(argv[i]))
				return ctl_bad_usage("'%s' is no pattern: %s", argv[i],
						     kreg_pattern_problem_of(argv[i]));
			match.pattern = argv[i];
		} else {
			return ctl_bad_usage("unexpected argument '%s'", argv[i]);
		}
	}
	if (ctl_open(&conn))
		return EXIT_ERROR;
	for (tries = 0; tries < LIST_TRIES; tries++) {
		free(text);
		text = NULL;
		l.out = open_memstream(&text, &size);
		if (!l.out)
			return ctl_fail(NULL, "list", -errno);
		json_start(&l.json, l.out);
		if (ctl_json) {
			json_object(&l.json, NULL);
			json_array(&l.json, "names");
		}
		err = kreg_select(conn, &match, print_entry, &l);
		if (ctl_json) {
			json_end(&l.json, ']');
			/* false: the table kept changing, and this is not a snapshot. */
			json_bool(&l.json, "snapshot", err != -EINTR);
			json_end(&l.json, '}');
		}
		fclose(l.out);
		if (err != -EINTR)
			break;
	}
	if (err && err != -EINTR) {
		free(text);
		return ctl_fail(conn, "list", err);
	}
	if (!ctl_json)
		printf("%-32s %-12s %8s %6s %-20s %-7s %-15s %-24s %s\n", "NAME", "NODE", "PID",
		       "UID", "REGISTERED", "MAILBOX", "COMM", "UNIT", "META");
	fputs(text ? text : "", stdout);
	free(text);
	if (err == -EINTR)
		fprintf(stderr, "kregctl: the registry kept changing; this listing is not a "
			"snapshot (%d tries)\n", LIST_TRIES);
	return 0;
}

static int cmd_send(struct kreg_conn *conn, int argc, char **argv)
{
	static char buf[KREG_PAYLOAD_MAX + 1];
	const char *data;
	size_t len;
	int err;

	if (argc != 3)
		return ctl_bad_usage(argc < 3 ? "NAME and MESSAGE, please" : "one MESSAGE only "
				     "(quote it)");
	if (ctl_check_name(argv[1]))
		return EXIT_ERROR;
	if (strcmp(argv[2], "-") == 0) {
		len = fread(buf, 1, sizeof(buf), stdin);
		if (ferror(stdin)) {
			perror("kregctl: stdin");
			return EXIT_ERROR;
		}
		data = buf;
	} else {
		data = argv[2];
		len = strlen(data);
	}
	if (ctl_open(&conn))
		return EXIT_ERROR;
	err = kreg_send(conn, argv[1], data, len);
	if (err == -EREMOTE && !strncmp(argv[1], KREG_CLUSTER_PREFIX, strlen(KREG_CLUSTER_PREFIX))) {
		/* Held on another node: kregd relays it there, through the cluster provider. */
		struct kreg_conn *cluster;

		err = kreg_open_provider(&cluster, KREG_PROVIDER_CLUSTER);
		if (err)
			return ctl_fail(conn, argv[1], err);
		err = kreg_send(cluster, argv[1] + strlen(KREG_CLUSTER_PREFIX), data, len);
		err = err ? ctl_fail(cluster, argv[1], err) : 0;
		kreg_close(cluster);
		return err;
	}
	return err ? ctl_fail(conn, argv[1], err) : 0;
}

/*
 * call, cast and stop: a server's frames, as busctl call speaks D-Bus.
 * NAME, then at most one payload and an optional --timeout MS.
 */
static int server_args(int argc, char **argv, bool payload, const char **data,
		       long *timeout)
{
	int i, n = 0;

	*data = NULL;
	*timeout = 5000;
	if (argc < 2)
		return ctl_bad_usage("which NAME?");
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout")) {
			if (i + 1 >= argc)
				return ctl_bad_usage("--timeout takes milliseconds");
			if (parse_int("--timeout", argv[++i], 0, timeout) || *timeout > INT_MAX)
				return EXIT_ERROR;
		} else if (payload && !n++) {
			*data = argv[i];
		} else {
			return ctl_bad_usage("unexpected argument '%s'", argv[i]);
		}
	}
	if (payload && !*data)
		return ctl_bad_usage("what to send?");
	return ctl_check_name(argv[1]);
}

static int cmd_call(struct kreg_conn *conn, int argc, char **argv)
{
	static char reply[KREG_CALL_MAX];
	struct kreg_via via;
	const char *req;
	size_t len = 0;
	long timeout;
	int err;

	if (server_args(argc, argv, true, &req, &timeout) || ctl_open(&conn))
		return EXIT_ERROR;
	err = kreg_via_tuple(conn, argv[1], &via);
	if (!err)
		err = kreg_call(&via, req, strlen(req), reply, sizeof(reply), &len, (int)timeout);
	if (err)
		return ctl_fail(conn, argv[1], err);
	if (ctl_json) {
		json_object(&ctl_out, NULL);
		json_string(&ctl_out, "name", argv[1]);
		json_bytes(&ctl_out, "reply", reply, len);
		json_end(&ctl_out, '}');
		return 0;
	}
	print_payload(reply, len);
	return 0;
}

/* cast NAME MESSAGE, stop NAME: a frame that needs no answer's bytes. */
static int cast_or_stop(struct kreg_conn *conn, int argc, char **argv, bool stop)
{
	struct kreg_via via;
	const char *msg;
	long timeout;
	int err;

	if (server_args(argc, argv, !stop, &msg, &timeout) || ctl_open(&conn))
		return EXIT_ERROR;
	err = kreg_via_tuple(conn, argv[1], &via);
	if (!err)
		err = stop ? kreg_stop(&via, (int)timeout) : kreg_cast(&via, msg, strlen(msg));
	return err ? ctl_fail(conn, argv[1], err) : 0;
}

static int cmd_cast(struct kreg_conn *conn, int argc, char **argv)
{
	return cast_or_stop(conn, argc, argv, false);
}

static int cmd_stop(struct kreg_conn *conn, int argc, char **argv)
{
	return cast_or_stop(conn, argc, argv, true);
}

static const char *event_kind_name(enum kreg_event_kind kind)
{
	switch (kind) {
	case KREG_EVENT_REGISTERED:
		return "registered";
	case KREG_EVENT_UPDATED:
		return "updated";
	case KREG_EVENT_UNREGISTERED:
		break;
	}
	return "unregistered";
}

static int cmd_monitor(struct kreg_conn *conn, int argc, char **argv)
{
	struct kreg_event ev;
	long count = -1;
	int i = 1, err;

	if (parse_count(argc, argv, &i, &count))
		return EXIT_ERROR;
	if (i != argc)
		return ctl_bad_usage("unexpected argument '%s'", argv[i]);
	if (ctl_open(&conn))
		return EXIT_ERROR;
	err = kreg_subscribe(conn);
	if (err)
		return ctl_fail(conn, "monitor", err);
	catch_stop_signals();
	while (!stop_requested && count != 0) {
		err = kreg_next_event(conn, &ev, 250);
		if (err == -ETIMEDOUT)
			continue;
		if (err == -ENOBUFS) {
			fprintf(stderr, "kregctl: monitor: %s\n", kreg_strerror(err));
			continue;
		}
		if (err)
			return ctl_fail(conn, "monitor", err);
		if (ctl_json) {
			json_object(&ctl_out, NULL);
			json_string(&ctl_out, "event", event_kind_name(ev.kind));
			json_string(&ctl_out, "name", ev.name);
			json_int(&ctl_out, "pid", ev.pid);
			json_uint(&ctl_out, "uid", ev.uid);
			if (ev.kind != KREG_EVENT_UNREGISTERED)
				json_bytes(&ctl_out, "meta", ev.meta, ev.meta_len);
			else
				json_string(&ctl_out, "reason", kreg_reason_name(ev.reason));
			json_end(&ctl_out, '}');
		} else if (ev.kind != KREG_EVENT_UNREGISTERED) {
			printf("%s %s pid=%d uid=%u", event_kind_name(ev.kind), ev.name,
			       (int)ev.pid, (unsigned int)ev.uid);
			if (ev.meta_len) {
				fputs(" meta=", stdout);
				print_value(stdout, ev.meta, ev.meta_len);
			}
			putchar('\n');
		} else
			printf("unregistered %s pid=%d uid=%u reason=%s\n", ev.name,
			       (int)ev.pid, (unsigned int)ev.uid,
			       kreg_reason_name(ev.reason));
		fflush(stdout);
		if (count > 0)
			count--;
	}
	return 0;
}

static int bpf_status(void)
{
	struct cleanup_status st;
	int err = cleanup_status(&st);

	if (err) {
		fprintf(stderr, "kregctl: bpf status: %s\n", strerror(-err));
		return EXIT_ERROR;
	}
	if (ctl_json) {
		json_object(&ctl_out, NULL);
		json_bool(&ctl_out, "attached", st.attached);
		if (st.attached) {
			json_uint(&ctl_out, "link_id", st.link_id);
			json_uint(&ctl_out, "prog_id", st.prog_id);
			json_string(&ctl_out, "pin_dir", KREG_BPF_PIN_DIR);
			json_uint(&ctl_out, "exits", st.totals.exits);
			json_uint(&ctl_out, "holders_released", st.totals.holders);
		}
		json_end(&ctl_out, '}');
		return 0;
	}
	if (!st.attached) {
		printf("exit cleanup: detached (names of dead processes go at their next lookup)\n");
		return 0;
	}
	printf("exit cleanup: attached (link %u, program %u, pinned under %s)\n",
	       st.link_id, st.prog_id, KREG_BPF_PIN_DIR);
	printf("task exits seen: %llu\nprocesses whose names it released: %llu\n",
	       (unsigned long long)st.totals.exits, (unsigned long long)st.totals.holders);
	return 0;
}

/* What attach or detach did: @attached now, and whether it already was so. */
static void print_attach(bool attached, bool already, const char *text)
{
	if (!ctl_json) {
		puts(text);
		return;
	}
	json_object(&ctl_out, NULL);
	json_bool(&ctl_out, "attached", attached);
	json_bool(&ctl_out, "changed", !already);
	json_end(&ctl_out, '}');
}

static int cmd_bpf(struct kreg_conn *conn, int argc, char **argv)
{
	char why[256];
	int err;

	(void)conn;
	if (argc == 2 && !strcmp(argv[1], "status"))
		return bpf_status();
	if (argc == 2 && !strcmp(argv[1], "detach")) {
		err = cleanup_detach();
		if (err < 0) {
			fprintf(stderr, "kregctl: bpf detach: %s\n", strerror(-err));
			return EXIT_ERROR;
		}
		print_attach(false, err, err ? "exit cleanup was not attached" :
			     "exit cleanup detached");
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "attach")) {
		err = cleanup_attach(why, sizeof(why));
		if (err < 0) {
			fprintf(stderr, "kregctl: bpf attach: %s\n",
				err == -EPROTONOSUPPORT ? kreg_strerror(err) :
				*why ? why : strerror(-err));
			return EXIT_ERROR;
		}
		print_attach(true, err, err ? "exit cleanup was already attached" :
			     "exit cleanup attached; rmmod kreg fails until `kregctl bpf detach`");
		return 0;
	}
	return ctl_bad_usage("attach, detach or status?");
}

/* What modinfo calls the loaded module's version ("" if unknown). */
static void module_version(char *buf, size_t size)
{
	FILE *f = fopen("/sys/module/kreg/version", "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, (int)size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static int cmd_status(struct kreg_conn *conn, int argc, char **argv)
{
	struct cleanup_status cleanup;
	struct kreg_status st;
	char version[64];
	bool known;
	int err;

	if (argc != 1)
		return ctl_bad_usage("unexpected argument '%s'", argv[1]);
	if (ctl_open(&conn))
		return EXIT_ERROR;
	err = kreg_status(conn, &st);
	if (err)
		return ctl_fail(conn, "status", err);
	module_version(version, sizeof(version));
	known = cleanup_status(&cleanup) == 0;
	if (ctl_json) {
		json_object(&ctl_out, NULL);
		json_string(&ctl_out, "version", version);
		json_uint(&ctl_out, "entries", st.entries);
		json_uint(&ctl_out, "max_entries", st.max_entries);
		json_uint(&ctl_out, "uid", st.uid);
		json_uint(&ctl_out, "uid_entries", st.uid_entries);
		json_uint(&ctl_out, "max_per_uid", st.max_per_uid);
		json_uint(&ctl_out, "uid_subscriptions", st.uid_subscriptions);
		json_uint(&ctl_out, "max_subscriptions", st.max_subscriptions);
		if (known)
			json_bool(&ctl_out, "exit_cleanup", cleanup.attached);
		else
			json_null(&ctl_out, "exit_cleanup");
		json_bool(&ctl_out, "policy_loaded", st.policy_loaded);
		json_uint(&ctl_out, "policy_rules", st.policy_rules);
		json_end(&ctl_out, '}');
		return 0;
	}
	printf("module: kreg %s\n", *version ? version : "(version unknown)");
	printf("names: %zu of at most %zu (max_entries)\n", st.entries, st.max_entries);
	printf("uid %u holds: %zu of at most %zu (max_per_uid)\n", (unsigned int)st.uid,
	       st.uid_entries, st.max_per_uid);
	printf("uid %u subscribes: %zu of at most %zu (max_subscriptions)\n",
	       (unsigned int)st.uid, st.uid_subscriptions, st.max_subscriptions);
	if (known)
		printf("exit cleanup: %s\n", cleanup.attached ? "attached" : "detached");
	if (st.policy_loaded)
		printf("policy: %zu rule%s (kregctl policy show)\n", st.policy_rules,
		       st.policy_rules == 1 ? "" : "s");
	else
		printf("policy: none (the defaults)\n");
	return 0;
}

static const struct {
	const char *name;
	int (*run)(struct kreg_conn *conn, int argc, char **argv);
} commands[] = {
	{ "register", cmd_register },
	{ "unregister", cmd_unregister },
	{ "update", cmd_update },
	{ "whereis", cmd_whereis },
	{ "await", cmd_await },
	{ "list", cmd_list },
	{ "send", cmd_send },
	{ "monitor", cmd_monitor },
	{ "call", cmd_call },
	{ "cast", cmd_cast },
	{ "stop", cmd_stop },
	{ "run", cmd_run },
	{ "status", cmd_status },
	{ "policy", cmd_policy },
	{ "cluster", cmd_cluster },
	{ "bpf", cmd_bpf },
};

int main(int argc, char **argv)
{
	size_t i;
	int ret;

	json_start(&ctl_out, stdout);
	while (argc > 1 && (!strcmp(argv[1], "-j") || !strcmp(argv[1], "--json"))) {
		ctl_json = true;
		argc--;
		argv++;
	}
	if (argc < 2) {
		ctl_usage(stderr);
		return EXIT_ERROR;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		ctl_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("kregctl %s (libkreg on generic netlink family kreg, version %d)\n",
		       KREGCTL_VERSION, KREG_GENL_VERSION);
		return 0;
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "kregctl: unknown option '%s' (kregctl --help lists them)\n",
			argv[1]);
		return EXIT_ERROR;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "kregctl: unknown command '%s' (kregctl --help lists them)\n",
			argv[1]);
		return EXIT_ERROR;
	}
	ctl_command = argv[1];
	if (argc == 3 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
		command_usage(argv[1], stdout, true);
		return 0;
	}
	/* Each command checks its arguments, then opens the module (ctl_open()). */
	ret = commands[i].run(NULL, argc - 1, argv + 1);
	kreg_close(ctl_conn);
	return ret;
}
