/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kreg name table: name -> holder process, with an optional mailbox.
 * What changes in it is said through one hook, which the view and the
 * events listen to.
 */
#ifndef _KREG_TABLE_H
#define _KREG_TABLE_H

#include <linux/list.h>
#include <linux/pid.h>
#include <linux/rhashtable-types.h>
#include <linux/uidgid.h>
#include <uapi/linux/kreg.h>

#include "access.h"
#include "lock.h"

struct cred;
struct net;
struct pid_namespace;
struct sock;
struct kreg_holder;
struct kreg_mailbox;
struct kreg_policy;

/*
 * One registered name. Readers find it under RCU through the names table (by
 * name) or the ids xarray (dump order); writers change it only under the
 * table lock. @pid is a counted reference, so a recycled pid number never
 * matches a dead holder.
 *
 * A cluster name (KREG_F_CLUSTER) is one of three kinds. A claim
 * (KREG_F_PENDING) holds the name on this node for the process that asked,
 * and reads as absent to everyone until the relay commits it with its
 * token; it was never announced, so its removal is not either. A committed
 * one is a name like any other, with a token. A mirror (KREG_F_REMOTE) is
 * held on another node: @pid is the relay's process, @mbox its socket, and
 * the holder is @remote_pid on the node whose name follows the value.
 *
 * A place in line (KREG_F_QUEUE) is an entry too, with its holder, mailbox
 * and quota links, so that it goes with its process, socket and account as
 * a name does; but no reader finds it: it is in no index but its holder's
 * @queue, and its id is only reserved, until it takes the holder's place.
 */
struct kreg_entry {
	struct rhash_head		node;
	struct pid			*pid;
	struct kreg_mailbox __rcu	*mbox;
	struct kreg_holder		*holder;
	/*
	 * holder_link is walked under the table lock only, and never again
	 * once the entry is unlinked: its space then serves the RCU callback.
	 */
	union {
		struct hlist_node	holder_link;
		struct rcu_head		rcu;
	};
	struct hlist_node		mbox_link;
	/* Walked under RCU by quota reclaim, hence its own node. */
	struct hlist_node		quota_link;
	/*
	 * Under the table lock: a held name's line, first in line first; in
	 * a place in line, its link in that line.
	 */
	struct list_head		queue;
	/* Who registered it: its socket's opener, from which namespaces. */
	const struct cred		*cred;		/* counted */
	struct pid_namespace		*pid_ns;	/* counted */
	kuid_t				uid;		/* cred's euid */
	u64				account;	/* whose quota it counts toward */
	u32				id;
	u32				view_rec;	/* its record in the view, or U32_MAX */
	u64				registered_ns;
	u64				token;		/* a cluster name's, once committed */
	u32				remote_pid;	/* KREG_F_REMOTE: its pid there */
	u8				size_class;
	/* KREG_F_*: PENDING cleared (release) once the token is in place. */
	u8				flags;
	u8				node_len;	/* KREG_F_REMOTE */
	u16				name_len;
	u16				meta_len;
	/*
	 * The name, its NUL, then meta_len bytes of the registration's value,
	 * then node_len bytes of a mirror's node.
	 */
	char				name[];
};

static inline const void *kreg_entry_meta(const struct kreg_entry *e)
{
	return e->name + e->name_len + 1;
}

static inline const char *kreg_entry_node(const struct kreg_entry *e)
{
	return e->name + e->name_len + 1 + e->meta_len;
}

/* A claim not yet committed: announced to nobody, found by nobody but its claimant. */
static inline bool kreg_entry_pending(const struct kreg_entry *e)
{
	/* Pairs with the commit's release: a committed claim has its token. */
	return smp_load_acquire(&e->flags) & KREG_F_PENDING;
}

static inline bool kreg_entry_remote(const struct kreg_entry *e)
{
	return e->flags & KREG_F_REMOTE;
}

/* A place in line for a name, not (yet) a name (under the table lock). */
static inline bool kreg_entry_waiting(const struct kreg_entry *e)
{
	return e->flags & KREG_F_QUEUE;
}

/* Who registered @e, for access control (a compound literal: the caller's block). */
#define KREG_OWNER_OF(e) (&(struct kreg_owner){ .uid = (e)->uid, \
	.user_ns = (e)->cred->user_ns, .pid_ns = (e)->pid_ns, .flags = (e)->flags })

/*
 * A registration: who asks, for which process, and where its mailbox is. A
 * mirror (KREG_F_REMOTE, from the relay) also says where the holder is.
 */
struct kreg_request {
	const char		*name;
	size_t			name_len;	/* without the NUL */
	const void		*meta;
	size_t			meta_len;
	u32			flags;		/* KREG_F_* */
	struct pid		*pid;		/* the holder to be */
	struct kreg_principal	*who;		/* the registrant */
	bool			quota_exempt;
	struct sock		*mbox_sk;	/* the requesting socket; NULL: no mailbox */
	u32			mbox_portid;
	const char		*node;		/* KREG_F_REMOTE */
	size_t			node_len;
	u32			remote_pid;
	u64			token;
};

/* What SEND needs to reach a mailbox outside RCU: a counted reference. */
struct kreg_route {
	struct kreg_mailbox	*mbox;
	pid_t			sender;		/* the sender, as the holder sees it */
	u32			sender_flags;	/* KREG_SENDER_F_* */
};

/* What STATUS reports. */
struct kreg_status {
	u32	entries;
	u32	max_entries;
	u32	max_per_uid;
	u32	uid_entries;	/* names counted toward the asked account's quota */
};

/*
 * A holder as a requester sees it: @pid in its pid namespace (0 for a
 * holder on another node, or one it cannot see), and for a cluster name
 * its token and, when held elsewhere, the node and the pid there.
 */
struct kreg_holder_info {
	pid_t	pid;
	u32	remote_pid;
	u64	token;
	u8	flags;		/* the entry's KREG_F_* */
	u8	node_len;	/* KREG_F_REMOTE */
	char	node[KREG_NODE_MAX];
};

/* What WHEREIS reports: the holder and its registration's value. */
struct kreg_found {
	struct kreg_holder_info	holder;
	u16			meta_len;
	u8			meta[KREG_META_MAX];
};

/* What changed, for the table's listeners. */
enum kreg_change_kind {
	KREG_CHANGE_REGISTERED,		/* @entry is in the table */
	KREG_CHANGE_UNREGISTERED,	/* @entry is out, for @reason */
	KREG_CHANGE_UPDATED,		/* @entry took its predecessor's place, with another value */
	KREG_CHANGE_HOLDER_NEW,		/* @holder's process holds its first name */
	KREG_CHANGE_HOLDER_GONE,	/* ... and now none */
	KREG_CHANGE_POLICY,		/* @policy is about to be in force */
	KREG_CHANGE_POLICY_DONE,	/* it is, and what it revoked is gone */
	KREG_CHANGE_PROGRESS,		/* the cluster copy is as of @revision */
};

/*
 * A name handed from its holder to the first in line is told as two
 * changes, in one hold of the lock: UNREGISTERED with its @successor, then
 * REGISTERED with its @predecessor, so that a listener can move what it
 * keeps of the name (the view's record) rather than drop it.
 */
struct kreg_change {
	enum kreg_change_kind		kind;
	struct kreg_entry		*entry;
	struct kreg_entry		*successor;	/* UNREGISTERED */
	struct kreg_entry		*predecessor;	/* REGISTERED */
	struct kreg_holder		*holder;
	enum kreg_reason		reason;
	const struct kreg_policy	*policy;	/* NULL: none */
	u64				revision;	/* PROGRESS */
	u64				heard_ns;
};

/*
 * A listener is called under the table lock, in the order of the changes,
 * in a context that may sleep; it must not call back into the table's
 * requests. Listeners are added at init, before any request, and called in
 * the order they were added.
 */
struct kreg_table_listener {
	void			(*changed)(const struct kreg_change *change);
	struct list_head	node;
};

void kreg_table_listen(struct kreg_table_listener *listener);

extern unsigned int kreg_max_entries;
extern unsigned int kreg_max_per_uid;

int kreg_table_init(void);
void kreg_table_close(void);
void kreg_table_destroy(void);

/*
 * Binds @req->name. On -EEXIST, *@holder is the holder as the registrant
 * sees it (its pid 0 and no token when it may not see the name or its
 * holder). With KREG_F_QUEUE, a held name puts the request in line and
 * returns KREG_QUEUED, with *@holder as for -EEXIST. A claim (KREG_F_CLUSTER) of a name another claim holds is
 * -EBUSY. A mirror (KREG_F_REMOTE) replaces a claim, or a mirror with
 * another token, and fails with -EEXIST on a name held on this node.
 */
int kreg_table_register(const struct kreg_request *req,
			struct kreg_holder_info *holder);
#define KREG_QUEUED	1
/*
 * Releases @name for @p: -ENOENT when @p cannot see it, -EPERM when @p is
 * not who registered it and not @admin.
 */
int kreg_table_unregister(const char *name, size_t len, struct kreg_principal *p,
			  bool admin);
/*
 * The calling process leaves @name's line, if @p put it there and may see
 * the name: 0, else -ENOENT (and nothing changed).
 */
int kreg_table_leave_line(const char *name, size_t len, struct kreg_principal *p);
/*
 * Gives @name the value @meta in place (KREG_CMD_UPDATE): -ENOENT when @p
 * cannot see it, -EPERM when @p is not who registered it, -EREMOTE for a
 * mirror, -EOPNOTSUPP for a cluster name.
 */
int kreg_table_update(const char *name, size_t len, const void *meta,
		      size_t meta_len, struct kreg_principal *p);
/* Whether @name is unheld, or held by what @p registered. */
bool kreg_table_owned_by(const char *name, size_t len,
			 const struct kreg_principal *p);
/* Whether a live process holds @name, and who registered it: POLICY_CHECK. */
bool kreg_table_owner(const char *name, size_t len, struct kreg_owner *owner);

/*
 * WHEREIS and SEND's lookup, for @p: a name @p may not SEE, or whose holder
 * its pid namespace cannot see, reads as absent (-ENOENT), and so does a
 * claim not yet committed, but to the relay (@relay); SEND also needs the
 * SEND right (-EACCES), and a name held on another node is -EREMOTE. @from,
 * when not NULL, must be held by the calling process (-EPERM). @token, when
 * not 0, must be the holder's fencing token (-ESTALE). A @p of another node
 * (the relay sends for it) is told as no process of this host.
 */
int kreg_table_whereis(const char *name, size_t len, struct kreg_principal *p,
		       bool relay, struct kreg_found *found);
int kreg_table_route(const char *name, size_t len, const char *from,
		     size_t from_len, u64 token, struct kreg_principal *p,
		     struct kreg_route *route);
/* Releases @name if the calling process holds it and @p registered it (RELEASE_FROM). */
void kreg_table_release_own(const char *name, size_t len,
			    const struct kreg_principal *p);
void kreg_table_status(u64 account, struct kreg_status *st);

/*
 * The relay's side of cluster names (KREG_CMD_COMMIT, _UNMIRROR, _FENCE):
 * commit @pid's claim of @name with @token (-ENOENT when @pid no longer
 * claims it, -ESTALE once CLOCK_BOOTTIME has reached @deadline_ns, the
 * node's lease deadline, 0 for none: judged under the table's lock, so that
 * the fencing at the deadline sees every commit made before it); remove
 * @name's mirror, if its token is @token (0: any);
 * remove this node's holders and claims of @name (NULL: of every cluster
 * name) with KREG_REASON_FENCED, returning how many went.
 */
int kreg_table_commit(const char *name, size_t len, struct pid *pid, u64 token,
		      u64 deadline_ns);
int kreg_table_unmirror(const char *name, size_t len, u64 token,
			enum kreg_reason reason);
unsigned int kreg_table_fence(const char *name, size_t len);
/* The mirrors are the cluster's names as of @revision, known at @heard_ns. */
void kreg_table_progress(u64 revision, u64 heard_ns);
/* What the last kreg_table_progress() said (0, 0: never). */
void kreg_table_cluster_copy(u64 *revision, u64 *heard_ns);
/* Names in the table, counting dead holders' not yet released. */
unsigned int kreg_table_count(void);
/* Changes with every registration, removal and change of value. */
unsigned long kreg_table_generation(void);

/* The dump walks entries in id order and resumes from the next id (RCU). */
struct kreg_entry *kreg_table_next(unsigned long *id);
bool kreg_entry_alive(const struct kreg_entry *e);
/* The pid of @e's holder in @ns, 0 when @ns cannot see it. */
pid_t kreg_entry_pid_in(const struct kreg_entry *e, struct pid_namespace *ns);
/*
 * @e's holder as a requester in @ns sees it: its pid there (0 for a holder
 * on another node), and its cluster token, node and pid there.
 */
void kreg_entry_holder_in(const struct kreg_entry *e, struct pid_namespace *ns,
			  struct kreg_holder_info *h);

/*
 * Puts @policy (NULL: unloads it) in force: listeners are told before and
 * after, and names it denies their registrant the OWN right go, with
 * reason KREG_REASON_REVOKED.
 */
void kreg_table_set_policy(struct kreg_policy *policy);

/* A netlink socket has closed: its names' mailbox goes (one lookup if none). */
void kreg_table_socket_closed(struct net *net, u32 portid);

#endif /* _KREG_TABLE_H */
