/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kregd, the node daemon of kreg's cluster provider. One per node. It
 * holds the node's lease in etcd, claims and releases this node's cluster
 * names there with transactions, keeps a copy of every cluster name fed by
 * a watch and mirrors it into kreg.ko (whose table, view, events and
 * policy then serve this node's processes), and fences this node's
 * holders before etcd could give their names to another node.
 *
 *   main.c     the loop: etcd's transfers, the kernel's events, clients, timers
 *   lease.c    the node's lease: grant, keepalive, deadline, fencing
 *   copy.c     the copy of the cluster's names (a hash map)
 *   watch.c    the copy fed from etcd (read, then watch), mirrored into the kernel
 *   claims.c   this node's names: claims, releases, holders' deaths, reads of etcd
 *   clients.c  the socket libkreg's cluster provider speaks to
 *   relay.c    the relay's commands in kreg.ko
 *   peers.c    links to the other nodes' kregd, for messages (TLS: tls.c)
 *   etcd.c     the etcd gateway client
 */
#ifndef KREGD_H
#define KREGD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "config.h"
#include "protocol.h"

struct etcd;
struct relay;
struct kreg_conn;
struct json_object;

/* What an epoll event's pointer leads to: every watched object starts with one. */
enum watched_kind {
	WATCHED_LISTEN = 1,
	WATCHED_EVENTS,
	WATCHED_CLIENT,
	WATCHED_HOLDER,			/* a name_rec's pidfd */
	WATCHED_SIGNAL,
	WATCHED_PEER_LISTEN,
	WATCHED_PEER_LINK,		/* a struct link (peers.c) */
};

/* One cluster name as this node knows it (copy.c): its size is its name's. */
struct name_rec {
	enum watched_kind kind;		/* WATCHED_HOLDER */
	struct name_rec *next;		/* in its hash chain */
	bool present;			/* false: known absent as of rev (a tombstone) */
	int64_t rev;			/* the revision this record is as of */
	int64_t token;			/* create_revision: the holder's fencing token */
	int64_t lease;			/* the lease its key is on */
	struct kregd_holder holder;
	uint8_t *meta;			/* meta_len bytes, or NULL (copy_set_meta()) */
	uint32_t meta_len;
	/* This node's holder: its pidfd, and whether it is being let go. */
	bool local;
	int pidfd;
	bool releasing;
	uint64_t claim_id;		/* the claim that put its key */
	char name[];			/* without KREG_CLUSTER_PREFIX */
};

/* What a name's value in etcd says of its holder (watch_parse_kv()). */
struct kv_holder {
	struct kregd_holder holder;
	int64_t token;			/* the key's create_revision */
	int64_t lease;			/* the lease the key is on */
	uint64_t claim_id;		/* the claim that put it */
	uint32_t meta_len;
	uint8_t meta[KREG_META_MAX];
};

struct copy {
	struct name_rec **buckets;
	size_t n_buckets;
	size_t count;			/* records, tombstones included */
	size_t present;
	size_t local;
};

struct client;

struct kregd {
	struct kregd_config c;
	struct etcd *etcd;
	struct relay *relay;
	struct kreg_conn *events;	/* libkreg's: the kernel's events, for this node's names */
	struct kreg_conn *policy;	/* libkreg's, for policy checks (clients_may_send()) */
	int epfd;
	int listen_fd;
	char cluster_prefix[160];	/* /kreg/CLUSTER/ */
	char names_prefix[160];		/* /kreg/CLUSTER/names/ */
	char nodes_prefix[160];		/* /kreg/CLUSTER/nodes/ */

	/* The lease (lease.c). */
	int64_t lease;			/* 0: none */
	int64_t ttl_ms;
	uint64_t deadline_ms;		/* fence by then, unless renewed */
	uint64_t next_keepalive_ms;
	int keepalives_inflight;
	bool granting;
	uint64_t grant_sent_ms;
	uint64_t regrant_at_ms;
	int64_t reuse;			/* a lease from before, being asked about */
	bool adopted;			/* this node's names from before were sorted out */
	uint32_t fenced;		/* holders fenced since start */

	/* The copy (watch.c, copy.c). */
	struct copy copy;
	int64_t revision;		/* the copy is as of this revision */
	uint64_t heard_ms;		/* when a quorum last confirmed it (monotonic) */
	bool synced;			/* read whole, and watching */
	bool reading;
	struct etcd_req *watch;
	bool watch_cancelled;		/* etcd cancelled it: read everything again */
	uint64_t watch_restart_ms;
	unsigned int watch_quiet_ms;	/* quiet for longer than this: started again */
	/* A quorum's revision the watch has yet to reach, and when it was asked. */
	int64_t confirm_revision;
	uint64_t confirm_sent_ms;
	uint64_t prune_at_ms;

	struct client *clients;
	bool relaying;			/* peers can reach this node (peers_start()) */
	bool stopping;
};

/*
 * CLOCK_BOOTTIME in ms: the lease's clock, and the kernel's for the copy's
 * age; in us, a message's timestamp (its ACK timeout and the link's round trip).
 */
uint64_t kregd_now_ms(void);
uint64_t kregd_now_us(void);
void kregd_watch_fd(struct kregd *d, int fd, void *ptr);
void kregd_unwatch_fd(struct kregd *d, int fd);

/* lease.c */
int lease_start(struct kregd *d);
/* Gives the kernel the deadline, at which it fences by itself (once adopted). */
void lease_publish(struct kregd *d);
/* Fences if the deadline has passed: before any answer, and on every tick. */
void lease_check(struct kregd *d);
void lease_tick(struct kregd *d);
/* Whether the lease holds now: claims may be made. */
bool lease_valid(struct kregd *d);
/* Fences every holder of this node's names, now. */
void lease_fence(struct kregd *d, const char *why);
int64_t lease_next_timeout(struct kregd *d);

/* copy.c */
struct name_rec *copy_find(struct copy *c, const char *name);
struct name_rec *copy_get(struct copy *c, const char *name);
void copy_drop(struct copy *c, struct name_rec *r);
/* @r's value becomes @meta, @len bytes: 0, or -ENOMEM and none. */
int copy_set_meta(struct name_rec *r, const void *meta, uint32_t len);
void copy_for_each(struct copy *c, void (*fn)(struct name_rec *r, void *arg), void *arg);
void copy_free(struct copy *c);

/* watch.c */
void watch_start(struct kregd *d);
void watch_tick(struct kregd *d);
/*
 * Applies what the watch received, for up to @budget_ms: whether some is
 * left for the next turn of the loop.
 */
bool watch_work(struct kregd *d, unsigned int budget_ms);
/*
 * A quorum (a linearizable read's answer) said the cluster was at @revision when
 * asked at @sent_ms: the copy is current as of then, once it is there.
 */
void watch_confirmed(struct kregd *d, int64_t revision, uint64_t sent_ms);
/* The etcd key of cluster name @name. */
void watch_key(struct kregd *d, const char *name, char *key, size_t size);
/*
 * What a name's kv says of its holder, into @r: its node, pid, uid, meta,
 * claim id and token (the key's create_revision). -EINVAL if unreadable.
 */
int watch_parse_kv(struct json_object *kv, struct kv_holder *h);
/*
 * Applies what etcd says of @name at revision @rev: @kv (NULL: absent) to
 * the copy and the kernel, if it is newer than what the copy holds.
 */
void watch_apply(struct kregd *d, const char *name, struct json_object *kv, int64_t rev,
		 int reason);

/*
 * A request's sender: the credentials the kernel attached to it, and what
 * /proc said of the process as the request came (read once a request: a
 * status file costs a third of a millisecond on a slow host).
 */
#define KREGD_GROUPS_MAX	256
struct kregd_sender {
	struct ucred cred;
	bool admin;			/* CAP_SYS_ADMIN: the kernel's administrator */
	size_t n_groups;
	gid_t groups[KREGD_GROUPS_MAX];	/* its supplementary groups */
};

/* claims.c */
/* Request @req of client @client, from @sender, with @payload (req->payload_len bytes). */
void claims_request(struct kregd *d, uint64_t client, const struct kregd_request *req,
		    const void *payload, const struct kregd_sender *sender);
void claims_event(struct kregd *d);
/* Releases to try again, when their time has come. */
void claims_tick(struct kregd *d);
/* @r's holder is no longer one: its pidfd is not watched. */
void claims_holder_died(struct kregd *d, struct name_rec *r);
/* @r's holder's process has exited (its pidfd woke): its name goes, here and in etcd. */
void claims_holder_exited(struct kregd *d, struct name_rec *r);
/* Whether this node is deciding a claim of @name, which put @claim_id. */
bool claims_in_flight(const char *name, uint64_t claim_id);
/* Lets this node's @r go in etcd, if its token is still the key's. */
void claims_release(struct kregd *d, struct name_rec *r);
/* This node's key of @name, unknown to it (a claim that timed out, an earlier kregd): gone. */
void claims_delete_stray(struct kregd *d, const char *name, int64_t token);
/*
 * Once the lease is known and the copy read: the names this node's
 * processes held before kregd restarted are adopted if their keys are
 * still this lease's, and fenced if not; keys of this node that no process
 * holds go.
 */
void claims_adopt(struct kregd *d);
/* The lease is lost: this node's holders are no longer. */
void claims_forget_local(struct kregd *d);

/* clients.c */
int clients_listen(struct kregd *d);
void clients_accept(struct kregd *d);
void clients_read(struct kregd *d, struct client *cl);
/* Answers request @seq of client @id, if it is still connected. */
void clients_reply(struct kregd *d, uint64_t id, struct kregd_reply *reply);
void clients_close_all(struct kregd *d);
/* Frees the clients closed during this turn of the loop. */
void clients_reap(void);
/* Whether this node's policy lets @sender send to cluster name @name. */
bool clients_may_send(struct kregd *d, const struct kregd_sender *sender, const char *name);
/* The same for kernel name @kname (a name of this node's own, say). */
bool clients_may_send_kname(struct kregd *d, const struct kregd_sender *sender,
			    const char *kname);

#endif /* KREGD_H */
