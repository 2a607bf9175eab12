/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What two nodes' kregd say to each other on a peer link (peers.c): frames
 * inside TLS 1.3, little-endian, each a 16-byte header and a body. Both
 * sides say HELLO first (the protocol's version, the cluster, the node);
 * then either sends SEND frames, which the other answers one by one, in
 * order, with an ACK carrying the errno its kernel gave, and PINGs, which
 * measure the round trip and keep an idle link known to be alive.
 */
#ifndef KREGD_PEER_WIRE_H
#define KREGD_PEER_WIRE_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

#include <linux/kreg.h>

#define PEER_PROTO_VERSION	2

enum peer_frame_type {
	PEER_HELLO = 1,
	PEER_SEND,
	PEER_ACK,
	PEER_PING,
	PEER_PONG,
};

/* Every frame: its whole length, header included, its type, and a sequence number. */
#define PEER_HDR_LEN		16
/*
 * HELLO: version (4), reserved (4), the cluster (64) and the node (64),
 * NUL-padded, and the sending kregd's instance (8, random at its start): a
 * link from a restarted peer replaces the one it had before.
 */
#define PEER_HELLO_LEN		(8 + 64 + 64 + 8)
/*
 * SEND: the fencing token (8, 0 for none), the sender's pid, uid and gid on
 * its node (4 each), the name's length (2), the from name's (2), the
 * payload's (4), flags (4); then the name (a cluster name without its
 * "cluster." prefix, or with PEER_SEND_OWN_NAME a name of the receiving
 * node's own), the from name (a name the sender holds on its node, as its
 * kernel names it: "cluster.NAME" or its reply address), and the payload.
 * The sender's node is the link's, never the frame's.
 */
#define PEER_SEND_LEN		32
#define PEER_SEND_OWN_NAME	(1u << 0)
/* With PEER_SEND_OWN_NAME: a call's answer, to a reply address ("user.UID.reply."). */
#define PEER_SEND_REPLY		(1u << 1)
/* ACK: the errno the receiving kernel answered the SEND with seq (4, positive), reserved (4). */
#define PEER_ACK_LEN		8
/* PING, PONG: the pinger's clock (8), echoed. */
#define PEER_PING_LEN		8
/* The largest: a SEND with two names (to, from) of the longest and the largest payload. */
#define PEER_FRAME_MAX		(PEER_HDR_LEN + PEER_SEND_LEN + 2 * KREG_NAME_MAX + KREG_PAYLOAD_MAX)

static inline void peer_put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void peer_put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void peer_put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint16_t peer_get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t peer_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t peer_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

/* A frame's header, at @p. */
static inline void peer_put_hdr(uint8_t *p, uint32_t len, uint8_t type, uint64_t seq)
{
	peer_put32(p, len);
	p[4] = type;
	p[5] = p[6] = p[7] = 0;
	peer_put64(p + 8, seq);
}

#endif /* KREGD_PEER_WIRE_H */
