/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Holders: the processes that hold names, each with the list of its names'
 * links (the table's entries, which this file never looks into), and the
 * lock-free hand-off of a dead one from the exit path to a worker.
 */
#ifndef _KREG_HOLDERS_H
#define _KREG_HOLDERS_H

#include <linux/list.h>
#include <linux/types.h>

struct pid;
struct work_struct;
struct kreg_holder;

/*
 * A holder's liveness word in the view: odd while its process lives. The
 * view (view.c) gives it a slot and writes it; this file only says, from
 * the exit path, that the process died.
 */
struct kreg_holder_word {
	u32			slot;	/* KREG_HOLDER_NO_SLOT: none */
	u32			word;
	unsigned long		dead;	/* bit 0: the process has died */
	struct list_head	link;	/* among holders, under the table lock */
};

#define KREG_HOLDER_NO_SLOT	U32_MAX

/*
 * @release_work runs, in a context that may sleep, whenever holders were
 * queued for release: it takes them with kreg_holders_next_queued().
 */
int kreg_holders_init(struct work_struct *release_work);
/* Waits until nothing is queued or being released (rmmod, after close). */
void kreg_holders_quiesce(void);
void kreg_holders_destroy(void);

/*
 * Called, in any context (preemption and interrupts off included), when a
 * holder's process has died: it must not sleep, allocate or lock. Set once
 * at init, before any holder exists.
 */
void kreg_holders_set_death_hook(void (*fn)(struct kreg_holder_word *word));

/* For a registration, before the table lock is taken; freed after. */
struct kreg_holder *kreg_holder_spare(void);
void kreg_holder_free_spare(struct kreg_holder *spare);

/*
 * Under the table lock: adds @link to the holder of @pid, made from *@spare
 * (which is then NULL) when the process holds nothing yet: then *@created.
 */
struct kreg_holder *kreg_holder_attach_locked(struct pid *pid,
					      struct hlist_node *link,
					      struct kreg_holder **spare,
					      bool *created);
/*
 * Under the table lock: takes @link out. True when that was the last one:
 * the holder is then out of the index and no longer woken by its process's
 * death, and the caller drops it with kreg_holder_drop() once its word has
 * no slot.
 */
bool kreg_holder_detach_locked(struct kreg_holder *holder, struct hlist_node *link);
void kreg_holder_drop(struct kreg_holder *holder);
/* The first link of @holder's names, or NULL (under the table lock). */
struct hlist_node *kreg_holder_first_locked(struct kreg_holder *holder);

struct pid *kreg_holder_pid(const struct kreg_holder *holder);
struct kreg_holder_word *kreg_holder_word(struct kreg_holder *holder);

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
/* Starts the release work for what is queued, and (flush) waits for it. */
void kreg_holders_kick(bool flush);
/*
 * For the release work: the next queued holder, oldest first, or NULL. The
 * caller releases its names, then drops the queue's reference with
 * kreg_holder_released().
 */
struct kreg_holder *kreg_holders_next_queued(void);
void kreg_holder_released(struct kreg_holder *holder);

#endif /* _KREG_HOLDERS_H */
