// SPDX-License-Identifier: GPL-2.0
/*
 * Counts how often a task takes one mutex (hostile_test: closing a socket
 * that never spoke to kreg must not take kreg's table lock). Which of
 * mutex_lock and mutex_lock_nested is a real function depends on the
 * kernel's lockdep: the loader keeps whichever exists.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile __u64 target;
__u64 hits;

SEC("fentry/mutex_lock")
int BPF_PROG(on_mutex_lock, struct mutex *lock)
{
	if ((__u64)lock == target)
		__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("fentry/mutex_lock_nested")
int BPF_PROG(on_mutex_lock_nested, struct mutex *lock, unsigned int subclass)
{
	if ((__u64)lock == target)
		__sync_fetch_and_add(&hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
