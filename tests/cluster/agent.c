// SPDX-License-Identifier: GPL-2.0
/*
 * kreg-agent: the test harness's hands inside a cluster node (a QEMU
 * guest). It runs kregd, and does what the host's cluster tests ask over
 * a serial line of its own (/dev/ttyS1, not the network, which the tests
 * cut), a request a line:
 *
 *   ID REG NAME [VALUE]   a holder process registers NAME on the cluster
 *                         provider and keeps it: ID OK TOKEN NODE PID |
 *                         ID EEXIST NODE PID TOKEN | ID ERR ERRNO TEXT
 *   ID WHO NAME [lin]     ID HELD NODE PID TOKEN AGE_MS LOCAL | ID UNDEF | ID ERR ...
 *   ID CHECK NAME         the holder of NAME asks etcd whether it still holds
 *                         it (linearizable): ID OK TOKEN | ID ERR ERRNO TEXT
 *   ID UNREG NAME         the holder releases it: ID OK | ID ERR ...
 *   ID KILL NAME          SIGKILL to the holder: ID OK
 *   ID KREGD stop|start   kregd stops (SIGTERM) or starts: ID OK
 *   ID STATUS             ID STATUS LEASE DEADLINE_MS REACHABLE NAMES REVISION AGE_MS FENCED
 *   ID LIST               ID LIST N NAME@NODE:TOKEN ...
 *   ID MEM                what the node's registry takes: ID MEM KREGD_RSS_KB
 *                         KREG_SLAB_KB SHMEM_KB (kregd's resident memory, kreg.ko's
 *                         slab caches, the shared memory of the view)
 *   ID SUP NAME           a supervisor (on the cluster provider) starts a child
 *                         serving NAME, and restarts it when it dies: ID OK PID HOW
 *                         (HOW 0: started, 1: already started, PID 0 elsewhere)
 *   ID STARTLINK NAME [busy]
 *                         kreg_start_link() of a server on NAME (busy: 10 ms for
 *                         each message it is sent): ID OK PID HOW
 *   ID CALL NAME          kreg_call() through a via tuple: ID OK REPLY | ID ERR ...
 *   ID CAST NAME, ID STOP NAME
 *                         kreg_cast(), kreg_stop() through a via tuple: ID OK | ID ERR ...
 *   ID AWAIT NAME MS      kreg_await_name(): ID OK PID | ID ERR ERRNO TEXT
 *   ID WATCH NAME         from now on, tell when NAME goes: ID OK, then
 *                         "EV GONE NAME REASON" when it does (one at a time)
 *   ID SEND NAME TEXT [TOKEN]
 *                         kreg_send() (kreg_send_fenced() with TOKEN) on the
 *                         cluster provider: ID OK | ID ERR ERRNO TEXT
 *   ID LOCAL NAME         a holder process registers NAME as this node's own
 *                         (the kernel provider) and keeps it: ID OK 0 - PID
 *   ID IDS NAME switch|stay
 *                         a process of uid 1000 (saved uid 0) sends to NAME on the
 *                         cluster provider while kregd is stopped, and (switch) a
 *                         thread of it takes uid and gid 0 back before kregd goes
 *                         on: ID OK ERRNO, kreg_send()'s answer
 *   ID MULTI NAME TEXT    kreg_multi_send_each() of TEXT to every node's own NAME:
 *                         ID OK NODE:ERR ... | ID ERR ERRNO TEXT
 *   ID INBOX NAME         what NAME's holder (REG, LOCAL) received: its inbox's report
 *                         (mail.h)
 *   ID STREAM NAME TAG SENDERS COUNT SIZE
 *                         SENDERS processes send COUNT numbered messages each
 *                         to NAME (mail.h); the answer, the stream's report,
 *                         comes when they are done, other requests meanwhile
 *
 * and tells, unasked, what its holders learn: "EV FENCED NAME TOKEN" when
 * a holder's name is taken from it with reason "fenced". The host stamps
 * each line with its own clock as it arrives: that is the history the
 * tests check.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "kreg.h"
#include "mail.h"

#define HOLDERS_MAX	256

struct holder {
	char name[KREG_NAME_MAX + 1];
	pid_t pid;
	int fd;			/* socketpair to the holder process */
	uint64_t token;
	char stream_id[16];	/* a stream's: the request its report answers */
};

static struct holder holders[HOLDERS_MAX];
/* WATCH: a subscription, and the name it waits to see go. */
static struct kreg_conn *watcher;
static char watched[KREG_NAME_MAX + 1];
static int line_fd;
static pid_t kregd_pid;
static const char *kregd_config = "/etc/kreg/cluster.conf";

static void say(const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(line_fd, buf, (size_t)n) != n)
		_exit(3);
}

static struct holder *holder_of(const char *name)
{
	int i;

	for (i = 0; i < HOLDERS_MAX; i++)
		if (holders[i].pid && !strcmp(holders[i].name, name))
			return &holders[i];
	return NULL;
}

static void holder_forget(struct holder *h)
{
	close(h->fd);
	memset(h, 0, sizeof(*h));
}

/* --- a holder process: registers, then keeps its name and obeys ------------- */

static void holder_reply(int fd, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (send(fd, buf, (size_t)n, 0) != n)
		_exit(4);
}

enum holder_kind { HOLDER_CLUSTER, HOLDER_LOCAL, HOLDER_SUPERVISOR };

static void holder_main(int fd, const char *name, const char *value, enum holder_kind kind)
{
	static struct inbox inbox;
	static struct kreg_message m;
	static char report[8000];
	struct kreg_conn *c;
	struct kreg_holder h;
	struct kreg_event ev;
	struct pollfd p[2];
	char cmd[64];
	int err;

	err = kreg_open_provider(&c, kind == HOLDER_LOCAL ? KREG_PROVIDER_KERNEL :
				 KREG_PROVIDER_CLUSTER);
	if (err) {
		holder_reply(fd, "ERR %d %s", err, kreg_strerror(err));
		_exit(0);
	}
	kreg_subscribe(c);
	err = kreg_register_meta(c, name, 0, value, value ? strlen(value) : 0, NULL);
	kreg_last_holder(c, &h);
	if (err == -EEXIST) {
		holder_reply(fd, "EEXIST %s %d %llu", h.node, (int)h.pid,
			     (unsigned long long)h.token);
		_exit(0);
	}
	if (err) {
		holder_reply(fd, "ERR %d %s", err, kreg_last_error(c));
		_exit(0);
	}
	holder_reply(fd, "OK %llu %s %d", (unsigned long long)h.token, h.node, (int)getpid());
	p[0].fd = fd;
	p[0].events = POLLIN;
	p[1].fd = kreg_fd(c);
	p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents) {
			/* Events and mail share the socket: both are read out whole. */
			while (kreg_recv(c, &m, 0) == 0)
				inbox_take(&inbox, &m);
			while (kreg_next_event(c, &ev, 0) == 0) {
				if (ev.kind == KREG_EVENT_UNREGISTERED && !strcmp(ev.name, name) &&
				    ev.reason == KREG_REASON_FENCED)
					holder_reply(fd, "FENCED %llu", (unsigned long long)ev.token);
			}
			while (kreg_recv(c, &m, 0) == 0)
				inbox_take(&inbox, &m);
		}
		if (!p[0].revents)
			continue;
		ssize_t n = recv(fd, cmd, sizeof(cmd) - 1, 0);

		if (n <= 0)
			_exit(0);
		cmd[n] = '\0';
		if (!strcmp(cmd, "CHECK")) {
			err = kreg_whereis_holder(c, name, KREG_WHEREIS_LINEARIZABLE, &h);
			if (err == 0 && h.local && h.pid == getpid())
				holder_reply(fd, "OK %llu", (unsigned long long)h.token);
			else if (err == 0 || err == KREG_UNDEFINED)
				holder_reply(fd, "ERR %d not the holder (%s)", -ENOENT,
					     err ? "nobody" : h.node);
			else
				holder_reply(fd, "ERR %d %s", err, kreg_last_error(c));
		} else if (!strcmp(cmd, "INBOX")) {
			while (kreg_recv(c, &m, 0) == 0)
				inbox_take(&inbox, &m);
			inbox_report(&inbox, report, sizeof(report));
			holder_reply(fd, "%s", report);
		} else if (!strcmp(cmd, "UNREG") || !strcmp(cmd, "UPDATE")) {
			err = !strcmp(cmd, "UNREG") ? kreg_unregister(c, name) :
			      kreg_update_meta(c, name, "updated", 7);
			if (err)
				holder_reply(fd, "ERR %d %s", err, kreg_last_error(c));
			else
				holder_reply(fd, "OK");
		}
	}
}

/* --- the agent ---------------------------------------------------------------- */

static void supervisor_main(int fd, const char *name);

/*
 * Forks a child into a free holder slot, on a socket pair: a holder of
 * @name (with @value, or none), or a @supervisor that starts one.
 * Returns the slot, its pid in *@pid and our end in *@fd; or -1, said to @id.
 */
/* A free holder slot and a socket pair for its child: the slot, or -1, said to @id. */
static int holder_slot(const char *id, int sv[2])
{
	int i;

	for (i = 0; i < HOLDERS_MAX && holders[i].pid; i++)
		;
	if (i == HOLDERS_MAX || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		say("%s ERR %d no room", id, -ENOSPC);
		return -1;
	}
	return i;
}

static int spawn_holder(const char *id, const char *name, const char *value,
			enum holder_kind kind, pid_t *pid, int *fd)
{
	int sv[2], i = holder_slot(id, sv);

	if (i < 0)
		return -1;
	*pid = fork();
	if (*pid == 0) {
		close(sv[0]);
		if (kind == HOLDER_SUPERVISOR)
			supervisor_main(sv[1], name);
		else
			holder_main(sv[1], name, value, kind);
		_exit(0);
	}
	close(sv[1]);
	*fd = sv[0];
	return i;
}

/* Slot @i keeps child @pid, reached on @fd, as a holder of @name. */
static void keep_holder(int i, pid_t pid, int fd, const char *name)
{
	holders[i].pid = pid;
	holders[i].fd = fd;
	snprintf(holders[i].name, sizeof(holders[i].name), "%s", name);
}

static void cmd_reg(const char *id, const char *name, const char *value, enum holder_kind kind)
{
	char reply[512];
	int i, fd;
	pid_t pid;
	ssize_t n;

	i = spawn_holder(id, name, value, kind, &pid, &fd);
	if (i < 0)
		return;
	n = recv(fd, reply, sizeof(reply) - 1, 0);
	if (n <= 0) {
		say("%s ERR %d the holder died", id, -ECHILD);
		close(fd);
		waitpid(pid, NULL, 0);
		return;
	}
	reply[n] = '\0';
	if (strncmp(reply, "OK ", 3)) {
		close(fd);
		waitpid(pid, NULL, 0);
		say("%s %s", id, reply);
		return;
	}
	keep_holder(i, pid, fd, name);
	holders[i].token = strtoull(reply + 3, NULL, 10);
	say("%s %s", id, reply);
}

/* Asks holder @h, and gives its answer, while telling what else it says. */
static void ask_holder(const char *id, struct holder *h, const char *cmd)
{
	char reply[8192];
	ssize_t n;

	if (send(h->fd, cmd, strlen(cmd), 0) < 0) {
		say("%s ERR %d the holder is gone", id, -ESRCH);
		return;
	}
	for (;;) {
		n = recv(h->fd, reply, sizeof(reply) - 1, 0);
		if (n <= 0) {
			say("%s ERR %d the holder is gone", id, -ESRCH);
			return;
		}
		reply[n] = '\0';
		if (!strncmp(reply, "FENCED ", 7)) {
			say("EV FENCED %s %s", h->name, reply + 7);
			continue;
		}
		say("%s %s", id, reply);
		return;
	}
}

static void cmd_who(struct kreg_conn *c, const char *id, const char *name, bool lin)
{
	struct kreg_holder h;
	int err = kreg_whereis_holder(c, name, lin ? KREG_WHEREIS_LINEARIZABLE : 0, &h);

	if (err == KREG_UNDEFINED)
		say("%s UNDEF", id);
	else if (err)
		say("%s ERR %d %s", id, err, kreg_last_error(c));
	else
		say("%s HELD %s %d %llu %llu %d", id, h.node[0] ? h.node : "-", (int)h.pid,
		    (unsigned long long)h.token, (unsigned long long)h.age_ms, h.local);
}

static void kregd_start(void)
{
	if (kregd_pid > 0)
		return;
	kregd_pid = fork();
	if (kregd_pid == 0) {
		int fd = open("/dev/console", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execl("/bin/kregd", "kregd", "-v", "-c", kregd_config, (char *)NULL);
		_exit(127);
	}
}

static void kregd_stop(void)
{
	if (kregd_pid <= 0)
		return;
	kill(kregd_pid, SIGTERM);
	waitpid(kregd_pid, NULL, 0);
	kregd_pid = 0;
}

static void cmd_status(struct kreg_conn *c, const char *id)
{
	struct kreg_cluster_status st;
	int err = kreg_cluster_status(c, &st);

	if (err) {
		say("%s ERR %d %s", id, err, kreg_last_error(c));
		return;
	}
	say("%s STATUS %llx %lld %u %u %llu %lld %u", id, (unsigned long long)st.lease,
	    (long long)st.deadline_ms, st.reachable, st.names, (unsigned long long)st.revision,
	    (long long)st.age_ms, st.fenced);
}

struct listing {
	char buf[8192];
	size_t len;
	int n;
};

static int list_one(const struct kreg_entry_info *e, void *arg)
{
	struct listing *l = arg;
	int n = snprintf(l->buf + l->len, sizeof(l->buf) - l->len, " %s@%s:%llu", e->name,
			 e->node ? e->node : "-", (unsigned long long)e->token);

	if (n > 0 && (size_t)n < sizeof(l->buf) - l->len)
		l->len += (size_t)n;
	l->n++;
	return 0;
}

/* --- the API on cluster names: servers, supervisors, via tuples, await ------------ */

static int echo_call(struct kreg_server *srv, void *state, const void *req, size_t len,
		     const struct kreg_from *from)
{
	(void)state;
	(void)req;
	(void)len;
	return kreg_reply(srv, from, "pong", 4);
}

static const struct kreg_module echo = { .handle_call = echo_call };

/* A busy server: each message takes it 10 ms, so that a flood piles up in its mailbox. */
static int busy_info(struct kreg_server *srv, void *state, const struct kreg_message *msg)
{
	(void)srv;
	(void)state;
	(void)msg;
	usleep(10000);
	return KREG_CONTINUE;
}

static const struct kreg_module busy = { .handle_call = echo_call, .handle_info = busy_info };

/* The supervisor's process: starts NAME's child, says how, supervises for ever. */
static void supervisor_main(int fd, const char *name)
{
	struct kreg_child_spec spec = {
		.name = name, .module = &echo, .restart = KREG_PERMANENT, .shutdown_ms = 1000,
	};
	struct kreg_supervisor *sup;
	enum kreg_started how;
	struct kreg_conn *c;
	pid_t pid = 0;
	int err;

	err = kreg_open_provider(&c, KREG_PROVIDER_CLUSTER);
	if (!err)
		err = kreg_supervisor_new_on(&sup, c, KREG_ONE_FOR_ONE, 10, 60);
	if (!err)
		err = kreg_start_child(sup, &spec, &pid, &how);
	if (err) {
		holder_reply(fd, "ERR %d %s", err, kreg_strerror(err));
		_exit(0);
	}
	holder_reply(fd, "OK %d %d", (int)pid, how == KREG_ALREADY_STARTED);
	kreg_supervisor_run(sup, -1);
	kreg_supervisor_free(sup);
	_exit(0);
}

static void cmd_sup(const char *id, const char *name)
{
	char reply[256];
	int i, fd;
	pid_t pid;
	ssize_t n;

	i = spawn_holder(id, name, NULL, HOLDER_SUPERVISOR, &pid, &fd);
	if (i < 0)
		return;
	n = recv(fd, reply, sizeof(reply) - 1, 0);
	reply[n > 0 ? n : 0] = '\0';
	/* Kept as a holder of the name's: KILL stops the supervisor, and its children with it. */
	keep_holder(i, pid, fd, name);
	say("%s %s", id, n > 0 ? reply : "ERR -10 the supervisor died");
}

static void cmd_start_link(struct kreg_conn *c, const char *id, const char *name, bool slow)
{
	enum kreg_started how;
	pid_t pid = 0;
	int err = kreg_start_link(c, name, slow ? &busy : &echo, NULL, &pid, &how);

	if (err)
		say("%s ERR %d %s", id, err, kreg_last_error(c));
	else
		say("%s OK %d %d", id, (int)pid, how == KREG_ALREADY_STARTED);
}

static void cmd_call(struct kreg_conn *c, const char *id, const char *name)
{
	char reply[64];
	struct kreg_via via;
	size_t len = 0;
	int err = kreg_via_tuple(c, name, &via);

	if (!err)
		err = kreg_call(&via, "ping", 4, reply, sizeof(reply) - 1, &len, 5000);
	reply[err ? 0 : len] = '\0';
	if (err)
		say("%s ERR %d %s", id, err, kreg_strerror(err));
	else
		say("%s OK %s", id, reply);
}

static void cmd_cast_stop(struct kreg_conn *c, const char *id, const char *op, const char *name)
{
	struct kreg_via via;
	int err = kreg_via_tuple(c, name, &via);

	if (!err)
		err = !strcmp(op, "CAST") ? kreg_cast(&via, "note", 4) : kreg_stop(&via, 5000);
	if (err)
		say("%s ERR %d %s", id, err, kreg_strerror(err));
	else
		say("%s OK", id);
}

static void cmd_await(struct kreg_conn *c, const char *id, const char *name, int ms)
{
	pid_t pid = 0;
	int err = kreg_await_name(c, name, ms, &pid);

	if (err)
		say("%s ERR %d %s", id, err, kreg_strerror(err));
	else
		say("%s OK %d", id, (int)pid);
}

/* A "Key:  N kB" line's N, from /proc file @path. */
static long proc_kb(const char *path, const char *key)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			kb = strtol(line + strlen(key) + 1, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* kreg.ko's slab caches (kreg_*, apart under slab_nomerge): their objects' memory. */
static long kreg_slab_kb(void)
{
	unsigned long active, total, size;
	char line[512], name[64];
	long bytes = 0;
	FILE *f = fopen("/proc/slabinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lu %lu %lu", name, &active, &total, &size) == 4 &&
		    !strncmp(name, "kreg", 4))
			bytes += (long)(total * size);
	if (f)
		fclose(f);
	return bytes / 1024;
}

static void cmd_mem(const char *id)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)kregd_pid);
	say("%s MEM %ld %ld %ld", id, proc_kb(path, "VmRSS"), kreg_slab_kb(),
	    proc_kb("/proc/meminfo", "Shmem"));
}

static void cmd_watch(const char *id, const char *name)
{
	if (!watcher && (kreg_open_provider(&watcher, KREG_PROVIDER_CLUSTER) ||
			 kreg_subscribe(watcher))) {
		if (watcher)
			kreg_close(watcher);
		watcher = NULL;
		say("%s ERR %d cannot subscribe", id, -ENOTCONN);
		return;
	}
	snprintf(watched, sizeof(watched), "%s", name);
	say("%s OK", id);
}

static void watcher_events(void)
{
	struct kreg_event ev;

	while (kreg_next_event(watcher, &ev, 0) == 0) {
		if (watched[0] && ev.kind == KREG_EVENT_UNREGISTERED && !strcmp(ev.name, watched)) {
			say("EV GONE %s %s", watched, kreg_reason_name(ev.reason));
			watched[0] = '\0';
		}
	}
}

/* --- messages across nodes ---------------------------------------------------- */

static void cmd_send(struct kreg_conn *c, const char *id, const char *name, const char *text,
		     uint64_t token)
{
	int err = token ? kreg_send_fenced(c, name, token, text, strlen(text)) :
			  kreg_send(c, name, text, strlen(text));

	if (err)
		say("%s ERR %d %s", id, err, kreg_last_error(c));
	else
		say("%s OK", id);
}

/* IDS's sender, after it sent: root again, as after a set-user-ID exec. */
static void *take_root_back(void *arg)
{
	(void)arg;
	usleep(300000);
	if (setresuid(0, 0, 0) || setresgid(0, 0, 0))
		_exit(120);
	return NULL;
}

static void cmd_ids(const char *id, const char *name, bool change)
{
	int ready[2], go[2], status = 0;
	struct kreg_conn *c;
	pthread_t t;
	pid_t child;
	char b = 0;

	if (kregd_pid <= 0 || pipe(ready) || pipe(go)) {
		say("%s ERR %d no kregd, or no pipe", id, -EINVAL);
		return;
	}
	child = fork();
	if (child == 0) {
		int err;

		if (setresgid(1000, 1000, 0) || setresuid(1000, 1000, 0) ||
		    kreg_open_provider(&c, KREG_PROVIDER_CLUSTER))
			_exit(121);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &b, 1) != 1)
			_exit(122);
		/* kregd is stopped: the request waits in its socket, with uid 1000 on it. */
		if (change && pthread_create(&t, NULL, take_root_back, NULL))
			_exit(123);
		err = kreg_send(c, name, "ids", 3);
		_exit(err < 0 ? -err : err);
	}
	if (child > 0 && read(ready[0], &b, 1) == 1) {
		kill(kregd_pid, SIGSTOP);
		if (write(go[1], "g", 1) == 1)
			usleep(800000);
		kill(kregd_pid, SIGCONT);
	}
	if (child > 0)
		waitpid(child, &status, 0);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	if (child > 0 && WIFEXITED(status))
		say("%s OK %d", id, WEXITSTATUS(status));
	else
		say("%s ERR %d the sender did not exit", id, -ECHILD);
}

static void cmd_multi(struct kreg_conn *c, const char *id, const char *name, const char *text)
{
	struct kreg_node_result r[16];
	char out[1024];
	size_t n = 0, i, at = 0;
	int err = kreg_multi_send_each(c, name, text, strlen(text), r, 16, &n);

	if (err) {
		say("%s ERR %d %s", id, err, kreg_last_error(c));
		return;
	}
	for (i = 0; i < n && at < sizeof(out) - 80; i++)
		at += (size_t)snprintf(out + at, sizeof(out) - at, " %s:%d", r[i].node, r[i].err);
	out[at] = '\0';
	say("%s OK%s", id, out);
}

/* A stream runs in a child of its own: its report answers @id when it is done. */
static void cmd_stream(const char *id, const char *name, const char *tag, const char *rest)
{
	int senders = 0, count = 0, size = 0, sv[2], i;
	pid_t pid;

	if (!rest || sscanf(rest, "%d %d %d", &senders, &count, &size) != 3) {
		say("%s ERR %d STREAM NAME TAG SENDERS COUNT SIZE", id, -EINVAL);
		return;
	}
	i = holder_slot(id, sv);
	if (i < 0)
		return;
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		stream_run(sv[1], name, tag, senders, count, size);
		_exit(0);
	}
	close(sv[1]);
	keep_holder(i, pid, sv[0], "");
	snprintf(holders[i].stream_id, sizeof(holders[i].stream_id), "%s", id);
}

static void handle(struct kreg_conn **c, char *line)
{
	char *save, *id = strtok_r(line, " ", &save), *op = strtok_r(NULL, " ", &save);
	char *arg = strtok_r(NULL, " ", &save), *more = strtok_r(NULL, " ", &save);
	struct holder *h;

	if (!id || !op)
		return;
	if ((!strcmp(op, "REG") || !strcmp(op, "LOCAL")) && arg) {
		/* A holder of it from before (fenced, say) makes way. */
		h = holder_of(arg);
		if (h) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, NULL, 0);
			holder_forget(h);
		}
		cmd_reg(id, arg, more, !strcmp(op, "LOCAL") ? HOLDER_LOCAL : HOLDER_CLUSTER);
	} else if (!strcmp(op, "WHO") && arg) {
		if (!*c && kreg_open_provider(c, KREG_PROVIDER_CLUSTER)) {
			say("%s ERR %d kregd", id, -ENOTCONN);
			return;
		}
		cmd_who(*c, id, arg, more && !strcmp(more, "lin"));
	} else if ((!strcmp(op, "CHECK") || !strcmp(op, "UNREG") || !strcmp(op, "UPDATE")) &&
		   arg) {
		h = holder_of(arg);
		if (!h) {
			say("%s ERR %d no holder of it here", id, -ENOENT);
			return;
		}
		ask_holder(id, h, op);
		if (!strcmp(op, "UNREG")) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, NULL, 0);
			holder_forget(h);
		}
	} else if (!strcmp(op, "KILL") && arg) {
		h = holder_of(arg);
		if (h) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, NULL, 0);
			holder_forget(h);
		}
		say("%s OK", id);
	} else if (!strcmp(op, "KREGD") && arg) {
		if (!strcmp(arg, "stop"))
			kregd_stop();
		else
			kregd_start();
		if (*c) {
			kreg_close(*c);
			*c = NULL;
		}
		say("%s OK", id);
	} else if (!strcmp(op, "STATUS")) {
		if (!*c && kreg_open_provider(c, KREG_PROVIDER_CLUSTER)) {
			say("%s ERR %d kregd", id, -ENOTCONN);
			return;
		}
		cmd_status(*c, id);
	} else if (!strcmp(op, "LIST")) {
		struct listing l = { .len = 0 };

		if (!*c && kreg_open_provider(c, KREG_PROVIDER_CLUSTER)) {
			say("%s ERR %d kregd", id, -ENOTCONN);
			return;
		}
		kreg_list(*c, list_one, &l);
		l.buf[l.len] = '\0';
		say("%s LIST %d%s", id, l.n, l.buf);
	} else if (!strcmp(op, "SUP") && arg) {
		cmd_sup(id, arg);
	} else if ((!strcmp(op, "STARTLINK") || !strcmp(op, "CALL") || !strcmp(op, "AWAIT") ||
		    !strcmp(op, "CAST") || !strcmp(op, "STOP")) && arg) {
		if (!*c && kreg_open_provider(c, KREG_PROVIDER_CLUSTER)) {
			say("%s ERR %d kregd", id, -ENOTCONN);
			return;
		}
		if (!strcmp(op, "STARTLINK"))
			cmd_start_link(*c, id, arg, more && !strcmp(more, "busy"));
		else if (!strcmp(op, "CALL"))
			cmd_call(*c, id, arg);
		else if (!strcmp(op, "CAST") || !strcmp(op, "STOP"))
			cmd_cast_stop(*c, id, op, arg);
		else
			cmd_await(*c, id, arg, more ? atoi(more) : 10000);
	} else if (!strcmp(op, "SEND") && arg && more) {
		if (!*c && kreg_open_provider(c, KREG_PROVIDER_CLUSTER)) {
			say("%s ERR %d kregd", id, -ENOTCONN);
			return;
		}
		cmd_send(*c, id, arg, more, save && *save ? strtoull(save, NULL, 10) : 0);
	} else if (!strcmp(op, "IDS") && arg && more) {
		cmd_ids(id, arg, !strcmp(more, "switch"));
	} else if (!strcmp(op, "MULTI") && arg && more) {
		if (!*c && kreg_open_provider(c, KREG_PROVIDER_CLUSTER)) {
			say("%s ERR %d kregd", id, -ENOTCONN);
			return;
		}
		cmd_multi(*c, id, arg, more);
	} else if (!strcmp(op, "INBOX") && arg) {
		h = holder_of(arg);
		if (!h) {
			say("%s ERR %d no holder of it here", id, -ENOENT);
			return;
		}
		ask_holder(id, h, "INBOX");
	} else if (!strcmp(op, "STREAM") && arg && more) {
		cmd_stream(id, arg, more, save);
	} else if (!strcmp(op, "MEM")) {
		cmd_mem(id);
	} else if (!strcmp(op, "WATCH") && arg) {
		cmd_watch(id, arg);
	} else if (!strcmp(op, "SH") && arg) {
		/* A shell command, for what the tests read of the node (kregctl -j ...). */
		char cmd[1024], out[4096];
		size_t n;
		FILE *f;

		snprintf(cmd, sizeof(cmd), "%s%s%s%s%s 2>&1", arg, more ? " " : "", more ? more : "",
			 save && *save ? " " : "", save ? save : "");
		f = popen(cmd, "r");
		n = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
		out[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if (out[i] == '\n')
				out[i] = '|';
		say("%s SH %d %s", id, f ? WEXITSTATUS(pclose(f)) : -1, out);
	} else {
		say("%s ERR %d unknown request", id, -EINVAL);
	}
}

/* What holders say unasked (fencing), and streams' reports, go to the host as they come. */
static void holders_events(struct pollfd *p, int n)
{
	char reply[8192];
	int i;

	for (i = 0; i < n; i++) {
		ssize_t len;

		if (!p[i].revents)
			continue;
		len = recv(p[i].fd, reply, sizeof(reply) - 1, MSG_DONTWAIT);
		if (holders[i].stream_id[0] && len >= 0) {
			reply[len > 0 ? len : 0] = '\0';
			say("%s %s", holders[i].stream_id, len > 0 ? reply : "ERR -10 the stream died");
			waitpid(holders[i].pid, NULL, 0);
			holder_forget(&holders[i]);
			continue;
		}
		if (len > 0) {
			reply[len] = '\0';
			if (!strncmp(reply, "FENCED ", 7))
				say("EV FENCED %s %s", holders[i].name, reply + 7);
		}
	}
}

int main(int argc, char **argv)
{
	struct kreg_conn *c = NULL;
	struct pollfd p[HOLDERS_MAX + 2];
	struct termios t;
	char buf[4096];
	size_t len = 0;
	int i;

	if (argc > 2)
		kregd_config = argv[2];
	line_fd = open(argc > 1 ? argv[1] : "/dev/ttyS1", O_RDWR | O_NOCTTY);
	if (line_fd < 0)
		return 1;
	if (!tcgetattr(line_fd, &t)) {
		cfmakeraw(&t);
		cfsetspeed(&t, B115200);
		tcsetattr(line_fd, TCSANOW, &t);
	}
	signal(SIGPIPE, SIG_IGN);
	kregd_start();
	say("READY");
	for (;;) {
		char *nl;

		p[HOLDERS_MAX].fd = line_fd;
		p[HOLDERS_MAX].events = POLLIN;
		p[HOLDERS_MAX + 1].fd = watcher ? kreg_fd(watcher) : -1;
		p[HOLDERS_MAX + 1].events = POLLIN;
		p[HOLDERS_MAX + 1].revents = 0;
		for (i = 0; i < HOLDERS_MAX; i++) {
			p[i].fd = holders[i].pid ? holders[i].fd : -1;
			p[i].events = POLLIN;
			p[i].revents = 0;
		}
		if (poll(p, HOLDERS_MAX + 2, 1000) < 0)
			continue;
		holders_events(p, HOLDERS_MAX);
		if (p[HOLDERS_MAX + 1].revents)
			watcher_events();
		/* Holders that died (killed by the tests, or exited) are forgotten. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!p[HOLDERS_MAX].revents)
			continue;
		ssize_t n = read(line_fd, buf + len, sizeof(buf) - 1 - len);

		if (n <= 0)
			continue;
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			if (nl > buf && nl[-1] == '\r')
				nl[-1] = '\0';
			handle(&c, buf);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len == sizeof(buf) - 1)
			len = 0;
	}
}
