// SPDX-License-Identifier: GPL-2.0
/*
 * Test probe: SIGKILLs the process that registers @victim, the first time
 * only, right after the kernel registered the name and before the process
 * runs another instruction: the window in which a starting child holds its
 * name but has not yet told its supervisor so.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char victim[32];	/* set by the test */
__u32 kills;

SEC("raw_tp/kreg_register")
int BPF_PROG(kill_first, const char *name, pid_t pid, uid_t uid, int result)
{
	char seen[sizeof(victim)] = {};
	int i;

	if (result || kills)
		return 0;
	bpf_probe_read_kernel_str(seen, sizeof(seen), name);
	for (i = 0; i < sizeof(seen); i++) {
		if (seen[i] != victim[i])
			return 0;
		if (!seen[i])
			break;
	}
	/* One child registers the victim at a time: no race for the first. */
	kills = 1;
	bpf_send_signal(9);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
