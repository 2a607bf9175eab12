/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Peer links: messages for names held on other nodes (peers.c). One TLS
 * connection per peer node, made when a message is to go there, kept
 * while it answers; every SEND on it is acknowledged with the errno the
 * peer's kernel answered, which is the local sender's answer.
 */
#ifndef KREGD_PEERS_H
#define KREGD_PEERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct kregd;
struct kregd_request;
struct kregd_peer;
struct link;

/* Listens for peers (d->c.relay_listen): 0 or a negative errno, with the reason logged. */
int peers_start(struct kregd *d);
void peers_stop(struct kregd *d);
void peers_accept(struct kregd *d);
/* A link's socket is ready (epoll's @events). */
void peers_io(struct kregd *d, struct link *l, uint32_t events);
/* Timeouts, pings and links to retire: after every wake-up. */
void peers_tick(struct kregd *d);
/*
 * Request @req (KREGD_SEND) of client @client, from @sender, with
 * @payload: answered through clients_reply() once the peer's kernel has
 * answered, or the link has failed.
 */
void peers_send(struct kregd *d, uint64_t client, const struct kregd_request *req,
		const void *payload, const struct kregd_sender *sender);
/* KREGD_MULTI_SEND: to @req->name on every other member, answered once all have. */
void peers_multi_send(struct kregd *d, uint64_t client, const struct kregd_request *req,
		      const void *payload, const struct kregd_sender *sender);
/* Node @node has a record in etcd (@member), or no longer has. */
void peers_member(struct kregd *d, const char *node, bool member);
/* The peers, for STATUS: how many were written to @out (at most @max). */
uint32_t peers_status(struct kregd *d, struct kregd_peer *out, uint32_t max);

#endif /* KREGD_PEERS_H */
