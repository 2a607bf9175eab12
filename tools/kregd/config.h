/* SPDX-License-Identifier: GPL-2.0 */
/* kregd's configuration: /etc/kreg/cluster.conf. */
#ifndef KREGD_CONFIG_H
#define KREGD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/kreg.h>

#define KREGD_CONFIG		"/etc/kreg/cluster.conf"
#define KREGD_ENDPOINTS_MAX	16

struct kregd_config {
	char cluster[64];		/* the cluster's name: etcd keys live under /kreg/CLUSTER/ */
	char node[KREG_NODE_MAX + 1];	/* this node's name */
	char endpoints[KREGD_ENDPOINTS_MAX][128];
	int n_endpoints;
	char ca[256], cert[256], key[256];	/* TLS: the cluster's CA, this node's certificate */
	char user[64];			/* this node's etcd user */
	char password_file[256];
	char password[128];		/* read from password_file */
	int lease_ttl;			/* seconds, at least 2 */
	int fence_margin_ms;		/* fence this much before etcd could free the names */
	int fence_signal;		/* 0, or a signal fenced holders get (SIGTERM) */
	char state_dir[256];		/* /run/kreg: the lease, kept across restarts */
	char socket[256];		/* the clients' socket */
	/*
	 * Peer links: where this node's relay listens (HOST:PORT, default
	 * 0.0.0.0:7946), and the address other nodes dial, published in its
	 * record in etcd (default NODE:PORT, the node's name as a host name).
	 */
	char relay_listen[128];
	char relay_address[128];
};

#define KREGD_RELAY_PORT	"7946"

/* Splits "HOST:PORT" or "[V6]:PORT" into @host and @port: 0 or -EINVAL. */
int kregd_split_address(const char *addr, char *host, size_t hsize, char *port, size_t psize);

/*
 * Reads @path into @c (defaults first). A bad line, a missing setting, or a
 * secret (the key, the password, the file itself) readable by anyone but
 * root: -EINVAL or -EACCES, with @error saying "FILE:LINE: what".
 */
/* A node's (or cluster's) name as the kernel takes it: 1 to KREG_NODE_MAX of [A-Za-z0-9_.-]. */
bool kregd_node_name_ok(const char *s);

int kregd_config_read(const char *path, struct kregd_config *c, char *error, size_t size);

#endif /* KREGD_CONFIG_H */
