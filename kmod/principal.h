/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Principals: whom an access decision is about, and who registered a name.
 * Plain data, at the bottom of the module: access.c makes and judges them,
 * policy.c matches its rules against them.
 */
#ifndef _KREG_PRINCIPAL_H
#define _KREG_PRINCIPAL_H

#include <linux/types.h>
#include <linux/uidgid.h>
#include <uapi/linux/kreg.h>

struct cred;
struct group_info;
struct pid_namespace;
struct user_namespace;

enum kreg_admin {
	KREG_ADMIN_UNKNOWN,	/* asked for on a denial only */
	KREG_ADMIN_NO,
	KREG_ADMIN_YES,
};

/*
 * Whom a decision is about: a request (the credentials its socket was
 * opened with, the pid namespace of the process that sent it), a
 * subscriber, or a POLICY_CHECK. Its credentials outlive its use.
 */
struct kreg_principal {
	const struct cred	*cred;		/* NULL: POLICY_CHECK's, another node's */
	kuid_t			uid;		/* effective */
	kgid_t			gid;		/* effective */
	const struct group_info	*groups;	/* supplementary, sorted; or NULL */
	const kgid_t		*more_gids;	/* POLICY_CHECK's, unsorted */
	unsigned int		n_more_gids;
	/* Where it runs: ids and pids are told in these, and hidden outside. */
	struct user_namespace	*user_ns;
	struct pid_namespace	*pid_ns;
	bool			host;		/* the initial user and pid namespaces */
	enum kreg_admin		admin;		/* CAP_SYS_ADMIN in the initial ones */
	/*
	 * A process of another node, which the relay sends for: none of this
	 * host's uids, gids or "everyone", and no credentials (NULL: local).
	 * NUL-terminated (a netlink attribute the policy checked).
	 */
	const char		*node;
	size_t			node_len;
	/* Its uid there, as its relay tells it: only ever matched to its node's names. */
	u32			remote_uid;
};

/*
 * Who registered a name: the uid, and the host or container it did it
 * from. A uid alone never makes a principal the owner.
 */
struct kreg_owner {
	kuid_t				uid;
	const struct user_namespace	*user_ns;
	const struct pid_namespace	*pid_ns;
	u8				flags;	/* the name's KREG_F_* */
};

/*
 * Whether @name (@len bytes, no NUL) is a node's name: 1 to KREG_NODE_MAX
 * letters, digits, '-', '_' and '.', as a certificate or a host name has.
 */
static inline bool kreg_node_name_ok(const char *name, size_t len)
{
	size_t i;

	if (len < 1 || len > KREG_NODE_MAX)
		return false;
	/* ASCII only: the kernel's isalnum() takes Latin-1 letters too. */
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-' || name[i] == '_' || name[i] == '.'))
			return false;
	return true;
}

#endif /* _KREG_PRINCIPAL_H */
