/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The grammar of names and policy patterns is the uapi header's
 * (kreg_name_problem_of()), so that kreg.ko, libkreg and kregctl agree to
 * the byte. Here its verdict becomes an errno and the extack's message.
 */
#ifndef _KREG_GRAMMAR_H
#define _KREG_GRAMMAR_H

#include <net/netlink.h>
#include <uapi/linux/kreg.h>

/* The verdict is one of the grammar's constant sentences, which outlive the
 * request; NL_SET_ERR_MSG() itself takes only a literal.
 */
static inline int kreg_grammar_verdict(const char *problem,
				       const struct nlattr *attr,
				       struct netlink_ext_ack *extack)
{
	if (!problem)
		return 0;
	if (extack)
		extack->_msg = problem;
	NL_SET_BAD_ATTR(extack, attr);
	return -EINVAL;
}

/* A KREG_A_PATTERN attribute: NUL-terminated, by the grammar. */
static inline int kreg_grammar_pattern_attr(const struct nlattr *attr,
					    struct netlink_ext_ack *extack)
{
	const char *pattern = nla_data(attr);
	int len = nla_len(attr);

	if (len == 0 || pattern[len - 1] != '\0' || strnlen(pattern, len) != len - 1) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "the pattern is not one NUL-terminated string");
		return -EINVAL;
	}
	return kreg_grammar_verdict(kreg_pattern_problem_of(pattern), attr, extack);
}

#endif /* _KREG_GRAMMAR_H */
