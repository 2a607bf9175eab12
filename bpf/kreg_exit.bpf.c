// SPDX-License-Identifier: GPL-2.0
/*
 * Exit cleanup: on every task exit, ask kreg.ko to release the names of the
 * process if this was its last thread. The kfunc only hands them over, and
 * the module releases them at once where it may sleep (announcing each name
 * on the events group); this program only calls it and counts, so
 * `bpftool map dump pinned /sys/fs/bpf/kreg/stats` answers "is cleanup
 * working". The kreg:kreg_exit_cleanup tracepoint counts the names.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kreg_exit.h"

extern int kreg_release_task(struct task_struct *task) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kreg_exit_stats);
} stats SEC(".maps");

SEC("tp_btf/sched_process_exit")
int BPF_PROG(kreg_exit, struct task_struct *task)
{
	struct kreg_exit_stats *s;
	__u32 key = 0;
	int handed;

	handed = kreg_release_task(task);
	s = bpf_map_lookup_elem(&stats, &key);
	if (!s)
		return 0;
	s->exits++;
	if (handed > 0)
		s->holders++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
