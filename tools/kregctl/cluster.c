// SPDX-License-Identifier: GPL-2.0
/* kregctl cluster status: how this node stands in its cluster, from kregd. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kregctl.h"

static void seconds(char *buf, size_t size, int64_t ms)
{
	snprintf(buf, size, "%lld.%01lld s", (long long)(ms / 1000),
		 (long long)((ms < 0 ? -ms : ms) % 1000 / 100));
}

static int cluster_status(struct kreg_conn *conn)
{
	struct kreg_cluster_status st;
	char ttl[32], left[32], age[32];
	int err = kreg_cluster_status(conn, &st);

	if (err)
		return ctl_fail(conn, "cluster status", err);
	if (ctl_json) {
		json_object(&ctl_out, NULL);
		json_string(&ctl_out, "cluster", st.cluster);
		json_string(&ctl_out, "node", st.node);
		if (st.lease) {
			char lease[24];

			snprintf(lease, sizeof(lease), "%llx", (unsigned long long)st.lease);
			json_string(&ctl_out, "lease", lease);
			json_int(&ctl_out, "deadline_ms", st.deadline_ms);
		} else {
			json_null(&ctl_out, "lease");
			json_null(&ctl_out, "deadline_ms");
		}
		json_int(&ctl_out, "ttl_ms", st.ttl_ms);
		json_uint(&ctl_out, "fenced", st.fenced);
		json_uint(&ctl_out, "endpoints", st.endpoints);
		json_uint(&ctl_out, "reachable", st.reachable);
		json_string(&ctl_out, "endpoint", st.endpoint);
		json_uint(&ctl_out, "names", st.names);
		json_uint(&ctl_out, "local_names", st.local_names);
		json_uint(&ctl_out, "revision", st.revision);
		if (st.age_ms >= 0)
			json_int(&ctl_out, "age_ms", st.age_ms);
		else
			json_null(&ctl_out, "age_ms");
		json_end(&ctl_out, '}');
		return 0;
	}
	seconds(ttl, sizeof(ttl), st.ttl_ms);
	seconds(left, sizeof(left), st.deadline_ms);
	seconds(age, sizeof(age), st.age_ms);
	printf("cluster: %s\n", st.cluster);
	printf("node: %s\n", st.node);
	if (st.lease)
		printf("lease: %llx, TTL %s, %s left before this node fences its holders\n",
		       (unsigned long long)st.lease, ttl, left);
	else
		printf("lease: none (etcd cannot be reached: registers fail, holders are fenced)\n");
	printf("etcd: %u of %u endpoints answered; in use: %s\n", st.reachable, st.endpoints,
	       st.endpoint);
	printf("names: %u in the cluster, %u held on this node\n", st.names, st.local_names);
	if (st.age_ms >= 0)
		printf("copy: as of revision %llu, %s old\n", (unsigned long long)st.revision, age);
	else
		printf("copy: not read yet\n");
	printf("fenced: %u holder%s since kregd started\n", st.fenced, st.fenced == 1 ? "" : "s");
	return 0;
}

int cmd_cluster(struct kreg_conn *conn, int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "status"))
		return cluster_status(conn);
	ctl_usage(stderr);
	return EXIT_ERROR;
}
