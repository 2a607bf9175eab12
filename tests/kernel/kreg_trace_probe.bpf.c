// SPDX-License-Identifier: GPL-2.0
/*
 * Test probe: counts kreg's tracepoints for one process, as an operator's
 * BPF program attached with bpftool or bpftrace would see them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

pid_t target;		/* set by the test: whose activity to count */
pid_t exiting;		/* set by the test: whose exit cleanup to count */
__u64 registers, unregisters, lookups, sends, cleanups, denials, updates;
/* kreg_queue, by what happened to target's place in line (KREG_LINE_*). */
__u64 line_events[3];
__u32 last_meta_len;
int last_denied_right;
int last_result, last_reason, released;
char last_name[32];

SEC("raw_tp/kreg_register")
int BPF_PROG(on_register, const char *name, pid_t pid, uid_t uid, int result)
{
	if (pid != target)
		return 0;
	__sync_fetch_and_add(&registers, 1);
	last_result = result;
	bpf_probe_read_kernel_str(last_name, sizeof(last_name), name);
	return 0;
}

SEC("raw_tp/kreg_unregister")
int BPF_PROG(on_unregister, const char *name, pid_t pid, uid_t uid, int reason)
{
	if (pid != target)
		return 0;
	__sync_fetch_and_add(&unregisters, 1);
	last_reason = reason;
	return 0;
}

SEC("raw_tp/kreg_update")
int BPF_PROG(on_update, const char *name, pid_t pid, uid_t uid, size_t meta_len, int result)
{
	if (pid != target)
		return 0;
	__sync_fetch_and_add(&updates, 1);
	last_result = result;
	last_meta_len = meta_len;
	bpf_probe_read_kernel_str(last_name, sizeof(last_name), name);
	return 0;
}

SEC("raw_tp/kreg_queue")
int BPF_PROG(on_queue, const char *name, pid_t pid, uid_t uid, int what)
{
	if (pid != target || what < 0 || what > 2)
		return 0;
	__sync_fetch_and_add(&line_events[what], 1);
	bpf_probe_read_kernel_str(last_name, sizeof(last_name), name);
	return 0;
}

SEC("raw_tp/kreg_lookup")
int BPF_PROG(on_lookup, const char *name, pid_t pid, int result)
{
	if (pid == target)
		__sync_fetch_and_add(&lookups, 1);
	return 0;
}

SEC("raw_tp/kreg_send")
int BPF_PROG(on_send, const char *name, pid_t sender, __u32 len, int result)
{
	if (sender == target)
		__sync_fetch_and_add(&sends, 1);
	return 0;
}

SEC("raw_tp/kreg_denied")
int BPF_PROG(on_denied, const char *name, pid_t pid, uid_t uid, int right)
{
	if (pid != target)
		return 0;
	__sync_fetch_and_add(&denials, 1);
	last_denied_right = right;
	bpf_probe_read_kernel_str(last_name, sizeof(last_name), name);
	return 0;
}

SEC("raw_tp/kreg_exit_cleanup")
int BPF_PROG(on_cleanup, pid_t pid, int n)
{
	if (pid != exiting)
		return 0;
	__sync_fetch_and_add(&cleanups, 1);
	released = n;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
