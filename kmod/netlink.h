/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KREG_NETLINK_H
#define _KREG_NETLINK_H

#include <uapi/linux/kreg.h>

struct kreg_entry;

int kreg_netlink_init(void);
void kreg_netlink_exit(void);
void kreg_nl_notify(enum kreg_cmd cmd, const struct kreg_entry *e,
		    enum kreg_reason reason);

#endif /* _KREG_NETLINK_H */
