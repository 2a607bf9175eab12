/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who may do what to a name: the principal asking, and the decision.
 */
#ifndef _KREG_ACCESS_H
#define _KREG_ACCESS_H

#include <linux/uidgid.h>
#include <uapi/linux/kreg.h>

struct cred;
struct group_info;
struct kreg_rule;

enum kreg_admin {
	KREG_ADMIN_UNKNOWN,	/* the current task's: asked for on a denial only */
	KREG_ADMIN_NO,
	KREG_ADMIN_YES,
};

/* Whom a decision is about: a caller, a subscriber, or a POLICY_CHECK. */
struct kreg_principal {
	kuid_t			uid;		/* effective */
	kgid_t			gid;		/* effective */
	const struct group_info	*groups;	/* supplementary, sorted; or NULL */
	const kgid_t		*more_gids;	/* POLICY_CHECK's, unsorted */
	unsigned int		n_more_gids;
	bool			initial_ns;	/* in the initial user namespace */
	enum kreg_admin		admin;		/* CAP_SYS_ADMIN there */
};

/* What a decision needs to know of a registered name. */
struct kreg_owner {
	kuid_t	uid;	/* who registered it */
	u8	flags;	/* its KREG_F_* */
};

struct kreg_verdict {
	enum kreg_decided_by	by;
	/* When a rule decided: valid only under the caller's rcu_read_lock(). */
	const struct kreg_rule	*rule;
};

/* The calling task; its credentials must outlive @p's use. */
void kreg_principal_current(struct kreg_principal *p);
/* A subscriber's credentials, taken when it subscribed. */
void kreg_principal_cred(struct kreg_principal *p, const struct cred *cred,
			 bool admin);
bool kreg_principal_in_group(const struct kreg_principal *p, kgid_t gid);

/*
 * Whether @p has @right on @name, registered as @owner says (NULL: nobody
 * holds it, or it does not matter), and why in @v if given.
 */
bool kreg_may(struct kreg_principal *p, const char *name, size_t len,
	      enum kreg_right right, const struct kreg_owner *owner,
	      struct kreg_verdict *v);

/* kreg_may() for a request: a denial is traced (kreg:kreg_denied). */
bool kreg_access(struct kreg_principal *p, const char *name, size_t len,
		 enum kreg_right right, const struct kreg_owner *owner);

/* "own", "see", "send". */
const char *kreg_right_name(enum kreg_right right);

#endif /* _KREG_ACCESS_H */
