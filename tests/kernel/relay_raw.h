/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Speaking as a node's relay (kregd) in raw netlink: bind, commit, mirror,
 * lease. Shared by the tests of cluster names and of relayed sends.
 */
#ifndef KREG_TEST_RELAY_RAW_H
#define KREG_TEST_RELAY_RAW_H

#include <time.h>

#include "raw_nl.h"

static inline int relay_bind(struct raw_nl *n, const char *node)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, KREG_CMD_RELAY);
	raw_put_str(&m, KREG_A_NODE, node);
	return raw_request(n, &m, NULL);
}

static inline int relay_commit(struct raw_nl *n, const char *name, pid_t pid, uint64_t token)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, KREG_CMD_COMMIT);
	raw_put_str(&m, KREG_A_NAME, name);
	raw_put_u32(&m, KREG_A_PID, pid);
	raw_put_u64(&m, KREG_A_TOKEN, token);
	return raw_request(n, &m, NULL);
}

static inline int relay_mirror(struct raw_nl *n, const char *name, const char *node, uint32_t rpid,
			uint64_t token, const char *meta)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, KREG_CMD_MIRROR);
	raw_put_str(&m, KREG_A_NAME, name);
	raw_put_str(&m, KREG_A_NODE, node);
	raw_put_u32(&m, KREG_A_REMOTE_PID, rpid);
	raw_put_u64(&m, KREG_A_TOKEN, token);
	if (meta)
		raw_put(&m, KREG_A_META, meta, strlen(meta));
	return raw_request(n, &m, NULL);
}

/* LEASE: this node's holders keep their names until @deadline_ns (CLOCK_BOOTTIME; 0: none). */
static inline int relay_lease(struct raw_nl *n, uint64_t deadline_ns)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, KREG_CMD_LEASE);
	raw_put_u64(&m, KREG_A_DEADLINE_NS, deadline_ns);
	return raw_request(n, &m, NULL);
}

static inline uint64_t boottime_in_ms(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec +
	       (uint64_t)ms * 1000000ULL;
}

static inline int claim(struct raw_nl *n, const char *name)
{
	return raw_nl_register_flags(n, name, KREG_F_CLUSTER);
}

#endif /* KREG_TEST_RELAY_RAW_H */
