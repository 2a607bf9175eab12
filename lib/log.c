// SPDX-License-Identifier: LGPL-2.1-or-later
/* Where the library's own messages go: stderr, or the program's logger. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

static kreg_log_fn kreg_logger;
static void *kreg_logger_arg;

void kreg_set_logger(kreg_log_fn fn, void *arg)
{
	__atomic_store_n(&kreg_logger_arg, arg, __ATOMIC_RELAXED);
	__atomic_store_n(&kreg_logger, fn, __ATOMIC_RELEASE);
}

void kreg_log(enum kreg_log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "error", "warning", "info", "debug" };
	kreg_log_fn fn = __atomic_load_n(&kreg_logger, __ATOMIC_ACQUIRE);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fn) {
		fn(level, msg, __atomic_load_n(&kreg_logger_arg, __ATOMIC_RELAXED));
		return;
	}
	if (level <= KREG_LOG_WARNING || (level == KREG_LOG_DEBUG && getenv("KREG_DEBUG")))
		fprintf(stderr, "libkreg %s: %s\n", prefix[level], msg);
}
