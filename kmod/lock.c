// SPDX-License-Identifier: GPL-2.0
/*
 * The table lock.
 *
 * Every path that takes it may sleep: requests, the socket-release notifier,
 * the release and view workers, and rmmod. The exit kfunc never takes it
 * (see holders.c). So it is a mutex, correct alike on PREEMPT_RT, where a
 * spinlock_t would sleep anyway, and on the generic kernel; what listens to
 * the table's changes (the view, the events) runs under it, in the order of
 * the changes, and may allocate with GFP_KERNEL.
 */
#include "lock.h"

DEFINE_MUTEX(kreg_table_mutex);
