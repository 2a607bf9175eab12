// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fencing tokens, checked where they matter: at the resource. A token is
 * the cluster revision at which a holder got its name, higher for every
 * later holder; a resource that refuses anything below the highest it has
 * seen cannot be written by a holder that lost its name without knowing it.
 */
#include <errno.h>

#include "internal.h"

int kreg_fence_admit(struct kreg_fence *fence, uint64_t token)
{
	uint64_t seen = __atomic_load_n(&fence->highest, __ATOMIC_ACQUIRE);

	do {
		if (token < seen)
			return -ESTALE;
		if (token == seen)
			return 0;
	} while (!__atomic_compare_exchange_n(&fence->highest, &seen, token, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return 0;
}
