/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cluster suite's parts, all real: a 3-member etcd with TLS and auth on
 * this machine (scripts/cluster/etcd.sh), and nodes that are QEMU guests
 * with kreg.ko, kregd and kreg-agent (scripts/cluster/node.sh), each
 * spoken to over a serial line of its own, which no network cut reaches.
 * Every answer is stamped with this machine's clock as it arrives, into
 * the history the suite checks (history.h).
 */
#ifndef KREG_TEST_NODES_H
#define KREG_TEST_NODES_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "history.h"

#define NODES_MAX	3
#define LEASE_TTL_MS	5000

struct node {
	const char *name;
	int fd;				/* the agent's line */
	char buf[16384];
	size_t len;
	size_t done;			/* unused: events are taken out as they come */
	unsigned int seq;
};

static struct node nodes[NODES_MAX] = {
	{ .name = "node1", .fd = -1 }, { .name = "node2", .fd = -1 }, { .name = "node3", .fd = -1 },
};
/* How many of them cluster_up() booted: the suite needs three, the bench two. */
static int nodes_up;
static char cluster_dir[80];
/* This test's history: each test runs in a process of its own. */
static struct history hist;

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
	usleep((useconds_t)ms * 1000);
}

/* Runs a helper script: 0 or its status. */
static inline int script(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* When a watched name went (WATCH, "EV GONE"), as it arrived: the latest few. */
#define GONE_MAX	16
static struct gone {
	char node[16];
	char name[64];
	uint64_t when;
} gones[GONE_MAX];
static unsigned int gones_next;

/* What an agent said unasked, when it arrived: a holder's fencing, into the history. */
static inline void node_event(struct node *n, const char *line, uint64_t when)
{
	char name[64];
	unsigned long long token;
	struct hold *h;
	int i;

	if (sscanf(line, "EV GONE %63s", name) == 1) {
		struct gone *g = &gones[gones_next++ % GONE_MAX];

		snprintf(g->node, sizeof(g->node), "%s", n->name);
		snprintf(g->name, sizeof(g->name), "%s", name);
		g->when = when;
		return;
	}
	if (sscanf(line, "EV FENCED %63s %llu", name, &token) != 2)
		return;
	for (i = 0; i < hist.n; i++) {
		h = &hist.holds[i];
		if (!strcmp(h->name, name) && !strcmp(h->node, n->name) && h->token == token &&
		    !h->fenced_ms) {
			h->fenced_ms = when;
			if (h->how == CEASE_NONE)
				history_cease(h, CEASE_FENCED, when);
		}
	}
}

/*
 * Reads what every node has said, for up to @timeout_ms or until something
 * came: each line is stamped as it arrives, whichever node the test waits
 * on. Events go to the history; answers wait in their node's buffer, whole
 * lines after n->done.
 */
static inline void pump(int timeout_ms)
{
	struct pollfd p[NODES_MAX];
	int i, n = 0;

	for (i = 0; i < nodes_up; i++) {
		p[i].fd = nodes[i].fd;
		p[i].events = POLLIN;
		p[i].revents = 0;
	}
	if (poll(p, (nfds_t)nodes_up, timeout_ms) <= 0)
		return;
	for (i = 0; i < nodes_up; i++) {
		struct node *nd = &nodes[i];
		uint64_t when = now_ms();
		ssize_t got;
		char *line;

		if (!p[i].revents)
			continue;
		got = read(nd->fd, nd->buf + nd->len, sizeof(nd->buf) - 1 - nd->len);
		if (got <= 0)
			continue;
		nd->len += (size_t)got;
		nd->buf[nd->len] = '\0';
		/* Events leave the buffer at once, with their time. */
		while ((line = strstr(nd->buf + nd->done, "EV ")) &&
		       (line == nd->buf + nd->done || line[-1] == '\n') && strchr(line, '\n')) {
			char *nl = strchr(line, '\n');
			size_t len = (size_t)(nl + 1 - line);

			*nl = '\0';
			node_event(nd, line, when);
			memmove(line, nl + 1, nd->len - (size_t)(nl + 1 - nd->buf) + 1);
			nd->len -= len;
		}
		n++;
	}
	(void)n;
}

/* @src into @dst of @size, cut to fit. */
static inline void copy_cut(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* One line (not an event) from @n within @timeout_ms: 0 or -ETIMEDOUT. */
static inline int node_line(struct node *n, char *out, size_t size, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		char *start = n->buf, *nl;

		/* Whole lines that are not events, first to last. */
		while ((nl = memchr(start, '\n', n->len - (size_t)(start - n->buf)))) {
			size_t len = (size_t)(nl - start);

			if (strncmp(start, "EV ", 3)) {
				*nl = '\0';
				if (len && start[len - 1] == '\r')
					start[len - 1] = '\0';
				copy_cut(out, size, start);
				memmove(start, nl + 1, n->len - (size_t)(nl + 1 - n->buf) + 1);
				n->len -= len + 1;
				return 0;
			}
			start = nl + 1;
		}
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		pump((int)(deadline - now_ms()));
	}
}

/* Sends request @fmt to @n; 0 with its id in *@id, or -EIO. */
static inline int node_send(struct node *n, unsigned int *id, const char *fmt, va_list ap)
{
	char line[600];
	int len;

	*id = ++n->seq;
	len = snprintf(line, sizeof(line), "%u ", *id);
	len += vsnprintf(line + len, sizeof(line) - (size_t)len - 1, fmt, ap);
	line[len++] = '\n';
	return write(n->fd, line, (size_t)len) == len ? 0 : -EIO;
}

/* Sends request @fmt to @n without waiting: its answer comes to node_answer(@id). */
static inline int node_post(struct node *n, unsigned int *id, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = node_send(n, id, fmt, ap);
	va_end(ap);
	return err;
}

/* The answer to request @id, without its id: 0 or -ETIMEDOUT. */
static inline int node_answer(struct node *n, unsigned int id, char *reply, size_t size,
			      int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	char line[16384], want[16];
	int err;

	snprintf(want, sizeof(want), "%u ", id);
	for (;;) {
		err = node_line(n, line, sizeof(line), (int)(deadline - now_ms()));
		if (err)
			return err;
		if (!strncmp(line, want, strlen(want))) {
			copy_cut(reply, size, line + strlen(want));
			return 0;
		}
	}
}

/* Asks @n and waits for its answer (in @reply, without its id). */
static inline int node_ask(struct node *n, char *reply, size_t size, int timeout_ms,
			   const char *fmt, ...)
{
	unsigned int id;
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = node_send(n, &id, fmt, ap);
	va_end(ap);
	return err ? err : node_answer(n, id, reply, size, timeout_ms);
}

static inline int node_connect(struct node *n, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.agent", cluster_dir, n->name);
	while (now_ms() < deadline) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			n->fd = fd;
			n->len = 0;
			return 0;
		}
		if (fd >= 0)
			close(fd);
		sleep_ms(200);
	}
	return -ETIMEDOUT;
}

/* Until @n's kregd holds a lease and has read the cluster's names: 0 or -ETIMEDOUT. */
static inline int node_ready(struct node *n, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	unsigned long long lease;
	char reply[256];

	while (now_ms() < deadline) {
		if (!node_ask(n, reply, sizeof(reply), 2000, "STATUS") &&
		    sscanf(reply, "STATUS %llx", &lease) == 1 && lease)
			return 0;
		sleep_ms(300);
	}
	return -ETIMEDOUT;
}

/*
 * Until @n's copy of the cluster's names is as of @revision or later, by its
 * watch or by reading everything again (a linearizable lookup of one name
 * does not move it): 0 or -ETIMEDOUT.
 */
static inline int node_caught_up(struct node *n, unsigned long long revision, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	unsigned long long lease, rev;
	long long deadline_ms;
	unsigned int reachable, names;
	char reply[256];

	while (now_ms() < deadline) {
		if (!node_ask(n, reply, sizeof(reply), 2000, "STATUS") &&
		    sscanf(reply, "STATUS %llx %lld %u %u %llu", &lease, &deadline_ms, &reachable,
			   &names, &rev) == 5 && rev >= revision)
			return 0;
		sleep_ms(300);
	}
	return -ETIMEDOUT;
}

static inline pid_t node_qemu(struct node *n)
{
	char path[600];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.pid", cluster_dir, n->name);
	f = fopen(path, "r");
	if (f && fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	if (f)
		fclose(f);
	return (pid_t)pid;
}

/* A command to @n's QEMU monitor ("set_link u0 off"). */
static inline int node_monitor(struct node *n, const char *cmd)
{
	return script("printf '%%s\\n' '%s' | timeout 5 python3 -c '"
		      "import socket,sys,time;s=socket.socket(socket.AF_UNIX);"
		      "s.connect(sys.argv[1]);time.sleep(0.1);s.sendall(sys.stdin.read().encode());"
		      "time.sleep(0.2)' %s/%s.monitor", cmd, cluster_dir, n->name);
}

/*
 * The cluster, up: etcd, with a user of its own for each node and for
 * each of @more_users (space-separated: clients of etcd that are no
 * node), and the first @count nodes booted and ready. 0, or -1 having
 * said why.
 */
static inline int cluster_up(int count, const char *more_users)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char users[128] = "";
	int i;

	if (count < 1 || count > NODES_MAX)
		return -1;
	nodes_up = count;
	for (i = 0; i < nodes_up; i++)
		snprintf(users + strlen(users), sizeof(users) - strlen(users), "%s ", nodes[i].name);
	snprintf(cluster_dir, sizeof(cluster_dir), "%s/cluster", build);
	script("bash scripts/cluster/etcd.sh stop %s 2>/dev/null; rm -rf %s", cluster_dir, cluster_dir);
	if (script("KREG_ETCD_PORT_OFFSET=0 bash scripts/cluster/etcd.sh start %s test %s%s",
		   cluster_dir, users, more_users ? more_users : ""))
		return -1;
	if (script("bash scripts/cluster/node.sh base %s", cluster_dir))
		return -1;
	for (i = 0; i < nodes_up; i++)
		if (script("KREG_LEASE_TTL=%d bash scripts/cluster/node.sh start %s %s",
			   LEASE_TTL_MS / 1000, cluster_dir, nodes[i].name))
			return -1;
	for (i = 0; i < nodes_up; i++) {
		if (node_connect(&nodes[i], 120000) || node_ready(&nodes[i], 180000)) {
			fprintf(stderr, "# %s did not come up: see %s/%s.console\n", nodes[i].name,
				cluster_dir, nodes[i].name);
			return -1;
		}
	}
	return 0;
}

static inline void cluster_down(void)
{
	int i;

	for (i = 0; i < nodes_up; i++)
		script("bash scripts/cluster/node.sh stop %s %s", cluster_dir, nodes[i].name);
	script("bash scripts/cluster/etcd.sh stop %s", cluster_dir);
}

/* --- what the tests do, recorded in the history ------------------------------ */

struct reg {
	int err;		/* 0, -EEXIST, or the error */
	char node[32];		/* the holder's (ours on success) */
	int pid;
	unsigned long long token;
	uint64_t asked, answered;
};

/* Request REG on @n, already sent as @id at @asked: its answer, recorded. */
static inline void reg_answer(struct node *n, const char *name, unsigned int id, uint64_t asked,
			      struct reg *r)
{
	char reply[512];

	memset(r, 0, sizeof(*r));
	r->asked = asked;
	r->err = node_answer(n, id, reply, sizeof(reply), 15000);
	r->answered = now_ms();
	if (r->err)
		return;
	if (sscanf(reply, "OK %llu %31s %d", &r->token, r->node, &r->pid) == 3) {
		history_grant(&hist, name, n->name, r->token, asked, r->answered);
	} else if (sscanf(reply, "EEXIST %31s %d %llu", r->node, &r->pid, &r->token) == 3) {
		r->err = -EEXIST;
	} else if (sscanf(reply, "ERR %d", &r->err) != 1 || !r->err) {
		r->err = -EPROTO;
	}
}

static inline void reg_send(struct node *n, const char *name, unsigned int *id)
{
	char line[300];

	*id = ++n->seq;
	snprintf(line, sizeof(line), "%u REG %s\n", *id, name);
	if (write(n->fd, line, strlen(line)) < 0)
		*id = 0;
}

static inline void reg(struct node *n, const char *name, struct reg *r)
{
	uint64_t asked = now_ms();
	unsigned int id;

	reg_send(n, name, &id);
	reg_answer(n, name, id, asked, r);
}

/* Registers @name on @n again and again until it is won, or @timeout_ms. */
static inline void reg_until_won(struct node *n, const char *name, int timeout_ms, struct reg *r)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	do {
		reg(n, name, r);
		if (r->err == 0 || now_ms() >= deadline)
			return;
		sleep_ms(100);
	} while (1);
}

struct who {
	int err;		/* 0, 1 (undefined) or an error */
	char node[32];
	int pid;
	unsigned long long token, age_ms;
	int local;
};

static inline void who(struct node *n, const char *name, bool lin, struct who *w)
{
	char reply[512];

	memset(w, 0, sizeof(*w));
	w->err = node_ask(n, reply, sizeof(reply), 10000, "WHO %s%s", name, lin ? " lin" : "");
	if (w->err)
		return;
	if (!strcmp(reply, "UNDEF"))
		w->err = 1;
	else if (sscanf(reply, "HELD %31s %d %llu %llu %d", w->node, &w->pid, &w->token,
			&w->age_ms, &w->local) != 5 && sscanf(reply, "ERR %d", &w->err) != 1)
		w->err = -EPROTO;
}

/* Until @n's copy says @node holds @name (NULL: nobody), within @timeout_ms. */
static inline int who_until(struct node *n, const char *name, const char *node, int timeout_ms,
			    struct who *w)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	do {
		who(n, name, false, w);
		if (node ? (w->err == 0 && !strcmp(w->node, node)) : w->err == 1)
			return 0;
		sleep_ms(50);
	} while (now_ms() < deadline);
	return -ETIMEDOUT;
}

/* Ends @name's holder on @n: KILL or UNREG; recorded as let go from when it was asked. */
static inline int let_go(struct node *n, const char *name, const char *how)
{
	struct hold *h = history_holder(&hist, name, n->name);
	char reply[256];

	history_cease(h, CEASE_ASKED, now_ms());
	return node_ask(n, reply, sizeof(reply), 10000, "%s %s", how, name) ||
	       strncmp(reply, "OK", 2) ? -EIO : 0;
}

/* The holder of @name on @n asks etcd whether it still holds it: 0, or its error. */
static inline int check(struct node *n, const char *name)
{
	struct hold *h = history_holder(&hist, name, n->name);
	char reply[256];
	int err = 0;

	if (!h) {
		int i;

		for (i = hist.n - 1; i >= 0 && !h; i--)
			if (!strcmp(hist.holds[i].name, name) && !strcmp(hist.holds[i].node, n->name))
				h = &hist.holds[i];
	}
	if (node_ask(n, reply, sizeof(reply), 10000, "CHECK %s", name))
		return -ETIMEDOUT;
	if (!strncmp(reply, "OK", 2)) {
		if (h && h->resumed_ms && !h->acted_ms)
			h->acted_ms = now_ms();
		return 0;
	}
	if (sscanf(reply, "ERR %d", &err) != 1)
		err = -EPROTO;
	return err;
}

/* Takes in what the nodes say (their events) for @ms. */
static inline void listen_for(struct node *n, int ms)
{
	uint64_t deadline = now_ms() + (uint64_t)ms;

	(void)n;
	while (now_ms() < deadline)
		pump((int)(deadline - now_ms()));
}

#endif /* KREG_TEST_NODES_H */
