// SPDX-License-Identifier: LGPL-2.1-or-later
/* The "events" multicast group: every registration and unregistration. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

/* Room for bursts (an rmmod announces every entry) before events are lost. */
#define KREG_EVENTS_RCVBUF (4 * 1024 * 1024)

int kreg_subscribe(struct kreg_conn *conn)
{
	if (conn->subscribed)
		return 0;
	kreg_set_rcvbuf(conn, KREG_EVENTS_RCVBUF);
	if (nl_socket_add_membership(conn->sock, conn->events_group) < 0)
		return -EIO;
	conn->subscribed = true;
	return 0;
}

int kreg_next_event(struct kreg_conn *conn, struct kreg_event *ev,
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

		ev->kind = g->cmd == KREG_CMD_REGISTERED ?
			KREG_EVENT_REGISTERED : KREG_EVENT_UNREGISTERED;
		snprintf(ev->name, sizeof(ev->name), "%s",
			 nla_get_string(attrs[KREG_A_NAME]));
		ev->pid = (pid_t)nla_get_u32(attrs[KREG_A_PID]);
		ev->uid = attrs[KREG_A_UID] ? nla_get_u32(attrs[KREG_A_UID]) :
			(uid_t)-1;
		ev->reason = attrs[KREG_A_REASON] ?
			(enum kreg_reason)nla_get_u32(attrs[KREG_A_REASON]) :
			KREG_REASON_EXPLICIT;
	}
	free(p);
	return err;
}

const char *kreg_reason_name(enum kreg_reason reason)
{
	switch (reason) {
	case KREG_REASON_EXPLICIT:
		return "explicit";
	case KREG_REASON_EXITED:
		return "exited";
	case KREG_REASON_UNLOADING:
		return "unloading";
	}
	return "unknown";
}
