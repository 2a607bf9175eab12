// SPDX-License-Identifier: GPL-2.0
/*
 * etcd through its JSON gateway, asynchronously (etcd.h says what the
 * gateway requires of a client). Every call goes to the endpoint in use;
 * one that cannot be reached gives way to the next, and the call is tried
 * there while its time lasts. Auth tokens are fetched per endpoint, as
 * calls of their own: a call that needs one waits for it, and nothing here
 * ever blocks kregd's loop, whose deadlines (the lease's) cannot wait.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "etcd.h"
#include "log.h"

#define ETCD_AUTH_TIMEOUT_MS	1000

struct etcd_req {
	struct etcd *e;
	CURL *easy;
	struct curl_slist *headers;
	char path[64];
	char *body;			/* the JSON sent, kept for a retry */
	char *buf;			/* what came back (a stream's unread part) */
	size_t len, cap;
	etcd_done_fn done;
	etcd_line_fn line;
	void *arg;
	uint64_t deadline_ms;		/* one-shot calls: when to give up */
	uint64_t heard_ms;		/* streams: when something last came */
	int endpoint;			/* where it was sent */
	int tries;
	int stream_err;			/* an error a stream said */
	bool auth_retried;
	bool waiting;			/* for its endpoint's token */
	bool deferred;			/* started from a transfer's callback: added after it */
	int auth_for;			/* an authentication: for this endpoint; else -1 */
	struct etcd_req *next, **pprev;
};

struct etcd {
	const struct kregd_config *c;
	CURLM *multi;
	int current;			/* the endpoint in use */
	/* Simple tokens are short; JWTs (--auth-token=jwt) run to a kilobyte or so. */
	char tokens[KREGD_ENDPOINTS_MAX][4096];
	struct etcd_req *authenticating[KREGD_ENDPOINTS_MAX];
	bool answered[KREGD_ENDPOINTS_MAX];
	struct etcd_req *reqs;
	bool performing;		/* in curl_multi_perform(): its callbacks may not add */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void tls(const struct kregd_config *c, CURL *easy)
{
	if (c->ca[0])
		curl_easy_setopt(easy, CURLOPT_CAINFO, c->ca);
	if (c->cert[0])
		curl_easy_setopt(easy, CURLOPT_SSLCERT, c->cert);
	if (c->key[0])
		curl_easy_setopt(easy, CURLOPT_SSLKEY, c->key);
	curl_easy_setopt(easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct etcd_req *r = arg;
	size_t len = size * n;

	if (r->len + len + 1 > r->cap) {
		size_t cap = (r->len + len + 1) * 2;
		char *buf = realloc(r->buf, cap);

		if (!buf)
			return 0;
		r->buf = buf;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, data, len);
	r->len += len;
	r->buf[r->len] = '\0';
	return len;
}

/* A stream's complete lines, each a message, handed over as they come. */
static size_t stream_lines(char *data, size_t size, size_t n, void *arg)
{
	struct etcd_req *r = arg;
	size_t len = collect(data, size, n, arg);
	char *nl, *start;

	r->heard_ms = now_ms();
	if (len != size * n)
		return len;
	/* Every whole line, then what is left of the last moved down once. */
	for (start = r->buf; (nl = memchr(start, '\n', r->len - (size_t)(start - r->buf)));
	     start = nl + 1) {
		*nl = '\0';
		if (!strncmp(start, "{\"error\"", 8))
			r->stream_err = -EIO;
		else if (nl > start)
			r->line(r->arg, start, (size_t)(nl - start));
	}
	r->len -= (size_t)(start - r->buf);
	memmove(r->buf, start, r->len + 1);
	return len;
}

static void req_unlink(struct etcd_req *r)
{
	*r->pprev = r->next;
	if (r->next)
		r->next->pprev = r->pprev;
}

static void req_free(struct etcd_req *r)
{
	if (r->easy) {
		curl_multi_remove_handle(r->e->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	curl_slist_free_all(r->headers);
	free(r->body);
	free(r->buf);
	free(r);
}

static struct etcd_req *req_new(struct etcd *e, const char *path, struct json_object *body,
				int timeout_ms, etcd_line_fn line, etcd_done_fn done, void *arg);
static int req_start(struct etcd *e, struct etcd_req *r);

/* Asks endpoint @i for a token, unless it is being asked already. */
static int authenticate(struct etcd *e, int i)
{
	struct json_object *body;
	struct etcd_req *r;
	int err;

	if (e->authenticating[i])
		return 0;
	body = json_object_new_object();
	json_object_object_add(body, "name", json_object_new_string(e->c->user));
	json_object_object_add(body, "password", json_object_new_string(e->c->password));
	r = req_new(e, "/v3/auth/authenticate", body, ETCD_AUTH_TIMEOUT_MS, NULL, NULL, NULL);
	if (!r)
		return -ENOMEM;
	r->auth_for = i;
	e->authenticating[i] = r;
	err = req_start(e, r);
	if (err)
		e->authenticating[i] = NULL;
	return err;
}

/*
 * Sends @r to the endpoint in use; a call that needs a token this endpoint
 * has not given yet waits for it (r->waiting), asked for at once.
 */
static int req_start(struct etcd *e, struct etcd_req *r)
{
	char url[192], auth[4200];
	int64_t left;

	if (r->auth_for < 0) {
		r->endpoint = e->current;
		if (e->c->user[0] && !e->tokens[r->endpoint][0]) {
			r->waiting = true;
			return authenticate(e, r->endpoint);
		}
	} else {
		r->endpoint = r->auth_for;
	}
	r->waiting = false;
	r->easy = curl_easy_init();
	if (!r->easy)
		return -ENOMEM;
	curl_slist_free_all(r->headers);
	r->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (r->auth_for < 0 && e->tokens[r->endpoint][0]) {
		snprintf(auth, sizeof(auth), "Authorization: %s", e->tokens[r->endpoint]);
		r->headers = curl_slist_append(r->headers, auth);
	}
	snprintf(url, sizeof(url), "%s%s", e->c->endpoints[r->endpoint], r->path);
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, r->line ? stream_lines : collect);
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	tls(e->c, r->easy);
	if (!r->line) {
		left = (int64_t)r->deadline_ms - (int64_t)now_ms();
		if (left < 1)
			left = 1;
		curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)left);
		curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
	} else {
		curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	}
	r->len = 0;
	if (e->performing) {
		/* libcurl refuses a handle from its own callbacks (a watch's line): after it. */
		r->deferred = true;
		return 0;
	}
	if (curl_multi_add_handle(e->multi, r->easy) != CURLM_OK)
		return -ENOMEM;
	return 0;
}

static struct etcd_req *req_new(struct etcd *e, const char *path, struct json_object *body,
				int timeout_ms, etcd_line_fn line, etcd_done_fn done, void *arg)
{
	struct etcd_req *r = calloc(1, sizeof(*r));

	if (r)
		r->body = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	json_object_put(body);
	if (!r || !r->body) {
		if (r)
			free(r);
		return NULL;
	}
	r->e = e;
	r->auth_for = -1;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->line = line;
	r->done = done;
	r->arg = arg;
	r->deadline_ms = now_ms() + (uint64_t)timeout_ms;
	r->next = e->reqs;
	r->pprev = &e->reqs;
	if (e->reqs)
		e->reqs->pprev = &r->next;
	e->reqs = r;
	return r;
}

/* Sends @r, or has it fail (from etcd_perform(), as every end is told). */
static void req_go(struct etcd *e, struct etcd_req *r)
{
	int err = req_start(e, r);

	if (err) {
		r->stream_err = err;
		if (r->easy) {
			curl_easy_cleanup(r->easy);
			r->easy = NULL;
		}
	}
}

int etcd_call(struct etcd *e, const char *path, struct json_object *body, int timeout_ms,
	      etcd_done_fn done, void *arg)
{
	struct etcd_req *r = req_new(e, path, body, timeout_ms, NULL, done, arg);

	if (!r)
		return -ENOMEM;
	req_go(e, r);
	return 0;
}

struct etcd_req *etcd_stream(struct etcd *e, const char *path, struct json_object *body,
			     etcd_line_fn line, etcd_done_fn done, void *arg)
{
	struct etcd_req *r = req_new(e, path, body, 0, line, done, arg);

	if (r)
		r->heard_ms = now_ms();
	if (r)
		req_go(e, r);
	return r;
}

uint64_t etcd_stream_quiet_ms(const struct etcd_req *r)
{
	return now_ms() - r->heard_ms;
}

void etcd_cancel(struct etcd *e, struct etcd_req *r)
{
	(void)e;
	if (!r)
		return;
	req_unlink(r);
	req_free(r);
}

/* The next endpoint, after one that could not be reached. */
static void rotate(struct etcd *e, int from)
{
	if (e->current == from)
		e->current = (from + 1) % e->c->n_endpoints;
}

static bool transport_failed(CURLcode code)
{
	return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
	       code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR ||
	       code == CURLE_GOT_NOTHING || code == CURLE_SSL_CONNECT_ERROR ||
	       code == CURLE_PARTIAL_FILE || code == CURLE_OPERATION_TIMEDOUT;
}

/* What an etcd error answer means for the caller. */
static int etcd_error(long status, struct json_object *reply, bool *auth)
{
	int64_t code = reply ? etcd_get_i64(reply, "code") : 0;

	/* 16: UNAUTHENTICATED (a token this member does not know). */
	*auth = status == 401 || code == 16;
	if (code == 7)
		return -EACCES;		/* PERMISSION_DENIED */
	if (code == 14 || code == 4)
		return -EHOSTUNREACH;	/* UNAVAILABLE, DEADLINE_EXCEEDED: no quorum */
	return -EIO;
}

/* An authentication ended: the calls that waited for its token go on, or end. */
static void authenticated(struct etcd *e, struct etcd_req *a, CURLcode code, long status)
{
	struct json_object *reply = code == CURLE_OK && a->buf ? json_tokener_parse(a->buf) : NULL;
	struct json_object *token = etcd_get(reply, "token");
	int i = a->auth_for;
	struct etcd_req *r;

	e->authenticating[i] = NULL;
	if (status == 200 && token) {
		snprintf(e->tokens[i], sizeof(e->tokens[i]), "%s", json_object_get_string(token));
	} else {
		if (code == CURLE_OK)
			kregd_log(LOG_ERR, "etcd %s refused user %s: %s", e->c->endpoints[i],
				  e->c->user, a->buf ? a->buf : "no answer");
		/* Another endpoint for those that waited, while they have time. */
		if (code != CURLE_OK)
			rotate(e, i);
	}
	json_object_put(reply);
	for (r = e->reqs; r; r = r->next) {
		if (!r->waiting || r->endpoint != i)
			continue;
		if (e->tokens[i][0] || (code != CURLE_OK && ++r->tries < e->c->n_endpoints &&
					(r->line || now_ms() + 50 < r->deadline_ms))) {
			req_go(e, r);
		} else {
			/* Fails from etcd_perform(): no token to be had. */
			r->waiting = false;
			r->stream_err = code == CURLE_OK ? -EACCES : -EHOSTUNREACH;
		}
	}
}

/* @r's transfer is over: retried, or its end told to the caller. */
static void finished(struct etcd *e, struct etcd_req *r, CURLcode code)
{
	struct json_object *reply = NULL;
	long status = 0;
	bool auth = false, retry = false;
	int err = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(e->multi, r->easy);
	curl_easy_cleanup(r->easy);
	r->easy = NULL;
	if (r->auth_for >= 0) {
		e->answered[r->auth_for] = code == CURLE_OK;
		req_unlink(r);
		authenticated(e, r, code, status);
		req_free(r);
		return;
	}
	if (code != CURLE_OK) {
		e->answered[r->endpoint] = false;
		err = code == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EHOSTUNREACH;
		if (transport_failed(code)) {
			rotate(e, r->endpoint);
			/* Another endpoint, while the call has time left. */
			retry = ++r->tries < e->c->n_endpoints &&
				(r->line || now_ms() + 50 < r->deadline_ms);
		}
	} else {
		e->answered[r->endpoint] = true;
		if (!r->line)
			reply = r->buf ? json_tokener_parse(r->buf) : NULL;
		if (status != 200 || (r->line && r->stream_err)) {
			err = etcd_error(status, reply, &auth);
			if (auth && !r->auth_retried) {
				e->tokens[r->endpoint][0] = '\0';
				r->auth_retried = true;
				retry = true;
			}
		} else if (!r->line && !reply) {
			err = -EIO;
		}
	}
	if (retry) {
		json_object_put(reply);
		r->stream_err = 0;
		req_go(e, r);
		if (r->easy || r->waiting)
			return;
		err = r->stream_err;
		reply = NULL;
	}
	req_unlink(r);
	if (r->done)
		r->done(r->arg, err, reply);
	json_object_put(reply);
	req_free(r);
}

void etcd_perform(struct etcd *e)
{
	struct etcd_req *r, *next;
	CURLMsg *msg;
	int running, left;

	e->performing = true;
	curl_multi_perform(e->multi, &running);
	e->performing = false;
	for (r = e->reqs; r; r = r->next) {
		if (!r->deferred)
			continue;
		r->deferred = false;
		if (curl_multi_add_handle(e->multi, r->easy) != CURLM_OK) {
			curl_easy_cleanup(r->easy);
			r->easy = NULL;
			r->stream_err = -ENOMEM;
		}
	}
	while ((msg = curl_multi_info_read(e->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		finished(e, r, msg->data.result);
	}
	/*
	 * Requests that could not even start are told now, from here, and so
	 * are those whose time ran out waiting for a token.
	 */
	for (r = e->reqs; r; r = next) {
		next = r->next;
		if (r->waiting && !r->line && now_ms() >= r->deadline_ms) {
			r->waiting = false;
			r->stream_err = -ETIMEDOUT;
		}
		if (!r->easy && !r->waiting) {
			req_unlink(r);
			if (r->done)
				r->done(r->arg, r->stream_err ? r->stream_err : -EHOSTUNREACH, NULL);
			req_free(r);
		}
	}
}

CURLM *etcd_multi(struct etcd *e)
{
	return e->multi;
}

struct etcd *etcd_new(const struct kregd_config *config)
{
	struct etcd *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->c = config;
	e->multi = curl_multi_init();
	if (!e->multi) {
		free(e);
		return NULL;
	}
	return e;
}

void etcd_free(struct etcd *e)
{
	memset(e->authenticating, 0, sizeof(e->authenticating));
	while (e->reqs)
		etcd_cancel(e, e->reqs);
	curl_multi_cleanup(e->multi);
	free(e);
}

const char *etcd_endpoint(const struct etcd *e)
{
	return e->c->endpoints[e->current];
}

int etcd_reachable(const struct etcd *e)
{
	int i, n = 0;

	for (i = 0; i < e->c->n_endpoints; i++)
		n += e->answered[i];
	return n;
}

int etcd_endpoints(const struct etcd *e)
{
	return e->c->n_endpoints;
}

/* --- JSON: base64 bytes, int64s as strings, absent false and zero --------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int etcd_b64(const void *data, size_t len, char *out, size_t size)
{
	const unsigned char *in = data;
	size_t i, o = 0;

	if ((len + 2) / 3 * 4 + 1 > size)
		return -ENOSPC;
	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}

int etcd_unb64(const char *in, void *out, size_t size, size_t *len)
{
	unsigned char *o = out;
	uint32_t v = 0;
	size_t n = 0;
	int bits = 0;

	for (; *in && *in != '='; in++) {
		const char *p = strchr(b64, *in);

		if (!p)
			return -EINVAL;
		v = (v << 6) | (uint32_t)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == size)
				return -ENOSPC;
			o[n++] = (unsigned char)(v >> bits);
		}
	}
	*len = n;
	return 0;
}

void etcd_put_b64(struct json_object *o, const char *field, const void *data, size_t len)
{
	char buf[4096];

	if (!etcd_b64(data, len, buf, sizeof(buf)))
		json_object_object_add(o, field, json_object_new_string(buf));
}

void etcd_put_i64(struct json_object *o, const char *field, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	json_object_object_add(o, field, json_object_new_string(buf));
}

struct json_object *etcd_get(struct json_object *o, const char *field)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, field, &v) ? v : NULL;
}

int64_t etcd_get_i64(struct json_object *o, const char *field)
{
	struct json_object *v = etcd_get(o, field);

	if (!v)
		return 0;
	if (json_object_is_type(v, json_type_string))
		return strtoll(json_object_get_string(v), NULL, 10);
	return json_object_get_int64(v);
}

bool etcd_get_bool(struct json_object *o, const char *field)
{
	struct json_object *v = etcd_get(o, field);

	return v && json_object_get_boolean(v);
}

struct json_object *etcd_txn(struct json_object *compare, struct json_object *success,
			     struct json_object *failure)
{
	struct json_object *body = json_object_new_object();

	if (compare)
		json_object_object_add(body, "compare", compare);
	if (success)
		json_object_object_add(body, "success", success);
	if (failure)
		json_object_object_add(body, "failure", failure);
	return body;
}

struct json_object *etcd_all(int n, ...)
{
	struct json_object *a = json_object_new_array();
	va_list ap;

	va_start(ap, n);
	while (n-- > 0)
		json_object_array_add(a, va_arg(ap, struct json_object *));
	va_end(ap);
	return a;
}

struct json_object *etcd_cmp_created(const char *key, int64_t rev)
{
	struct json_object *cmp = json_object_new_object();

	etcd_put_b64(cmp, "key", key, strlen(key));
	json_object_object_add(cmp, "target", json_object_new_string("CREATE"));
	etcd_put_i64(cmp, "create_revision", rev);
	return cmp;
}

/* {@name: {"key": @key}}, and the inner object in *@inner. */
static struct json_object *op_on(const char *name, const char *key, struct json_object **inner)
{
	struct json_object *op = json_object_new_object();

	*inner = json_object_new_object();
	etcd_put_b64(*inner, "key", key, strlen(key));
	json_object_object_add(op, name, *inner);
	return op;
}

struct json_object *etcd_op_put(const char *key, const char *value, int64_t lease)
{
	struct json_object *put, *op = op_on("request_put", key, &put);

	etcd_put_b64(put, "value", value, strlen(value));
	if (lease)
		etcd_put_i64(put, "lease", lease);
	return op;
}

struct json_object *etcd_op_delete(const char *key)
{
	struct json_object *del;

	return op_on("request_delete_range", key, &del);
}

struct json_object *etcd_op_range(const char *key)
{
	struct json_object *range;

	return op_on("request_range", key, &range);
}

void etcd_prefix_end(const char *key, char *end, size_t size)
{
	size_t len = strlen(key);

	snprintf(end, size, "%s", key);
	if (len && len < size)
		end[len - 1]++;
}
