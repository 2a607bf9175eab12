// SPDX-License-Identifier: GPL-2.0
/*
 * Peer links (peers.h): how a message for a name held on another node
 * gets there, and its answer back.
 *
 * A peer is a node this one sends to or hears from, kept for as long as
 * kregd runs (its counters are what `kregctl cluster status` shows). It
 * has at most one link in use: a TCP connection with TLS 1.3 (tls.c),
 * dialed at the address the peer's record in etcd gives, or accepted from
 * it. Either side dials when it has something to send and no link; if
 * both dialed at once, both keep the link dialed by the node whose name
 * sorts first, and close the other, failing what was in flight on it.
 *
 * A message is one SEND frame, answered by one ACK with the errno the
 * peer's kernel gave. A link carries frames in order and the peer answers
 * them in order, so messages from one sender to one name arrive in the
 * order they were sent. Nothing is ever sent twice: when a link fails,
 * every message sent on it and not yet acknowledged is failed with
 * -ECONNRESET or -ETIMEDOUT (delivered or not: its sender cannot know),
 * and messages that waited for a link that never came up are failed with
 * the reason. Every message's sender gets an answer.
 *
 * What a peer can make this node hold is bounded: a frame is at most one
 * message of kreg's largest payload, links not yet up are limited in
 * number and must say HELLO within a few seconds, and what one peer may
 * deliver is the kernel's to limit (its node's share of each mailbox).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "etcd.h"
#include "kregd.h"
#include "log.h"
#include "peer_wire.h"
#include "peers.h"
#include "relay.h"
#include "tls.h"

/* A link must be up (TCP, TLS, both HELLOs) this soon after it began. */
#define LINK_SETUP_MS		5000
/* A SEND not acknowledged by then: the link is dead (a cut, a frozen peer). */
#define ACK_TIMEOUT_MS		3000
/* An idle link is pinged this often, and dead when silent for ACK_TIMEOUT_MS. */
#define PING_EVERY_MS		1000
/* Links accepted and not up yet, from anyone: a bound on what strangers hold. */
#define LINKS_SETTING_UP_MAX	64
/* Bytes queued to one peer and not yet acknowledged: past this, -EAGAIN at once. */
#define PEER_QUEUE_MAX		(8u << 20)
/* After a failed dial, sends fail at once with its error for this long. */
#define REDIAL_AFTER_MS		500
#define ADDRESS_TIMEOUT_MS	1000
/* What a link may have to write before it stops reading the peer's requests. */
#define LINK_OUT_MAX		(4u << 20)

enum link_state {
	LINK_DIALING,		/* TCP connect in progress */
	LINK_HANDSHAKE,		/* TLS */
	LINK_HELLO,		/* ours sent, waiting for the peer's */
	LINK_UP,
};

/* A message sent, or waiting to be, until its ACK: whose it is, and its frame. */
struct multi;

struct msg {
	struct msg *next;
	uint64_t seq;
	uint64_t client, client_seq;
	struct multi *multi;		/* one node's part of a multi_send, or NULL */
	uint32_t slot;			/* its place in multi->reply.results */
	uint64_t sent_us;	/* kregd_now_us() */
	size_t len;
	uint8_t frame[];
};

struct peer;

struct link {
	enum watched_kind kind;		/* WATCHED_PEER_LINK */
	struct link *next;		/* in all_links */
	struct peer *peer;		/* NULL until an accepted link's HELLO */
	int fd;
	SSL *ssl;
	enum link_state state;
	bool outbound;
	bool closing;
	uint32_t events;		/* what epoll watches */
	uint64_t began_ms, up_ms, heard_ms, pinged_ms;
	uint64_t instance;		/* the peer's kregd, from its HELLO */
	unsigned int in_flight;		/* of its peer's, sent on this link */
	char address[80];
	/* Bytes for the peer: out[out_off..out_len) is not yet written. */
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	uint8_t *in;
	size_t in_len;
	/* Sent on this link, oldest first, until acknowledged. */
	struct msg *sent, **sent_tail;
};

struct peer {
	struct peer *next;
	char node[KREG_NODE_MAX + 1];
	char address[80];
	struct link *link;		/* in use or being made; NULL: none */
	/* Waiting for a link to come up, oldest first. */
	struct msg *waiting, **waiting_tail;
	bool resolving;			/* reading its address in etcd */
	bool member;			/* it has a record in etcd: multi_send reaches it */
	uint64_t waiting_since_ms;
	uint64_t redial_at_ms;
	int last_err;
	uint64_t seq;
	uint64_t queued;
	uint64_t in_flight;
	int64_t rtt_us;
	uint64_t sent, delivered, failed, received;
};

static SSL_CTX *tls;
static uint64_t instance;		/* this kregd's, in its HELLOs */
static int listen_fd = -1;
static struct peer *peers;
static struct link *all_links;
static const enum watched_kind peer_listen_kind = WATCHED_PEER_LISTEN;
/* Out of descriptors: the listener rests until then, rather than wake the loop for ever. */
static uint64_t listen_paused_until;

/* --- answers to this node's clients ---------------------------------------------- */

static void answer(struct kregd *d, uint64_t client, uint64_t seq, int err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void answer(struct kregd *d, uint64_t client, uint64_t seq, int err, const char *fmt, ...)
{
	static struct kregd_reply r;
	va_list ap;

	memset(&r, 0, kregd_reply_len(KREGD_SEND));
	r.version = KREGD_PROTO_VERSION;
	r.op = KREGD_SEND;
	r.seq = seq;
	r.err = err;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(r.message, sizeof(r.message), fmt, ap);
		va_end(ap);
	}
	if (err)
		kregd_log(LOG_DEBUG, "a message of client %llu: %s (%s)", (unsigned long long)client,
			  strerror(-err), r.message);
	clients_reply(d, client, &r);
}

/* A multi_send: answered when the last node's part is. */
struct multi {
	uint64_t client, seq;
	unsigned int left;
	struct kregd_reply reply;
};

/* One part of @mu less to wait for: the answer goes after the last. */
static void multi_release(struct kregd *d, struct multi *mu)
{
	if (--mu->left)
		return;
	mu->reply.version = KREGD_PROTO_VERSION;
	mu->reply.op = KREGD_MULTI_SEND;
	mu->reply.seq = mu->seq;
	clients_reply(d, mu->client, &mu->reply);
	free(mu);
}

static void multi_part_done(struct kregd *d, struct multi *mu, uint32_t slot, int err)
{
	mu->reply.results[slot].err = err;
	multi_release(d, mu);
}

/* Message @m's answer, @err: to its client, or to its multi_send. */
static void msg_answer(struct kregd *d, struct msg *m, int err, const char *fmt, const char *node)
{
	if (m->multi)
		multi_part_done(d, m->multi, m->slot, err);
	else
		answer(d, m->client, m->client_seq, err, fmt, node);
}

static const char *link_error(int err)
{
	switch (-err) {
	case ECONNRESET:
		return "the link to node %s broke with the message sent: it may or may not have been delivered";
	case ETIMEDOUT:
		return "node %s did not answer in time: the message may or may not have been delivered";
	case ECONNREFUSED:
		return "node %s refused the link, or its certificate was refused";
	default:
		return "no link to node %s could be made";
	}
}

/* Fails every message of list @m, which @p had sent or was to send, with @err. */
static void fail_all(struct kregd *d, struct peer *p, struct msg *m, int err)
{
	while (m) {
		struct msg *next = m->next;

		p->failed++;
		p->queued -= m->len;
		msg_answer(d, m, err, link_error(err), p->node);
		free(m);
		m = next;
	}
}

/* --- peers and links ----------------------------------------------------------------- */

static struct peer *peer_find(const char *node)
{
	struct peer *p;

	for (p = peers; p; p = p->next)
		if (!strcmp(p->node, node))
			return p;
	return NULL;
}

static struct peer *peer_get(const char *node)
{
	struct peer *p = peer_find(node);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->node, sizeof(p->node), "%s", node);
	p->waiting_tail = &p->waiting;
	p->rtt_us = -1;
	p->next = peers;
	peers = p;
	return p;
}

static void link_watch(struct kregd *d, struct link *l, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = l };

	if (l->events == events)
		return;
	epoll_ctl(d->epfd, l->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, l->fd, &ev);
	l->events = events;
}

static struct link *link_new(struct kregd *d, int fd, bool outbound, const char *address)
{
	struct link *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->kind = WATCHED_PEER_LINK;
	l->fd = fd;
	l->outbound = outbound;
	l->state = outbound ? LINK_DIALING : LINK_HANDSHAKE;
	l->began_ms = l->heard_ms = kregd_now_ms();
	l->sent_tail = &l->sent;
	snprintf(l->address, sizeof(l->address), "%s", address);
	l->next = all_links;
	all_links = l;
	link_watch(d, l, outbound ? EPOLLOUT : EPOLLIN);
	return l;
}

/*
 * Closes @l: what was sent on it and not acknowledged fails with @err;
 * what waits for its peer stays waiting if a link may still come, else
 * fails too. Freed at the next tick (an event for it may be pending).
 */
static void link_close(struct kregd *d, struct link *l, int err, const char *why)
{
	struct peer *p = l->peer;

	if (l->closing)
		return;
	l->closing = true;
	kregd_log(l->state == LINK_UP ? LOG_NOTICE : LOG_INFO, "link %s node %s (%s): %s",
		  l->outbound ? "to" : "from", p ? p->node : "?", l->address, why);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	if (p) {
		fail_all(d, p, l->sent, err);
		p->in_flight -= l->in_flight;
		l->in_flight = 0;
		l->sent = NULL;
		l->sent_tail = &l->sent;
		if (p->link == l) {
			p->link = NULL;
			p->last_err = err;
			if (l->state != LINK_UP) {
				/*
				 * Never came up: what waited for it was not sent, and
				 * fails so; the next message tries again, later.
				 */
				p->redial_at_ms = kregd_now_ms() + REDIAL_AFTER_MS;
				p->last_err = err == -ECONNREFUSED ? err : -EHOSTUNREACH;
				fail_all(d, p, p->waiting, p->last_err);
				p->waiting = NULL;
				p->waiting_tail = &p->waiting;
			}
		}
	}
}

static void link_free(struct link *l)
{
	if (l->ssl)
		SSL_free(l->ssl);
	close(l->fd);
	free(l->out);
	free(l->in);
	free(l);
}

/* Appends @len bytes to what @l writes: 0 or -ENOMEM. */
static int link_queue(struct link *l, const uint8_t *data, size_t len)
{
	if (l->out_off && l->out_off == l->out_len)
		l->out_off = l->out_len = 0;
	if (l->out_len + len > l->out_cap) {
		size_t cap = l->out_cap ? l->out_cap : 65536;
		uint8_t *out;

		if (l->out_off) {
			memmove(l->out, l->out + l->out_off, l->out_len - l->out_off);
			l->out_len -= l->out_off;
			l->out_off = 0;
		}
		while (cap < l->out_len + len)
			cap *= 2;
		out = realloc(l->out, cap);
		if (!out)
			return -ENOMEM;
		l->out = out;
		l->out_cap = cap;
	}
	memcpy(l->out + l->out_len, data, len);
	l->out_len += len;
	return 0;
}

/* Writes what TLS takes now; EPOLLOUT for the rest. */
static void link_flush(struct kregd *d, struct link *l)
{
	while (l->out_off < l->out_len && !l->closing) {
		int n;

		ERR_clear_error();
		n = SSL_write(l->ssl, l->out + l->out_off, (int)(l->out_len - l->out_off));

		if (n > 0) {
			l->out_off += (size_t)n;
			continue;
		}
		switch (SSL_get_error(l->ssl, n)) {
		case SSL_ERROR_WANT_WRITE:
			link_watch(d, l, EPOLLIN | EPOLLOUT);
			return;
		case SSL_ERROR_WANT_READ:
			return;
		default:
			ERR_clear_error();
			link_close(d, l, -ECONNRESET, "write failed");
			return;
		}
	}
	if (!l->closing)
		link_watch(d, l, EPOLLIN);
}

/* Puts @m on @l, whose peer's it is: it waits there for its ACK. */
static void link_send(struct kregd *d, struct link *l, struct msg *m)
{
	struct peer *p = l->peer;

	m->next = NULL;
	m->sent_us = kregd_now_us();
	*l->sent_tail = m;
	l->sent_tail = &m->next;
	p->in_flight++;
	l->in_flight++;
	if (link_queue(l, m->frame, m->len))
		link_close(d, l, -ECONNRESET, "no memory for a frame");
}

static void frame_small(struct kregd *d, struct link *l, uint8_t type, uint64_t seq,
			const uint8_t *body, size_t len)
{
	uint8_t buf[PEER_HDR_LEN + PEER_HELLO_LEN];

	peer_put_hdr(buf, (uint32_t)(PEER_HDR_LEN + len), type, seq);
	memcpy(buf + PEER_HDR_LEN, body, len);
	if (link_queue(l, buf, PEER_HDR_LEN + len))
		link_close(d, l, -ECONNRESET, "no memory for a frame");
}

static void send_hello(struct kregd *d, struct link *l)
{
	uint8_t body[PEER_HELLO_LEN] = { 0 };

	peer_put32(body, PEER_PROTO_VERSION);
	snprintf((char *)body + 8, 64, "%s", d->c.cluster);
	snprintf((char *)body + 8 + 64, 64, "%s", d->c.node);
	peer_put64(body + 8 + 64 + 64, instance);
	frame_small(d, l, PEER_HELLO, 0, body, sizeof(body));
}

/* @l is up for its peer: what waited goes now. */
static void link_up(struct kregd *d, struct link *l)
{
	struct peer *p = l->peer;
	struct msg *m = p->waiting;

	l->state = LINK_UP;
	l->up_ms = l->heard_ms = kregd_now_ms();
	p->link = l;
	p->last_err = 0;
	snprintf(p->address, sizeof(p->address), "%s", l->address);
	kregd_log(LOG_INFO, "link %s node %s (%s) up", l->outbound ? "to" : "from", p->node,
		  l->address);
	p->waiting = NULL;
	p->waiting_tail = &p->waiting;
	while (m) {
		struct msg *next = m->next;

		if (l->closing) {
			/* Never sent: it fails as such. */
			fail_all(d, p, m, -EHOSTUNREACH);
			break;
		}
		link_send(d, l, m);
		m = next;
	}
}

/*
 * Two links to one peer: a restarted peer's (another instance) replaces
 * the one it had before; of two from the same instance, both nodes dialing
 * at once, the one the node whose name sorts first dialed stays.
 */
static bool link_wins(struct kregd *d, struct link *l, const struct link *other)
{
	bool mine_first = strcmp(d->c.node, l->peer->node) < 0;

	if (other->state == LINK_UP && other->instance != l->instance)
		return true;
	return l->outbound == mine_first;
}

static void on_hello(struct kregd *d, struct link *l, const uint8_t *body, size_t len)
{
	char cluster[65], node[65];
	struct peer *p;

	if (len != PEER_HELLO_LEN || peer_get32(body) != PEER_PROTO_VERSION) {
		link_close(d, l, -ECONNREFUSED, "another peer protocol");
		return;
	}
	memcpy(cluster, body + 8, 64);
	memcpy(node, body + 8 + 64, 64);
	cluster[64] = node[64] = '\0';
	l->instance = peer_get64(body + 8 + 64 + 64);
	if (strcmp(cluster, d->c.cluster)) {
		link_close(d, l, -ECONNREFUSED, "a node of another cluster");
		return;
	}
	if (!kregd_node_name_ok(node) || node[0] == '.' || !strcmp(node, d->c.node) ||
	    (l->peer && strcmp(node, l->peer->node)) || !tls_names_node(l->ssl, node)) {
		kregd_log(LOG_WARNING, "refused a peer at %s saying it is node \"%.64s\": its certificate does not name that node",
			  l->address, node);
		link_close(d, l, -ECONNREFUSED, "refused");
		return;
	}
	p = l->peer ? l->peer : peer_get(node);
	if (!p) {
		link_close(d, l, -ECONNRESET, "no memory");
		return;
	}
	l->peer = p;
	if (p->link && p->link != l) {
		struct link *other = p->link;

		if (!link_wins(d, l, other)) {
			l->peer = NULL;		/* what waits is the other's */
			link_close(d, l, -ECONNRESET, "both nodes dialed: the other link stays");
			return;
		}
		p->link = NULL;
		link_close(d, other, -ECONNRESET, "both nodes dialed: this link goes");
	}
	link_up(d, l);
}

/* Whether @len bytes at @p are a name by the grammar (an absent from-name is 0 bytes). */
static bool well_formed(const uint8_t *p, size_t len, bool optional)
{
	return (optional && !len) || !kreg_name_problem_of((const char *)p, len);
}

/* Whether @name is a reply address, "user.UID.reply.REST" (UID written as the kernel takes it). */
static bool reply_address(const uint8_t *name, size_t len)
{
	static const char user[] = "user.", reply[] = ".reply.";
	size_t i = sizeof(user) - 1, start;

	if (len <= i || memcmp(name, user, i))
		return false;
	for (start = i; i < len && name[i] >= '0' && name[i] <= '9' && i - start < 10; i++)
		;
	if (i == start || (name[start] == '0' && i - start > 1))
		return false;
	return len > i + sizeof(reply) - 1 && !memcmp(name + i, reply, sizeof(reply) - 1);
}

/* A message from the peer, for a name held here: the kernel's answer goes back. */
static void on_send(struct kregd *d, struct link *l, uint64_t seq, const uint8_t *body,
		    size_t len)
{
	char kname[KREG_NAME_MAX + 1], from[KREG_NAME_MAX + 1];
	const size_t prefix = sizeof(KREG_CLUSTER_PREFIX) - 1;
	struct relay_sender sender;
	uint8_t ack[PEER_ACK_LEN] = { 0 };
	uint16_t name_len, from_len;
	uint32_t payload_len, flags;
	const uint8_t *name, *payload;
	size_t room;
	uint64_t token;
	int err = 0;

	if (len < PEER_SEND_LEN) {
		link_close(d, l, -ECONNRESET, "a short SEND");
		return;
	}
	token = peer_get64(body);
	sender.node = l->peer->node;
	sender.pid = (pid_t)peer_get32(body + 8);
	sender.uid = peer_get32(body + 12);
	sender.gid = peer_get32(body + 16);
	name_len = peer_get16(body + 20);
	from_len = peer_get16(body + 22);
	payload_len = peer_get32(body + 24);
	flags = peer_get32(body + 28);
	if ((size_t)PEER_SEND_LEN + name_len + from_len + payload_len != len) {
		link_close(d, l, -ECONNRESET, "a SEND of the wrong length");
		return;
	}
	name = body + PEER_SEND_LEN;
	payload = name + name_len + from_len;
	/* A name as kregd's clients may give one: the kernel checks the rest. */
	room = (flags & PEER_SEND_OWN_NAME) ? KREG_NAME_MAX : KREG_NAME_MAX - prefix;
	if (!name_len || name_len > room || from_len > KREG_NAME_MAX ||
	    !well_formed(name, name_len, false) || !well_formed(name + name_len, from_len, true) ||
	    (flags & ~(PEER_SEND_OWN_NAME | PEER_SEND_REPLY)))
		err = -EINVAL;
	/* An answer goes to a reply address only, whatever the sending node says. */
	if (!err && (flags & PEER_SEND_REPLY) && !reply_address(name, name_len))
		err = -EACCES;
	/* A name of this node's own is none of the cluster's: the kernel judges the rest. */
	if (!err && (flags & PEER_SEND_OWN_NAME) && name_len >= prefix &&
	    !memcmp(name, KREG_CLUSTER_PREFIX, prefix))
		err = -EINVAL;
	if (!err) {
		size_t at = 0;

		if (!(flags & PEER_SEND_OWN_NAME)) {
			memcpy(kname, KREG_CLUSTER_PREFIX, prefix);
			at = prefix;
		}
		memcpy(kname + at, name, name_len);
		kname[at + name_len] = '\0';
		memcpy(from, name + name_len, from_len);
		from[from_len] = '\0';
		err = relay_send(d->relay, kname, &sender, from_len ? from : NULL, token,
				 payload, payload_len);
	}
	l->peer->received++;
	peer_put32(ack, (uint32_t)-err);
	frame_small(d, l, PEER_ACK, seq, ack, sizeof(ack));
}

static void on_ack(struct kregd *d, struct link *l, uint64_t seq, const uint8_t *body,
		   size_t len)
{
	struct peer *p = l->peer;
	struct msg *m = l->sent;
	int err;

	/* Answers come in the order the frames went. */
	if (len != PEER_ACK_LEN || !m || m->seq != seq) {
		link_close(d, l, -ECONNRESET, "an ACK out of order");
		return;
	}
	err = peer_get32(body) <= 4095 ? -(int)peer_get32(body) : -EPROTO;
	l->sent = m->next;
	if (!l->sent)
		l->sent_tail = &l->sent;
	p->in_flight--;
	l->in_flight--;
	p->queued -= m->len;
	p->rtt_us = (int64_t)(kregd_now_us() - m->sent_us);
	if (err)
		p->failed++;
	else
		p->delivered++;
	msg_answer(d, m, err,
		   err == -EAGAIN ? "the mailbox's share for this node is full on node %s: try later" :
		   err ? "node %s's kernel refused the message" : NULL, p->node);
	free(m);
}

static void on_frame(struct kregd *d, struct link *l, const uint8_t *f, size_t len)
{
	uint8_t type = f[4];
	uint64_t seq = peer_get64(f + 8);
	const uint8_t *body = f + PEER_HDR_LEN;
	size_t blen = len - PEER_HDR_LEN;

	if (l->state == LINK_HELLO) {
		if (type == PEER_HELLO)
			on_hello(d, l, body, blen);
		else
			link_close(d, l, -ECONNREFUSED, "no HELLO first");
		return;
	}
	switch (type) {
	case PEER_SEND:
		on_send(d, l, seq, body, blen);
		return;
	case PEER_ACK:
		on_ack(d, l, seq, body, blen);
		return;
	case PEER_PING:
		if (blen == PEER_PING_LEN)
			frame_small(d, l, PEER_PONG, seq, body, blen);
		return;
	case PEER_PONG:
		if (blen == PEER_PING_LEN && l->peer->in_flight == 0)
			l->peer->rtt_us = (int64_t)(kregd_now_us() - peer_get64(body));
		return;
	}
	link_close(d, l, -ECONNRESET, "an unknown frame");
}

/* Reads what TLS has, and takes the whole frames out of it. */
static void link_read(struct kregd *d, struct link *l)
{
	size_t off;

	if (!l->in) {
		l->in = malloc(PEER_FRAME_MAX);
		if (!l->in) {
			link_close(d, l, -ECONNRESET, "no memory");
			return;
		}
	}
	/* A peer that sends and never reads its answers is read no more until it does. */
	while (!l->closing && l->out_len - l->out_off < LINK_OUT_MAX) {
		int n;

		ERR_clear_error();
		n = SSL_read(l->ssl, l->in + l->in_len, (int)(PEER_FRAME_MAX - l->in_len));
		if (n <= 0) {
			int e = SSL_get_error(l->ssl, n);

			if (e == SSL_ERROR_WANT_WRITE)
				link_watch(d, l, EPOLLIN | EPOLLOUT);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				break;
			ERR_clear_error();
			link_close(d, l, -ECONNRESET, e == SSL_ERROR_ZERO_RETURN ?
				   "closed by the peer" : "read failed");
			return;
		}
		l->heard_ms = kregd_now_ms();
		l->in_len += (size_t)n;
		off = 0;
		while (!l->closing && l->in_len - off >= PEER_HDR_LEN) {
			uint32_t flen = peer_get32(l->in + off);

			if (flen < PEER_HDR_LEN || flen > PEER_FRAME_MAX) {
				link_close(d, l, -ECONNRESET, "a frame of an impossible length");
				return;
			}
			if (l->in_len - off < flen)
				break;
			on_frame(d, l, l->in + off, flen);
			off += flen;
		}
		if (l->closing)
			return;
		memmove(l->in, l->in + off, l->in_len - off);
		l->in_len -= off;
	}
	link_flush(d, l);
}

static void link_handshake(struct kregd *d, struct link *l)
{
	char why[256];
	int n;

	ERR_clear_error();
	n = SSL_do_handshake(l->ssl);

	if (n == 1) {
		l->state = LINK_HELLO;
		send_hello(d, l);
		link_flush(d, l);
		/* The peer's HELLO may have come with the handshake's last bytes. */
		if (!l->closing)
			link_read(d, l);
		return;
	}
	switch (SSL_get_error(l->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		link_watch(d, l, EPOLLIN);
		return;
	case SSL_ERROR_WANT_WRITE:
		link_watch(d, l, EPOLLIN | EPOLLOUT);
		return;
	}
	kregd_log(LOG_WARNING, "TLS with %s%s (%s) failed: %s",
		  l->peer ? "node " : "a peer", l->peer ? l->peer->node : "", l->address,
		  tls_failure(l->ssl, why, sizeof(why)));
	link_close(d, l, -ECONNREFUSED, "TLS failed");
}

void peers_io(struct kregd *d, struct link *l, uint32_t events)
{
	if (l->closing)
		return;
	if (l->state == LINK_DIALING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
			link_close(d, l, -EHOSTUNREACH, strerror(err ? err : errno));
			return;
		}
		l->ssl = tls_session(tls, l->fd, l->peer->node);
		if (!l->ssl) {
			link_close(d, l, -EHOSTUNREACH, "no TLS session");
			return;
		}
		l->state = LINK_HANDSHAKE;
	}
	if (l->state == LINK_HANDSHAKE) {
		link_handshake(d, l);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		link_read(d, l);
	if (!l->closing)
		link_flush(d, l);
	/* Reading held back (LINK_OUT_MAX), or records OpenSSL holds already: read on. */
	if (!l->closing && l->state == LINK_UP && SSL_pending(l->ssl) &&
	    l->out_len - l->out_off < LINK_OUT_MAX)
		link_read(d, l);
}

/* --- dialing ----------------------------------------------------------------------- */

static void dial(struct kregd *d, struct peer *p, const char *address)
{
	char host[128], port[16];
	/* Published numeric (peers_start()): no name lookup blocks the loop. */
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	}, *ai = NULL;
	struct link *l;
	int fd = -1, one = 1;

	if (kregd_split_address(address, host, sizeof(host), port, sizeof(port)) ||
	    getaddrinfo(host, port, &hints, &ai) || !ai)
		goto fail;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
		goto fail;
	freeaddrinfo(ai);
	l = link_new(d, fd, true, address);
	if (!l) {
		close(fd);
		fd = -1;
		goto fail_noai;
	}
	l->peer = p;
	p->link = l;
	return;
fail:
	if (ai)
		freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
fail_noai:
	kregd_log(LOG_WARNING, "cannot dial node %s at %s", p->node, address);
	p->last_err = -EHOSTUNREACH;
	p->redial_at_ms = kregd_now_ms() + REDIAL_AFTER_MS;
	fail_all(d, p, p->waiting, -EHOSTUNREACH);
	p->waiting = NULL;
	p->waiting_tail = &p->waiting;
}

struct resolve {
	struct kregd *d;
	struct peer *p;
};

/* The peer's record in etcd says where its relay listens. */
static void address_read(void *arg, int err, struct json_object *reply)
{
	struct resolve *r = arg;
	struct kregd *d = r->d;
	struct peer *p = r->p;
	struct json_object *kvs = reply ? etcd_get(reply, "kvs") : NULL, *value = NULL;
	struct json_object *kv = kvs ? json_object_array_get_idx(kvs, 0) : NULL;
	const char *address = NULL;
	char raw[1024];
	size_t len;

	free(r);
	p->resolving = false;
	if (!err && kv && !etcd_unb64(json_object_get_string(etcd_get(kv, "value")), raw,
				      sizeof(raw) - 1, &len)) {
		raw[len] = '\0';
		value = json_tokener_parse(raw);
		address = json_object_get_string(etcd_get(value, "relay"));
	}
	if (!p->link && p->waiting) {
		if (address && strlen(address) < sizeof(p->address)) {
			dial(d, p, address);
		} else {
			kregd_log(LOG_WARNING, "node %s: %s", p->node,
				  err ? "its record in etcd cannot be read" :
				  "no relay address in its record in etcd");
			p->last_err = -EHOSTUNREACH;
			p->redial_at_ms = kregd_now_ms() + REDIAL_AFTER_MS;
			fail_all(d, p, p->waiting, -EHOSTUNREACH);
			p->waiting = NULL;
			p->waiting_tail = &p->waiting;
		}
	}
	json_object_put(value);
}

/* A link to @p is wanted: its address is read from etcd each time, then dialed. */
static void peer_connect(struct kregd *d, struct peer *p)
{
	struct json_object *body;
	struct resolve *r;
	char key[256];

	if (p->link || p->resolving)
		return;
	r = malloc(sizeof(*r));
	body = json_object_new_object();
	if (!r || !body) {
		free(r);
		json_object_put(body);
		return;
	}
	r->d = d;
	r->p = p;
	snprintf(key, sizeof(key), "%s%s", d->nodes_prefix, p->node);
	etcd_put_b64(body, "key", key, strlen(key));
	/* Serializable: any member's answer will do, the TLS check is what counts. */
	json_object_object_add(body, "serializable", json_object_new_boolean(1));
	p->resolving = true;
	if (etcd_call(d->etcd, "/v3/kv/range", body, ADDRESS_TIMEOUT_MS, address_read, r)) {
		p->resolving = false;
		free(r);
	}
}

/*
 * Whether process @pid holds kernel name @from on this node, as a sender
 * may name it to another node: a cluster name it holds here, or a reply
 * address of its own ("user."), which is registered by the process itself.
 */
static bool holds_here(struct kregd *d, const char *from, pid_t pid)
{
	bool cluster = !strncmp(from, KREG_CLUSTER_PREFIX, sizeof(KREG_CLUSTER_PREFIX) - 1);
	struct relay_entry e;

	if (!cluster && strncmp(from, "user.", 5))
		return false;
	/* A name of this node's own has no token: only a cluster name's claim is pending. */
	return !relay_whereis(d->relay, from, &e) && e.pid == pid && !e.remote &&
	       !(cluster && e.pending);
}

/* Where @req goes: the node, and whether the name is that node's own. */
static int destination(struct kregd *d, const struct kregd_request *req, const char **node,
		       bool *own)
{
	struct name_rec *r;

	*own = req->node[0] != '\0';
	if (*own) {
		if (!kregd_node_name_ok(req->node) ||
		    !reply_address((const uint8_t *)req->name, strlen(req->name)))
			return -EINVAL;
		*node = req->node;
		return strcmp(req->node, d->c.node) ? 0 : -EREMCHG;
	}
	r = copy_find(&d->copy, req->name);
	if (!r || !r->present)
		return -ENOENT;
	if (r->local || !strcmp(r->holder.node, d->c.node))
		return -EREMCHG;
	*node = r->holder.node;
	return 0;
}

/*
 * Message @req (from @sender, with @payload) to @p: sent, or waiting
 * for a link, or answered at once (@m's answer) when it cannot go.
 */
static void peer_enqueue(struct kregd *d, struct peer *p, struct msg *m,
			 const struct kregd_request *req, const void *payload,
			 const struct kregd_sender *sender, uint32_t flags)
{
	size_t name_len = strlen(req->name), from_len = strlen(req->from);
	uint8_t *b = m->frame;

	m->next = NULL;
	m->len = PEER_HDR_LEN + PEER_SEND_LEN + name_len + from_len + req->payload_len;
	if (m->len > PEER_FRAME_MAX) {
		msg_answer(d, m, -EMSGSIZE, "larger than a peer link's frame (node %s)", p->node);
		free(m);
		return;
	}
	if (!p->link && p->last_err && kregd_now_ms() < p->redial_at_ms) {
		p->failed++;
		msg_answer(d, m, p->last_err, link_error(p->last_err), p->node);
		free(m);
		return;
	}
	if (p->queued + m->len > PEER_QUEUE_MAX) {
		p->failed++;
		msg_answer(d, m, -EAGAIN, "the link to node %s has too much in flight: try later",
			   p->node);
		free(m);
		return;
	}
	m->seq = ++p->seq;
	peer_put_hdr(b, (uint32_t)m->len, PEER_SEND, m->seq);
	b += PEER_HDR_LEN;
	peer_put64(b, req->token);
	peer_put32(b + 8, (uint32_t)sender->cred.pid);
	peer_put32(b + 12, sender->cred.uid);
	peer_put32(b + 16, sender->cred.gid);
	peer_put16(b + 20, (uint16_t)name_len);
	peer_put16(b + 22, (uint16_t)from_len);
	peer_put32(b + 24, req->payload_len);
	peer_put32(b + 28, flags);
	b += PEER_SEND_LEN;
	memcpy(b, req->name, name_len);
	memcpy(b + name_len, req->from, from_len);
	memcpy(b + name_len + from_len, payload, req->payload_len);
	p->queued += m->len;
	p->sent++;
	if (p->link && p->link->state == LINK_UP) {
		struct link *l = p->link;

		link_send(d, l, m);
		link_flush(d, l);
		return;
	}
	if (!p->waiting)
		p->waiting_since_ms = kregd_now_ms();
	*p->waiting_tail = m;
	p->waiting_tail = &m->next;
	peer_connect(d, p);
}

/* A message's room: its frame, at most PEER_FRAME_MAX (larger ones are refused). */
static struct msg *msg_new(const struct kregd_request *req)
{
	size_t len = PEER_HDR_LEN + PEER_SEND_LEN + strlen(req->name) + strlen(req->from) +
		     req->payload_len;

	return calloc(1, sizeof(struct msg) + (len < PEER_FRAME_MAX ? len : PEER_FRAME_MAX));
}

void peers_send(struct kregd *d, uint64_t client, const struct kregd_request *req,
		const void *payload, const struct kregd_sender *sender)
{
	const char *node = NULL;
	struct peer *p;
	struct msg *m;
	bool own;
	int err;

	if (!tls) {
		answer(d, client, req->seq, -EHOSTUNREACH,
		       "this node has no peer links (kregd runs without ca, cert and key)");
		return;
	}
	err = destination(d, req, &node, &own);
	if (err) {
		answer(d, client, req->seq, err, "%s",
		       err == -ENOENT ? "not registered in the cluster" :
		       err == -EREMCHG ? "held on this node now" :
		       "only a reply address (user.UID.reply.) of another node is reached by node");
		return;
	}
	if (req->from[0] && !holds_here(d, req->from, sender->cred.pid)) {
		answer(d, client, req->seq, -EPERM,
		       "the sending process does not hold %s on this node", req->from);
		return;
	}
	/* An answer goes to a node that called: one this node has a link with, or had. */
	p = own ? peer_find(node) : peer_get(node);
	if (!p) {
		answer(d, client, req->seq, own ? -EHOSTUNREACH : -ENOMEM,
		       own ? "no link with node %s: its process never called" : NULL, node);
		return;
	}
	m = msg_new(req);
	if (!m) {
		answer(d, client, req->seq, -ENOMEM, NULL);
		return;
	}
	m->client = client;
	m->client_seq = req->seq;
	peer_enqueue(d, p, m, req, payload, sender,
		     own ? PEER_SEND_OWN_NAME | PEER_SEND_REPLY : 0);
}

void peers_multi_send(struct kregd *d, uint64_t client, const struct kregd_request *req,
		      const void *payload, const struct kregd_sender *sender)
{
	struct kregd_request one = *req;
	struct multi *mu;
	struct peer *p;
	uint32_t n = 0;

	if (!strncmp(req->name, KREG_CLUSTER_PREFIX, sizeof(KREG_CLUSTER_PREFIX) - 1) ||
	    req->from[0] || req->token) {
		answer(d, client, req->seq, -EINVAL,
		       "multi_send reaches each node's own name, from nobody, with no token");
		return;
	}
	/* What this node's policy lets the sender reach of its own name, it may of theirs. */
	if (!clients_may_send_kname(d, sender, req->name)) {
		answer(d, client, req->seq, -EACCES,
		       "this node's policy does not let this process send to the name");
		return;
	}
	mu = calloc(1, sizeof(*mu));
	if (!mu) {
		answer(d, client, req->seq, -ENOMEM, NULL);
		return;
	}
	mu->client = client;
	mu->seq = req->seq;
	one.node[0] = '\0';
	/* Each member's part first, then the sends: an answer may come at once. */
	for (p = peers; p && n < KREGD_PEERS_MAX; p = p->next)
		if (p->member && strcmp(p->node, d->c.node))
			snprintf(mu->reply.results[n++].node, sizeof(mu->reply.results[0].node),
				 "%s", p->node);
	mu->reply.n_results = n;
	mu->left = n + 1;
	for (uint32_t i = 0; i < n; i++) {
		struct msg *m = msg_new(req);

		p = peer_find(mu->reply.results[i].node);
		if (!m || !tls) {
			multi_part_done(d, mu, i, m ? -EHOSTUNREACH : -ENOMEM);
			free(m);
			continue;
		}
		m->multi = mu;
		m->slot = i;
		peer_enqueue(d, p, m, &one, payload, sender, PEER_SEND_OWN_NAME);
	}
	/* Set going: the answer can be sent now, once every part has one. */
	multi_release(d, mu);
}

void peers_member(struct kregd *d, const char *node, bool member)
{
	struct peer *p;

	if (!strcmp(node, d->c.node) || !kregd_node_name_ok(node))
		return;
	p = member ? peer_get(node) : peer_find(node);
	if (p)
		p->member = member;
}

/* --- listening ----------------------------------------------------------------------- */

/*
 * relay_address as the numbers peers dial: a host name is looked up here,
 * once, at start, where waiting is harmless, and never in the loop.
 */
static void publish_numeric(struct kregd *d)
{
	char host[128], port[16], num[64];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int err;

	kregd_split_address(d->c.relay_address, host, sizeof(host), port, sizeof(port));
	err = getaddrinfo(host, port, &hints, &ai);
	if (err || getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num), NULL, 0,
			       NI_NUMERICHOST)) {
		kregd_log(LOG_WARNING, "relay_address %s: %s: no other node can reach this one's names",
			  d->c.relay_address, err ? gai_strerror(err) : "no address");
		d->c.relay_address[0] = '\0';
		if (!err)
			freeaddrinfo(ai);
		return;
	}
	snprintf(d->c.relay_address, sizeof(d->c.relay_address), strchr(num, ':') ?
		 "[%s]:%s" : "%s:%s", num, port);
	freeaddrinfo(ai);
}

int peers_start(struct kregd *d)
{
	char host[128], port[16], error[512];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
	int fd, one = 1, err;

	if (!d->c.ca[0] || !d->c.cert[0] || !d->c.key[0]) {
		kregd_log(LOG_WARNING, "no ca, cert and key: messages to other nodes' names are off");
		return 0;
	}
	if (getrandom(&instance, sizeof(instance), 0) != sizeof(instance))
		instance = (uint64_t)getpid() << 32 ^ kregd_now_ms();
	tls = tls_context(&d->c, error, sizeof(error));
	if (!tls) {
		kregd_log(LOG_ERR, "%s", error);
		return -EINVAL;
	}
	kregd_split_address(d->c.relay_listen, host, sizeof(host), port, sizeof(port));
	err = getaddrinfo(host, port, &hints, &ai);
	if (err) {
		kregd_log(LOG_ERR, "relay_listen %s: %s", d->c.relay_listen, gai_strerror(err));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
		err = -errno;
		kregd_log(LOG_ERR, "relay_listen %s: %s", d->c.relay_listen, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return err;
	}
	freeaddrinfo(ai);
	listen_fd = fd;
	d->relaying = true;
	publish_numeric(d);
	kregd_watch_fd(d, fd, (void *)&peer_listen_kind);
	kregd_log(LOG_INFO, "relay listening on %s for peers, published as %s",
		  d->c.relay_listen, d->c.relay_address);
	return 0;
}

static unsigned int links_setting_up(void)
{
	unsigned int n = 0;
	struct link *l;

	for (l = all_links; l; l = l->next)
		n += !l->closing && !l->outbound && l->state != LINK_UP;
	return n;
}

void peers_accept(struct kregd *d)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	char host[64] = "?", port[16] = "?", address[80];
	struct link *l;
	int fd, one = 1;

	for (;;) {
		fd = accept4(listen_fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				kregd_log(LOG_WARNING, "peers: %s: not accepting for a second",
					  strerror(errno));
				kregd_unwatch_fd(d, listen_fd);
				listen_paused_until = kregd_now_ms() + 1000;
			}
			return;
		}
		getnameinfo((struct sockaddr *)&sa, len, host, sizeof(host), port, sizeof(port),
			    NI_NUMERICHOST | NI_NUMERICSERV);
		snprintf(address, sizeof(address), "%s:%s", host, port);
		len = sizeof(sa);
		if (links_setting_up() >= LINKS_SETTING_UP_MAX) {
			kregd_log(LOG_NOTICE, "refused a peer at %s: too many links setting up",
				  address);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		l = link_new(d, fd, false, address);
		if (!l) {
			close(fd);
			continue;
		}
		l->ssl = tls_session(tls, fd, NULL);
		if (!l->ssl)
			link_close(d, l, -ECONNRESET, "no TLS session");
	}
}

/* --- time ------------------------------------------------------------------------- */

void peers_tick(struct kregd *d)
{
	uint64_t now = kregd_now_ms();
	struct link **pl = &all_links, *l;
	struct peer *p;

	while ((l = *pl)) {
		if (!l->closing && l->state != LINK_UP && now - l->began_ms > LINK_SETUP_MS)
			link_close(d, l, -ETIMEDOUT, "not up in time");
		if (!l->closing && l->state == LINK_UP) {
			/* Waiting for an answer, and nothing heard for long: a slow link answers. */
			if (l->sent && now - l->sent->sent_us / 1000 > ACK_TIMEOUT_MS &&
			    now - l->heard_ms > ACK_TIMEOUT_MS)
				link_close(d, l, -ETIMEDOUT, "no answer in time");
			else if (now - l->heard_ms > ACK_TIMEOUT_MS)
				link_close(d, l, -ETIMEDOUT, "silent for too long");
			else if (now - l->heard_ms >= PING_EVERY_MS &&
				 now - l->pinged_ms >= PING_EVERY_MS) {
				uint8_t body[PEER_PING_LEN];

				peer_put64(body, kregd_now_us());
				l->pinged_ms = now;
				frame_small(d, l, PEER_PING, 0, body, sizeof(body));
				link_flush(d, l);
			}
		}
		if (l->closing) {
			*pl = l->next;
			link_free(l);
			continue;
		}
		pl = &l->next;
	}
	if (listen_paused_until && now >= listen_paused_until) {
		listen_paused_until = 0;
		kregd_watch_fd(d, listen_fd, (void *)&peer_listen_kind);
	}
	/* A link being made for what waits: its address may not have been read. */
	for (p = peers; p; p = p->next)
		if (p->waiting && !p->link && !p->resolving && now - p->waiting_since_ms > LINK_SETUP_MS) {
			fail_all(d, p, p->waiting, -EHOSTUNREACH);
			p->waiting = NULL;
			p->waiting_tail = &p->waiting;
		}
}

uint32_t peers_status(struct kregd *d, struct kregd_peer *out, uint32_t max)
{
	uint64_t now = kregd_now_ms();
	uint32_t n = 0;
	struct peer *p;

	(void)d;
	for (p = peers; p && n < max; p = p->next, n++) {
		struct kregd_peer *o = &out[n];

		memset(o, 0, sizeof(*o));
		snprintf(o->node, sizeof(o->node), "%s", p->node);
		snprintf(o->address, sizeof(o->address), "%s", p->address);
		o->state = !p->link ? KREGD_LINK_DOWN :
			   p->link->state == LINK_UP ? KREGD_LINK_UP : KREGD_LINK_CONNECTING;
		o->last_err = p->last_err;
		o->rtt_us = p->rtt_us;
		o->queued_bytes = p->queued;
		o->in_flight = p->in_flight;
		o->sent = p->sent;
		o->delivered = p->delivered;
		o->failed = p->failed;
		o->received = p->received;
		o->up_ms = p->link && p->link->state == LINK_UP ? now - p->link->up_ms : 0;
	}
	return n;
}

void peers_stop(struct kregd *d)
{
	struct link *l;

	for (l = all_links; l; l = l->next)
		link_close(d, l, -ECONNRESET, "kregd is stopping");
	while (all_links) {
		l = all_links;
		all_links = l->next;
		link_free(l);
	}
	while (peers) {
		struct peer *p = peers;

		peers = p->next;
		fail_all(d, p, p->waiting, -ECONNRESET);
		free(p);
	}
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
	SSL_CTX_free(tls);
	tls = NULL;
}
