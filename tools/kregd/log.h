/* SPDX-License-Identifier: GPL-2.0 */
/* kregd's messages: to stderr, which systemd's journal takes, with a level. */
#ifndef KREGD_LOG_H
#define KREGD_LOG_H

#include <syslog.h>

/* LOG_DEBUG messages only with -v. */
extern int kregd_verbose;

void kregd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* KREGD_LOG_H */
