// SPDX-License-Identifier: GPL-2.0
/*
 * TLS for peer links (tls.h). A node's certificate is the one it shows
 * etcd: one key per node, one CA per cluster. Verification is OpenSSL's
 * (chain to the CA, dates, extended key usage for the role), and the name
 * check is strict: the peer's node, exactly, as a DNS name in
 * subjectAltName; no wildcard, no CommonName fallback.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "tls.h"

static const char *tls_error(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();

	if (!e)
		return "no detail";
	ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return buf;
}

SSL_CTX *tls_context(const struct kregd_config *c, char *error, size_t size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	char why[256];

	if (!ctx) {
		snprintf(error, size, "TLS: %s", tls_error(why, sizeof(why)));
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)) {
		snprintf(error, size, "TLS 1.3 is not available: %s", tls_error(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(error, size, "this node's certificate %s and key %s: %s", c->cert, c->key,
			 tls_error(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, c->ca, NULL) != 1) {
		snprintf(error, size, "the cluster's CA %s: %s", c->ca, tls_error(why, sizeof(why)));
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* Frames are written from a buffer that may move between retries. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Links last: no tickets to keep, no resumption to reason about. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL *tls_session(SSL_CTX *ctx, int fd, const char *node)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1)
		goto fail;
	if (!node) {
		SSL_set_accept_state(ssl);
		return ssl;
	}
	/* The certificate must name the node dialed: in the handshake, then exactly (HELLO). */
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	if (SSL_set1_host(ssl, node) != 1 || SSL_set_tlsext_host_name(ssl, node) != 1)
		goto fail;
	SSL_set_connect_state(ssl);
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

/*
 * Exactly: node names are case-sensitive to the kernel, and OpenSSL's host
 * check is not (nor does it take ".example" literally).
 */
bool tls_names_node(SSL *ssl, const char *node)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	size_t len = strlen(node);
	GENERAL_NAMES *names;
	bool found = false;
	int i;

	if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
		return false;
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; names && !found && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const unsigned char *dns;

		if (g->type != GEN_DNS)
			continue;
		dns = ASN1_STRING_get0_data(g->d.dNSName);
		found = (size_t)ASN1_STRING_length(g->d.dNSName) == len && !memcmp(dns, node, len);
	}
	GENERAL_NAMES_free(names);
	return found;
}

const char *tls_failure(SSL *ssl, char *buf, size_t size)
{
	long v = SSL_get_verify_result(ssl);

	if (v != X509_V_OK) {
		snprintf(buf, size, "the peer's certificate: %s", X509_verify_cert_error_string(v));
		/* What OpenSSL queued would be read as the next link's error. */
		ERR_clear_error();
		return buf;
	}
	return tls_error(buf, size);
}
