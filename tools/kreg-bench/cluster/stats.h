/* SPDX-License-Identifier: GPL-2.0 */
/* kreg-cluster-bench's clock and medians, for in_node.c and messages.c. */
#ifndef KREG_BENCH_CLUSTER_STATS_H
#define KREG_BENCH_CLUSTER_STATS_H

#include <stdlib.h>
#include <time.h>

static inline double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of @n figures at @v (sorted in place). */
static inline double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif /* KREG_BENCH_CLUSTER_STATS_H */
