/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TLS for peer links (OpenSSL): 1.3 only, this node's certificate both
 * ways, and the peer's required, signed by the cluster's CA and naming the
 * peer's node in its subjectAltName (a DNS name), as etcd's records say.
 */
#ifndef KREGD_TLS_H
#define KREGD_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct kregd_config;

/* The context every link is made from; NULL with @error saying why. */
SSL_CTX *tls_context(const struct kregd_config *c, char *error, size_t size);
/* A TLS session on connected socket @fd: dialing node @node, or (NULL) accepting. */
SSL *tls_session(SSL_CTX *ctx, int fd, const char *node);
/* Whether the peer's verified certificate names node @node, exactly, as a DNS name. */
bool tls_names_node(SSL *ssl, const char *node);
/*
 * Why a handshake failed, in words: the certificate's fault, or the
 * connection's. OpenSSL's error queue is left empty.
 */
const char *tls_failure(SSL *ssl, char *buf, size_t size);

#endif /* KREGD_TLS_H */
