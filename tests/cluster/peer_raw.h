/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A peer link spoken by hand, as an attacker on the network would: TLS
 * 1.3 to a node's relay (forwarded to this machine's 127.0.0.1, nodes.h),
 * with whatever certificate the test holds, then kregd's frames
 * (tools/kregd/peer_wire.h) written raw: a HELLO saying any node, and a
 * SEND for any name. What comes back says how far it got.
 */
#ifndef KREG_TEST_PEER_RAW_H
#define KREG_TEST_PEER_RAW_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "peer_wire.h"

/* Where node @n's relay is reached from this machine (scripts/cluster/node.sh). */
static inline int relay_port(const struct node *n)
{
	const char *offset = getenv("KREG_ETCD_PORT_OFFSET");

	return 23890 + (offset ? atoi(offset) : 0) + atoi(n->name + 4);
}

enum raw_peer_outcome {
	RAW_NO_TLS,		/* the handshake failed, or the link closed before a HELLO came */
	RAW_NO_ACK,		/* the node said HELLO, then closed the link: no ACK to the SEND */
	RAW_ACKED,		/* the SEND was answered: *ack_err is the node's kernel's errno */
};

/* What a raw peer has read and not yet taken. */
struct raw_in {
	uint8_t buf[8192];
	size_t have;
};

/* The next frame from @ssl within @ms, at r->buf: its length, or 0 for none. */
static inline size_t raw_peer_frame(SSL *ssl, int fd, struct raw_in *r, int ms)
{
	uint64_t deadline = now_ms() + (uint64_t)ms;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n;

		if (r->have >= PEER_HDR_LEN && r->have >= peer_get32(r->buf))
			return peer_get32(r->buf);
		if (now_ms() >= deadline)
			return 0;
		if (!SSL_pending(ssl) && poll(&p, 1, (int)(deadline - now_ms())) <= 0)
			return 0;
		n = SSL_read(ssl, r->buf + r->have, (int)(sizeof(r->buf) - r->have));
		if (n <= 0) {
			if (SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ)
				continue;
			return 0;
		}
		r->have += (size_t)n;
	}
}

static inline void raw_peer_take(struct raw_in *r, size_t len)
{
	memmove(r->buf, r->buf + len, r->have - len);
	r->have -= len;
}

/*
 * Dials node @n's relay with certificate @cert and key @key (NULL: none),
 * trusting @ca, says HELLO as node @as, and sends @text to cluster name
 * @name: how far it got.
 */
static inline enum raw_peer_outcome raw_peer_send(const struct node *n, const char *ca,
						  const char *cert, const char *key,
						  const char *as, const char *name,
						  const char *text, int *ack_err)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(relay_port(n)) };
	uint8_t frame[PEER_HDR_LEN + PEER_HELLO_LEN + 512];
	static struct raw_in in;
	enum raw_peer_outcome out = RAW_NO_TLS;
	size_t name_len = strlen(name), len = strlen(text), got;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	int fd = -1;

	*ack_err = 0;
	in.have = 0;
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (!ctx)
		return RAW_NO_TLS;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_load_verify_locations(ctx, ca, NULL);
	if (cert && (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
		     SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1))
		goto out;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto out;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		goto out;
	/* Our HELLO, and a SEND right behind it, as a peer in a hurry would. */
	memset(frame, 0, sizeof(frame));
	peer_put_hdr(frame, PEER_HDR_LEN + PEER_HELLO_LEN, PEER_HELLO, 0);
	peer_put32(frame + PEER_HDR_LEN, PEER_PROTO_VERSION);
	snprintf((char *)frame + PEER_HDR_LEN + 8, 64, "%s", "test");
	snprintf((char *)frame + PEER_HDR_LEN + 8 + 64, 64, "%s", as);
	if (SSL_write(ssl, frame, PEER_HDR_LEN + PEER_HELLO_LEN) <= 0)
		goto out;
	/* The node's HELLO comes only once it took the handshake, our certificate included. */
	got = raw_peer_frame(ssl, fd, &in, 5000);
	if (!got || in.buf[4] != PEER_HELLO)
		goto out;
	raw_peer_take(&in, got);
	out = RAW_NO_ACK;
	memset(frame, 0, sizeof(frame));
	peer_put_hdr(frame, (uint32_t)(PEER_HDR_LEN + PEER_SEND_LEN + name_len + len), PEER_SEND, 1);
	peer_put32(frame + PEER_HDR_LEN + 8, 4242);		/* pid */
	peer_put32(frame + PEER_HDR_LEN + 12, 0);		/* uid: root, there */
	peer_put32(frame + PEER_HDR_LEN + 16, 0);
	peer_put16(frame + PEER_HDR_LEN + 20, (uint16_t)name_len);
	peer_put32(frame + PEER_HDR_LEN + 24, (uint32_t)len);
	memcpy(frame + PEER_HDR_LEN + PEER_SEND_LEN, name, name_len);
	memcpy(frame + PEER_HDR_LEN + PEER_SEND_LEN + name_len, text, len);
	if (SSL_write(ssl, frame, (int)(PEER_HDR_LEN + PEER_SEND_LEN + name_len + len)) <= 0)
		goto out;
	for (;;) {
		got = raw_peer_frame(ssl, fd, &in, 5000);
		if (!got)
			break;
		if (in.buf[4] == PEER_ACK && got == PEER_HDR_LEN + PEER_ACK_LEN) {
			*ack_err = -(int)peer_get32(in.buf + PEER_HDR_LEN);
			out = RAW_ACKED;
			break;
		}
		raw_peer_take(&in, got);	/* a PING, say */
	}
out:
	if (ssl)
		SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return out;
}

#endif /* KREG_TEST_PEER_RAW_H */
