/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cluster provider's own declarations (lib/cluster/). Cluster names
 * live in the kernel's table too, under KREG_CLUSTER_PREFIX, where kregd
 * keeps them in step with etcd: this provider is the kernel provider's
 * operations on those names, plus kregd for what only the cluster can
 * decide (protocol.h).
 */
#ifndef KREG_CLUSTER_H
#define KREG_CLUSTER_H

#include "kernel/kernel.h"
#include "protocol.h"

/* The cluster provider's part of a handle. */
struct kreg_cluster {
	int fd;				/* kregd's socket; -1 until needed */
	pid_t owner;			/* the process that connected it */
	uint64_t seq;
	/* The lease this handle's names were won under: kregd fences by it. */
	uint64_t epoch;
};

/*
 * Asks kregd @req (op, name...), within @timeout_ms, and sets *@reply:
 * kregd's error (its message in kreg_last_error()), -ENOTCONN when kregd
 * is not running, -ETIMEDOUT.
 */
KREG_HIDDEN int kreg_kregd_ask(struct kreg_conn *conn, struct kregd_request *req,
			       struct kregd_reply *reply, int timeout_ms);
/* The same, with a payload after the request (@req->payload_len bytes). */
KREG_HIDDEN int kreg_kregd_ask_payload(struct kreg_conn *conn, struct kregd_request *req,
				       const void *payload, struct kregd_reply *reply,
				       int timeout_ms);
KREG_HIDDEN void kreg_kregd_close(struct kreg_conn *conn);

#endif /* KREG_CLUSTER_H */
