// SPDX-License-Identifier: GPL-2.0
/*
 * Exit cleanup: a kfunc that BPF tracing programs call from the exit path
 * (bpf/kreg_exit.bpf.c on tp_btf/sched_process_exit) to release, at once,
 * every name held by a process whose last thread is exiting.
 *
 * Correctness never depends on it: lookups check liveness anyway. It makes
 * the table, the quotas and the events group right the instant a process
 * dies, with no scan and no daemon.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/sched/signal.h>

#include "exit.h"
#include "table.h"

__diag_push();
__diag_ignore_all("-Wmissing-prototypes",
		  "kfuncs are called from BPF and declared in BTF, not in a header");

/**
 * kreg_release_task - release the names of a process that is exiting
 * @task: the exiting thread, as tp_btf/sched_process_exit passes it
 *
 * Does nothing until the last thread of @task's process exits. Runs in the
 * exit path: it never sleeps.
 *
 * Return: the number of names released, or a negative errno.
 */
noinline int kreg_release_task(struct task_struct *task)
{
	if (!task || atomic_read(&task->signal->live) > 0)
		return 0;
	return kreg_table_release_pid(task_tgid(task));
}

__diag_pop();

BTF_SET8_START(kreg_kfunc_ids)
BTF_ID_FLAGS(func, kreg_release_task)
BTF_SET8_END(kreg_kfunc_ids)

static const struct btf_kfunc_id_set kreg_kfunc_set = {
	.owner	= THIS_MODULE,
	.set	= &kreg_kfunc_ids,
};

int kreg_exit_init(void)
{
	/*
	 * Without the module's BTF this only warns and returns 0; the tests
	 * prove the kfunc callable by loading the program that calls it.
	 */
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_TRACING, &kreg_kfunc_set);
}
