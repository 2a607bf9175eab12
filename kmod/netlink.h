/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KREG_NETLINK_H
#define _KREG_NETLINK_H

#include <uapi/linux/kreg.h>

struct genl_family;
struct genl_info;
struct netlink_callback;
struct sk_buff;

/* The top of the module: the family, which calls down and is called by nothing. */
int kreg_netlink_init(void);
void kreg_netlink_exit(void);
struct genl_family *kreg_nl_family(void);

/* The policy's commands (policy_netlink.c). */
int kreg_nl_policy_set(struct sk_buff *skb, struct genl_info *info);
int kreg_nl_policy_get(struct sk_buff *skb, struct netlink_callback *cb);
int kreg_nl_policy_check(struct sk_buff *skb, struct genl_info *info);

#endif /* _KREG_NETLINK_H */
