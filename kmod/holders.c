// SPDX-License-Identifier: GPL-2.0
/*
 * Holders: each process that holds names, with the list of its entries,
 * indexed by its struct pid, so that releasing everything a process holds
 * costs one lookup and no scan.
 *
 * A holder dies in the exit path, where the exit kfunc runs inside a
 * tracepoint probe with preemption disabled, on PREEMPT_RT too. There nothing
 * may sleep, allocate or take a sleeping lock (on RT spinlock_t sleeps, and
 * so do the slab allocator's locks), so the kfunc only finds the holder under
 * RCU, takes a reference and hands it over lock-free:
 *
 *   kfunc --llist_add--> kreg_release_list --irq_work--> queue_work()
 *         --> kreg_release_work: unlink, announce, free, in short batches
 *
 * The hand-off takes no lock at all, so a tracing program that calls the
 * kfunc from inside this code, the table's, or anything they call, has
 * nothing to re-enter and cannot deadlock: there is no per-CPU "lock held"
 * guard to get wrong when a lock holder is preempted on RT. The irq_work
 * keeps even the workqueue's raw pool lock out of the kfunc; it runs in hard
 * interrupt context on both kernels (IRQ_WORK_HARD_IRQ), where queue_work()
 * is allowed because it takes only raw spinlocks.
 *
 * Quota reclaim (table.c) queues the holders it finds dead the same way, and
 * waits for their release.
 *
 * A holder also waits on its process's pidfd wait queue, which the kernel
 * wakes when the whole process has died, before its parent can reap it,
 * whether exit cleanup is attached or not. The wake-up only marks the
 * holder's word in the view (view.c) dead: lock-free, as it runs under the
 * wait queue's lock and, on the generic kernel, with interrupts off.
 */
#include <linux/irq_work.h>
#include <linux/llist.h>
#include <linux/refcount.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sched/signal.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "holders.h"
#include "table.h"
#include "trace.h"
#include "view.h"

/* Names released per hold of kreg_lock, so the lock is never held for long. */
#define KREG_RELEASE_BATCH	32

enum {
	KREG_HOLDER_QUEUED,	/* handed over for release: at most once */
};

struct kreg_holder {
	struct rhash_head	node;
	struct pid		*pid;		/* key; a counted reference */
	struct hlist_head	entries;	/* under kreg_lock */
	/* One while in kreg_holders, one while queued for release. */
	refcount_t		ref;
	unsigned long		flags;
	struct llist_node	release_node;
	/* On the pid's wait_pidfd while in kreg_holders. */
	struct wait_queue_entry	death;
	struct kreg_view_holder	view;
	struct rcu_head		rcu;
};

static const struct rhashtable_params kreg_holders_params = {
	.head_offset		= offsetof(struct kreg_holder, node),
	.key_offset		= offsetof(struct kreg_holder, pid),
	.key_len		= sizeof(struct pid *),
	.automatic_shrinking	= true,
};

static struct rhashtable kreg_holders;
static struct workqueue_struct *kreg_release_wq;
static LLIST_HEAD(kreg_release_list);

static void kreg_release_work_fn(struct work_struct *work);
static DECLARE_WORK(kreg_release_work, kreg_release_work_fn);

static void kreg_release_kick(struct irq_work *work)
{
	queue_work(kreg_release_wq, &kreg_release_work);
}

static struct irq_work kreg_release_irq_work =
	IRQ_WORK_INIT_HARD(kreg_release_kick);

/* Never from the exit path: the last reference goes where sleeping is allowed. */
static void kreg_holder_put(struct kreg_holder *holder)
{
	if (!refcount_dec_and_test(&holder->ref))
		return;
	/* RCU readers compare the pointer, never follow it: drop it now. */
	put_pid(holder->pid);
	kfree_rcu(holder, rcu);
}

struct kreg_holder *kreg_holder_spare(void)
{
	struct kreg_holder *holder = kzalloc(sizeof(*holder), GFP_KERNEL);

	if (holder) {
		refcount_set(&holder->ref, 1);
		INIT_HLIST_HEAD(&holder->entries);
		holder->view.slot = KREG_VIEW_NO_SLOT;
	}
	return holder;
}

void kreg_holder_free_spare(struct kreg_holder *spare)
{
	kfree(spare);
}

struct kreg_view_holder *kreg_holder_view(struct kreg_holder *holder)
{
	return &holder->view;
}

/*
 * The process behind the pid has died (the kernel wakes pidfd pollers then,
 * and once more when a traced leader exits before its threads: hence the
 * check). Runs under the wait queue's spinlock: it only marks the view.
 */
static int kreg_holder_died(struct wait_queue_entry *wait, unsigned int mode,
			    int sync, void *key)
{
	struct kreg_holder *holder = container_of(wait, struct kreg_holder, death);
	struct task_struct *task;
	bool dead;

	rcu_read_lock();
	task = pid_task(holder->pid, PIDTYPE_TGID);
	dead = !task || atomic_read(&task->signal->live) == 0;
	rcu_read_unlock();
	if (dead)
		kreg_view_holder_dead(&holder->view);
	return 0;
}

int kreg_holder_attach_locked(struct kreg_entry *e, struct kreg_holder **spare)
{
	struct kreg_holder *holder;
	int err;

	holder = rhashtable_lookup_fast(&kreg_holders, &e->pid,
					kreg_holders_params);
	if (!holder) {
		holder = *spare;
		holder->pid = get_pid(e->pid);
		err = rhashtable_insert_fast(&kreg_holders, &holder->node,
					     kreg_holders_params);
		if (err) {
			put_pid(holder->pid);
			return err;
		}
		*spare = NULL;
		/*
		 * Its word before its wake-up: the caller checks the process
		 * is alive after this, so a death either is seen there or
		 * wakes this entry.
		 */
		kreg_view_holder_attach_locked(&holder->view);
		init_waitqueue_func_entry(&holder->death, kreg_holder_died);
		add_wait_queue(&holder->pid->wait_pidfd, &holder->death);
	}
	hlist_add_head(&e->holder_link, &holder->entries);
	e->holder = holder;
	return 0;
}

void kreg_holder_detach_locked(struct kreg_entry *e)
{
	struct kreg_holder *holder = e->holder;

	hlist_del_init(&e->holder_link);
	if (!hlist_empty(&holder->entries))
		return;
	rhashtable_remove_fast(&kreg_holders, &holder->node,
			       kreg_holders_params);
	/* Once removed, the wake-up is not running and cannot start. */
	remove_wait_queue(&holder->pid->wait_pidfd, &holder->death);
	kreg_view_holder_detach_locked(&holder->view);
	kreg_holder_put(holder);
}

bool kreg_holder_queue_release(struct kreg_holder *holder)
{
	if (test_and_set_bit(KREG_HOLDER_QUEUED, &holder->flags))
		return false;
	/* Zero: its last entry is gone and it is being freed. */
	if (!refcount_inc_not_zero(&holder->ref))
		return false;
	llist_add(&holder->release_node, &kreg_release_list);
	return true;
}

int kreg_holders_exiting(struct pid *pid)
{
	struct kreg_holder *holder;
	bool queued = false;

	/* Most exiting processes hold no name: one lookup answers them. */
	rcu_read_lock();
	holder = rhashtable_lookup(&kreg_holders, &pid, kreg_holders_params);
	if (holder) {
		/* The view first: lock-free, and earlier than the wake-up. */
		kreg_view_holder_dead(&holder->view);
		queued = kreg_holder_queue_release(holder);
	}
	rcu_read_unlock();
	if (!queued)
		return 0;
	irq_work_queue(&kreg_release_irq_work);
	return 1;
}

/*
 * Unlinks the holder's entries KREG_RELEASE_BATCH at a time, so that how
 * many names one process held never lengthens a hold of kreg_lock.
 */
static void kreg_holder_release(struct kreg_holder *holder)
{
	unsigned int released = 0, n;
	struct kreg_entry *e;

	do {
		kreg_lock_table();
		for (n = 0; n < KREG_RELEASE_BATCH && !hlist_empty(&holder->entries); n++) {
			e = hlist_entry(holder->entries.first, struct kreg_entry,
					holder_link);
			kreg_entry_unlink(e, KREG_REASON_EXITED);
		}
		kreg_unlock_table();
		released += n;
		cond_resched();
	} while (n == KREG_RELEASE_BATCH);
	trace_kreg_exit_cleanup(pid_nr(holder->pid), released);
	kreg_holder_put(holder);
}

static void kreg_release_work_fn(struct work_struct *work)
{
	struct llist_node *queued = llist_del_all(&kreg_release_list);
	struct kreg_holder *holder, *next;

	/* Oldest first: names leave in the order their holders died. */
	queued = llist_reverse_order(queued);
	llist_for_each_entry_safe(holder, next, queued, release_node)
		kreg_holder_release(holder);
}

void kreg_holders_release_queued(void)
{
	queue_work(kreg_release_wq, &kreg_release_work);
	flush_work(&kreg_release_work);
}

int kreg_holders_init(void)
{
	int err;

	/*
	 * Per-CPU and high priority: the release runs on the CPU where the
	 * holder exited, ahead of ordinary tasks, so a name is normally gone
	 * before the parent of its dead holder has reaped it.
	 */
	kreg_release_wq = alloc_workqueue("kreg_release", WQ_HIGHPRI, 0);
	if (!kreg_release_wq)
		return -ENOMEM;
	err = rhashtable_init(&kreg_holders, &kreg_holders_params);
	if (err)
		destroy_workqueue(kreg_release_wq);
	return err;
}

void kreg_holders_quiesce(void)
{
	irq_work_sync(&kreg_release_irq_work);
	flush_workqueue(kreg_release_wq);
}

/* Once no request, and no exit kfunc, can reach the table any more. */
void kreg_holders_destroy(void)
{
	irq_work_sync(&kreg_release_irq_work);
	destroy_workqueue(kreg_release_wq);
	rhashtable_destroy(&kreg_holders);
}
