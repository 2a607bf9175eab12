// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Events: every registration, unregistration and change of value of a name
 * this handle may see, sent by kreg.ko to the handle's request socket once
 * it subscribed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

/* Room for bursts (an rmmod announces every entry) before events are lost. */
#define KREG_EVENTS_RCVBUF (4 * 1024 * 1024)

int kreg_kernel_subscribe(struct kreg_conn *conn, const char *pattern)
{
	struct nl_msg *msg;
	int err;

	/* Again: the kernel replaces the subscription's pattern. */
	if (conn->subscribed && !pattern && !conn->subscribed_filtered)
		return 0;
	if (!conn->subscribed)
		kreg_set_rcvbuf(conn, KREG_EVENTS_RCVBUF);
	msg = kreg_msg_new(conn, KREG_CMD_SUBSCRIBE, KREG_NAME_MAX + 32);
	if (!msg)
		return -ENOMEM;
	if (pattern && nla_put_string(msg, KREG_A_PATTERN, pattern) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	err = kreg_request(conn, msg, KREG_REQ_ACK, NULL, NULL);
	if (!err) {
		conn->subscribed = true;
		conn->subscribed_filtered = pattern != NULL;
	}
	return err;
}

int kreg_kernel_next_event(struct kreg_conn *conn, struct kreg_event *ev,
		    int timeout_ms)
{
	struct nlattr *attrs[KREG_A_MAX + 1];
	struct kreg_pending *p;
	int err;

	err = kreg_wait_pending(conn, &conn->events, timeout_ms, &p);
	if (err)
		return err;
	err = kreg_parse(p->nlh, attrs);
	if (!err && (!attrs[KREG_A_NAME] || !attrs[KREG_A_PID]))
		err = -EPROTO;
	if (!err) {
		const struct genlmsghdr *g = NLMSG_DATA(p->nlh);

		ev->kind = g->cmd == KREG_CMD_REGISTERED ? KREG_EVENT_REGISTERED :
			   g->cmd == KREG_CMD_UPDATED ? KREG_EVENT_UPDATED :
			   KREG_EVENT_UNREGISTERED;
		snprintf(ev->name, sizeof(ev->name), "%s",
			 nla_get_string(attrs[KREG_A_NAME]));
		ev->pid = (pid_t)nla_get_u32(attrs[KREG_A_PID]);
		ev->uid = attrs[KREG_A_UID] ? nla_get_u32(attrs[KREG_A_UID]) :
			(uid_t)-1;
		ev->meta_len = attrs[KREG_A_META] ? (size_t)nla_len(attrs[KREG_A_META]) : 0;
		if (ev->meta_len)
			memcpy(ev->meta, nla_data(attrs[KREG_A_META]), ev->meta_len);
		ev->reason = attrs[KREG_A_REASON] ?
			(enum kreg_reason)nla_get_u32(attrs[KREG_A_REASON]) :
			KREG_REASON_EXPLICIT;
		snprintf(ev->node, sizeof(ev->node), "%s", attrs[KREG_A_NODE] ?
			 nla_get_string(attrs[KREG_A_NODE]) : "");
		ev->remote_pid = attrs[KREG_A_REMOTE_PID] ?
			(pid_t)nla_get_u32(attrs[KREG_A_REMOTE_PID]) : 0;
		ev->token = attrs[KREG_A_TOKEN] ? nla_get_u64(attrs[KREG_A_TOKEN]) : 0;
	}
	free(p);
	return err;
}
