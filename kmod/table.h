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
	/* Who registered it: its socket's opener, from which namespaces. */
	const struct cred		*cred;		/* counted */
	struct pid_namespace		*pid_ns;	/* counted */
	kuid_t				uid;		/* cred's euid */
	u64				account;	/* whose quota it counts toward */
	u32				id;
	u32				view_rec;	/* its record in the view, or U32_MAX */
	u64				registered_ns;
	u8				size_class;
	u8				flags;		/* KREG_F_* */
	u16				name_len;
	u16				meta_len;
	/* The name, its NUL, then meta_len bytes of the registration's value. */
	char				name[];
};

static inline const void *kreg_entry_meta(const struct kreg_entry *e)
{
	return e->name + e->name_len + 1;
}

/* Who registered @e, for access control (a compound literal: the caller's block). */
#define KREG_OWNER_OF(e) (&(struct kreg_owner){ .uid = (e)->uid, \
	.user_ns = (e)->cred->user_ns, .pid_ns = (e)->pid_ns, .flags = (e)->flags })

/* A registration: who asks, for which process, and where its mailbox is. */
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

/* What WHEREIS reports: the holder and its registration's value. */
struct kreg_found {
	pid_t	pid;
	u16	meta_len;
	u8	meta[KREG_META_MAX];
};

/* What changed, for the table's listeners. */
enum kreg_change_kind {
	KREG_CHANGE_REGISTERED,		/* @entry is in the table */
	KREG_CHANGE_UNREGISTERED,	/* @entry is out, for @reason */
	KREG_CHANGE_HOLDER_NEW,		/* @holder's process holds its first name */
	KREG_CHANGE_HOLDER_GONE,	/* ... and now none */
	KREG_CHANGE_POLICY,		/* @policy is about to be in force */
	KREG_CHANGE_POLICY_DONE,	/* it is, and what it revoked is gone */
};

struct kreg_change {
	enum kreg_change_kind		kind;
	struct kreg_entry		*entry;
	struct kreg_holder		*holder;
	enum kreg_reason		reason;
	const struct kreg_policy	*policy;	/* NULL: none */
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
 * Binds @req->name. On -EEXIST, *@holder is the holder's pid as the
 * registrant sees it, 0 when it may not see the name or its holder.
 */
int kreg_table_register(const struct kreg_request *req, pid_t *holder);
/*
 * Releases @name for @p: -ENOENT when @p cannot see it, -EPERM when @p is
 * not who registered it and not @admin.
 */
int kreg_table_unregister(const char *name, size_t len, struct kreg_principal *p,
			  bool admin);
/* Whether @name is unheld, or held by what @p registered. */
bool kreg_table_owned_by(const char *name, size_t len,
			 const struct kreg_principal *p);
/* Whether a live process holds @name, and who registered it: POLICY_CHECK. */
bool kreg_table_owner(const char *name, size_t len, struct kreg_owner *owner);

/*
 * WHEREIS and SEND's lookup, for @p: a name @p may not SEE, or whose holder
 * its pid namespace cannot see, reads as absent (-ENOENT); SEND also needs
 * the SEND right (-EACCES). @from, when not NULL, must be held by the
 * calling process (-EPERM).
 */
int kreg_table_whereis(const char *name, size_t len, struct kreg_principal *p,
		       struct kreg_found *found);
int kreg_table_route(const char *name, size_t len, const char *from,
		     size_t from_len, struct kreg_principal *p,
		     struct kreg_route *route);
/* Releases @name if the calling process holds it and @p registered it (RELEASE_FROM). */
void kreg_table_release_own(const char *name, size_t len,
			    const struct kreg_principal *p);
void kreg_table_status(u64 account, struct kreg_status *st);
/* Names in the table, counting dead holders' not yet released. */
unsigned int kreg_table_count(void);
/* Changes with every registration and removal. */
unsigned long kreg_table_generation(void);

/* The dump walks entries in id order and resumes from the next id (RCU). */
struct kreg_entry *kreg_table_next(unsigned long *id);
bool kreg_entry_alive(const struct kreg_entry *e);
/* The pid of @e's holder in @ns, 0 when @ns cannot see it. */
pid_t kreg_entry_pid_in(const struct kreg_entry *e, struct pid_namespace *ns);

/*
 * Puts @policy (NULL: unloads it) in force: listeners are told before and
 * after, and names it denies their registrant the OWN right go, with
 * reason KREG_REASON_REVOKED.
 */
void kreg_table_set_policy(struct kreg_policy *policy);

/* A netlink socket has closed: its names' mailbox goes (one lookup if none). */
void kreg_table_socket_closed(struct net *net, u32 portid);

#endif /* _KREG_TABLE_H */
