// SPDX-License-Identifier: GPL-2.0
/*
 * Who may do what to a name. In order:
 *  1. Names "user.UID.*" may be owned by UID alone: a namespace every user
 *     can rely on, whatever the policy says.
 *  2. Who registered a name may always see, and send to, it. Who registered
 *     it is a uid and where it ran, the host or one container: a container's
 *     uid 0 is not the host's root, even in the initial user namespace.
 *  3. A reply address, a name bound to its mailbox (KREG_F_MAILBOX_BOUND)
 *     under its owner's "user.UID.", which libkreg registers for a call's
 *     answer, may be sent to by anyone who knows it, and seen by nobody but
 *     its owner: answering a call needs no rule, as D-Bus and kdbus always
 *     let a reply through, and calls are nobody else's business.
 *  4. With a policy in force, its most specific rule decides (policy.c),
 *     and what no rule allows is denied.
 *  5. Without one, the host may do anything, as before access control
 *     existed; a container may use only its own "user.UID." names, so it
 *     can neither squat nor probe the host's. Another node's process, which
 *     the relay sends for, may see and send to what the host may: the
 *     cluster's nodes are the host's peers, admitted by their certificate.
 *  6. Whatever the above denied, CAP_SYS_ADMIN in the initial user
 *     namespace allows. It is asked for only then, so audit logs stay quiet.
 * A container is any process outside the initial user namespace or the
 * initial pid namespace: Docker, containerd and Kubernetes run containers
 * as uid 0 of the initial user namespace, in a pid namespace of their own.
 * Such a container shares the host's uids, so rule 1 gives it, of its
 * uid's names, only reply addresses ("user.UID.reply.", bound to their
 * mailbox): a Docker container running as root must not squat a name
 * that the host's root will want.
 * A mount namespace alone does not make one: systemd gives one to every
 * service with PrivateTmp= or ProtectSystem=, and those are the host's.
 * Ids are kernel ids: a container's uid is the one the host sees. Another
 * node's uids are not this host's: its process is none of this host's
 * uids, gids or "everyone", and never an administrator.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/file.h>
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/net.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/user_namespace.h>
#include <net/sock.h>

#include "access.h"
#include "policy.h"
#include "trace.h"

bool kreg_on_host(const struct user_namespace *user_ns,
		  const struct pid_namespace *pid_ns)
{
	return user_ns == &init_user_ns && pid_ns == &init_pid_ns;
}

void kreg_principal_cred(struct kreg_principal *p, const struct cred *cred,
			 struct pid_namespace *pid_ns, bool admin)
{
	p->cred = cred;
	p->uid = cred->euid;
	p->gid = cred->egid;
	p->groups = cred->group_info;
	p->more_gids = NULL;
	p->n_more_gids = 0;
	p->user_ns = cred->user_ns;
	p->pid_ns = pid_ns;
	p->host = kreg_on_host(cred->user_ns, pid_ns);
	p->admin = admin ? KREG_ADMIN_YES : KREG_ADMIN_NO;
	p->node = NULL;
	p->node_len = 0;
}

void kreg_principal_remote(struct kreg_principal *p, const char *node,
			   size_t node_len)
{
	memset(p, 0, sizeof(*p));
	p->uid = INVALID_UID;
	p->gid = INVALID_GID;
	/* Its ids are told as they are and its pid as none: it sees every holder. */
	p->user_ns = &init_user_ns;
	p->pid_ns = &init_pid_ns;
	p->host = false;
	p->admin = KREG_ADMIN_NO;
	p->node = node;
	p->node_len = node_len;
}

void kreg_principal_socket(struct kreg_principal *p, const struct sock *sk)
{
	const struct socket *sock = sk->sk_socket;
	/* A kernel socket has no file: it speaks for the task using it. */
	const struct cred *cred = sock && sock->file ? sock->file->f_cred :
				  current_cred();

	kreg_principal_cred(p, cred, task_active_pid_ns(current), false);
	p->admin = KREG_ADMIN_UNKNOWN;
}

bool kreg_cred_admin(const struct cred *cred)
{
	return cred->user_ns == &init_user_ns &&
	       cap_raised(cred->cap_effective, CAP_SYS_ADMIN);
}

bool kreg_principal_admin(struct kreg_principal *p)
{
	/*
	 * netlink_capable()'s rule, without its audit: the opener had the
	 * capability and the sender has it now.
	 */
	if (p->admin == KREG_ADMIN_UNKNOWN)
		p->admin = p->cred && kreg_cred_admin(p->cred) &&
			   ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN) ?
			   KREG_ADMIN_YES : KREG_ADMIN_NO;
	return p->admin == KREG_ADMIN_YES;
}

bool kreg_principal_owns(const struct kreg_principal *p,
			 const struct kreg_owner *owner)
{
	/*
	 * A name held on another node is nobody's here, its relay's neither;
	 * and another node's process owns nothing here.
	 */
	if ((owner->flags & KREG_F_REMOTE) || p->node)
		return false;
	return uid_eq(owner->uid, p->uid) && owner->user_ns == p->user_ns &&
	       owner->pid_ns == p->pid_ns;
}

u64 kreg_account(const struct cred *cred, const struct pid_namespace *pid_ns)
{
	const struct user_namespace *ns = cred->user_ns;

	if (ns == &init_user_ns) {
		if (pid_ns == &init_pid_ns)
			return __kuid_val(cred->euid);
		while (pid_ns->parent != &init_pid_ns)
			pid_ns = pid_ns->parent;
		return KREG_ACCOUNT_PID_NS | pid_ns->ns.inum;
	}
	while (ns->parent != &init_user_ns)
		ns = ns->parent;
	if (!uid_eq(ns->owner, GLOBAL_ROOT_UID))
		return __kuid_val(ns->owner);
	return KREG_ACCOUNT_USER_NS | ns->ns.inum;
}

/*
 * Two nodes whose names hash alike would share one account: a share of a
 * mailbox split two ways, never one node's mail read as the other's.
 */
u64 kreg_account_node(const char *node, size_t node_len)
{
	/* Seeded at random: no node can pick a name that lands on another's share. */
	static u32 seed __read_mostly;

	get_random_once(&seed, sizeof(seed));
	return KREG_ACCOUNT_NODE | jhash(node, node_len, seed);
}

bool kreg_shares_host_uids(const struct kreg_principal *p)
{
	return p->user_ns == &init_user_ns && !p->host && !p->node;
}

/*
 * The uid N of a name "user.N.REST", and where REST starts; false for any
 * other name. N is written canonically (names with leading zeros never get
 * this far: netlink.c).
 */
static bool kreg_user_name_rest(const char *name, size_t len, kuid_t *uid,
				size_t *rest)
{
	static const char prefix[] = "user.";
	size_t i = sizeof(prefix) - 1;
	u64 n = 0;

	if (len <= i || memcmp(name, prefix, i) || !isdigit(name[i]))
		return false;
	for (; i < len && isdigit(name[i]); i++)
		n = min_t(u64, n * 10 + name[i] - '0', (u64)U32_MAX + 1);
	if (i == len || name[i] != '.')
		return false;
	/* Too big for a uid: nobody's, but still reserved. */
	*uid = n > U32_MAX ? INVALID_UID : make_kuid(&init_user_ns, n);
	*rest = i + 1;
	return true;
}

static bool kreg_user_name(const char *name, size_t len, kuid_t *uid)
{
	size_t rest;

	return kreg_user_name_rest(name, len, uid, &rest);
}

/* "user.UID.reply.REST", bound to its mailbox: what libkreg answers calls on. */
static bool kreg_reply_space(const char *name, size_t len, u32 flags)
{
	static const char reply[] = "reply.";
	size_t rest;
	kuid_t uid;

	return (flags & KREG_F_MAILBOX_BOUND) &&
	       kreg_user_name_rest(name, len, &uid, &rest) &&
	       len - rest > sizeof(reply) - 1 &&
	       !memcmp(name + rest, reply, sizeof(reply) - 1);
}

static bool kreg_reply_address(const char *name, size_t len,
			       const struct kreg_owner *owner)
{
	kuid_t reserved;

	return owner && (owner->flags & KREG_F_MAILBOX_BOUND) &&
	       kreg_user_name(name, len, &reserved) && uid_eq(reserved, owner->uid);
}

/* @reg_flags: for OWN, the KREG_F_* flags of the registration asked for. */
static bool kreg_decide(const struct kreg_principal *p, const char *name,
			size_t len, enum kreg_right right,
			const struct kreg_owner *owner, u32 reg_flags,
			struct kreg_verdict *v)
{
	const struct kreg_policy *policy;
	const struct kreg_rule *rule;
	kuid_t reserved;
	bool user_name = kreg_user_name(name, len, &reserved);
	bool users_own = user_name && !p->node && uid_eq(reserved, p->uid);

	v->rule = NULL;
	/* Another node's process registers nothing here: its names are its node's. */
	if (p->node && right == KREG_RIGHT_OWN) {
		v->by = KREG_BY_DEFAULT;
		return false;
	}
	if (right == KREG_RIGHT_OWN && user_name) {
		v->by = KREG_BY_USER_NAMESPACE;
		if (users_own && kreg_shares_host_uids(p))
			return kreg_reply_space(name, len, reg_flags);
		return users_own;
	}
	if (owner && kreg_principal_owns(p, owner)) {
		v->by = KREG_BY_OWNER;
		return true;
	}
	if (kreg_reply_address(name, len, owner)) {
		v->by = KREG_BY_REPLY_ADDRESS;
		return right == KREG_RIGHT_SEND;
	}
	v->by = KREG_BY_DEFAULT;
	policy = kreg_policy_current();
	if (!policy)
		return p->host || users_own ||
		       (p->node && right != KREG_RIGHT_OWN);
	rule = kreg_policy_decide(policy, p, name, len, right);
	if (!rule)
		return false;
	v->by = KREG_BY_RULE;
	v->rule = rule;
	return rule->effect == KREG_EFFECT_ALLOW;
}

static bool kreg_may_flags(struct kreg_principal *p, const char *name, size_t len,
			   enum kreg_right right, const struct kreg_owner *owner,
			   u32 reg_flags, struct kreg_verdict *v)
{
	struct kreg_verdict scratch;
	bool allowed;

	if (!v)
		v = &scratch;
	rcu_read_lock();
	allowed = kreg_decide(p, name, len, right, owner, reg_flags, v);
	rcu_read_unlock();
	if (!allowed && kreg_principal_admin(p)) {
		v->by = KREG_BY_ADMIN;
		v->rule = NULL;
		allowed = true;
	}
	return allowed;
}

bool kreg_may(struct kreg_principal *p, const char *name, size_t len,
	      enum kreg_right right, const struct kreg_owner *owner,
	      struct kreg_verdict *v)
{
	return kreg_may_flags(p, name, len, right, owner, 0, v);
}

bool kreg_may_own(struct kreg_principal *p, const char *name, size_t len,
		  u32 flags, struct kreg_verdict *v)
{
	return kreg_may_flags(p, name, len, KREG_RIGHT_OWN, NULL, flags, v);
}

static bool kreg_traced(struct kreg_principal *p, const char *name,
			enum kreg_right right, bool allowed)
{
	if (!allowed)
		trace_kreg_denied(name, task_tgid_nr(current),
				  from_kuid(&init_user_ns, p->uid), right,
				  p->node ? p->node : "");
	return allowed;
}

bool kreg_access(struct kreg_principal *p, const char *name, size_t len,
		 enum kreg_right right, const struct kreg_owner *owner)
{
	return kreg_traced(p, name, right, kreg_may(p, name, len, right, owner, NULL));
}

bool kreg_access_own(struct kreg_principal *p, const char *name, size_t len,
		     u32 flags)
{
	return kreg_traced(p, name, KREG_RIGHT_OWN,
			   kreg_may_own(p, name, len, flags, NULL));
}

bool kreg_public(const struct kreg_policy *policy, const char *name, size_t len,
		 const struct kreg_owner *owner)
{
	if (kreg_reply_address(name, len, owner))
		return false;
	return !policy || kreg_policy_public(policy, name, len, KREG_RIGHT_SEE);
}

const char *kreg_right_name(enum kreg_right right)
{
	switch (right) {
	case KREG_RIGHT_OWN:
		return "own";
	case KREG_RIGHT_SEE:
		return "see";
	case KREG_RIGHT_SEND:
		return "send";
	}
	return "?";
}
