/* SPDX-License-Identifier: GPL-2.0 */
/* Attach, detach and inspect BPF exit cleanup (used by kregctl bpf). */
#ifndef KREG_BPF_CLEANUP_H
#define KREG_BPF_CLEANUP_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "kreg_exit.h"

struct cleanup_status {
	bool attached;
	__u32 link_id;
	__u32 prog_id;
	struct kreg_exit_stats totals;	/* summed over CPUs */
};

/* 0 when attached now, 1 when it already was, or a negative errno. */
int cleanup_attach(char *why, size_t size);
/* 0 when detached now, 1 when it was not attached, or a negative errno. */
int cleanup_detach(void);
int cleanup_status(struct cleanup_status *st);

#endif /* KREG_BPF_CLEANUP_H */
