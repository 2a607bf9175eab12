/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection for allocations made where the kernel's task-filter
 * cannot reach them: the view is built by a worker, not by the task that
 * made it grow. With CONFIG_FAULT_INJECTION_DEBUG_FS, the standard knobs
 * (probability, interval, times, ...) are in /sys/kernel/debug/kreg/fail_view.
 */
#ifndef _KREG_FAULT_H
#define _KREG_FAULT_H

#include <linux/types.h>

#ifdef CONFIG_FAULT_INJECTION
/* Whether the view's next allocation, of @size bytes, is to fail. */
bool kreg_fail_view(size_t size);
#else
static inline bool kreg_fail_view(size_t size)
{
	return false;
}
#endif

void kreg_fault_init(void);
void kreg_fault_exit(void);

#endif /* _KREG_FAULT_H */
