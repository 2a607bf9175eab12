// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The public API over providers: a handle is opened on the kernel's table or
 * the process's local one, and every call goes to that provider's ops.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* How many nodes' answers kreg_multi_send() looks at, to log their failures. */
#define KREG_MULTI_SEND_REPORT	64

static const struct kreg_provider_ops *kreg_ops_of(enum kreg_provider provider)
{
	switch (provider) {
	case KREG_PROVIDER_KERNEL:
		return &kreg_kernel_ops;
	case KREG_PROVIDER_LOCAL:
		return &kreg_local_ops;
	case KREG_PROVIDER_CLUSTER:
		return &kreg_cluster_ops;
	}
	return NULL;
}

const char *kreg_provider_name(enum kreg_provider provider)
{
	switch (provider) {
	case KREG_PROVIDER_KERNEL:
		return "kernel";
	case KREG_PROVIDER_LOCAL:
		return "local";
	case KREG_PROVIDER_CLUSTER:
		return "cluster";
	}
	return "unknown";
}

int kreg_configured_provider(enum kreg_provider *provider)
{
	/* Not from a set-user-ID program's caller: it would pick its provider. */
	const char *env = secure_getenv("KREG_REGISTRY");

	if (!env || !*env || !strcmp(env, "kernel"))
		*provider = KREG_PROVIDER_KERNEL;
	else if (!strcmp(env, "local"))
		*provider = KREG_PROVIDER_LOCAL;
	else if (!strcmp(env, "cluster"))
		*provider = KREG_PROVIDER_CLUSTER;
	else
		return -ENOPROTOOPT;
	return 0;
}

int kreg_open_provider(struct kreg_conn **connp, enum kreg_provider provider)
{
	const struct kreg_provider_ops *ops = kreg_ops_of(provider);
	struct kreg_conn *conn;
	int err;

	if (!ops)
		return -EINVAL;
	conn = calloc(1, sizeof(*conn));
	if (!conn)
		return -ENOMEM;
	conn->ops = ops;
	err = ops->open(conn);
	if (err) {
		ops->close(conn);
		free(conn);
		return err;
	}
	*connp = conn;
	return 0;
}

int kreg_open(struct kreg_conn **connp)
{
	enum kreg_provider provider;
	int err = kreg_configured_provider(&provider);

	return err ? err : kreg_open_provider(connp, provider);
}

void kreg_close(struct kreg_conn *conn)
{
	if (!conn)
		return;
	if (conn->reply_conn) {
		/* A forked child closing its copy must not take its parent's name. */
		if (conn->reply_owner == getpid())
			kreg_unregister(conn->reply_conn, conn->reply_name);
		kreg_close(conn->reply_conn);
	}
	conn->ops->close(conn);
	free(conn);
}

enum kreg_provider kreg_registry_provider(const struct kreg_conn *conn)
{
	return conn->ops->provider;
}

int kreg_child_spec(enum kreg_provider provider, struct kreg_child_spec *specs,
		    size_t size, size_t *n)
{
	struct kreg_conn *conn;
	int err;

	(void)specs;
	(void)size;
	/* Opening proves the provider usable: for the kernel, that kreg.ko is loaded. */
	err = kreg_open_provider(&conn, provider);
	if (err)
		return err;
	kreg_close(conn);
	*n = 0;
	return 0;
}

int kreg_fd(const struct kreg_conn *conn)
{
	return conn->ops->fd(conn);
}

int kreg_wait_or_stop(const struct kreg_conn *conn, int stop_fd)
{
	struct pollfd fds[2] = {
		{ .fd = kreg_fd(conn), .events = POLLIN },
		{ .fd = stop_fd, .events = POLLIN },
	};

	if (poll(fds, stop_fd >= 0 ? 2 : 1, -1) < 0)
		return errno == EINTR ? 0 : -errno;
	return stop_fd >= 0 && fds[1].revents ? 1 : 0;
}

const char *kreg_last_error(const struct kreg_conn *conn)
{
	return conn->error;
}

void kreg_set_error(struct kreg_conn *conn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(conn->error, sizeof(conn->error), fmt, ap);
	va_end(ap);
}

const char *kreg_name_problem(const char *name)
{
	const char *problem = kreg_name_problem_of(name, strnlen(name, KREG_NAME_MAX + 1));

	return problem ? problem : "";
}

/* A holder as a bare pid: only a process of this node is one. */
static pid_t kreg_local_pid(const struct kreg_holder *h)
{
	return h->local ? h->pid : 0;
}

/*
 * A registration with KREG_F_* @flags: the holder it reports (the new one,
 * the one that made it fail with -EEXIST, or the one ahead in line with
 * -EINPROGRESS) is kept for kreg_last_holder().
 */
static int kreg_register_flags(struct kreg_conn *conn, const char *name, pid_t pid,
			       const void *meta, size_t meta_len, uint32_t flags,
			       pid_t *holder)
{
	struct kreg_holder h;
	int err;

	memset(&h, 0, sizeof(h));
	err = conn->ops->register_meta(conn, name, pid, meta, meta_len, flags, &h);
	if (err == 0 || err == -EEXIST || err == -EINPROGRESS) {
		conn->last_holder = h;
		conn->has_last_holder = true;
		if (holder)
			*holder = kreg_local_pid(&h);
	}
	return err;
}

int kreg_register_meta(struct kreg_conn *conn, const char *name, pid_t pid,
		       const void *meta, size_t meta_len, pid_t *holder)
{
	return kreg_register_flags(conn, name, pid, meta, meta_len, 0, holder);
}

int kreg_register(struct kreg_conn *conn, const char *name, pid_t pid,
		  pid_t *holder)
{
	return kreg_register_meta(conn, name, pid, NULL, 0, holder);
}

int kreg_register_queued(struct kreg_conn *conn, const char *name, const void *meta,
			 size_t meta_len, pid_t *holder)
{
	return kreg_register_flags(conn, name, 0, meta, meta_len, KREG_F_QUEUE, holder);
}

int kreg_last_holder(const struct kreg_conn *conn, struct kreg_holder *holder)
{
	if (!conn->has_last_holder)
		return -ENOENT;
	*holder = conn->last_holder;
	return 0;
}

int kreg_whereis_holder(struct kreg_conn *conn, const char *name, unsigned int flags,
			struct kreg_holder *holder)
{
	memset(holder, 0, sizeof(*holder));
	if (flags & ~KREG_WHEREIS_LINEARIZABLE) {
		kreg_set_error(conn, "unknown whereis flags 0x%x", flags & ~KREG_WHEREIS_LINEARIZABLE);
		return -EINVAL;
	}
	return conn->ops->whereis(conn, name, flags, NULL, 0, NULL, holder);
}

int kreg_unregister(struct kreg_conn *conn, const char *name)
{
	return conn->ops->unregister(conn, name);
}

int kreg_update_meta(struct kreg_conn *conn, const char *name, const void *meta,
		     size_t meta_len)
{
	if (meta_len > KREG_META_MAX) {
		kreg_set_error(conn, "the value is larger than KREG_META_MAX (%d bytes)",
			       KREG_META_MAX);
		return -EMSGSIZE;
	}
	if (meta_len && !meta) {
		kreg_set_error(conn, "a value of %zu bytes at NULL", meta_len);
		return -EINVAL;
	}
	return conn->ops->update_meta(conn, name, meta, meta_len);
}

int kreg_whereis_meta(struct kreg_conn *conn, const char *name, pid_t *pid,
		      void *meta, size_t size, size_t *meta_len)
{
	struct kreg_holder h;
	int err;

	memset(&h, 0, sizeof(h));
	err = conn->ops->whereis(conn, name, 0, meta, size, meta_len, &h);
	if (err)
		return err;
	if (!h.local) {
		kreg_set_error(conn, "the name is held on node %s (pid %d there)", h.node,
			       (int)h.pid);
		return -EREMOTE;
	}
	*pid = h.pid;
	return 0;
}

int kreg_whereis_name(struct kreg_conn *conn, const char *name, pid_t *pid)
{
	return kreg_whereis_meta(conn, name, pid, NULL, 0, NULL);
}

int kreg_list(struct kreg_conn *conn, kreg_list_fn fn, void *arg)
{
	return conn->ops->list(conn, NULL, fn, arg);
}

/* A pattern as the kernel takes it; "" if good, else why not. */
static int kreg_check_pattern(struct kreg_conn *conn, const char *pattern)
{
	const char *problem = pattern ? kreg_pattern_problem_of(pattern) : NULL;

	if (problem) {
		kreg_set_error(conn, "%s", problem);
		return -EINVAL;
	}
	return 0;
}

struct kreg_select_ctx {
	const struct kreg_match *m;
	kreg_list_fn fn;
	void *arg;
	size_t count;
};

/* The value, the one filter no provider applies itself. */
static int kreg_select_one(const struct kreg_entry_info *e, void *arg)
{
	struct kreg_select_ctx *ctx = arg;

	if (ctx->m->value && (e->meta_len != ctx->m->value_len ||
			      (e->meta_len && memcmp(e->meta, ctx->m->value, e->meta_len))))
		return 0;
	ctx->count++;
	return ctx->fn ? ctx->fn(e, ctx->arg) : 0;
}

/* kreg_select() and kreg_count(): the match checked, then one listing. */
static int kreg_select_run(struct kreg_conn *conn, const struct kreg_match *m,
			   struct kreg_select_ctx *ctx)
{
	struct kreg_filter f = { .pattern = m->pattern, .pid = m->pid };
	int err = kreg_check_pattern(conn, m->pattern);

	if (err)
		return err;
	if (m->pid < 0) {
		kreg_set_error(conn, "the pid must be a positive process id, or 0 for any");
		return -EINVAL;
	}
	if (m->value_len > KREG_META_MAX) {
		kreg_set_error(conn, "the value is larger than KREG_META_MAX (%d bytes)",
			       KREG_META_MAX);
		return -EMSGSIZE;
	}
	return conn->ops->list(conn, &f, kreg_select_one, ctx);
}

int kreg_select(struct kreg_conn *conn, const struct kreg_match *m, kreg_list_fn fn, void *arg)
{
	struct kreg_select_ctx ctx = { .m = m, .fn = fn, .arg = arg };

	return kreg_select_run(conn, m, &ctx);
}

int kreg_count(struct kreg_conn *conn, const struct kreg_match *m, size_t *count)
{
	struct kreg_select_ctx ctx = { .m = m };
	int err = kreg_select_run(conn, m, &ctx);

	*count = ctx.count;
	return err;
}

int kreg_status(struct kreg_conn *conn, struct kreg_status *st)
{
	return conn->ops->status(conn, st);
}

int kreg_send(struct kreg_conn *conn, const char *name, const void *data,
	      size_t len)
{
	return conn->ops->send(conn, name, NULL, 0, data, len);
}

int kreg_send_from(struct kreg_conn *conn, const char *name, const char *from,
		   const void *data, size_t len)
{
	if (!from) {
		kreg_set_error(conn, "a send from a name needs the name");
		return -EINVAL;
	}
	return conn->ops->send(conn, name, from, 0, data, len);
}

int kreg_send_fenced(struct kreg_conn *conn, const char *name, uint64_t token,
		     const void *data, size_t len)
{
	if (!conn->ops->send_fenced) {
		kreg_set_error(conn, "the %s provider has no fencing tokens",
			       kreg_provider_name(conn->ops->provider));
		return -ESTALE;
	}
	return conn->ops->send_fenced(conn, name, token, data, len);
}

int kreg_multi_send_each(struct kreg_conn *conn, const char *name, const void *data,
			 size_t len, struct kreg_node_result *results, size_t max, size_t *n)
{
	int err;

	*n = 0;
	if (conn->ops->multi_send)
		return conn->ops->multi_send(conn, name, data, len, results, max, n);
	/* One node: this host (or this process). */
	err = conn->ops->send(conn, name, NULL, 0, data, len);
	if (max) {
		memset(&results[0], 0, sizeof(results[0]));
		results[0].err = err;
		*n = 1;
	}
	return 0;
}

int kreg_multi_send(struct kreg_conn *conn, const char *name, const void *data,
		    size_t len)
{
	struct kreg_node_result results[KREG_MULTI_SEND_REPORT];
	size_t n, i;
	int err;

	/* Failures are the sender's to ignore, by contract: logged, not returned. */
	err = kreg_multi_send_each(conn, name, data, len, results, KREG_MULTI_SEND_REPORT, &n);
	if (err)
		kreg_log(KREG_LOG_DEBUG, "multi_send to \"%s\": %s", name, kreg_strerror(err));
	for (i = 0; i < n; i++)
		if (results[i].err)
			kreg_log(KREG_LOG_DEBUG, "multi_send to \"%s\" on node \"%s\": %s", name,
				 results[i].node, kreg_strerror(results[i].err));
	return 0;
}

int kreg_recv(struct kreg_conn *conn, struct kreg_message *msg, int timeout_ms)
{
	return conn->ops->recv(conn, msg, timeout_ms);
}

int kreg_subscribe(struct kreg_conn *conn)
{
	return conn->ops->subscribe(conn, NULL);
}

int kreg_subscribe_matching(struct kreg_conn *conn, const char *pattern)
{
	int err = kreg_check_pattern(conn, pattern);

	return err ? err : conn->ops->subscribe(conn, pattern);
}

int kreg_next_event(struct kreg_conn *conn, struct kreg_event *ev, int timeout_ms)
{
	return conn->ops->next_event(conn, ev, timeout_ms);
}

/* A program that knows two kinds of event is not told of updates. */
KREG_COMPAT("kreg_next_event@KREG_4")
int kreg_next_event_two_kinds(struct kreg_conn *conn, struct kreg_event *ev, int timeout_ms)
{
	uint64_t deadline = kreg_deadline(timeout_ms);
	int err;

	do
		err = kreg_next_event(conn, ev, kreg_ms_left(deadline, timeout_ms));
	while (!err && ev->kind == KREG_EVENT_UPDATED);
	return err;
}

const char *kreg_strerror(int err)
{
	switch (-err) {
	case EPROTONOSUPPORT:
		return "the kreg kernel module is not loaded (load it with: sudo insmod kreg.ko, or sudo modprobe kreg once installed)";
	case ENOENT:
		return "the name is not registered";
	case EEXIST:
		return "the name is already registered";
	case EINVAL:
		return "invalid request (a name is 1 to 255 printable ASCII characters)";
	case EPERM:
		return "not permitted (another process's name or entry needs CAP_SYS_ADMIN; a thread registers only itself)";
	case EDQUOT:
		return "this user holds its quota of names (see /sys/module/kreg/parameters/max_per_uid)";
	case ENOSPC:
		return "the registry is full (see /sys/module/kreg/parameters/max_entries)";
	case ECONNREFUSED:
		return "the name has no mailbox (the socket that registered it is closed)";
	case EAGAIN:
		return "the mailbox has no room for this sender; nothing was delivered, try again later";
	case EACCES:
		return "not allowed by kreg's access rules (kregctl policy check tells which rule)";
	case EPROTO:
		return "kreg.ko speaks an older version of the family than libkreg (load the matching module)";
	case EINTR:
		return "the registry changed during the listing (list again for a consistent one)";
	case EMSGSIZE:
		return "the message is larger than KREG_PAYLOAD_MAX (61440 bytes)";
	case ESRCH:
		return "no such process";
	case ETIMEDOUT:
		return "timed out";
	case ENOPROTOOPT:
		return "KREG_REGISTRY names no provider: set it to \"kernel\", \"local\" or \"cluster\"";
	case EOPNOTSUPP:
		return "the server does not handle this request";
	case ESHUTDOWN:
		return "the kreg module is being unloaded";
	case ENOBUFS:
		return "messages were lost: this connection's receive buffer is full (read it and retry)";
	case EREMOTE:
		return "the name is held on another node of the cluster";
	case ESTALE:
		return "this holder was fenced: its node lost its cluster lease, and its cluster names with it";
	case EHOSTUNREACH:
		return "the cluster cannot decide now (etcd is unreachable or has no quorum)";
	case ENOTCONN:
		return "kregd, the cluster's node daemon, is not running on this node";
	case EBUSY:
		return "another claim on this name is being decided";
	case EINPROGRESS:
		return "the name is held: this process waits in line for it (kreg_await_own() waits for its turn)";
	case EALREADY:
		return "this process waits in line for the name already";
	case EUSERS:
		return "the line for this name is full (KREG_LINE_MAX processes wait in it)";
	default:
		return strerror(-err);
	}
}
