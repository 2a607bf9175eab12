// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Servers over mailboxes, as GenServer runs over Erlang's: calls, casts and
 * stop requests are framed messages sent to the server's name; anything
 * else is an info.
 *
 * Nothing in a frame says who sent it or where to answer: the kernel does.
 * A call or a stop is sent from the caller's reply mailbox (kreg_send_from()),
 * a name of the caller's own that only it sees; the server answers that
 * name, as the kernel proved it, and nothing else, so a caller cannot turn a
 * server against a third party. The server answers from its own name, so
 * the caller takes an answer only from the holder of the name it called,
 * and only to the call it made (a random reference): nobody else can answer
 * for a server. A stop is obeyed only from who registered the server's name
 * or may own it (the kernel's KREG_SENDER_F_* flags); anyone else gets
 * -EPERM. A frame without what it needs is dropped, and never stops a
 * server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "frame.h"
#include "internal.h"
#include "server.h"

_Static_assert(sizeof(struct kreg_frame) + KREG_CALL_MAX <= KREG_PAYLOAD_MAX,
	       "a call fits one message");


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

	if (msg->len < sizeof(*f) || f->magic != KREG_FRAME_MAGIC)
		return false;
	d->frame = f;
	/* The kernel's word on who sent it and where it answers, never the frame's. */
	memcpy(d->from.reply_to, msg->from_name, sizeof(d->from.reply_to));
	d->from.ref = f->ref;
	d->from.pid = msg->sender;
	d->from.uid = msg->sender_uid;
	d->from.gid = msg->sender_gid;
	d->from.cgroup = msg->sender_cgroup;
	memcpy(d->from.node, msg->sender_node, sizeof(d->from.node));
	d->from.remote_pid = msg->sender_remote_pid;
	d->from.remote_uid = msg->sender_remote_uid;
	d->from.remote_gid = msg->sender_remote_gid;
	d->body = f->body;
	d->len = msg->len - sizeof(*f);
	return true;
}

int kreg_send_frame(struct kreg_conn *conn, const char *node, const char *name,
		    enum kreg_frame_kind kind, uint64_t ref, int32_t status,
		    const char *from, uint32_t flags, const void *data, size_t len)
{
	struct kreg_frame *f;
	int err;

	if (len > KREG_CALL_MAX) {
		kreg_set_error(conn, "the request is larger than KREG_CALL_MAX (%d bytes)",
			       KREG_CALL_MAX);
		return -EMSGSIZE;
	}
	f = malloc(sizeof(*f) + len);
	if (!f)
		return -ENOMEM;
	*f = (struct kreg_frame){
		.magic = KREG_FRAME_MAGIC, .ref = ref, .status = status,
		.kind = (uint8_t)kind,
	};
	if (len)
		memcpy(f->body, data, len);
	if (!node)
		err = conn->ops->send(conn, name, from, flags, f, sizeof(*f) + len);
	else if (conn->ops->send_node)
		err = conn->ops->send_node(conn, node, name, from, f, sizeof(*f) + len);
	else
		err = -EREMOTE;
	free(f);
	return err;
}

/* An answer to @from: the server's own failures are errors, the caller's are not. */
static int kreg_answer(struct kreg_server *srv, const struct kreg_from *from,
		       int32_t status, uint32_t flags, const void *data, size_t len)
{
	int err;

	if (len > KREG_CALL_MAX)
		return -EMSGSIZE;
	/* A caller of another node is answered there, at its reply address. */
	err = kreg_send_frame(srv->conn, from->node[0] ? from->node : NULL, from->reply_to,
			      KREG_FRAME_REPLY, from->ref, status, srv->name,
			      from->node[0] ? 0 : flags, data, len);
	if (err == -EMSGSIZE || err == -ENOMEM)
		return err;
	if (err)
		kreg_log(KREG_LOG_DEBUG, "server \"%s\" could not answer %s: %s",
			 srv->name, from->reply_to, kreg_strerror(err));
	return 0;
}

int kreg_reply(struct kreg_server *srv, const struct kreg_from *from,
	       const void *data, size_t len)
{
	return kreg_answer(srv, from, 0, 0, data, len);
}

int kreg_reply_error(struct kreg_server *srv, const struct kreg_from *from, int err)
{
	if (err >= 0)
		return -EINVAL;
	return kreg_answer(srv, from, err, 0, NULL, 0);
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

/*
 * Whether the sender of a stop may stop this server: who registered its
 * name, or may own it (CAP_SYS_ADMIN, its user.UID., a rule of the policy).
 */
static bool kreg_may_stop(const struct kreg_message *msg)
{
	return msg->sender_flags & (KREG_SENDER_F_OWNER | KREG_SENDER_F_MAY_OWN);
}

int kreg_dispatch(struct kreg_server *srv, const struct kreg_message *msg,
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
	/* A call or stop that came from no name the caller holds has no answer. */
	if ((d.frame->kind == KREG_FRAME_CALL || d.frame->kind == KREG_FRAME_STOP) &&
	    !d.from.reply_to[0]) {
		kreg_log(KREG_LOG_DEBUG, "server \"%s\" dropped a frame of kind %u from pid %d, sent from no reply mailbox",
			 srv->name, d.frame->kind, (int)msg->sender);
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
		if (!kreg_may_stop(msg)) {
			kreg_log(KREG_LOG_WARNING, "server \"%s\" refused a stop from pid %d, uid %u: not its owner",
				 srv->name, (int)msg->sender, (unsigned int)msg->sender_uid);
			kreg_reply_error(srv, &d.from, -EPERM);
			return KREG_CONTINUE;
		}
		*stop_from = d.from;
		return KREG_STOP;
	default:
		/* A reply that lost its way, or a frame from a later version. */
		kreg_log(KREG_LOG_DEBUG, "server \"%s\" dropped a frame of kind %u",
			 srv->name, d.frame->kind);
		return KREG_CONTINUE;
	}
}

int kreg_via_tuple(struct kreg_conn *registry, const char *name,
		   struct kreg_via *via)
{
	size_t len = strnlen(name, KREG_NAME_MAX + 1);

	if (kreg_name_problem_of(name, len))
		return -EINVAL;
	via->registry = registry;
	memcpy(via->name, name, len + 1);
	return 0;
}

/* 64 bits nobody can guess: a call's reference, a reply mailbox's name. */
static int kreg_random64(uint64_t *out)
{
	return getrandom(out, sizeof(*out), 0) == sizeof(*out) ? 0 : -errno;
}

/*
 * The caller's reply mailbox: a name of its own, registered on first use by
 * this process and bound to the mailbox, so that it goes when the handle's
 * socket closes, however the process ends: no reply name outlives its
 * caller. It lives under the caller's user.UID., which only its uid may own
 * and which, bound to a mailbox, only it may see, and anyone who knows it
 * (the server it calls) may send to. A forked child gets one of its own.
 */
static int kreg_reply_mailbox(struct kreg_conn *conn)
{
	struct kreg_conn *rc;
	uint64_t tag;
	uid_t uid;
	int err;

	if (conn->reply_conn && conn->reply_owner == getpid())
		return 0;
	if (conn->reply_conn) {
		/* The parent's: its name stays the parent's, its socket too. */
		kreg_close(conn->reply_conn);
		conn->reply_conn = NULL;
	}
	err = kreg_random64(&tag);
	if (err)
		return err;
	err = kreg_open_provider(&rc, kreg_registry_provider(conn));
	if (err)
		return err;
	err = rc->ops->owner_uid(rc, &uid);
	if (err) {
		kreg_close(rc);
		return err;
	}
	snprintf(conn->reply_name, sizeof(conn->reply_name), "user.%u.reply.%016llx",
		 (unsigned int)uid, (unsigned long long)tag);
	err = rc->ops->register_meta(rc, conn->reply_name, 0, NULL, 0, KREG_F_MAILBOX_BOUND,
				     &(struct kreg_holder){ 0 });
	if (err) {
		kreg_close(rc);
		return err;
	}
	conn->reply_conn = rc;
	conn->reply_owner = getpid();
	return 0;
}

/* Waits for the answer to call @ref, from @server, on the caller's reply mailbox. */
static int kreg_await_reply(struct kreg_conn *conn, const char *server, uint64_t ref,
			    void *reply, size_t size, size_t *reply_len, int timeout_ms)
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
		    d.frame->ref != ref || strcmp(msg->from_name, server)) {
			/* A late answer to an earlier call, or nobody's. */
			kreg_log(KREG_LOG_DEBUG, "dropped a reply on %s from pid %d (\"%s\"): not the answer awaited",
				 conn->reply_name, (int)msg->sender, msg->from_name);
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

	if (len > KREG_CALL_MAX) {
		kreg_set_error(conn, "the request is larger than KREG_CALL_MAX (%d bytes)",
			       KREG_CALL_MAX);
		return -EMSGSIZE;
	}
	err = kreg_reply_mailbox(conn);
	if (!err)
		err = kreg_random64(&ref);
	if (err)
		return err;
	err = kreg_send_frame(conn, NULL, dest->name, kind, ref, 0, conn->reply_name, 0, req, len);
	if (err)
		return err;
	return kreg_await_reply(conn, dest->name, ref, reply, size, reply_len, timeout_ms);
}

int kreg_call(const struct kreg_via *dest, const void *req, size_t len,
	      void *reply, size_t size, size_t *reply_len, int timeout_ms)
{
	return kreg_request_reply(dest, KREG_FRAME_CALL, req, len, reply, size,
				  reply_len, timeout_ms);
}

int kreg_cast(const struct kreg_via *dest, const void *msg, size_t len)
{
	return kreg_send_frame(dest->registry, NULL, dest->name, KREG_FRAME_CAST, 0, 0, NULL, 0,
			       msg, len);
}

int kreg_stop(const struct kreg_via *dest, int timeout_ms)
{
	return kreg_request_reply(dest, KREG_FRAME_STOP, NULL, 0, NULL, 0, NULL, timeout_ms);
}
