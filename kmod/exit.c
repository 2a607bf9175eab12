// SPDX-License-Identifier: GPL-2.0
/*
 * Exit cleanup: a kfunc that BPF tracing programs call from the exit path
 * (bpf/kreg_exit.bpf.c on tp_btf/sched_process_exit) to release every name
 * held by a process whose last thread is exiting.
 *
 * It runs inside a tracepoint probe, with preemption disabled, on PREEMPT_RT
 * too: it only hands the holder over (holders.c), and the release itself
 * runs at once in a context that may sleep.
 *
 * Correctness never depends on it: lookups check liveness, and a register
 * that hits a limit reclaims dead entries first. It makes the table, the
 * quotas and the events group right promptly after a process dies, with no
 * scan and no daemon.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/sched/signal.h>

#include "exit.h"
#include "holders.h"

__diag_push();
__diag_ignore_all("-Wmissing-prototypes",
		  "kfuncs are called from BPF and declared in BTF, not in a header");

/**
 * kreg_release_task - release the names of a process that is exiting
 * @task: the exiting thread, as tp_btf/sched_process_exit passes it
 *
 * Does nothing until the last thread of @task's process exits. Safe in any
 * context: it never sleeps, allocates or takes a lock.
 *
 * @task must be the calling thread, as it is in sched_process_exit: any
 * other pointer is only compared, never followed. On 6.1 the verifier's
 * KF_TRUSTED_ARGS would demand a referenced (acquired) pointer, which the
 * tracepoint's argument is not, and so refuse kreg's own program: this
 * check is what keeps a tracing program from handing the kfunc a stale or
 * foreign task instead.
 *
 * Return: 1 when the process held names, now on their way out; else 0.
 */
noinline int kreg_release_task(struct task_struct *task)
{
	if (task != current || atomic_read(&task->signal->live) > 0)
		return 0;
	return kreg_holders_exiting(task_tgid(task));
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
