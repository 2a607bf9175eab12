// SPDX-License-Identifier: LGPL-2.1-or-later
/* The policy in kreg.ko: load it, list it, and ask what it decides. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/genl/genl.h>

#include "kernel.h"

static struct nla_policy kreg_rule_nla_policy[KREG_RULE_A_MAX + 1] = {
	[KREG_RULE_A_EFFECT]	= { .type = NLA_U32 },
	[KREG_RULE_A_RIGHTS]	= { .type = NLA_U32 },
	[KREG_RULE_A_PATTERN]	= { .type = NLA_STRING, .maxlen = KREG_NAME_MAX + 2 },
	[KREG_RULE_A_WHO]	= { .type = NLA_U32 },
	[KREG_RULE_A_ID]	= { .type = NLA_U32 },
	[KREG_RULE_A_SOURCE]	= { .type = NLA_STRING, .maxlen = KREG_POLICY_SOURCE_MAX },
	[KREG_RULE_A_NODE]	= { .type = NLA_STRING, .maxlen = KREG_NODE_MAX + 1 },
};

static int kreg_kernel_only(struct kreg_conn *conn)
{
	if (kreg_registry_provider(conn) == KREG_PROVIDER_KERNEL)
		return 0;
	kreg_set_error(conn, "the local provider has no access control: it is one process");
	return -EOPNOTSUPP;
}

static int kreg_put_rule(struct nl_msg *msg, const struct kreg_rule *r)
{
	struct nlattr *nest = nla_nest_start(msg, KREG_A_RULE);

	if (!nest ||
	    nla_put_u32(msg, KREG_RULE_A_EFFECT, r->effect) < 0 ||
	    nla_put_u32(msg, KREG_RULE_A_RIGHTS, r->rights) < 0 ||
	    nla_put_string(msg, KREG_RULE_A_PATTERN, r->pattern) < 0 ||
	    nla_put_u32(msg, KREG_RULE_A_WHO, r->who) < 0 ||
	    ((r->who == KREG_WHO_UID || r->who == KREG_WHO_GID) &&
	     nla_put_u32(msg, KREG_RULE_A_ID, r->id) < 0) ||
	    (r->who == KREG_WHO_NODE && nla_put_string(msg, KREG_RULE_A_NODE, r->node) < 0) ||
	    (r->source[0] && nla_put_string(msg, KREG_RULE_A_SOURCE, r->source) < 0))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int kreg_get_rule(struct nlattr *attr, struct kreg_rule *r)
{
	struct nlattr *tb[KREG_RULE_A_MAX + 1];

	if (!attr || nla_parse_nested(tb, KREG_RULE_A_MAX, attr, kreg_rule_nla_policy) < 0 ||
	    !tb[KREG_RULE_A_EFFECT] || !tb[KREG_RULE_A_RIGHTS] ||
	    !tb[KREG_RULE_A_PATTERN] || !tb[KREG_RULE_A_WHO])
		return -EPROTO;
	memset(r, 0, sizeof(*r));
	r->effect = (enum kreg_effect)nla_get_u32(tb[KREG_RULE_A_EFFECT]);
	r->rights = nla_get_u32(tb[KREG_RULE_A_RIGHTS]);
	snprintf(r->pattern, sizeof(r->pattern), "%s", nla_get_string(tb[KREG_RULE_A_PATTERN]));
	r->who = (enum kreg_who)nla_get_u32(tb[KREG_RULE_A_WHO]);
	r->id = tb[KREG_RULE_A_ID] ? nla_get_u32(tb[KREG_RULE_A_ID]) : 0;
	if (tb[KREG_RULE_A_SOURCE])
		snprintf(r->source, sizeof(r->source), "%s",
			 nla_get_string(tb[KREG_RULE_A_SOURCE]));
	if (tb[KREG_RULE_A_NODE])
		snprintf(r->node, sizeof(r->node), "%s", nla_get_string(tb[KREG_RULE_A_NODE]));
	return 0;
}

/* A policy can be larger than the default socket send buffer allows. */
static void kreg_make_room_to_send(struct kreg_conn *conn, struct nl_msg *msg)
{
	int fd = nl_socket_get_fd(conn->sock), bytes = (int)nlmsg_hdr(msg)->nlmsg_len + 4096;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
}

int kreg_policy_set(struct kreg_conn *conn, const struct kreg_rule *rules, size_t n)
{
	struct nlattr *policy;
	struct nl_msg *msg;
	size_t i, *at;
	int err;

	err = kreg_kernel_only(conn);
	if (err)
		return err;
	if (n > KREG_POLICY_RULES_MAX)
		return -E2BIG;
	at = calloc(n ? n : 1, sizeof(*at));
	msg = nlmsg_alloc_size(NLMSG_HDRLEN + GENL_HDRLEN + 64 +
			       n * (64 + KREG_NAME_MAX + KREG_POLICY_SOURCE_MAX));
	if (!at || !msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, conn->family, 0, 0,
					KREG_CMD_POLICY_SET, KREG_GENL_VERSION)) {
		free(at);
		nlmsg_free(msg);
		return -ENOMEM;
	}
	policy = nla_nest_start(msg, KREG_A_POLICY);
	for (i = 0; policy && i < n; i++) {
		/* Where each rule starts, to tell which one the kernel refused. */
		at[i] = nlmsg_hdr(msg)->nlmsg_len;
		if (kreg_put_rule(msg, &rules[i]))
			break;
	}
	if (!policy || i < n) {
		free(at);
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, policy);
	kreg_make_room_to_send(conn, msg);
	err = kreg_request(conn, msg, KREG_REQ_ACK, NULL, NULL);
	if (err && conn->error_offset >= 0 && n) {
		char why[sizeof(conn->error)];

		for (i = n; i-- > 1 && at[i] > (size_t)conn->error_offset;)
			;
		if ((size_t)conn->error_offset >= at[0]) {
			snprintf(why, sizeof(why), "%s", conn->error);
			kreg_set_error(conn, "rule %zu%s%s%s: %s", i + 1,
				       rules[i].source[0] ? " (" : "", rules[i].source,
				       rules[i].source[0] ? ")" : "", why);
		}
	}
	free(at);
	return err;
}

int kreg_policy_unload(struct kreg_conn *conn)
{
	struct nl_msg *msg;
	int err = kreg_kernel_only(conn);

	if (err)
		return err;
	msg = kreg_msg_new(conn, KREG_CMD_POLICY_SET, 0);
	if (!msg)
		return -ENOMEM;
	return kreg_request(conn, msg, KREG_REQ_ACK, NULL, NULL);
}

struct kreg_rules_ctx {
	kreg_rule_fn fn;
	void *arg;
};

static int kreg_policy_one(struct kreg_conn *conn, struct nlattr **attrs, void *arg)
{
	struct kreg_rules_ctx *ctx = arg;
	struct kreg_rule rule;

	(void)conn;
	if (kreg_get_rule(attrs[KREG_A_RULE], &rule))
		return -EPROTO;
	return ctx->fn(&rule, ctx->arg);
}

int kreg_policy_get(struct kreg_conn *conn, kreg_rule_fn fn, void *arg)
{
	struct kreg_rules_ctx ctx = { .fn = fn, .arg = arg };
	struct nl_msg *msg;
	int err = kreg_kernel_only(conn);

	if (err)
		return err;
	msg = kreg_msg_new(conn, KREG_CMD_POLICY_GET, 0);
	if (!msg)
		return -ENOMEM;
	return kreg_request(conn, msg, KREG_REQ_DUMP, kreg_policy_one, &ctx);
}

static int kreg_verdict_reply(struct kreg_conn *conn, struct nlattr **attrs, void *arg)
{
	struct kreg_verdict *v = arg;

	(void)conn;
	if (!attrs[KREG_A_VERDICT] || !attrs[KREG_A_DECIDED_BY])
		return -EPROTO;
	v->allowed = nla_get_u32(attrs[KREG_A_VERDICT]) != 0;
	v->by = (enum kreg_decided_by)nla_get_u32(attrs[KREG_A_DECIDED_BY]);
	v->has_rule = attrs[KREG_A_RULE] && kreg_get_rule(attrs[KREG_A_RULE], &v->rule) == 0;
	return 0;
}

int kreg_policy_check(struct kreg_conn *conn, uid_t uid, gid_t gid,
		      const gid_t *groups, size_t ngroups, const char *name,
		      enum kreg_right right, struct kreg_verdict *verdict)
{
	uint32_t *gids = NULL;
	struct nl_msg *msg;
	size_t i;
	int err = kreg_kernel_only(conn);

	if (err)
		return err;
	memset(verdict, 0, sizeof(*verdict));
	msg = kreg_msg_new(conn, KREG_CMD_POLICY_CHECK, KREG_NAME_MAX + ngroups * 4 + 64);
	if (ngroups)
		gids = calloc(ngroups, sizeof(*gids));
	if (!msg || (ngroups && !gids)) {
		nlmsg_free(msg);
		free(gids);
		return -ENOMEM;
	}
	for (i = 0; i < ngroups; i++)
		gids[i] = groups[i];
	err = kreg_put_name(msg, name);
	if (!err && (nla_put_u32(msg, KREG_A_UID, uid) < 0 ||
		     nla_put_u32(msg, KREG_A_GID, gid) < 0 ||
		     nla_put_u32(msg, KREG_A_RIGHT, right) < 0 ||
		     (ngroups && nla_put(msg, KREG_A_GROUPS, (int)(ngroups * 4), gids) < 0)))
		err = -EMSGSIZE;
	free(gids);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return kreg_request(conn, msg, KREG_REQ_REPLY, kreg_verdict_reply, verdict);
}

int kreg_policy_check_node(struct kreg_conn *conn, const char *node, const char *name,
			   enum kreg_right right, struct kreg_verdict *verdict)
{
	struct nl_msg *msg;
	int err = kreg_kernel_only(conn);

	if (err)
		return err;
	memset(verdict, 0, sizeof(*verdict));
	msg = kreg_msg_new(conn, KREG_CMD_POLICY_CHECK, KREG_NAME_MAX + KREG_NODE_MAX + 64);
	if (!msg)
		return -ENOMEM;
	err = kreg_put_name(msg, name);
	if (!err && (nla_put_string(msg, KREG_A_NODE, node) < 0 ||
		     nla_put_u32(msg, KREG_A_RIGHT, right) < 0))
		err = -EMSGSIZE;
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return kreg_request(conn, msg, KREG_REQ_REPLY, kreg_verdict_reply, verdict);
}

const char *kreg_decided_by_name(enum kreg_decided_by by)
{
	switch (by) {
	case KREG_BY_ADMIN:
		return "admin";
	case KREG_BY_USER_NAMESPACE:
		return "user namespace";
	case KREG_BY_OWNER:
		return "owner";
	case KREG_BY_RULE:
		return "rule";
	case KREG_BY_DEFAULT:
		return "default";
	case KREG_BY_REPLY_ADDRESS:
		return "reply address";
	}
	return "unknown";
}
