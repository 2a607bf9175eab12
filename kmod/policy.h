/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The policy: rules that grant or deny rights on names to uids, gids and
 * everyone of this host, and to other nodes' processes (a node, or the
 * cluster), loaded whole by an administrator and replaced atomically.
 */
#ifndef _KREG_POLICY_H
#define _KREG_POLICY_H

#include <linux/types.h>
#include <linux/uidgid.h>
#include <uapi/linux/kreg.h>

struct nlattr;
struct netlink_ext_ack;
struct kreg_principal;

struct kreg_rule {
	u8		effect;		/* enum kreg_effect */
	u8		rights;		/* KREG_RIGHT_* */
	u8		who;		/* enum kreg_who */
	bool		prefix;		/* "key.*" (key ends in '.') or "*" (key "") */
	kuid_t		uid;		/* KREG_WHO_UID */
	kgid_t		gid;		/* KREG_WHO_GID */
	const char	*node;		/* KREG_WHO_NODE */
	u8		node_len;
	u32		index;		/* its place in the loaded policy */
	u16		key_len;
	const char	*key;		/* the name, or the prefix with its '.' */
	const char	*source;	/* "" if none was given */
};

struct kreg_policy;

/*
 * policy_required (a module parameter): until a policy is loaded, and after
 * one is unloaded, an empty one applies: what no built-in rule allows is
 * denied, from the first request on.
 */
extern bool kreg_policy_required;

/*
 * The policy in force, or NULL: under rcu_read_lock() (or the table lock,
 * which every change of it holds), and valid until it is dropped.
 */
const struct kreg_policy *kreg_policy_current(void);
unsigned int kreg_policy_rules(const struct kreg_policy *policy);
/* Tells one loaded policy from another (0: none), for consistent dumps. */
unsigned long kreg_policy_generation(const struct kreg_policy *policy);
const struct kreg_rule *kreg_policy_rule(const struct kreg_policy *policy,
					 unsigned int index);

/*
 * The rule that decides @right on @name for @p: the one with the most
 * specific pattern (the exact name, then the longest prefix, then "*")
 * among those that apply to @p, and at that pattern the most specific
 * principal (uid, then gid, then everyone; for another node's process, its
 * node, then the cluster), deny winning a tie. NULL when no
 * rule applies.
 */
const struct kreg_rule *kreg_policy_decide(const struct kreg_policy *policy,
					   const struct kreg_principal *p,
					   const char *name, size_t len,
					   enum kreg_right right);

/*
 * Whether the rules alone give @right on @name to every host process,
 * whatever its uid and groups: what the view may show to all of them.
 */
bool kreg_policy_public(const struct kreg_policy *policy, const char *name,
			size_t len, enum kreg_right right);

/*
 * A policy of the rules nested in @rules, not yet in force; on any bad rule,
 * an ERR_PTR with extack pointing at it.
 */
struct kreg_policy *kreg_policy_build(const struct nlattr *rules,
				      struct netlink_ext_ack *extack);
/*
 * Puts @policy (NULL: none) in force, under the table lock, and returns the
 * one it replaces, to be freed with kreg_policy_free() after a grace period.
 * What is in force is never NULL under policy_required: then the empty one.
 */
struct kreg_policy *kreg_policy_publish(struct kreg_policy *policy);
/* What kreg_policy_publish() would put in force for @policy. */
const struct kreg_policy *kreg_policy_effective(const struct kreg_policy *policy);
void kreg_policy_free(struct kreg_policy *policy);
void kreg_policy_exit(void);

#endif /* _KREG_POLICY_H */
