// SPDX-License-Identifier: GPL-2.0
/*
 * Holders: each process that holds names, with the list of its names'
 * links, indexed by its struct pid, so that releasing everything a process
 * holds costs one lookup and no scan.
 *
 * A holder dies in the exit path, where the exit kfunc runs inside a
 * tracepoint probe with preemption disabled, on PREEMPT_RT too. There nothing
 * may sleep, allocate or take a sleeping lock (on RT spinlock_t sleeps, and
 * so do the slab allocator's locks), so the kfunc only finds the holder under
 * RCU, takes a reference and hands it over lock-free:
 *
 *   kfunc --llist_add--> kreg_release_list --irq_work--> queue_work()
 *         --> the table's release work: unlink, announce, free
 *
 * The hand-off takes no lock at all, so a tracing program that calls the
 * kfunc from inside this code, the table's, or anything they call, has
 * nothing to re-enter and cannot deadlock. The irq_work keeps even the
 * workqueue's raw pool lock out of the kfunc; it runs in hard interrupt
 * context on both kernels (IRQ_WORK_HARD_IRQ), where queue_work() is
 * allowed because it takes only raw spinlocks.
 *
 * A holder also waits on its process's pidfd wait queue, which the kernel
 * wakes when the whole process has died, before its parent can reap it,
 * whether exit cleanup is attached or not. The wake-up only marks the
 * holder's word dead, through the death hook (the view's): lock-free, as it
 * runs under the wait queue's lock and, on the generic kernel, with
 * interrupts off.
 */
#include <linux/irq_work.h>
#include <linux/llist.h>
#include <linux/refcount.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "holders.h"
#include "lock.h"

enum {
	KREG_HOLDER_QUEUED,	/* handed over for release: at most once */
};

struct kreg_holder {
	struct rhash_head	node;
	struct pid		*pid;		/* key; a counted reference */
	struct hlist_head	links;		/* its names, under the table lock */
	/* One while in kreg_holders, one while queued for release. */
	refcount_t		ref;
	unsigned long		flags;
	struct llist_node	release_node;
	/* On the pid's wait_pidfd while in kreg_holders. */
	struct wait_queue_entry	death;
	struct kreg_holder_word	word;
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
static struct work_struct *kreg_release_work;
static LLIST_HEAD(kreg_release_list);
/* What the release work took from the list, oldest first; its own. */
static struct llist_node *kreg_release_batch;
static void (*kreg_death_hook)(struct kreg_holder_word *word);

static void kreg_release_kick(struct irq_work *work)
{
	queue_work(kreg_release_wq, kreg_release_work);
}

static struct irq_work kreg_release_irq_work =
	IRQ_WORK_INIT_HARD(kreg_release_kick);

void kreg_holders_set_death_hook(void (*fn)(struct kreg_holder_word *word))
{
	WRITE_ONCE(kreg_death_hook, fn);
}

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
	/* Charged to whoever registers, like the entry itself. */
	struct kreg_holder *holder = kzalloc(sizeof(*holder), GFP_KERNEL_ACCOUNT);

	if (holder) {
		refcount_set(&holder->ref, 1);
		INIT_HLIST_HEAD(&holder->links);
		INIT_LIST_HEAD(&holder->word.link);
		holder->word.slot = KREG_HOLDER_NO_SLOT;
	}
	return holder;
}

void kreg_holder_free_spare(struct kreg_holder *spare)
{
	kfree(spare);
}

struct pid *kreg_holder_pid(const struct kreg_holder *holder)
{
	return holder->pid;
}

struct kreg_holder_word *kreg_holder_word(struct kreg_holder *holder)
{
	return &holder->word;
}

struct hlist_node *kreg_holder_first_locked(struct kreg_holder *holder)
{
	lockdep_assert_held(&kreg_table_mutex);
	return holder->links.first;
}

/* The word first, lock-free; then whoever listens marks it in the view. */
static void kreg_holder_dead(struct kreg_holder *holder)
{
	void (*hook)(struct kreg_holder_word *word) = READ_ONCE(kreg_death_hook);

	set_bit(0, &holder->word.dead);
	if (hook)
		hook(&holder->word);
}

/*
 * The process behind the pid has died (the kernel wakes pidfd pollers then,
 * and once more when a traced leader exits before its threads: hence the
 * check). Runs under the wait queue's spinlock: it only marks the word.
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
		kreg_holder_dead(holder);
	return 0;
}

struct kreg_holder *kreg_holder_attach_locked(struct pid *pid,
					      struct hlist_node *link,
					      struct kreg_holder **spare,
					      bool *created)
{
	struct kreg_holder *holder;

	lockdep_assert_held(&kreg_table_mutex);
	*created = false;
	holder = rhashtable_lookup_fast(&kreg_holders, &pid, kreg_holders_params);
	if (!holder) {
		holder = *spare;
		holder->pid = get_pid(pid);
		if (rhashtable_insert_fast(&kreg_holders, &holder->node,
					   kreg_holders_params)) {
			put_pid(holder->pid);
			return NULL;
		}
		*spare = NULL;
		*created = true;
		init_waitqueue_func_entry(&holder->death, kreg_holder_died);
		add_wait_queue(&holder->pid->wait_pidfd, &holder->death);
	}
	hlist_add_head(link, &holder->links);
	return holder;
}

bool kreg_holder_detach_locked(struct kreg_holder *holder, struct hlist_node *link)
{
	lockdep_assert_held(&kreg_table_mutex);
	hlist_del_init(link);
	if (!hlist_empty(&holder->links))
		return false;
	rhashtable_remove_fast(&kreg_holders, &holder->node, kreg_holders_params);
	/* Once removed, the wake-up is not running and cannot start. */
	remove_wait_queue(&holder->pid->wait_pidfd, &holder->death);
	return true;
}

void kreg_holder_drop(struct kreg_holder *holder)
{
	kreg_holder_put(holder);
}

bool kreg_holder_queue_release(struct kreg_holder *holder)
{
	if (test_and_set_bit(KREG_HOLDER_QUEUED, &holder->flags))
		return false;
	/* Zero: its last name is gone and it is being freed. */
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
		/* The word first: lock-free, and earlier than the wake-up. */
		kreg_holder_dead(holder);
		queued = kreg_holder_queue_release(holder);
	}
	rcu_read_unlock();
	if (!queued)
		return 0;
	irq_work_queue(&kreg_release_irq_work);
	return 1;
}

void kreg_holders_kick(bool flush)
{
	queue_work(kreg_release_wq, kreg_release_work);
	if (flush)
		flush_work(kreg_release_work);
}

struct kreg_holder *kreg_holders_next_queued(void)
{
	struct llist_node *node;

	if (!kreg_release_batch)
		/* Oldest first: names leave in the order their holders died. */
		kreg_release_batch = llist_reverse_order(llist_del_all(&kreg_release_list));
	node = kreg_release_batch;
	if (!node)
		return NULL;
	kreg_release_batch = node->next;
	return llist_entry(node, struct kreg_holder, release_node);
}

void kreg_holder_released(struct kreg_holder *holder)
{
	kreg_holder_put(holder);
}

int kreg_holders_init(struct work_struct *release_work)
{
	int err;

	kreg_release_work = release_work;
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
