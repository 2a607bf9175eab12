/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The view: a read-only copy of the name table in shared memory, searched by
 * processes with no system call. The layout is in uapi/linux/kreg.h.
 */
#ifndef _KREG_VIEW_H
#define _KREG_VIEW_H

#include <linux/list.h>
#include <linux/types.h>

struct kreg_entry;

/* A holder's word in the view: alive (odd) until its process dies. */
struct kreg_view_holder {
	u32			slot;	/* KREG_VIEW_NO_SLOT: none yet */
	u32			word;
	unsigned long		dead;	/* bit 0: the process has died */
	struct list_head	link;	/* under kreg_lock */
};

#define KREG_VIEW_NO_SLOT	U32_MAX

int kreg_view_init(void);
/* After the table is empty and nothing can change it any more. */
void kreg_view_exit(void);

/*
 * Under kreg_lock, before a registration: makes room for one more entry
 * (and its holder). A view that cannot grow is closed, never the
 * registration failed: readers then ask the kernel.
 */
void kreg_view_reserve_locked(void);
void kreg_view_add_locked(struct kreg_entry *e);
void kreg_view_remove_locked(struct kreg_entry *e);
/* After a removal: a table left empty gives the view's memory back. */
void kreg_view_shrink_locked(void);

/* Under kreg_lock: a new holder gets a word, alive; a detached one loses it. */
void kreg_view_holder_attach_locked(struct kreg_view_holder *vh);
void kreg_view_holder_detach_locked(struct kreg_view_holder *vh);
/*
 * The holder's process has died: its word says so at once. Any context,
 * preemption off included: it never sleeps, allocates or takes a lock.
 */
void kreg_view_holder_dead(struct kreg_view_holder *vh);

/*
 * While a policy is loaded the view cannot tell who may see a name, so it
 * is withdrawn: readers ask the kernel, which checks. Withdraw before a
 * policy takes effect; restore after the last one is gone.
 */
void kreg_view_withdraw(bool withdrawn);

#endif /* _KREG_VIEW_H */
