// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Servers over mailboxes, as GenServer runs over Erlang's: calls, casts and
 * stop requests are framed messages sent to the server's name; anything
 * else is an info. A call's answer goes to the caller's own reply name, with
 * the call's reference, so it reaches that caller only, and an answer that
 * comes after its call timed out is recognised and dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Marks a framed message; anything without it is an info. */
#define KREG_FRAME_MAGIC 0x7672732e6765726bull	/* "kreg.srv" */

enum kreg_frame_kind {
	KREG_FRAME_CALL = 1,
	KREG_FRAME_CAST,
	KREG_FRAME_REPLY,
	KREG_FRAME_STOP,
};

struct kreg_frame {
	uint64_t magic;
	uint64_t ref;		/* CALL, STOP, REPLY: the call it belongs to */
	int32_t status;		/* REPLY: 0, or the negative errno to return */
	uint8_t kind;
	uint8_t reply_to_len;	/* CALL, STOP: the caller's reply name follows */
	uint16_t reserved;
	char body[];		/* reply_to (not NUL-terminated), then the payload */
};

_Static_assert(sizeof(struct kreg_frame) + KREG_NAME_MAX + KREG_CALL_MAX <= KREG_PAYLOAD_MAX,
	       "a call with the longest reply name fits one message");

struct kreg_server {
	struct kreg_conn *conn;
	const char *name;
	const struct kreg_module *module;
	void *state;
};

/* A decoded frame; points into the message it came in. */
struct kreg_decoded {
	const struct kreg_frame *frame;
	struct kreg_from from;
	const void *body;
	size_t len;
};

static bool kreg_decode(const struct kreg_message *msg, struct kreg_decoded *d)
{
	const struct kreg_frame *f = (const void *)msg->data;
	size_t rlen;

	if (msg->len < sizeof(*f) || f->magic != KREG_FRAME_MAGIC)
		return false;
	rlen = f->reply_to_len;
	if (msg->len < sizeof(*f) + rlen)
		return false;
	d->frame = f;
	memcpy(d->from.reply_to, f->body, rlen);
	d->from.reply_to[rlen] = '\0';
	d->from.ref = f->ref;
	/* The kernel's word on who sent it, never the frame's. */
	d->from.pid = msg->sender;
	d->from.uid = msg->sender_uid;
	d->from.gid = msg->sender_gid;
	d->from.cgroup = msg->sender_cgroup;
	d->body = f->body + rlen;
	d->len = msg->len - sizeof(*f) - rlen;
	return true;
}

/* Sends one frame to @name through @conn. */
static int kreg_send_frame(struct kreg_conn *conn, const char *name,
			   enum kreg_frame_kind kind, uint64_t ref, int32_t status,
			   const char *reply_to, const void *data, size_t len)
{
	size_t rlen = reply_to ? strlen(reply_to) : 0;
	struct kreg_frame *f;
	int err;

	if (len > KREG_CALL_MAX)
		return -EMSGSIZE;
	f = malloc(sizeof(*f) + rlen + len);
	if (!f)
		return -ENOMEM;
	*f = (struct kreg_frame){
		.magic = KREG_FRAME_MAGIC, .ref = ref, .status = status,
		.kind = (uint8_t)kind, .reply_to_len = (uint8_t)rlen,
	};
	if (rlen)
		memcpy(f->body, reply_to, rlen);
	if (len)
		memcpy(f->body + rlen, data, len);
	err = kreg_send(conn, name, f, sizeof(*f) + rlen + len);
	free(f);
	return err;
}

int kreg_reply(struct kreg_server *srv, const struct kreg_from *from,
	       const void *data, size_t len)
{
	return kreg_send_frame(srv->conn, from->reply_to, KREG_FRAME_REPLY, from->ref,
			       0, NULL, data, len);
}

int kreg_reply_error(struct kreg_server *srv, const struct kreg_from *from, int err)
{
	if (err >= 0)
		return -EINVAL;
	return kreg_send_frame(srv->conn, from->reply_to, KREG_FRAME_REPLY, from->ref,
			       err, NULL, NULL, 0);
}

const char *kreg_server_name(const struct kreg_server *srv)
{
	return srv->name;
}

struct kreg_conn *kreg_server_conn(struct kreg_server *srv)
{
	return srv->conn;
}

/* The defaults Commanded injects: complain about calls, ignore the rest. */
static int kreg_default_call(struct kreg_server *srv, const struct kreg_from *from,
			     size_t len)
{
	kreg_log(KREG_LOG_ERROR, "server \"%s\" received a call (%zu bytes) it does not handle",
		 srv->name, len);
	kreg_reply_error(srv, from, -EOPNOTSUPP);
	return KREG_CONTINUE;
}

static int kreg_dispatch(struct kreg_server *srv, const struct kreg_message *msg,
			 struct kreg_from *stop_from)
{
	const struct kreg_module *m = srv->module;
	struct kreg_decoded d;

	if (!kreg_decode(msg, &d)) {
		if (m->handle_info)
			return m->handle_info(srv, srv->state, msg);
		kreg_log(KREG_LOG_DEBUG, "server \"%s\" ignored a message (%zu bytes) from pid %d",
			 srv->name, msg->len, (int)msg->sender);
		return KREG_CONTINUE;
	}
	switch (d.frame->kind) {
	case KREG_FRAME_CALL:
		if (m->handle_call)
			return m->handle_call(srv, srv->state, d.body, d.len, &d.from);
		return kreg_default_call(srv, &d.from, d.len);
	case KREG_FRAME_CAST:
		if (m->handle_cast)
			return m->handle_cast(srv, srv->state, d.body, d.len);
		kreg_log(KREG_LOG_DEBUG, "server \"%s\" ignored a cast (%zu bytes)",
			 srv->name, d.len);
		return KREG_CONTINUE;
	case KREG_FRAME_STOP:
		*stop_from = d.from;
		return KREG_STOP;
	default:
		/* A reply that lost its way, or a frame from a later version. */
		kreg_log(KREG_LOG_DEBUG, "server \"%s\" dropped a frame of kind %u",
			 srv->name, d.frame->kind);
		return KREG_CONTINUE;
	}
}

int kreg_serve_until(struct kreg_conn *conn, const char *name,
		     const struct kreg_module *module, void *args,
		     void (*started)(int err, void *arg), void *started_arg, int stop_fd)
{
	struct kreg_server srv = { .conn = conn, .name = name, .module = module, .state = args };
	struct kreg_from stop_from = { .reply_to = "" };
	struct kreg_message *msg;
	int rc = 0;

	msg = malloc(sizeof(*msg));
	if (!msg)
		rc = -ENOMEM;
	if (!rc && module->init)
		rc = module->init(&srv, args, &srv.state);
	if (rc > 0)
		rc = -EINVAL;	/* init has no "stop": a positive return is a bug */
	/* A server that failed to start holds no name once its starter hears so. */
	if (rc)
		kreg_unregister(conn, name);
	if (started)
		started(rc, started_arg);
	if (rc) {
		free(msg);
		return rc;
	}
	for (;;) {
		int err = kreg_recv(conn, msg, 0);

		if (err == 0) {
			rc = kreg_dispatch(&srv, msg, &stop_from);
			if (rc == KREG_CONTINUE)
				continue;
			if (rc == KREG_STOP)
				rc = 0;
			break;
		}
		if (err != -ETIMEDOUT) {
			rc = err;
			break;
		}
		err = kreg_wait_or_stop(conn, stop_fd);
		if (err < 0)
			rc = err;
		if (err)
			break;	/* 1: SIGTERM, an orderly stop */
	}
	if (module->terminate)
		module->terminate(&srv, srv.state, rc);
	if (stop_from.reply_to[0]) {
		/* The name goes before kreg_stop() returns to the one who asked. */
		kreg_unregister(conn, name);
		kreg_reply(&srv, &stop_from, NULL, 0);
	}
	free(msg);
	return rc;
}

int kreg_serve(struct kreg_conn *conn, const char *name,
	       const struct kreg_module *module, void *args)
{
	return kreg_serve_until(conn, name, module, args, NULL, NULL, -1);
}

int kreg_via_tuple(struct kreg_conn *registry, const char *name,
		   struct kreg_via *via)
{
	size_t len = strnlen(name, KREG_NAME_MAX + 1);

	if (!len || len > KREG_NAME_MAX)
		return -EINVAL;
	via->registry = registry;
	memcpy(via->name, name, len + 1);
	return 0;
}

/*
 * The caller's reply mailbox: a name of its own, registered on first use and
 * bound to the mailbox, so that it goes when the handle's socket closes,
 * however the process ends: no reply name outlives its caller. It lives
 * under the caller's user.UID., which only its uid may own and which, bound
 * to a mailbox, kreg.ko lets anyone answer, whatever the policy.
 */
static int kreg_reply_mailbox(struct kreg_conn *conn)
{
	static unsigned long counter;
	struct kreg_conn *rc;
	int err;

	if (conn->reply_conn)
		return 0;
	err = kreg_open_provider(&rc, kreg_registry_provider(conn));
	if (err)
		return err;
	snprintf(conn->reply_name, sizeof(conn->reply_name), "user.%u.reply.%d.%lu",
		 (unsigned int)geteuid(), (int)getpid(),
		 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	err = rc->ops->register_meta(rc, conn->reply_name, 0, NULL, 0, KREG_F_MAILBOX_BOUND,
				     NULL);
	if (err) {
		kreg_close(rc);
		return err;
	}
	conn->reply_conn = rc;
	conn->reply_owner = getpid();
	conn->call_ref = kreg_now_ms() << 20;
	return 0;
}

/* Waits for the answer to call @ref on the caller's reply mailbox. */
static int kreg_await_reply(struct kreg_conn *conn, uint64_t ref, void *reply,
			    size_t size, size_t *reply_len, int timeout_ms)
{
	uint64_t deadline = kreg_deadline(timeout_ms);
	struct kreg_message *msg = malloc(sizeof(*msg));
	struct kreg_decoded d;
	int err;

	if (!msg)
		return -ENOMEM;
	for (;;) {
		err = kreg_recv(conn->reply_conn, msg, kreg_ms_left(deadline, timeout_ms));
		if (err)
			break;
		if (!kreg_decode(msg, &d) || d.frame->kind != KREG_FRAME_REPLY ||
		    d.frame->ref != ref) {
			/* An answer to a call that timed out earlier. */
			kreg_log(KREG_LOG_DEBUG, "dropped a late or stray reply on %s",
				 conn->reply_name);
			continue;
		}
		err = d.frame->status < 0 ? d.frame->status : 0;
		if (!err && reply)
			memcpy(reply, d.body, d.len < size ? d.len : size);
		if (!err && reply_len)
			*reply_len = d.len;
		break;
	}
	free(msg);
	return err;
}

static int kreg_request_reply(const struct kreg_via *dest, enum kreg_frame_kind kind,
			      const void *req, size_t len, void *reply, size_t size,
			      size_t *reply_len, int timeout_ms)
{
	struct kreg_conn *conn = dest->registry;
	uint64_t ref;
	int err;

	err = kreg_reply_mailbox(conn);
	if (err)
		return err;
	ref = ++conn->call_ref;
	err = kreg_send_frame(conn, dest->name, kind, ref, 0, conn->reply_name, req, len);
	if (err)
		return err;
	return kreg_await_reply(conn, ref, reply, size, reply_len, timeout_ms);
}

int kreg_call(const struct kreg_via *dest, const void *req, size_t len,
	      void *reply, size_t size, size_t *reply_len, int timeout_ms)
{
	return kreg_request_reply(dest, KREG_FRAME_CALL, req, len, reply, size,
				  reply_len, timeout_ms);
}

int kreg_cast(const struct kreg_via *dest, const void *msg, size_t len)
{
	return kreg_send_frame(dest->registry, dest->name, KREG_FRAME_CAST, 0, 0, NULL,
			       msg, len);
}

int kreg_stop(const struct kreg_via *dest, int timeout_ms)
{
	return kreg_request_reply(dest, KREG_FRAME_STOP, NULL, 0, NULL, 0, NULL, timeout_ms);
}
