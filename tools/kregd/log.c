// SPDX-License-Identifier: GPL-2.0
/*
 * Messages go to stderr with the "<N>" prefix of sd-daemon(3), which the
 * journal reads as the level, and a monotonic time in ms that lines up
 * with what the tests' history records.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

int kregd_verbose;

void kregd_log(int level, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	if (level == LOG_DEBUG && !kregd_verbose)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(stderr, "<%d>kregd: [%lld.%03ld] ", level, (long long)ts.tv_sec,
		ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
