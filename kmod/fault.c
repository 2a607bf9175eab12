// SPDX-License-Identifier: GPL-2.0
/*
 * kreg's fault attribute: the kernel's own fault injection (should_fail()),
 * applied to the view's allocations. A failure here is handled exactly as
 * a real one: the allocation is not made and its caller takes the error
 * path.
 */
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fault-inject.h>

#include "fault.h"

#ifdef CONFIG_FAULT_INJECTION
static DECLARE_FAULT_ATTR(kreg_fail_view_attr);

bool kreg_fail_view(size_t size)
{
	return should_fail(&kreg_fail_view_attr, size);
}
#endif

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static struct dentry *kreg_debugfs;

void kreg_fault_init(void)
{
	/* Debugging aid only: without debugfs, nothing is injected. */
	kreg_debugfs = debugfs_create_dir("kreg", NULL);
	fault_create_debugfs_attr("fail_view", kreg_debugfs, &kreg_fail_view_attr);
}

void kreg_fault_exit(void)
{
	debugfs_remove_recursive(kreg_debugfs);
}
#else
void kreg_fault_init(void)
{
}

void kreg_fault_exit(void)
{
}
#endif
