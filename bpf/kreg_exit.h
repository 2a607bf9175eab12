/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by kreg_exit.bpf.c and its loader: the per-CPU statistics map. */
#ifndef KREG_EXIT_H
#define KREG_EXIT_H

#define KREG_BPF_PIN_DIR	"/sys/fs/bpf/kreg"
#define KREG_BPF_PIN_LINK	KREG_BPF_PIN_DIR "/exit_link"
#define KREG_BPF_PIN_STATS	KREG_BPF_PIN_DIR "/stats"

struct kreg_exit_stats {
	__u64 exits;		/* task exits seen (threads included) */
	__u64 holders;		/* processes whose names were handed to kreg.ko */
};

#endif /* KREG_EXIT_H */
