/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kreg-bench: kreg and the registries a Linux user would pick instead,
 * measured side by side in one run. Each peer implements what it can of
 * struct peer; a NULL operation is a row that peer does not have.
 */
#ifndef KREG_BENCH_H
#define KREG_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Sent ahead of every payload, so an echo server knows where to answer. */
struct bench_hdr {
	char reply_to[64];
};

struct peer {
	const char *name;
	/* Holders and servers are threads of this process, not processes. */
	bool threads;
	/* Per-process client state. */
	int (*open)(void **ctx);
	void (*close)(void *ctx);
	/* Makes @name held by this process, for whereis targets. */
	int (*hold)(void *ctx, const char *name);
	int (*whereis)(void *ctx, const char *name, pid_t *pid);
	int (*reg)(void *ctx, const char *name);
	int (*unreg)(void *ctx, const char *name);
	/* A server process for @name: echoes calls, swallows casts; never returns. */
	void (*serve)(const char *name, int ready_fd);
	/* A round trip: @len bytes to @name and back. */
	int (*call)(void *ctx, const char *name, const void *buf, size_t len);
	/* One way: @len bytes to @name (waits, never drops, when the receiver is full). */
	int (*cast)(void *ctx, const char *name, const void *buf, size_t len);
	/* The floor: the cheapest round trip the transport has. */
	int (*round_trip)(void *ctx);
};

/*
 * kreg: libkreg as a service uses it (lookups from the view); kreg-nl: every
 * lookup through netlink (KREG_VIEW=off); local: the local provider's
 * lookups; genetlink: a bare round trip to the family.
 */
extern const struct peer peer_kreg, peer_kreg_netlink, peer_local, peer_local_lookup,
	peer_genl, peer_dbus, peer_pidfile, peer_uds;

uint64_t bench_now_ns(void);

#endif /* KREG_BENCH_H */
