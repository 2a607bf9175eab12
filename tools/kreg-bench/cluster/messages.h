/* SPDX-License-Identifier: GPL-2.0 */
/* kreg-cluster-bench's messages between nodes (messages.c). */
#ifndef KREG_BENCH_CLUSTER_MESSAGES_H
#define KREG_BENCH_CLUSTER_MESSAGES_H

/* node2's echo servers, raw TCP and raw TLS: never returns but on failure. */
int bench_serve(int tcp_port, int tls_port);
/* node1's measures against them: 0, or 1 with the reason on stderr. */
int bench_messages(const char *tcp_addr, const char *tls_addr, const char *mailbox,
		   const char *server);

#endif /* KREG_BENCH_CLUSTER_MESSAGES_H */
