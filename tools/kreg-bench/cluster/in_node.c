// SPDX-License-Identifier: GPL-2.0
/*
 * kreg-cluster-bench: what a cluster node measures of itself. The cluster
 * benchmark (driver.c) runs it in a node, through the node's agent:
 *
 *   kreg-cluster-bench register PAIRS
 *	a cluster register, then its unregister, through libkreg (the kernel's
 *	claim, kregd, etcd's transaction, the kernel's commit), against what
 *	it rests on: a bare create-if-absent transaction and its delete, sent
 *	from this node to etcd with the node's own credentials and client
 *	(/etc/kreg/cluster.conf, kregd's etcd.c). Alternating, PAIRS times:
 *	the median of each, and the median of the pairs' ratios.
 *
 *   kreg-cluster-bench whereis NAME
 *	whereis of cluster name NAME, held on another node, from this node's
 *	copy, against the kernel view's whereis of a name of this node as
 *	long as NAME is in the kernel (with its "cluster." prefix):
 *	batches of lookups, alternating; the median of the pairs' ratios.
 *
 *   kreg-cluster-bench serve ..., msg ...: messages between nodes (messages.c).
 *
 * Each figure is a line "BENCH NAME VALUE", for the driver to read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "etcd.h"
#include "kreg.h"
#include "messages.h"
#include "stats.h"

#define WHEREIS_BATCH	20000
#define WHEREIS_PAIRS	31

static void report(const char *name, double value)
{
	printf("BENCH %s %.3f\n", name, value);
}

/* --- etcd, called synchronously: the bare transactions -------------------- */

struct answer {
	bool done;
	int err;
	bool succeeded;
	int64_t revision;
	int64_t id;		/* a lease grant's */
};

static void answered(void *arg, int err, struct json_object *reply)
{
	struct answer *a = arg;

	a->done = true;
	a->err = err;
	a->succeeded = etcd_get_bool(reply, "succeeded");
	a->revision = etcd_get_i64(etcd_get(reply, "header"), "revision");
	a->id = etcd_get_i64(reply, "ID");
}

static int call(struct etcd *e, const char *path, struct json_object *body, struct answer *a)
{
	memset(a, 0, sizeof(*a));
	if (etcd_call(e, path, body, 5000, answered, a))
		return -ENOMEM;
	while (!a->done) {
		curl_multi_poll(etcd_multi(e), NULL, 0, 100, NULL);
		etcd_perform(e);
	}
	return a->err;
}

/* What kregd's claim and release send, bare: create-if-absent, delete-if-mine. */
static int bare_create(struct etcd *e, const char *key, int64_t lease, int64_t *token)
{
	static const char value[] = "{\"node\":\"bench\",\"pid\":1,\"uid\":0}";
	struct answer a;
	int err;

	err = call(e, "/v3/kv/txn", etcd_txn(etcd_all(1, etcd_cmp_created(key, 0)),
					     etcd_all(1, etcd_op_put(key, value, lease)), NULL), &a);
	if (!err && !a.succeeded)
		err = -EEXIST;
	*token = a.revision;
	return err;
}

static int bare_delete(struct etcd *e, const char *key, int64_t token)
{
	struct answer a;
	int err = call(e, "/v3/kv/txn", etcd_txn(etcd_all(1, etcd_cmp_created(key, token)),
						 etcd_all(1, etcd_op_delete(key)), NULL), &a);

	return err ? err : a.succeeded ? 0 : -ENOENT;
}

/* --- register against the bare transaction ------------------------------- */

static int bench_register(int pairs)
{
	double *reg = calloc((size_t)pairs, sizeof(double));
	double *unreg = calloc((size_t)pairs, sizeof(double));
	double *create = calloc((size_t)pairs, sizeof(double));
	double *del = calloc((size_t)pairs, sizeof(double));
	double *ratio = calloc((size_t)pairs, sizeof(double));
	double *cycle_ratio = calloc((size_t)pairs, sizeof(double));
	struct kregd_config config;
	struct json_object *grant;
	struct kreg_conn *c = NULL;
	struct etcd *e = NULL;
	char error[256], key[300], name[64];
	struct answer a;
	int64_t lease = 0, token;
	int i, err;

	err = -ENOMEM;
	if (!reg || !unreg || !create || !del || !ratio || !cycle_ratio)
		goto out;
	err = kregd_config_read(KREGD_CONFIG, &config, error, sizeof(error));
	if (err) {
		fprintf(stderr, "kreg-cluster-bench: %s\n", error);
		goto out;
	}
	e = etcd_new(&config);
	err = e ? kreg_open_provider(&c, KREG_PROVIDER_CLUSTER) : -ENOMEM;
	if (err)
		goto out;
	/* The bare transactions' keys live with a lease of their own, as a node's do. */
	grant = json_object_new_object();
	etcd_put_i64(grant, "TTL", 60);
	err = call(e, "/v3/lease/grant", grant, &a);
	lease = a.id;
	if (err || !lease) {
		fprintf(stderr, "kreg-cluster-bench: no lease from etcd: %d\n", err);
		err = err ? err : -EIO;
		goto out;
	}
	for (i = 0; i < pairs; i++) {
		double t0, t1, t2, t3, t4;

		snprintf(name, sizeof(name), "bench.register.%d", i);
		snprintf(key, sizeof(key), "/kreg/%s/bench/%d", config.cluster, i);
		t0 = now_us();
		err = kreg_register(c, name, 0, NULL);
		t1 = now_us();
		if (!err)
			err = kreg_unregister(c, name);
		t2 = now_us();
		if (!err)
			err = bare_create(e, key, lease, &token);
		t3 = now_us();
		if (!err)
			err = bare_delete(e, key, token);
		t4 = now_us();
		if (err) {
			fprintf(stderr, "kreg-cluster-bench: pair %d: %s (%s)\n", i, kreg_strerror(err),
				kreg_last_error(c));
			goto out;
		}
		reg[i] = t1 - t0;
		unreg[i] = t2 - t1;
		create[i] = t3 - t2;
		del[i] = t4 - t3;
		ratio[i] = reg[i] / create[i];
		cycle_ratio[i] = (reg[i] + unreg[i]) / (create[i] + del[i]);
	}
	report("register_us", median(reg, pairs));
	report("unregister_us", median(unreg, pairs));
	report("bare_create_us", median(create, pairs));
	report("bare_delete_us", median(del, pairs));
	report("register_ratio", median(ratio, pairs));
	report("cycle_ratio", median(cycle_ratio, pairs));
	err = 0;
out:
	if (lease) {
		struct json_object *revoke = json_object_new_object();

		etcd_put_i64(revoke, "ID", lease);
		call(e, "/v3/lease/revoke", revoke, &a);
	}
	if (e)
		etcd_free(e);
	if (c)
		kreg_close(c);
	free(reg);
	free(unreg);
	free(create);
	free(del);
	free(ratio);
	free(cycle_ratio);
	return err;
}

/* --- whereis from the copy against the kernel's view --------------------- */

static double lookups(struct kreg_conn *c, const char *name, int *err)
{
	struct kreg_holder h;
	double t0 = now_us();
	int i;

	for (i = 0; i < WHEREIS_BATCH && !*err; i++)
		*err = kreg_whereis_holder(c, name, 0, &h);
	return (now_us() - t0) / WHEREIS_BATCH;
}

static int bench_whereis(const char *remote)
{
	double cluster[WHEREIS_PAIRS], view[WHEREIS_PAIRS], ratio[WHEREIS_PAIRS];
	struct kreg_conn *cc = NULL, *kc = NULL;
	struct kreg_holder h;
	int i, err;

	char local[KREG_NAME_MAX + 1];

	/*
	 * The kernel's name of the same length as the cluster name's in the
	 * kernel ("cluster." and the name): the same hash and compare to do.
	 */
	snprintf(local, sizeof(local), "local.%0*d", (int)(strlen(KREG_CLUSTER_PREFIX) +
						     strlen(remote) - strlen("local.")), 0);
	err = kreg_open_provider(&cc, KREG_PROVIDER_CLUSTER);
	if (!err)
		err = kreg_open_provider(&kc, KREG_PROVIDER_KERNEL);
	if (!err)
		err = kreg_register(kc, local, 0, NULL);
	if (!err)
		err = kreg_whereis_holder(cc, remote, 0, &h);
	if (!err && h.local) {
		fprintf(stderr, "kreg-cluster-bench: %s is held on this node\n", remote);
		err = -EINVAL;
	}
	for (i = 0; i < WHEREIS_PAIRS && !err; i++) {
		cluster[i] = lookups(cc, remote, &err);
		view[i] = lookups(kc, local, &err);
		ratio[i] = cluster[i] / view[i];
	}
	if (err) {
		fprintf(stderr, "kreg-cluster-bench: whereis: %s\n", kreg_strerror(err));
	} else {
		struct timespec ts;
		double t0 = now_us();

		for (i = 0; i < WHEREIS_BATCH; i++)
			clock_gettime(CLOCK_BOOTTIME, &ts);
		report("boottime_us", (now_us() - t0) / WHEREIS_BATCH);
		/* The same mirror through the kernel provider: what the cluster provider adds. */
		snprintf(local, sizeof(local), "%s%s", KREG_CLUSTER_PREFIX, remote);
		report("whereis_mirror_kernel_us", lookups(kc, local, &err));
		report("whereis_cluster_us", median(cluster, WHEREIS_PAIRS));
		report("whereis_view_us", median(view, WHEREIS_PAIRS));
		report("whereis_ratio", median(ratio, WHEREIS_PAIRS));
	}
	if (kc)
		kreg_close(kc);
	if (cc)
		kreg_close(cc);
	return err;
}

int main(int argc, char **argv)
{
	int err;

	if (argc == 3 && !strcmp(argv[1], "register"))
		err = bench_register(atoi(argv[2]) > 0 ? atoi(argv[2]) : 1);
	else if (argc == 3 && !strcmp(argv[1], "whereis"))
		err = bench_whereis(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "serve"))
		err = bench_serve(atoi(argv[2]), atoi(argv[3]));
	else if (argc == 6 && !strcmp(argv[1], "msg"))
		err = bench_messages(argv[2], argv[3], argv[4], argv[5]);
	else {
		fprintf(stderr, "usage: kreg-cluster-bench register PAIRS | whereis NAME |\n"
				"       serve TCP_PORT TLS_PORT | msg TCP_ADDR TLS_ADDR MAILBOX SERVER\n");
		return 2;
	}
	return err ? 1 : 0;
}
