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
/*
 * A process of node @node (the relay sends for it): no credentials, none
 * of this host's ids. @node must outlive @p.
 */
void kreg_principal_remote(struct kreg_principal *p, const char *node,
			   size_t node_len);
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
 * The account that the names, subscriptions and mail of a principal (its
 * credentials @cred, in pid namespace @pid_ns) count toward, for every
 * limit kreg has:
 *  - a host process: its uid;
 *  - a container in a user namespace: the owner of the outermost one, so
 *    that the 65536 uids a user may map share that user's limits; but a
 *    namespace that root made (LXD, rootful Podman, Kubernetes user
 *    namespaces) is an account of its own, or every such container would
 *    share root's;
 *  - a container in the initial user namespace (Docker, containerd): its
 *    outermost pid namespace, whatever uid it runs as, so that changing
 *    uid (CAP_SETUID) gets it no more.
 * Uids are accounts 0 to 2^32 - 1; the others are above.
 */
u64 kreg_account(const struct cred *cred, const struct pid_namespace *pid_ns);

#define KREG_ACCOUNT_USER_NS	(1ULL << 32)	/* | the user namespace's inode */
#define KREG_ACCOUNT_PID_NS	(2ULL << 32)	/* | the pid namespace's inode */
/* The names this node mirrors from the cluster: nobody's to be limited by. */
#define KREG_ACCOUNT_CLUSTER	(3ULL << 32)
/* Another node's processes, as a whole: | a hash of the node's name. */
#define KREG_ACCOUNT_NODE	(4ULL << 32)

/* The account that the mail a relay sends for node @node counts toward. */
u64 kreg_account_node(const char *node, size_t node_len);

/*
 * Whether @p runs in a container that shares the host's uids: the initial
 * user namespace, another pid namespace (Docker, containerd, Kubernetes).
 */
bool kreg_shares_host_uids(const struct kreg_principal *p);

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
 * Whether @p may own @name registered with KREG_F_* @flags: what kreg_may()
 * says of OWN, except that a container sharing the host's uids owns, of
 * its uid's "user.UID." names, only reply addresses (KREG_F_MAILBOX_BOUND
 * names under "user.UID.reply."): the others are the host's.
 */
bool kreg_may_own(struct kreg_principal *p, const char *name, size_t len,
		  u32 flags, struct kreg_verdict *v);
/* kreg_may_own() for a request: a denial is traced. */
bool kreg_access_own(struct kreg_principal *p, const char *name, size_t len,
		     u32 flags);

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
