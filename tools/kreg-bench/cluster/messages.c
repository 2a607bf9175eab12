// SPDX-License-Identifier: GPL-2.0
/*
 * kreg-cluster-bench's messages between nodes, against what they rest on:
 *
 *   kreg-cluster-bench serve TCP_PORT TLS_PORT
 *	(in node2) echo servers: raw TCP and raw TLS 1.3 with the node's own
 *	certificate, each taking a 4-byte record size, then records of that
 *	size, answering each with 4 bytes, as a peer link's ACK does.
 *
 *   kreg-cluster-bench msg TCP_ADDR TLS_ADDR MAILBOX SERVER
 *	(in node1) a cluster send to MAILBOX (held on node2) against a raw
 *	TLS round trip of the same size to node2; a call through a via tuple
 *	to SERVER (an echo server on node2) against a raw TCP round trip:
 *	alternating batches, the median of the pairs' ratios; then 1 KiB
 *	messages, 8 senders at once through kreg against one pipelined raw
 *	TLS connection: messages a second.
 *
 * TLS uses the node's certificate and the cluster's CA from
 * /etc/kreg/cluster/, as kregd's links do. Figures are "BENCH NAME VALUE".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "kreg.h"
#include "messages.h"
#include "stats.h"

#define CA	"/etc/kreg/cluster/ca.crt"
#define CERT	"/etc/kreg/cluster/node.crt"
#define KEY	"/etc/kreg/cluster/node.key"

#define RTT_SIZE	64
#define RTT_BATCH	40
#define RTT_PAIRS	15
#define KIB_SENDERS	8
#define KIB_EACH	250
#define KREGD_BENCH_PEERS	8

/* A byte stream, plain or TLS: the same code measures both. */
struct stream {
	int fd;
	SSL *ssl;
};

static int stream_io(struct stream *s, void *buf, size_t len, bool write)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n;

		if (s->ssl)
			n = write ? SSL_write(s->ssl, (char *)buf + done, (int)(len - done)) :
				    SSL_read(s->ssl, (char *)buf + done, (int)(len - done));
		else
			n = write ? send(s->fd, (char *)buf + done, len - done, MSG_NOSIGNAL) :
				    recv(s->fd, (char *)buf + done, len - done, 0);
		if (n <= 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

static SSL_CTX *tls_ctx(bool server)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, CERT) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, KEY, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, CA, NULL) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return ctx;
}

/* --- node2: the echo servers ------------------------------------------------- */

static void serve_one(int fd, SSL_CTX *ctx)
{
	struct stream s = { .fd = fd };
	static char rec[KREG_PAYLOAD_MAX];
	uint32_t size, ack = 0;

	if (ctx) {
		s.ssl = SSL_new(ctx);
		SSL_set_fd(s.ssl, fd);
		if (SSL_accept(s.ssl) != 1)
			_exit(1);
	}
	if (stream_io(&s, &size, sizeof(size), false) || size > sizeof(rec))
		_exit(1);
	while (!stream_io(&s, rec, size, false))
		if (stream_io(&s, &ack, sizeof(ack), true))
			break;
	_exit(0);
}

static int listen_on(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16))
		return -1;
	return fd;
}

int bench_serve(int tcp_port, int tls_port)
{
	int tcp = listen_on(tcp_port), tls = listen_on(tls_port);
	SSL_CTX *ctx = tls_ctx(true);

	if (tcp < 0 || tls < 0 || !ctx) {
		fprintf(stderr, "serve: cannot listen, or no certificate\n");
		return 1;
	}
	signal(SIGCHLD, SIG_IGN);
	if (fork() == 0) {
		for (;;) {
			int fd = accept(tls, NULL, NULL), one = 1;

			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (fd >= 0 && fork() == 0)
				serve_one(fd, ctx);
			close(fd);
		}
	}
	for (;;) {
		int fd = accept(tcp, NULL, NULL), one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (fd >= 0 && fork() == 0)
			serve_one(fd, NULL);
		close(fd);
	}
}

/* --- node1: the measures ------------------------------------------------------ */

static int dial(const char *addr, SSL_CTX *ctx, uint32_t size, struct stream *s)
{
	char host[64], *colon;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1;

	snprintf(host, sizeof(host), "%s", addr);
	colon = strrchr(host, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	inet_pton(AF_INET, host, &sa.sin_addr);
	s->ssl = NULL;
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ctx) {
		s->ssl = SSL_new(ctx);
		SSL_set_fd(s->ssl, s->fd);
		if (SSL_connect(s->ssl) != 1)
			return -EPROTO;
	}
	return stream_io(s, &size, sizeof(size), true);
}

/* One batch of raw round trips: microseconds each. */
static double raw_rtt(struct stream *s, int n)
{
	static char rec[RTT_SIZE];
	uint32_t ack;
	double t0 = now_us();
	int i;

	for (i = 0; i < n; i++)
		if (stream_io(s, rec, sizeof(rec), true) || stream_io(s, &ack, sizeof(ack), false))
			return -1;
	return (now_us() - t0) / n;
}

/* One batch of cluster sends, or of calls through @via: microseconds each. */
static double kreg_rtt(struct kreg_conn *c, const char *mailbox, const struct kreg_via *via,
		       int n)
{
	static char rec[RTT_SIZE], reply[64];
	double t0 = now_us();
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		int err = via ? kreg_call(via, rec, sizeof(rec), reply, sizeof(reply), &len, 5000) :
				kreg_send(c, mailbox, rec, sizeof(rec));

		if (err)
			return -1;
	}
	return (now_us() - t0) / n;
}

/*
 * Where a cluster send's time goes, part one: what kregd itself measured
 * for the last message of a batch, from its frame's write to the ACK
 * (node2's kregd and kernel included): microseconds, or -1.
 */
static double link_rtt(struct kreg_conn *c)
{
	struct kreg_peer peers[KREGD_BENCH_PEERS];
	size_t n, i;

	if (kreg_cluster_peers(c, peers, KREGD_BENCH_PEERS, &n))
		return -1;
	for (i = 0; i < n; i++)
		if (!strcmp(peers[i].node, "node2"))
			return (double)peers[i].rtt_us;
	return -1;
}

/* Part two: a request kregd answers itself (STATUS), this process to kregd and back. */
static double kregd_rtt(struct kreg_conn *c, int n)
{
	struct kreg_cluster_status st;
	double t0 = now_us();
	int i;

	for (i = 0; i < n; i++)
		if (kreg_cluster_status(c, &st))
			return -1;
	return (now_us() - t0) / n;
}

/*
 * @pairs alternating batches: the median of each, and of the pairs' ratios
 * (kreg / raw); for sends, what kregd saw of each batch's last message, and
 * a batch of kregd's own answers.
 */
static int pairs(struct kreg_conn *c, const char *mailbox, const struct kreg_via *via,
		 struct stream *raw, const char *name)
{
	double k[RTT_PAIRS], r[RTT_PAIRS], ratio[RTT_PAIRS], link[RTT_PAIRS], hop[RTT_PAIRS];
	int i;

	for (i = 0; i < RTT_PAIRS; i++) {
		k[i] = kreg_rtt(c, mailbox, via, RTT_BATCH);
		link[i] = via ? 0 : link_rtt(c);
		hop[i] = via ? 0 : kregd_rtt(c, RTT_BATCH);
		r[i] = raw_rtt(raw, RTT_BATCH);
		if (k[i] < 0 || r[i] < 0 || link[i] < 0 || hop[i] < 0) {
			fprintf(stderr, "%s: a round trip failed\n", name);
			return -1;
		}
		ratio[i] = k[i] / r[i];
	}
	printf("BENCH %s_kreg_us %.1f\n", name, median(k, RTT_PAIRS));
	printf("BENCH %s_raw_us %.1f\n", name, median(r, RTT_PAIRS));
	printf("BENCH %s_ratio %.3f\n", name, median(ratio, RTT_PAIRS));
	if (!via) {
		printf("BENCH %s_link_us %.1f\n", name, median(link, RTT_PAIRS));
		printf("BENCH %s_kregd_us %.1f\n", name, median(hop, RTT_PAIRS));
	}
	return 0;
}

/* 1 KiB messages: 8 senders through kreg, at once; messages a second. */
static double kreg_kib(const char *mailbox)
{
	static char rec[1024];
	double t0 = now_us();
	int i, status, failed = 0;

	for (i = 0; i < KIB_SENDERS; i++) {
		if (fork() == 0) {
			struct kreg_conn *c;
			int j, err = kreg_open_provider(&c, KREG_PROVIDER_CLUSTER);

			for (j = 0; !err && j < KIB_EACH; j++) {
				err = kreg_send(c, mailbox, rec, sizeof(rec));
				if (err == -EAGAIN) {
					err = 0;
					j--;
					usleep(1000);
				}
			}
			_exit(err ? 1 : 0);
		}
	}
	while (wait(&status) > 0)
		failed += !WIFEXITED(status) || WEXITSTATUS(status);
	return failed ? -1 : KIB_SENDERS * KIB_EACH / ((now_us() - t0) / 1e6);
}

/*
 * The same number of 1 KiB records over one raw TLS connection, as many in
 * flight as kreg's senders have: each window written, then its acks read.
 */
static double tls_kib(const char *addr, SSL_CTX *ctx)
{
	static char rec[1024];
	struct stream s;
	double t0;
	uint32_t ack;
	int i, n = KIB_SENDERS * KIB_EACH;

	if (dial(addr, ctx, sizeof(rec), &s))
		return -1;
	t0 = now_us();
	for (i = 0; i < n; i += KIB_SENDERS) {
		int j, w = n - i < KIB_SENDERS ? n - i : KIB_SENDERS;

		for (j = 0; j < w; j++)
			if (stream_io(&s, rec, sizeof(rec), true))
				return -1;
		for (j = 0; j < w; j++)
			if (stream_io(&s, &ack, sizeof(ack), false))
				return -1;
	}
	return n / ((now_us() - t0) / 1e6);
}

int bench_messages(const char *tcp_addr, const char *tls_addr, const char *mailbox,
		   const char *server)
{
	SSL_CTX *ctx = tls_ctx(false);
	struct stream tcp, tls;
	struct kreg_conn *c;
	struct kreg_via via;
	double kreg_rate, tls_rate;

	if (!ctx || kreg_open_provider(&c, KREG_PROVIDER_CLUSTER) ||
	    kreg_via_tuple(c, server, &via)) {
		fprintf(stderr, "msg: no certificate, or no cluster provider\n");
		return 1;
	}
	if (dial(tcp_addr, NULL, RTT_SIZE, &tcp) || dial(tls_addr, ctx, RTT_SIZE, &tls)) {
		fprintf(stderr, "msg: cannot reach node2's echo servers\n");
		return 1;
	}
	/* Warm: links up, reply mailbox registered. */
	if (kreg_rtt(c, mailbox, NULL, 5) < 0 || kreg_rtt(c, mailbox, &via, 5) < 0) {
		fprintf(stderr, "msg: %s\n", kreg_last_error(c));
		return 1;
	}
	if (pairs(c, mailbox, NULL, &tls, "send_tls") || pairs(c, mailbox, &via, &tcp, "call_tcp"))
		return 1;
	kreg_rate = kreg_kib(mailbox);
	tls_rate = tls_kib(tls_addr, ctx);
	if (kreg_rate < 0 || tls_rate < 0) {
		fprintf(stderr, "msg: the 1 KiB runs failed\n");
		return 1;
	}
	printf("BENCH kib_kreg_per_s %.1f\n", kreg_rate);
	printf("BENCH kib_tls_per_s %.1f\n", tls_rate);
	printf("BENCH kib_ratio %.3f\n", tls_rate / kreg_rate);
	return 0;
}
