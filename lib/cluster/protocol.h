/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What libkreg's cluster provider and kregd, the node daemon, say to each
 * other over kregd's socket (a local SOCK_SEQPACKET socket, one message a
 * datagram): fixed-size requests and replies, each request with explicit
 * SCM_CREDENTIALS, which the kernel vouches for, so kregd knows the process
 * it speaks with, whoever passed the descriptor around. Never installed:
 * both sides are built from this tree, and a mismatch is refused
 * (KREGD_PROTO_VERSION).
 *
 * What goes through here is only what the kernel cannot decide: winning a
 * claim in the cluster, letting a name go there, asking the cluster
 * itself. Everything else (ownership, visibility, lookups, events) is the
 * kernel's table, where kregd keeps the cluster's names in step.
 */
#ifndef KREG_CLUSTER_PROTOCOL_H
#define KREG_CLUSTER_PROTOCOL_H

#include <stdint.h>

#include <linux/kreg.h>

#define KREGD_SOCKET		"/run/kreg/kregd.sock"
#define KREGD_PROTO_VERSION	4
/* Peers STATUS lists at most. */
#define KREGD_PEERS_MAX		32

enum kregd_op {
	/*
	 * Win @name in the cluster for the sending process, which claims
	 * "cluster.NAME" in the kernel (KREG_F_CLUSTER) already: 0 and the
	 * token, -EEXIST and the holder, -EHOSTUNREACH when the cluster
	 * cannot decide within a second, -ESTALE when this handle's names
	 * were fenced (@epoch is the lease it won its names under).
	 */
	KREGD_CLAIM = 1,
	/*
	 * @name, which the sending process held with @token and has just
	 * released in the kernel, is let go in the cluster: the reply comes
	 * once it is.
	 */
	KREGD_RELEASE,
	/*
	 * Read @name from the cluster itself (linearizable) and bring this
	 * node's copy up to it; the caller then asks the kernel, which says
	 * what the caller may see of it.
	 */
	KREGD_SYNC,
	/* Wait until no claim of @name by this node is being decided. */
	KREGD_AWAIT_CLAIM,
	/* How this node stands in the cluster (struct kregd_status), and its peers. */
	KREGD_STATUS,
	/*
	 * Deliver the payload after the request (@payload_len bytes) to the
	 * holder of cluster name @name on its node, through the peer link to
	 * that node; only to the holder @token was granted to, if not 0. With
	 * @node, to @name on that node instead, a name of its own there (a
	 * caller's reply address, "user."). With @from, as the holder of that
	 * name, which the sending process must hold on this node (a cluster
	 * name, with the prefix, or its reply address: EPERM). The sender is
	 * the process the credentials say, checked here as the kernel would
	 * (it may send to the name). The answer is that node's
	 * kernel's: 0, -ENOENT, -ECONNREFUSED, -EAGAIN, -EACCES, -ESTALE;
	 * or the link's: -EHOSTUNREACH (no link could be made), -ETIMEDOUT
	 * and -ECONNRESET (the link failed with the message sent: it may or
	 * may not have been delivered, and is never sent again), -EAGAIN
	 * (the link's queue is full). -EREMCHG: the name is held on this
	 * node now, where the kernel delivers it.
	 */
	KREGD_SEND,
	/*
	 * Deliver the payload to @name, a name of each node's own (not a
	 * cluster name), on every other node of the cluster (those with a
	 * record in etcd): the answer comes once every node has answered or
	 * failed, each node's in results[].
	 */
	KREGD_MULTI_SEND,
};

struct kregd_request {
	uint32_t version;		/* KREGD_PROTO_VERSION */
	uint32_t op;			/* enum kregd_op */
	uint64_t seq;			/* echoed in the reply */
	uint64_t epoch;			/* the lease this handle's names live under, or 0 */
	uint64_t token;			/* RELEASE */
	char name[KREG_NAME_MAX + 1];	/* without KREG_CLUSTER_PREFIX */
	uint32_t meta_len;
	uint8_t meta[KREG_META_MAX];
	uint32_t payload_len;		/* SEND: the payload follows the request */
	uint32_t pad;
	char node[KREG_NODE_MAX + 1];	/* SEND: to a name of that node's own, or "" */
	char from[KREG_NAME_MAX + 1];	/* SEND: as the holder of this kernel name, or "" */
};

struct kregd_holder {
	char node[KREG_NODE_MAX + 1];
	int32_t pid;			/* on its node */
	uint32_t uid;			/* on its node */
	uint64_t token;
};

/* STATUS: how this node stands in the cluster. */
struct kregd_status {
	char cluster[64];
	char node[KREG_NODE_MAX + 1];
	uint64_t lease;			/* its id, 0 without one */
	int64_t ttl_ms;			/* the lease's TTL */
	int64_t deadline_ms;		/* left before this node fences its holders */
	uint32_t fenced;		/* holders fenced since kregd started */
	uint32_t endpoints;		/* etcd endpoints configured */
	uint32_t reachable;		/* of which answered last time */
	uint32_t names;			/* cluster names in the copy */
	uint32_t local;			/* of which held on this node */
	uint64_t revision;		/* the copy is as of this revision */
	int64_t age_ms;			/* and that was known this long ago */
	char endpoint[128];		/* the endpoint in use */
	uint32_t n_peers;		/* entries of peers[] */
	uint32_t pad;
};

enum kregd_link_state {
	KREGD_LINK_DOWN,		/* none: one is made when a message is to go */
	KREGD_LINK_CONNECTING,		/* reading its address, dialing, TLS, HELLO */
	KREGD_LINK_UP,
};

/* A peer node this node has a link to, or had. */
struct kregd_peer {
	char node[KREG_NODE_MAX + 1];
	char address[80];		/* where it was dialed, or was dialed from */
	uint32_t state;			/* enum kregd_link_state */
	int32_t last_err;		/* the last failure, 0 for none */
	int64_t rtt_us;			/* the last round trip, -1 unknown */
	uint64_t queued_bytes;		/* written to the link, or waiting for it, not yet acked */
	uint64_t in_flight;		/* messages sent and not yet acked */
	uint64_t sent, delivered, failed;	/* messages from this node, by their answer */
	uint64_t received;		/* messages from that node */
	uint64_t up_ms;			/* how long the link has been up */
};

/* MULTI_SEND: one node's answer. */
struct kregd_node_result {
	char node[KREG_NODE_MAX + 1];
	int32_t err;
};

/*
 * A reply goes as long as its request needs (kregd_reply_len()): the
 * peers' table of a STATUS is 9 KiB, which every SEND's answer carried
 * before, at a fifth of a millisecond a round trip on a slow host.
 */
struct kregd_reply {
	uint32_t version;
	uint32_t op;
	uint64_t seq;
	int32_t err;			/* 0 or a negative errno */
	uint32_t pad;
	uint64_t epoch;			/* CLAIM: the lease it was won under */
	uint64_t revision;		/* SYNC: the cluster revision read */
	char message[160];		/* what went wrong, for kreg_last_error() */
	struct kregd_holder holder;	/* CLAIM: the new holder, or the one that has it */
	/* What only some replies carry, from here on. */
	uint32_t n_results;		/* MULTI_SEND: entries of results[] */
	uint32_t pad2;
	struct kregd_node_result results[KREGD_PEERS_MAX];
	struct kregd_status status;	/* STATUS */
	struct kregd_peer peers[KREGD_PEERS_MAX];	/* STATUS: status.n_peers of them */
};

/* The bytes of a reply to @op that go over the socket; what follows is zero. */
static inline unsigned long kregd_reply_len(uint32_t op)
{
	switch (op) {
	case KREGD_STATUS:
		return sizeof(struct kregd_reply);
	case KREGD_MULTI_SEND:
		return __builtin_offsetof(struct kregd_reply, status);
	default:
		return __builtin_offsetof(struct kregd_reply, n_results);
	}
}

#endif /* KREG_CLUSTER_PROTOCOL_H */
