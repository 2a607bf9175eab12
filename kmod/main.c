// SPDX-License-Identifier: GPL-2.0
/*
 * kreg: a host-wide process registry kept by the kernel.
 *
 * Processes bind names to themselves over the "kreg" generic netlink family;
 * a name disappears when its process dies, and messages sent to a name reach
 * the socket that registered it.
 *
 * The files, each knowing only those below it:
 *
 *   netlink.c, policy_netlink.c   the protocol
 *   view.c, events.c, exit.c      listeners of the table; the exit kfunc
 *   table.c                       names, and the one hook that says what changed
 *   holders.c, mailbox.c          who holds names; where their mail goes
 *   access.c, policy.c            who may do what
 *   lock.c, fault.c, trace.h      the table lock; fault injection; tracepoints
 *
 * There is no module alias: nobody but the administrator (or kreg.service,
 * which loads the policy with it) loads kreg, so no unprivileged request
 * can bring it up without its policy.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>

#include "events.h"
#include "exit.h"
#include "fault.h"
#include "netlink.h"
#include "node.h"
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
		 "Most names one account (a uid, a user's subordinate uids, a container) may register, unless it has CAP_SYS_RESOURCE (EDQUOT beyond)");
module_param_named(max_subscriptions, kreg_max_subscriptions, uint, 0644);
MODULE_PARM_DESC(max_subscriptions,
		 "Most event subscriptions the sockets of one account may have, counted as names are (EDQUOT beyond)");
module_param_named(policy_required, kreg_policy_required, bool, 0444);
MODULE_PARM_DESC(policy_required,
		 "Until a policy is loaded, and after one is unloaded, deny what no built-in rule allows");

static int __init kreg_init(void)
{
	int err;

	kreg_fault_init();
	err = kreg_table_init();
	if (err)
		goto exit_fault;
	err = kreg_view_init();
	if (err)
		goto destroy_table;
	err = kreg_exit_init();
	if (err)
		goto exit_view;
	kreg_node_init();
	err = kreg_netlink_init();
	if (err)
		goto exit_view;
	pr_info("kreg %s ready: genetlink family \"%s\" version %d%s\n",
		KREG_VERSION, KREG_GENL_NAME, KREG_GENL_VERSION,
		kreg_policy_required ? ", waiting for its policy" : "");
	return 0;

exit_view:
	kreg_view_exit();
destroy_table:
	kreg_table_destroy();
exit_fault:
	kreg_fault_exit();
	return err;
}

static void __exit kreg_exit(void)
{
	/* Announce every entry as unloaded while the family can still speak. */
	kreg_table_close();
	kreg_netlink_exit();
	kreg_node_exit();
	/* Before the table goes: the view's worker reads it. */
	kreg_view_exit();
	kreg_table_destroy();
	kreg_policy_exit();
	kreg_fault_exit();
	pr_info("registry unloaded\n");
}

module_init(kreg_init);
module_exit(kreg_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kreg: host-wide process registry over generic netlink");
MODULE_AUTHOR("kreg developers");
MODULE_VERSION(KREG_VERSION);
