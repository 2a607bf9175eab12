/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kregd as this node's relay in kreg.ko (generic netlink, family kreg):
 * the commands only the relay's socket may send, and the lookups it needs
 * to decide a claim. Names here are the kernel's ("cluster.NAME").
 */
#ifndef KREGD_RELAY_H
#define KREGD_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct relay;

/* A name as the kernel's table has it, for the relay. */
struct relay_entry {
	char name[256];
	pid_t pid;		/* this node's holder or claimant; 0 for a mirror */
	uint64_t token;		/* 0 for a claim not committed */
	bool remote;		/* a mirror */
	bool pending;		/* a claim */
};

/* A process of another node, for which the relay sends. */
struct relay_sender {
	const char *node;
	pid_t pid;
	uint32_t uid, gid;
};

/* Opens the relay's socket and binds it for @node: -EBUSY, -EPERM, -EPROTONOSUPPORT. */
int relay_open(struct relay **rp, const char *node);
void relay_close(struct relay *r);

/* @name's entry, claims included; -ENOENT. */
int relay_whereis(struct relay *r, const char *name, struct relay_entry *e);
int relay_commit(struct relay *r, const char *name, pid_t pid, uint64_t token);
int relay_mirror(struct relay *r, const char *name, const char *node, pid_t pid,
		 uint64_t token, const void *meta, size_t meta_len);
int relay_unmirror(struct relay *r, const char *name, uint64_t token, int reason);
/* This node's holders of @name (NULL: every cluster name) fenced: how many, or an error. */
int relay_fence(struct relay *r, const char *name);
int relay_progress(struct relay *r, uint64_t revision, uint64_t heard_ns);
/*
 * This node's holders keep their names until @deadline_ns (CLOCK_BOOTTIME):
 * then the kernel fences them by itself, unless this is sent again.
 */
int relay_lease(struct relay *r, uint64_t deadline_ns);
/* Calls @fn for each cluster name of the table (claims and mirrors too). */
int relay_list(struct relay *r, int (*fn)(const struct relay_entry *e, void *arg), void *arg);

/*
 * Delivers @len bytes to @name's holder on this node for @sender, a process
 * of another node, as the holder there of @from if not NULL (only to
 * @token's holder, if not 0): the kernel's answer, 0, -ENOENT,
 * -ECONNREFUSED, -EAGAIN, -EACCES, -EPERM or -ESTALE.
 */
int relay_send(struct relay *r, const char *name, const struct relay_sender *sender,
	       const char *from, uint64_t token, const void *data, size_t len);

#endif /* KREGD_RELAY_H */
