// SPDX-License-Identifier: GPL-2.0
/*
 * kreg-cluster-bench's driver: the cluster provider measured on the
 * cluster suite's real parts (tests/cluster/nodes.h: a 3-member etcd with
 * TLS here, two QEMU guests as nodes), printed as a table:
 *
 *  - a cluster register against a bare create-if-absent transaction from
 *    the same node, and a whereis from the node's copy against the kernel
 *    view's whereis (in_node.c, run in node1): ratios of pairs;
 *  - messages between the nodes (messages.c): a cluster send against a raw
 *    TLS round trip, a call against a raw TCP round trip, 1 KiB throughput;
 *  - a holder's death on node1 until node2 sees its name go (p50, p99);
 *  - a host's death (its QEMU frozen: etcd cannot tell the difference)
 *    until another node sees the name go and takes it, against the TTL;
 *  - 100,000 names put from this machine at 1,000 a second, as a node with
 *    that many would: how far node1's copy lags, and what the names take
 *    in node1's memory; then that node's lease revoked, all of its names
 *    gone at one revision, and how long node1 takes to drop them.
 *
 * Times are this machine's clock as the agents' lines arrive, serial line
 * included (a few ms). Rows go to stdout, and "BENCH-DATA" lines for
 * scripts/bench-plot.sh.
 */
#include <math.h>
#include <sys/stat.h>

#include "config.h"
#include "etcd.h"
#include "kreg.h"
#include "nodes.h"

#define N1	(&nodes[0])
#define N2	(&nodes[1])

#define DEATHS		60
#define FREEZES		5
#define LOAD_NAMES	100000
#define LOAD_RATE	1000		/* names a second */
#define LOAD_BATCH	5		/* names a transaction */
#define LOAD_IN_FLIGHT	64
#define POLL_MS		100

struct row {
	char what[80];
	char value[40];
	char target[40];
	const char *verdict;		/* "ok", "MISSED", or "" */
};

static struct row rows[32];
static int nrows;

static void row(const char *what, const char *target, const char *verdict, const char *fmt, ...)
{
	struct row *r = &rows[nrows++];
	va_list ap;

	snprintf(r->what, sizeof(r->what), "%s", what);
	snprintf(r->target, sizeof(r->target), "%s", target ? target : "");
	r->verdict = verdict ? verdict : "";
	va_start(ap, fmt);
	vsnprintf(r->value, sizeof(r->value), fmt, ap);
	va_end(ap);
}

static const char *within(double v, double limit)
{
	return v >= 0 && v <= limit ? "ok" : "MISSED";
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t pct(uint64_t *v, int n, int p)
{
	int i = (int)ceil((double)n * p / 100.0) - 1;

	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

/* --- in the node: register against the bare transaction, whereis -------------- */

/* "BENCH key value" from a SH answer's output (its lines joined by '|'). */
static double figure(const char *out, const char *key)
{
	char want[64];
	const char *at;

	snprintf(want, sizeof(want), "BENCH %s ", key);
	at = strstr(out, want);
	return at ? strtod(at + strlen(want), NULL) : -1;
}

static void in_node(void)
{
	static char reply[8192];
	double ratio;
	struct reg held;

	if (node_ask(N1, reply, sizeof(reply), 600000, "SH /bin/kreg-cluster-bench register 100") ||
	    strncmp(reply, "SH 0 ", 5)) {
		fprintf(stderr, "# register bench failed: %s\n", reply);
		row("cluster register (in node1)", NULL, "MISSED", "failed");
	} else {
		ratio = figure(reply, "register_ratio");
		row("cluster register, median", NULL, NULL, "%.2f ms",
		    figure(reply, "register_us") / 1000);
		row("bare etcd create-if-absent txn, median", NULL, NULL, "%.2f ms",
		    figure(reply, "bare_create_us") / 1000);
		row("cluster register / bare txn (pairs)", "<= 1.5x", within(ratio, 1.5), "%.2fx",
		    ratio);
		row("register+unregister / txn+delete (pairs)", NULL, NULL, "%.2fx",
		    figure(reply, "cycle_ratio"));
		printf("BENCH-DATA cluster register_ratio %.3f\n", ratio);
	}
	reg(N2, "bench.who", &held);
	if (held.err || who_until(N1, "bench.who", "node2", 5000, &(struct who){ 0 }) ||
	    node_ask(N1, reply, sizeof(reply), 600000, "SH /bin/kreg-cluster-bench whereis bench.who") ||
	    strncmp(reply, "SH 0 ", 5)) {
		fprintf(stderr, "# whereis bench failed: %d %s\n", held.err, reply);
		row("cluster whereis (in node1)", NULL, "MISSED", "failed");
	} else {
		ratio = figure(reply, "whereis_ratio");
		row("whereis of a cluster name, from the copy", NULL, NULL, "%.3f us",
		    figure(reply, "whereis_cluster_us"));
		row("whereis from the kernel's view", NULL, NULL, "%.3f us",
		    figure(reply, "whereis_view_us"));
		row("cluster whereis / view whereis (pairs)", "<= 2x", within(ratio, 2), "%.2fx",
		    ratio);
		row("  the same mirror, through the kernel provider", NULL, NULL, "%.3f us",
		    figure(reply, "whereis_mirror_kernel_us"));
		row("  one clock_gettime(CLOCK_BOOTTIME) there", NULL, NULL, "%.3f us",
		    figure(reply, "boottime_us"));
		printf("BENCH-DATA cluster whereis_ratio %.3f\n", ratio);
	}
	let_go(N2, "bench.who", "UNREG");
}

/* --- messages between nodes (messages.c, in node1; its echo servers in node2) ------ */

/* Where this machine forwards node @n's guest port @guest (scripts/cluster/node.sh). */
static int forwarded(const struct node *n, int base)
{
	const char *offset = getenv("KREG_ETCD_PORT_OFFSET");

	return base + (offset ? atoi(offset) : 0) + atoi(n->name + 4);
}

static void messages(void)
{
	static char reply[8192];
	int pid, how;
	struct reg box;

	node_ask(N2, reply, sizeof(reply), 10000,
		 "SH /bin/kreg-cluster-bench serve 7947 7948 >/dev/null 2>&1 &");
	reg(N2, "bench.mbox", &box);
	if (box.err || node_ask(N2, reply, sizeof(reply), 10000, "STARTLINK bench.echo") ||
	    sscanf(reply, "OK %d %d", &pid, &how) != 2 ||
	    who_until(N1, "bench.mbox", "node2", 5000, &(struct who){ 0 }) ||
	    who_until(N1, "bench.echo", "node2", 5000, &(struct who){ 0 }) ||
	    node_ask(N1, reply, sizeof(reply), 900000,
		     "SH /bin/kreg-cluster-bench msg 192.0.2.2:%d 192.0.2.2:%d bench.mbox bench.echo",
		     forwarded(N2, 23900), forwarded(N2, 23910)) ||
	    strncmp(reply, "SH 0 ", 5)) {
		fprintf(stderr, "# messages bench failed: %d %s\n", box.err, reply);
		row("messages between nodes (in node1)", NULL, "MISSED", "failed");
		let_go(N2, "bench.mbox", "UNREG");
		return;
	}
	row("cluster send to node2, 64 B, round trip", NULL, NULL, "%.0f us",
	    figure(reply, "send_tls_kreg_us"));
	row("raw TLS 1.3 round trip node1-node2, 64 B", NULL, NULL, "%.0f us",
	    figure(reply, "send_tls_raw_us"));
	row("cluster send / raw TLS round trip (pairs)", "<= 1.3x",
	    within(figure(reply, "send_tls_ratio"), 1.3), "%.2fx", figure(reply, "send_tls_ratio"));
	row("... of which node1's kregd saw from frame out to ACK in", NULL, NULL, "%.0f us",
	    figure(reply, "send_tls_link_us"));
	row("... a request node1's kregd answers itself (STATUS)", NULL, NULL, "%.0f us",
	    figure(reply, "send_tls_kregd_us"));
	row("call through a via tuple, server on node2", NULL, NULL, "%.0f us",
	    figure(reply, "call_tcp_kreg_us"));
	row("raw TCP round trip node1-node2, 64 B", NULL, NULL, "%.0f us",
	    figure(reply, "call_tcp_raw_us"));
	row("cross-node call / raw TCP round trip (pairs)", "<= 2x",
	    within(figure(reply, "call_tcp_ratio"), 2), "%.2fx", figure(reply, "call_tcp_ratio"));
	row("1 KiB messages, 8 senders, cluster send", NULL, NULL, "%.0f /s",
	    figure(reply, "kib_kreg_per_s"));
	row("1 KiB records, raw TLS, 8 in flight", NULL, NULL, "%.0f /s",
	    figure(reply, "kib_tls_per_s"));
	row("raw TLS / cluster send, 1 KiB throughput", NULL, NULL, "%.2fx",
	    figure(reply, "kib_ratio"));
	printf("BENCH-DATA cluster send_tls_ratio %.3f\n", figure(reply, "send_tls_ratio"));
	printf("BENCH-DATA cluster call_tcp_ratio %.3f\n", figure(reply, "call_tcp_ratio"));
	let_go(N2, "bench.mbox", "UNREG");
}

/* --- deaths --------------------------------------------------------------------- */

/* When @node said @name went (WATCH), or 0 if it has not within @timeout_ms. */
static uint64_t gone_at(const char *node, const char *name, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	int i;

	do {
		for (i = 0; i < GONE_MAX; i++)
			if (gones[i].when && !strcmp(gones[i].node, node) &&
			    !strcmp(gones[i].name, name))
				return gones[i].when;
		pump(50);
	} while (now_ms() < deadline);
	return 0;
}

static int watch(struct node *n, const char *name)
{
	char reply[128];

	return node_ask(n, reply, sizeof(reply), 5000, "WATCH %s", name) ||
	       strcmp(reply, "OK") ? -EIO : 0;
}

static void holder_deaths(void)
{
	uint64_t took[DEATHS];
	char name[32];
	struct reg r;
	struct who w;
	int i, n = 0;

	for (i = 0; i < DEATHS; i++) {
		uint64_t killed, gone;

		snprintf(name, sizeof(name), "bench.death.%d", i);
		reg(N1, name, &r);
		if (r.err || who_until(N2, name, "node1", 5000, &w) || watch(N2, name))
			continue;
		killed = now_ms();
		let_go(N1, name, "KILL");
		gone = gone_at("node2", name, 10000);
		if (gone)
			took[n++] = gone - killed;
	}
	if (n < DEATHS / 2) {
		row("holder killed on node1: gone on node2", NULL, "MISSED", "%d of %d seen", n,
		    DEATHS);
		return;
	}
	row("holder killed on node1: gone on node2, p50", NULL, NULL, "%llu ms",
	    (unsigned long long)pct(took, n, 50));
	row("holder killed on node1: gone on node2, p99", NULL, NULL, "%llu ms (%d deaths)",
	    (unsigned long long)pct(took, n, 99), n);
	for (i = 0; i < n; i++)
		printf("BENCH-DATA cluster death_ms %llu\n", (unsigned long long)took[i]);
}

static void host_deaths(void)
{
	uint64_t freed[FREEZES], taken[FREEZES], worst = 0;
	char name[32];
	int i, n = 0;

	for (i = 0; i < FREEZES; i++) {
		uint64_t stopped, gone;
		struct reg r, won;
		struct who w;
		pid_t qemu = node_qemu(N1);

		snprintf(name, sizeof(name), "bench.host.%d", i);
		reg(N1, name, &r);
		if (r.err || who_until(N2, name, "node1", 5000, &w) || watch(N2, name) || !qemu)
			continue;
		/* Its keepalives stop where they are, as a dead host's would. */
		stopped = now_ms();
		kill(qemu, SIGSTOP);
		gone = gone_at("node2", name, LEASE_TTL_MS + 10000);
		reg_until_won(N2, name, 5000, &won);
		if (gone && !won.err) {
			freed[n] = gone - stopped;
			taken[n] = won.answered - stopped;
			if (taken[n] > worst)
				worst = taken[n];
			n++;
		}
		kill(qemu, SIGCONT);
		/* It fences its holder as it wakes (the history has it), and gets a new lease. */
		node_ready(N1, 60000);
		let_go(N1, name, "KILL");
		let_go(N2, name, "UNREG");
	}
	if (!n) {
		row("host frozen: its name taken elsewhere", NULL, "MISSED", "never");
		return;
	}
	row("host frozen: its name free on node2, p50", NULL, NULL, "%llu ms",
	    (unsigned long long)pct(freed, n, 50));
	row("host frozen: its name taken on node2, worst", "<= TTL + 600 ms",
	    within((double)worst, LEASE_TTL_MS + 600), "%llu ms (TTL %d s, %d hosts)",
	    (unsigned long long)worst, LEASE_TTL_MS / 1000, n);
	for (i = 0; i < n; i++)
		printf("BENCH-DATA cluster host_death_ms %llu\n", (unsigned long long)taken[i]);
}

/* --- 100,000 names -------------------------------------------------------------- */

struct put {
	int64_t rev;
	uint64_t done_ms;
};

struct load {
	struct etcd *e;
	struct kregd_config c;
	int64_t lease;
	int in_flight, sent, done, failed;
	struct put *puts;
	bool answered;
	int64_t answer;
};

static struct load ld;

static void loaded(void *arg, int err, struct json_object *reply)
{
	struct put *p = arg;
	int i;

	ld.in_flight--;
	if (err || !etcd_get_bool(reply, "succeeded")) {
		ld.failed += LOAD_BATCH;
		return;
	}
	for (i = 0; i < LOAD_BATCH; i++) {
		p[i].rev = etcd_get_i64(etcd_get(reply, "header"), "revision");
		p[i].done_ms = now_ms();
	}
	ld.done += LOAD_BATCH;
}

static void answered(void *arg, int err, struct json_object *reply)
{
	(void)arg;
	ld.answered = true;
	ld.answer = err ? -1 : etcd_get_i64(reply, "ID");
}

static int64_t load_call(const char *path, struct json_object *body)
{
	ld.answered = false;
	if (etcd_call(ld.e, path, body, 10000, answered, NULL))
		return -1;
	while (!ld.answered) {
		curl_multi_poll(etcd_multi(ld.e), NULL, 0, 100, NULL);
		etcd_perform(ld.e);
	}
	return ld.answer;
}

/*
 * Names @first.. put as node "loader"'s, LOAD_BATCH to a transaction (this
 * machine's etcd, TLS and JSON gateway take no more than some 700
 * transactions a second), each create-if-absent as a kregd's claim is.
 */
static void load_batch(int first)
{
	struct json_object *compare = json_object_new_array(), *success = json_object_new_array();
	struct json_object *body;
	int i;

	for (i = first; i < first + LOAD_BATCH; i++) {
		char key[128], value[160];

		snprintf(key, sizeof(key), "/kreg/test/names/load.%06d", i);
		snprintf(value, sizeof(value),
			 "{\"node\":\"loader\",\"pid\":%d,\"uid\":1000,\"claim\":\"%016x\"}",
			 1000 + i, i);
		json_object_array_add(compare, etcd_cmp_created(key, 0));
		json_object_array_add(success, etcd_op_put(key, value, ld.lease));
	}
	body = etcd_txn(compare, success, NULL);
	ld.in_flight++;
	if (etcd_call(ld.e, "/v3/kv/txn", body, 30000, loaded, &ld.puts[first])) {
		ld.in_flight--;
		ld.failed += LOAD_BATCH;
	}
}

struct lag_sample {
	uint64_t at_ms;
	int64_t revision;		/* node1's copy then */
};

static int cmp_put(const void *a, const void *b)
{
	const struct put *x = a, *y = b;

	return x->rev < y->rev ? -1 : x->rev > y->rev;
}

/*
 * How far behind node1's copy was at each sample: the age of the oldest
 * name committed in etcd that the copy did not have yet (0 if none).
 */
static void lags(struct lag_sample *s, int ns, uint64_t *lag)
{
	struct put *p = calloc((size_t)LOAD_NAMES, sizeof(*p));
	uint64_t *oldest_after = calloc((size_t)LOAD_NAMES + 1, sizeof(uint64_t));
	int i, n = 0;

	for (i = 0; i < LOAD_NAMES; i++)
		if (ld.puts[i].rev)
			p[n++] = ld.puts[i];
	qsort(p, (size_t)n, sizeof(*p), cmp_put);
	oldest_after[n] = UINT64_MAX;
	for (i = n - 1; i >= 0; i--)
		oldest_after[i] = p[i].done_ms < oldest_after[i + 1] ? p[i].done_ms :
			oldest_after[i + 1];
	for (i = 0; i < ns; i++) {
		int lo = 0, hi = n;

		while (lo < hi) {
			int mid = (lo + hi) / 2;

			if (p[mid].rev <= s[i].revision)
				lo = mid + 1;
			else
				hi = mid;
		}
		lag[i] = oldest_after[lo] < s[i].at_ms ? s[i].at_ms - oldest_after[lo] : 0;
	}
	free(p);
	free(oldest_after);
}

static int status_of(struct node *n, unsigned long long *revision, unsigned int *names)
{
	unsigned long long lease;
	long long deadline, age;
	unsigned int reachable;
	char reply[256];

	return node_ask(n, reply, sizeof(reply), 10000, "STATUS") ||
	       sscanf(reply, "STATUS %llx %lld %u %u %llu %lld", &lease, &deadline, &reachable,
		      names, revision, &age) != 6 ? -EIO : 0;
}

static int mem_of(struct node *n, long *rss, long *slab, long *shmem)
{
	char reply[128];

	return node_ask(n, reply, sizeof(reply), 10000, "MEM") ||
	       sscanf(reply, "MEM %ld %ld %ld", rss, slab, shmem) != 3 ? -EIO : 0;
}

/* Until node1's copy has revision @rev: how long, or 0 if not within @timeout_ms. */
static uint64_t caught_up(int64_t rev, int timeout_ms)
{
	uint64_t start = now_ms(), deadline = start + (uint64_t)timeout_ms;
	unsigned long long have = 0;
	unsigned int names;

	while (now_ms() < deadline) {
		if (!status_of(N1, &have, &names) && (int64_t)have >= rev)
			return now_ms() - start + 1;
		sleep_ms(POLL_MS);
	}
	return 0;
}

static void many_names(void)
{
	static struct lag_sample samples[4000];
	uint64_t start, next_poll, lag[4000], catch_up, dropped;
	long rss0, slab0, shm0, rss1, slab1, shm1;
	unsigned int poll_id = 0, names;
	int ns = 0, i;
	int64_t last = 0;
	char error[256], conf[300], reply[256], endpoints[512];
	struct json_object *body;
	FILE *f;

	/* The loader speaks to etcd as a node would: its own user, certificate, endpoints. */
	snprintf(conf, sizeof(conf), "%s/endpoints", cluster_dir);
	f = fopen(conf, "r");
	if (!f || !fgets(endpoints, sizeof(endpoints), f))
		endpoints[0] = '\0';
	if (f)
		fclose(f);
	endpoints[strcspn(endpoints, "\n")] = '\0';
	snprintf(conf, sizeof(conf), "%s/loader.conf", cluster_dir);
	f = fopen(conf, "w");
	if (!f)
		return;
	fchmod(fileno(f), 0600);
	fprintf(f, "cluster = test\nnode = loader\nendpoints = %s\nca = %s/ca.crt\n"
		"cert = %s/loader.crt\nkey = %s/loader.key\nuser = kreg-loader\n"
		"password_file = %s/loader.password\n", endpoints, cluster_dir, cluster_dir,
		cluster_dir, cluster_dir);
	fclose(f);
	if (kregd_config_read(conf, &ld.c, error, sizeof(error))) {
		fprintf(stderr, "# loader: %s\n", error);
		row("100,000 names", NULL, "MISSED", "no loader");
		return;
	}
	ld.e = etcd_new(&ld.c);
	ld.puts = calloc(LOAD_NAMES, sizeof(*ld.puts));
	body = json_object_new_object();
	etcd_put_i64(body, "TTL", 3600);
	ld.lease = load_call("/v3/lease/grant", body);
	if (!ld.e || !ld.puts || ld.lease <= 0 || mem_of(N1, &rss0, &slab0, &shm0)) {
		row("100,000 names", NULL, "MISSED", "no lease");
		return;
	}
	start = now_ms();
	next_poll = start;
	while (ld.done + ld.failed < LOAD_NAMES && now_ms() - start < 600000) {
		uint64_t now = now_ms();
		uint64_t due = (now - start) * LOAD_RATE / 1000;

		while (ld.sent < LOAD_NAMES && (uint64_t)ld.sent < due &&
		       ld.in_flight < LOAD_IN_FLIGHT) {
			load_batch(ld.sent);
			ld.sent += LOAD_BATCH;
		}
		curl_multi_poll(etcd_multi(ld.e), NULL, 0, 2, NULL);
		etcd_perform(ld.e);
		/* node1's copy, every POLL_MS: asked, and its answer taken when it comes. */
		if (!poll_id && now >= next_poll && ns < (int)(sizeof(samples) / sizeof(samples[0]))) {
			poll_id = ++N1->seq;
			dprintf(N1->fd, "%u STATUS\n", poll_id);
			next_poll = now + POLL_MS;
		}
		if (poll_id)
			pump(0);
		if (poll_id && !node_line(N1, reply, sizeof(reply), 0)) {
			unsigned long long lease, rev;
			long long deadline, age;
			unsigned int reachable, id;

			if (sscanf(reply, "%u STATUS %llx %lld %u %u %llu %lld", &id, &lease, &deadline,
				   &reachable, &names, &rev, &age) == 7 && id == poll_id) {
				samples[ns].at_ms = now_ms();
				samples[ns].revision = (int64_t)rev;
				ns++;
				poll_id = 0;
			}
		}
	}
	if (poll_id)
		node_answer(N1, poll_id, reply, sizeof(reply), 10000);
	for (i = 0; i < LOAD_NAMES; i++)
		if (ld.puts[i].rev > last)
			last = ld.puts[i].rev;
	row("100,000 names put at 1,000/s, 5 a txn: took", NULL, NULL, "%.1f s (%d failed)",
	    (double)(now_ms() - start) / 1000, ld.failed);
	catch_up = caught_up(last, 300000);
	lags(samples, ns, lag);
	if (ns) {
		row("node1's copy behind etcd under that load, p50", NULL, NULL, "%llu ms",
		    (unsigned long long)pct(lag, ns, 50));
		row("node1's copy behind etcd under that load, p99", NULL, NULL, "%llu ms",
		    (unsigned long long)pct(lag, ns, 99));
	}
	row("node1's copy complete after the last put", NULL, catch_up ? NULL : "MISSED",
	    catch_up ? "%llu ms" : "not in %llu ms", (unsigned long long)(catch_up ? catch_up :
									 300000));
	if (!mem_of(N1, &rss1, &slab1, &shm1) && ld.done) {
		row("memory per name on node1: kregd", NULL, NULL, "%.0f B",
		    (double)(rss1 - rss0) * 1024 / ld.done);
		row("memory per name on node1: kreg.ko", NULL, NULL, "%.0f B (+ %.0f B view)",
		    (double)(slab1 - slab0) * 1024 / ld.done,
		    (double)(shm1 - shm0) * 1024 / ld.done);
	}
	/* The loader's node goes: its lease, and every one of its names at one revision. */
	body = json_object_new_object();
	etcd_put_i64(body, "ID", ld.lease);
	start = now_ms();
	load_call("/v3/lease/revoke", body);
	dropped = 0;
	while (now_ms() - start < 300000) {
		unsigned long long rev;

		if (!status_of(N1, &rev, &names) && names < 100) {
			dropped = now_ms() - start;
			break;
		}
		sleep_ms(POLL_MS);
	}
	row("a node with 100,000 names gone: dropped on node1", NULL, dropped ? NULL : "MISSED",
	    dropped ? "%llu ms" : "not in 300 s", (unsigned long long)dropped);
	etcd_free(ld.e);
	free(ld.puts);
}

static void table(void)
{
	int i;

	printf("\nkreg across hosts: cluster provider, 3-member etcd (TLS) here, nodes in QEMU TCG guests, TTL %d s\n\n",
	       LEASE_TTL_MS / 1000);
	printf("%-46s %-28s %-16s %s\n", "measure", "kreg", "target", "");
	for (i = 0; i < 100; i++)
		putchar('-');
	putchar('\n');
	for (i = 0; i < nrows; i++)
		printf("%-46s %-28s %-16s %s\n", rows[i].what, rows[i].value, rows[i].target,
		       rows[i].verdict);
	printf("\nAnchors, as published: Erlang node-down 45-75 s (net_ticktime), Kubernetes Lease ~15 s,\n"
	       "Consul lock-delay 15 s, ZooKeeper sessions 4-40 s; Horde: both concurrent registrations\n"
	       "return {:ok, pid}, one killed later.\n");
}

/* KREG_BENCH_ONLY=PART (in_node, messages, deaths, hosts, names): only that part. */
static bool part(const char *name)
{
	const char *only = getenv("KREG_BENCH_ONLY");

	return !only || !strcmp(only, name);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (cluster_up(2, "loader")) {
		cluster_down();
		fprintf(stderr, "the bench cluster did not come up\n");
		return 1;
	}
	if (part("in_node"))
		in_node();
	if (part("messages"))
		messages();
	if (part("deaths"))
		holder_deaths();
	if (part("hosts"))
		host_deaths();
	if (part("names"))
		many_names();
	cluster_down();
	table();
	return 0;
}
