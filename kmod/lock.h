/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The table lock, at the bottom of the module: everything that changes the
 * names, their holders, their mailboxes and the view's records takes it, and
 * every layer may assert it is held.
 */
#ifndef _KREG_LOCK_H
#define _KREG_LOCK_H

#include <linux/lockdep.h>
#include <linux/mutex.h>

extern struct mutex kreg_table_mutex;

static inline void kreg_lock_table(void)
{
	mutex_lock(&kreg_table_mutex);
}

static inline void kreg_unlock_table(void)
{
	mutex_unlock(&kreg_table_mutex);
}

/* Only lockdep can tell; without it, trust the callers. */
static inline bool kreg_table_lock_held(void)
{
	return !IS_ENABLED(CONFIG_LOCKDEP) || lockdep_is_held(&kreg_table_mutex);
}

#endif /* _KREG_LOCK_H */
