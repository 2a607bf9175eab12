// SPDX-License-Identifier: GPL-2.0
/*
 * kregctl cluster status: how this node stands in its cluster, from kregd,
 * and its links to the other nodes, which messages to their names take.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kregctl.h"

static void seconds(char *buf, size_t size, int64_t ms)
{
	snprintf(buf, size, "%lld.%01lld s", (long long)(ms / 1000),
		 (long long)((ms < 0 ? -ms : ms) % 1000 / 100));
}

static const char *link_state(enum kreg_link_state s)
{
	return s == KREG_LINK_UP ? "up" : s == KREG_LINK_CONNECTING ? "connecting" : "down";
}

static void peers_json(const struct kreg_peer *peers, size_t n)
{
	size_t i;

	json_array(&ctl_out, "peers");
	for (i = 0; i < n; i++) {
		const struct kreg_peer *p = &peers[i];

		json_object(&ctl_out, NULL);
		json_string(&ctl_out, "node", p->node);
		json_string(&ctl_out, "state", link_state(p->state));
		json_string(&ctl_out, "address", p->address);
		if (p->rtt_us >= 0)
			json_int(&ctl_out, "rtt_us", p->rtt_us);
		else
			json_null(&ctl_out, "rtt_us");
		json_uint(&ctl_out, "queued_bytes", p->queued_bytes);
		json_uint(&ctl_out, "in_flight", p->in_flight);
		json_uint(&ctl_out, "sent", p->sent);
		json_uint(&ctl_out, "delivered", p->delivered);
		json_uint(&ctl_out, "failed", p->failed);
		json_uint(&ctl_out, "received", p->received);
		json_uint(&ctl_out, "up_ms", p->up_ms);
		if (p->last_error)
			json_string(&ctl_out, "last_error", kreg_strerror(p->last_error));
		else
			json_null(&ctl_out, "last_error");
		json_end(&ctl_out, '}');
	}
	json_end(&ctl_out, ']');
}

static void peers_table(const struct kreg_peer *peers, size_t n)
{
	size_t i;

	if (!n) {
		printf("peers: none yet (a link is made when a message is to go)\n");
		return;
	}
	printf("%-16s %-10s %-22s %9s %9s %6s %8s %9s %6s %8s\n", "PEER", "LINK", "ADDRESS",
	       "RTT", "QUEUED", "FLIGHT", "SENT", "DELIVERED", "FAILED", "RECEIVED");
	for (i = 0; i < n; i++) {
		const struct kreg_peer *p = &peers[i];
		char rtt[24];

		if (p->rtt_us >= 0)
			snprintf(rtt, sizeof(rtt), "%.2f ms", (double)p->rtt_us / 1000);
		else
			snprintf(rtt, sizeof(rtt), "-");
		printf("%-16s %-10s %-22s %9s %8lluB %6llu %8llu %9llu %6llu %8llu\n", p->node,
		       link_state(p->state), p->address[0] ? p->address : "-", rtt,
		       (unsigned long long)p->queued_bytes, (unsigned long long)p->in_flight,
		       (unsigned long long)p->sent, (unsigned long long)p->delivered,
		       (unsigned long long)p->failed, (unsigned long long)p->received);
		if (p->last_error && p->state != KREG_LINK_UP)
			printf("%-16s last failure: %s\n", "", kreg_strerror(p->last_error));
	}
}

static int cluster_status(struct kreg_conn *conn)
{
	struct kreg_cluster_status st;
	static struct kreg_peer peers[64];
	char ttl[32], left[32], age[32];
	size_t n_peers = 0;
	int err = kreg_cluster_status(conn, &st);

	if (!err)
		err = kreg_cluster_peers(conn, peers, sizeof(peers) / sizeof(peers[0]), &n_peers);
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
		peers_json(peers, n_peers);
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
	peers_table(peers, n_peers);
	return 0;
}

int cmd_cluster(struct kreg_conn *conn, int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "status"))
		return ctl_bad_usage("status is the one cluster command");
	return ctl_open(&conn) ? EXIT_ERROR : cluster_status(conn);
}
