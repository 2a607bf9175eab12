/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Holders: the processes that hold names, and the release of a dead one's
 * names where sleeping is allowed.
 */
#ifndef _KREG_HOLDERS_H
#define _KREG_HOLDERS_H

#include <linux/types.h>

struct pid;
struct kreg_entry;
struct kreg_holder;
struct kreg_view_holder;

int kreg_holders_init(void);
/* Waits until nothing is queued or being released (rmmod, after close). */
void kreg_holders_quiesce(void);
void kreg_holders_destroy(void);

/* For a registration, before kreg_lock is taken; kreg_holder_free_spare() after. */
struct kreg_holder *kreg_holder_spare(void);
void kreg_holder_free_spare(struct kreg_holder *spare);

/*
 * Under kreg_lock: adds @e to the holder of @e->pid (made from *@spare, which
 * is then NULL, if the process holds nothing yet), or takes it out again.
 */
int kreg_holder_attach_locked(struct kreg_entry *e, struct kreg_holder **spare);
void kreg_holder_detach_locked(struct kreg_entry *e);

/* The holder's word in the view (view.c). */
struct kreg_view_holder *kreg_holder_view(struct kreg_holder *holder);

/*
 * The exit path: hands the names of @pid, a process that has no live thread
 * left, over for release. Any context: it sleeps, allocates and locks
 * nothing. 1 when something was handed over, else 0.
 */
int kreg_holders_exiting(struct pid *pid);

/*
 * Under RCU: queues @holder, found dead, for release. False when it needed
 * no queueing (already queued, or gone).
 */
bool kreg_holder_queue_release(struct kreg_holder *holder);

/* Releases everything queued so far, and returns when it is done. May sleep. */
void kreg_holders_release_queued(void);

#endif /* _KREG_HOLDERS_H */
