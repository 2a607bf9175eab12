// SPDX-License-Identifier: GPL-2.0
/*
 * kreg: a host-wide process registry kept by the kernel.
 *
 * Processes bind names to themselves over the "kreg" generic netlink family;
 * a name disappears when its process dies, and messages sent to a name reach
 * the socket that registered it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>

#include "exit.h"
#include "netlink.h"
#include "policy.h"
#include "table.h"
#include "version.h"
#include "view.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

module_param_named(max_entries, kreg_max_entries, uint, 0644);
MODULE_PARM_DESC(max_entries, "Most names the registry holds (ENOSPC beyond)");
module_param_named(max_per_uid, kreg_max_per_uid, uint, 0644);
MODULE_PARM_DESC(max_per_uid,
		 "Most names one uid may register, unless it has CAP_SYS_RESOURCE (EDQUOT beyond)");

static int __init kreg_init(void)
{
	int err;

	err = kreg_view_init();
	if (err)
		return err;
	err = kreg_table_init();
	if (err)
		goto exit_view;
	err = kreg_exit_init();
	if (err)
		goto destroy_table;
	err = kreg_netlink_init();
	if (err)
		goto destroy_table;
	pr_info("kreg %s ready: genetlink family \"%s\" version %d\n",
		KREG_VERSION, KREG_GENL_NAME, KREG_GENL_VERSION);
	return 0;

destroy_table:
	kreg_table_destroy();
exit_view:
	kreg_view_exit();
	return err;
}

static void __exit kreg_exit(void)
{
	/* Announce every entry as unloaded while the family can still speak. */
	kreg_table_close();
	kreg_netlink_exit();
	kreg_table_destroy();
	kreg_view_exit();
	kreg_policy_exit();
	pr_info("registry unloaded\n");
}

module_init(kreg_init);
module_exit(kreg_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kreg: host-wide process registry over generic netlink");
MODULE_AUTHOR("kreg developers");
MODULE_VERSION(KREG_VERSION);
MODULE_ALIAS_GENL_FAMILY(KREG_GENL_NAME);
