/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KREG_NETLINK_H
#define _KREG_NETLINK_H

#include <uapi/linux/kreg.h>

struct genl_family;
struct genl_info;
struct netlink_callback;
struct netlink_ext_ack;
struct nlattr;
struct sk_buff;

/* The top of the module: the family, which calls down and is called by nothing. */
int kreg_netlink_init(void);
void kreg_netlink_exit(void);
struct genl_family *kreg_nl_family(void);

/* The relay's commands (cluster_netlink.c). */
int kreg_nl_validate_node(const struct nlattr *attr, struct netlink_ext_ack *extack);
/* 0 if the request comes from this node's relay, still CAP_SYS_ADMIN; else -EPERM. */
int kreg_nl_relay_only(struct sk_buff *skb, struct genl_info *info);
bool kreg_nl_cluster_name(const char *name, size_t len);
int kreg_nl_relay(struct sk_buff *skb, struct genl_info *info);
int kreg_nl_commit(struct sk_buff *skb, struct genl_info *info);
int kreg_nl_mirror(struct sk_buff *skb, struct genl_info *info);
int kreg_nl_unmirror(struct sk_buff *skb, struct genl_info *info);
int kreg_nl_fence(struct sk_buff *skb, struct genl_info *info);
int kreg_nl_progress(struct sk_buff *skb, struct genl_info *info);
int kreg_nl_lease(struct sk_buff *skb, struct genl_info *info);

/* The policy's commands (policy_netlink.c). */
int kreg_nl_policy_set(struct sk_buff *skb, struct genl_info *info);
int kreg_nl_policy_get(struct sk_buff *skb, struct netlink_callback *cb);
int kreg_nl_policy_check(struct sk_buff *skb, struct genl_info *info);

#endif /* _KREG_NETLINK_H */
