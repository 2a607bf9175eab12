/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kreg name table: name -> holder process, with an optional mailbox.
 */
#ifndef _KREG_TABLE_H
#define _KREG_TABLE_H

#include <linux/pid.h>
#include <linux/rhashtable-types.h>
#include <linux/uidgid.h>
#include <uapi/linux/kreg.h>

#include "access.h"

struct net;
struct sock;
struct kreg_principal;
struct kreg_holder;
struct kreg_mailbox;

/*
 * One registered name. Readers find it under RCU through the names table (by
 * name) or the ids xarray (dump order); writers change it only under
 * kreg_lock. @pid is a counted reference, so a recycled pid number never
 * matches a dead holder.
 */
struct kreg_entry {
	struct rhash_head		node;
	struct pid			*pid;
	struct kreg_mailbox __rcu	*mbox;
	struct kreg_holder		*holder;
	/*
	 * holder_link is walked under kreg_lock only, and never again once the
	 * entry is unlinked: its space then serves the RCU callback.
	 */
	union {
		struct hlist_node	holder_link;
		struct rcu_head		rcu;
	};
	struct hlist_node		mbox_link;
	/* Walked under RCU by quota reclaim, hence its own node. */
	struct hlist_node		uid_link;
	kuid_t				uid;
	u32				id;
	u32				view_rec;	/* its record in the view */
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

/* What access control needs of @e (a compound literal: the caller's block). */
#define KREG_OWNER_OF(e) (&(struct kreg_owner){ .uid = (e)->uid, .flags = (e)->flags })

/* Where a registration came from, and where its mailbox is. */
struct kreg_request {
	const char	*name;
	size_t		name_len;	/* without the NUL */
	const void	*meta;
	size_t		meta_len;
	u32		flags;		/* KREG_F_* */
	struct pid	*pid;		/* the holder to be */
	kuid_t		uid;
	bool		quota_exempt;
	struct sock	*mbox_sk;	/* the requesting socket; NULL: no mailbox */
	u32		mbox_portid;
};

/* What SEND needs to reach a mailbox outside RCU: a counted reference. */
struct kreg_route {
	struct kreg_mailbox	*mbox;
	pid_t			sender;		/* the sender, as the holder sees it */
};

/* Who holds a name, as REGISTER tells it. */
struct kreg_held {
	pid_t	pid;	/* in the caller's pid namespace; 0 when it cannot see it */
	kuid_t	uid;	/* who registered it */
	u8	flags;	/* and how: KREG_F_* */
};

/* What STATUS reports. */
struct kreg_status {
	u32	entries;
	u32	max_entries;
	u32	max_per_uid;
	u32	uid_entries;	/* names counted toward the asked uid's quota */
};

extern unsigned int kreg_max_entries;
extern unsigned int kreg_max_per_uid;

int kreg_table_init(void);
void kreg_table_close(void);
void kreg_table_destroy(void);

int kreg_table_register(const struct kreg_request *req, struct kreg_held *held);
int kreg_table_unregister(const char *name, size_t len, struct kreg_principal *p,
			  bool admin);
bool kreg_table_owned_by_caller(const char *name, size_t len);
/* Whether a live process holds @name, and who registered it, how. */
bool kreg_table_owner(const char *name, size_t len, kuid_t *uid, u8 *flags);
/* What WHEREIS reports: the holder and its registration's value. */
struct kreg_found {
	pid_t	pid;
	u16	meta_len;
	u8	meta[KREG_META_MAX];
};

/*
 * WHEREIS and SEND's lookup, for @p: a name @p may not SEE reads as absent
 * (-ENOENT); SEND also needs the SEND right (-EACCES).
 */
int kreg_table_whereis(const char *name, size_t len, struct kreg_principal *p,
		       struct kreg_found *found);
int kreg_table_route(const char *name, size_t len, struct kreg_principal *p,
		     struct kreg_route *route);
void kreg_table_status(kuid_t uid, struct kreg_status *st);
/* Changes with every registration and removal. */
unsigned long kreg_table_generation(void);

/* The dump walks entries in id order and resumes from the next id. */
struct kreg_entry *kreg_table_next(unsigned long *id);
bool kreg_entry_alive(const struct kreg_entry *e);

/* For holders.c and mailbox.c, which change entries in batches. */
void kreg_lock_table(void);
void kreg_unlock_table(void);
bool kreg_table_lock_held(void);
void kreg_entry_unlink(struct kreg_entry *e, enum kreg_reason reason);

#endif /* _KREG_TABLE_H */
