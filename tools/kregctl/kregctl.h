/* SPDX-License-Identifier: GPL-2.0 */
/* What kregctl's commands share. */
#ifndef KREGCTL_H
#define KREGCTL_H

#include <stdbool.h>
#include <stdio.h>

#include "json.h"
#include "kreg.h"

/* Exit status: 0 success, 1 the name is not registered, 2 any other error. */
enum { EXIT_NOTFOUND = 1, EXIT_ERROR = 2 };

/* -j: print JSON (json.h) to standard output instead of text. */
extern bool ctl_json;
extern struct json ctl_out;

void ctl_usage(FILE *out);
/*
 * A usage mistake in the command being run: one line saying what is
 * wrong, then that command's usage. Returns EXIT_ERROR.
 */
int ctl_bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports @err for @what in the kernel's own words when it gave some. */
int ctl_fail(struct kreg_conn *conn, const char *what, int err);
/*
 * The host's table, opened on first use: a command checks its arguments
 * first, so that a mistake is told as such with or without the module.
 * 0, or EXIT_ERROR after saying why (with a hint).
 */
int ctl_open(struct kreg_conn **connp);
/* 0 if @name is one by the names' grammar; else says why, EXIT_ERROR. */
int ctl_check_name(const char *name);

/* kregctl cluster status (cluster.c). */
int cmd_cluster(struct kreg_conn *conn, int argc, char **argv);

/* kregctl policy load|unload|show|check (policy.c). */
int cmd_policy(struct kreg_conn *conn, int argc, char **argv);

#endif /* KREGCTL_H */
