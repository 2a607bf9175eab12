/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An etcd v3 client over its JSON gateway (/v3/...), asynchronous, on
 * libcurl's multi interface and json-c: one-shot calls (ranges,
 * transactions, leases) and streams (watches), over TLS with this node's
 * certificate, as this node's etcd user. What the gateway does that a
 * client must know:
 *  - 64-bit numbers are strings, and false or zero fields are absent;
 *  - a streaming call (watch, lease keepalive) answers nothing until the
 *    request body ends: each watch is a request of its own, and each
 *    keepalive a one-shot request;
 *  - auth tokens are a member's own: a token from one endpoint is refused
 *    by another, so each endpoint gets its own.
 */
#ifndef KREGD_ETCD_H
#define KREGD_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <json-c/json.h>

struct kregd_config;
struct etcd;
struct etcd_req;

/*
 * The end of a call: @err 0 and @reply the answer's JSON (borrowed: gone
 * when this returns), or @err -ETIMEDOUT (no answer in time),
 * -EHOSTUNREACH (no endpoint could be reached), -EACCES (refused: auth or
 * permission), -EIO (etcd answered an error; @reply has it, and NULL for
 * a transport error).
 */
typedef void (*etcd_done_fn)(void *arg, int err, struct json_object *reply);
/*
 * A stream's message, as it came: one line of JSON, {"result": ...}
 * (borrowed: copy what is kept). Parsed by whoever takes it, when it
 * takes it, so that a backlog waits as text, not as a tree of objects.
 */
typedef void (*etcd_line_fn)(void *arg, const char *line, size_t len);

struct etcd *etcd_new(const struct kregd_config *config);
void etcd_free(struct etcd *e);

/*
 * POSTs @body (consumed) to @path, giving up after @timeout_ms; @done is
 * called once, from etcd_perform(), never from here. 0, or -ENOMEM.
 */
int etcd_call(struct etcd *e, const char *path, struct json_object *body, int timeout_ms,
	      etcd_done_fn done, void *arg);
/*
 * A stream (a watch): @line for each message, then @done at its end. The
 * request, for etcd_cancel(), or NULL.
 */
struct etcd_req *etcd_stream(struct etcd *e, const char *path, struct json_object *body,
			     etcd_line_fn line, etcd_done_fn done, void *arg);
/* How long since stream @r last received anything (a message, or part of one). */
uint64_t etcd_stream_quiet_ms(const struct etcd_req *r);
/* Ends @r now: its callbacks are not called. */
void etcd_cancel(struct etcd *e, struct etcd_req *r);

/* Drives the transfers: call when curl_multi_poll() returns. */
void etcd_perform(struct etcd *e);
CURLM *etcd_multi(struct etcd *e);

/* The endpoint requests go to now, and how many answered last time. */
const char *etcd_endpoint(const struct etcd *e);
int etcd_reachable(const struct etcd *e);
int etcd_endpoints(const struct etcd *e);

/* JSON helpers: keys and values are base64, int64s strings. */
int etcd_b64(const void *data, size_t len, char *out, size_t size);
int etcd_unb64(const char *in, void *out, size_t size, size_t *len);
void etcd_put_b64(struct json_object *o, const char *field, const void *data, size_t len);
void etcd_put_i64(struct json_object *o, const char *field, int64_t v);
int64_t etcd_get_i64(struct json_object *o, const char *field);
bool etcd_get_bool(struct json_object *o, const char *field);
struct json_object *etcd_get(struct json_object *o, const char *field);
/*
 * Transactions: "if every compare holds then these ops, else those".
 * etcd_txn() takes compare, success and failure arrays (NULL: empty), and
 * consumes them; the others build their parts.
 */
struct json_object *etcd_txn(struct json_object *compare, struct json_object *success,
			     struct json_object *failure);
/* An array of @n parts (consumed): etcd_all(2, cmp1, cmp2). */
struct json_object *etcd_all(int n, ...);
/* @key's create_revision is @rev: 0 when it does not exist, its holder's token when it does. */
struct json_object *etcd_cmp_created(const char *key, int64_t rev);
struct json_object *etcd_op_put(const char *key, const char *value, int64_t lease);
struct json_object *etcd_op_delete(const char *key);
struct json_object *etcd_op_range(const char *key);

/* The end of prefix @key's range: @key with its last byte plus one. */
void etcd_prefix_end(const char *key, char *end, size_t size);

#endif /* KREGD_ETCD_H */
