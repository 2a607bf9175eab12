// SPDX-License-Identifier: GPL-2.0
/*
 * Who may do what to a name. In order:
 *  1. Names "user.UID.*" may be owned by UID alone: a namespace every user
 *     can rely on, whatever the policy says.
 *  2. A uid may always see, and send to, the names it registered; and anyone
 *     may see and send to a reply address: a name bound to its mailbox
 *     (KREG_F_MAILBOX_BOUND) under its owner's "user.UID.", which libkreg
 *     registers for a call's answer. Answering a call needs no rule, as
 *     D-Bus and kdbus always let a reply through.
 *  3. With a policy loaded, its most specific rule decides (policy.c), and
 *     what no rule allows is denied.
 *  4. Without one, a process of the initial user namespace may do anything,
 *     as before access control existed; a process in any other user
 *     namespace (a container) may use only its own "user.UID." names, so it
 *     can neither squat nor probe the host's.
 *  5. Whatever the above denied, CAP_SYS_ADMIN in the initial user
 *     namespace allows. It is asked for only then, so audit logs stay quiet.
 * Ids are kernel ids: a container's uid is the one the host sees.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/sched.h>
#include <linux/user_namespace.h>

#include "access.h"
#include "policy.h"
#include "trace.h"

void kreg_principal_current(struct kreg_principal *p)
{
	const struct cred *cred = current_cred();

	kreg_principal_cred(p, cred, false);
	p->admin = KREG_ADMIN_UNKNOWN;
}

void kreg_principal_cred(struct kreg_principal *p, const struct cred *cred,
			 bool admin)
{
	p->uid = cred->euid;
	p->gid = cred->egid;
	p->groups = cred->group_info;
	p->more_gids = NULL;
	p->n_more_gids = 0;
	p->initial_ns = cred->user_ns == &init_user_ns;
	p->admin = admin ? KREG_ADMIN_YES : KREG_ADMIN_NO;
}

bool kreg_principal_in_group(const struct kreg_principal *p, kgid_t gid)
{
	unsigned int lo = 0, hi, mid, i;

	if (gid_eq(p->gid, gid))
		return true;
	for (i = 0; i < p->n_more_gids; i++)
		if (gid_eq(p->more_gids[i], gid))
			return true;
	if (!p->groups)
		return false;
	/* A group_info is kept sorted (groups_sort()): search it. */
	hi = p->groups->ngroups;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (gid_gt(gid, p->groups->gid[mid]))
			lo = mid + 1;
		else if (gid_lt(gid, p->groups->gid[mid]))
			hi = mid;
		else
			return true;
	}
	return false;
}

/* The uid N of a name "user.N.REST"; false for any other name. */
static bool kreg_user_name(const char *name, size_t len, kuid_t *uid)
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
	return true;
}

static bool kreg_is_admin(struct kreg_principal *p)
{
	if (p->admin == KREG_ADMIN_UNKNOWN)
		p->admin = ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN) ?
			   KREG_ADMIN_YES : KREG_ADMIN_NO;
	return p->admin == KREG_ADMIN_YES;
}

static bool kreg_decide(const struct kreg_principal *p, const char *name,
			size_t len, enum kreg_right right,
			const struct kreg_owner *owner, struct kreg_verdict *v)
{
	const struct kreg_policy *policy;
	const struct kreg_rule *rule;
	kuid_t reserved;
	bool user_name = kreg_user_name(name, len, &reserved);
	bool users_own = user_name && uid_eq(reserved, p->uid);

	v->rule = NULL;
	if (right == KREG_RIGHT_OWN && user_name) {
		v->by = KREG_BY_USER_NAMESPACE;
		return users_own;
	}
	if (owner && uid_eq(owner->uid, p->uid)) {
		v->by = KREG_BY_OWNER;
		return true;
	}
	if (owner && (owner->flags & KREG_F_MAILBOX_BOUND) && user_name &&
	    uid_eq(reserved, owner->uid)) {
		v->by = KREG_BY_REPLY_ADDRESS;
		return true;
	}
	v->by = KREG_BY_DEFAULT;
	policy = kreg_policy_current();
	if (!policy)
		return p->initial_ns || users_own;
	rule = kreg_policy_decide(policy, p, name, len, right);
	if (!rule)
		return false;
	v->by = KREG_BY_RULE;
	v->rule = rule;
	return rule->effect == KREG_EFFECT_ALLOW;
}

bool kreg_may(struct kreg_principal *p, const char *name, size_t len,
	      enum kreg_right right, const struct kreg_owner *owner,
	      struct kreg_verdict *v)
{
	struct kreg_verdict scratch;
	bool allowed;

	if (!v)
		v = &scratch;
	rcu_read_lock();
	allowed = kreg_decide(p, name, len, right, owner, v);
	rcu_read_unlock();
	if (!allowed && kreg_is_admin(p)) {
		v->by = KREG_BY_ADMIN;
		v->rule = NULL;
		allowed = true;
	}
	return allowed;
}

bool kreg_access(struct kreg_principal *p, const char *name, size_t len,
		 enum kreg_right right, const struct kreg_owner *owner)
{
	bool allowed = kreg_may(p, name, len, right, owner, NULL);

	if (!allowed)
		trace_kreg_denied(name, task_tgid_nr(current),
				  from_kuid(&init_user_ns, p->uid), right);
	return allowed;
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
