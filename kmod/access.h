/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who may do what to a name: the principal asking, and the decision.
 */
#ifndef _KREG_ACCESS_H
#define _KREG_ACCESS_H

#include <linux/uidgid.h>
#include <uapi/linux/kreg.h>

#include "principal.h"

struct cred;
struct sock;
struct kreg_policy;
struct kreg_rule;

struct kreg_verdict {
	enum kreg_decided_by	by;
	/* When a rule decided: valid only under the caller's rcu_read_lock(). */
	const struct kreg_rule	*rule;
};

/*
 * The principal of a request that came through socket @sk: its opener's
 * credentials (as a file is judged by those it was opened with, so that a
 * privileged process writing into someone's socket lends it nothing), in
 * the sending process's pid namespace.
 */
void kreg_principal_socket(struct kreg_principal *p, const struct sock *sk);
/* A subscriber's: credentials, pid namespace and capability kept from then. */
void kreg_principal_cred(struct kreg_principal *p, const struct cred *cred,
			 struct pid_namespace *pid_ns, bool admin);
/* Whether @p is who registered a name held as @owner says. */
bool kreg_principal_owns(const struct kreg_principal *p,
			 const struct kreg_owner *owner);
/* CAP_SYS_ADMIN in the initial user namespace, for the opener and the sender. */
bool kreg_principal_admin(struct kreg_principal *p);
/* Whether @cred has CAP_SYS_ADMIN in the initial user namespace (commoncap's rule). */
bool kreg_cred_admin(const struct cred *cred);

/* The host's own processes: the initial user and pid namespaces. */
bool kreg_on_host(const struct user_namespace *user_ns,
		  const struct pid_namespace *pid_ns);

/*
 * The uid that @cred's names and subscriptions count toward: its own in the
 * initial user namespace; in any other, the owner of the outermost one, so
 * that the 65536 uids a user may map share that user's quota.
 */
kuid_t kreg_account_uid(const struct cred *cred);

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

/*
 * Whether every host process, whoever it is, may see @name registered as
 * @owner says, under @policy (NULL: none; the table lock held): what the
 * view may hold. Never a reply address.
 */
bool kreg_public(const struct kreg_policy *policy, const char *name, size_t len,
		 const struct kreg_owner *owner);

/* "own", "see", "send". */
const char *kreg_right_name(enum kreg_right right);

#endif /* _KREG_ACCESS_H */
