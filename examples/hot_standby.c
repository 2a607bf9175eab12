// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A hot standby: run two or more copies of a service under one name. The
 * first holds the name and serves; the others wait in line for it in the
 * kernel (kreg_register_queued(), as D-Bus's queueing). When the active
 * copy dies, however it dies, the next one holds the name in the same step:
 * callers that address the service by name never find it missing, nothing
 * polls, and no two standbys race for it.
 *
 *   hot_standby [NAME]
 *
 * Prints "standby NAME behind PID" while in line, then "active NAME", and
 * serves the counter (counter.c) under NAME until it is asked to quit (a
 * "quit" cast), or SIGTERM comes. The kernel provider is the one that
 * spans processes; on the local one, the copies would be threads.
 */
#include <errno.h>
#include <stdio.h>

#include "counter.h"

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "example.standby";
	struct counter state = { .idle_ms = -1 };	/* no idle timeout */
	struct kreg_conn *conn;
	pid_t holder = 0;
	int err;

	err = kreg_open(&conn);
	if (err) {
		fprintf(stderr, "hot_standby: %s\n", kreg_strerror(err));
		return 1;
	}
	err = kreg_register_queued(conn, name, NULL, 0, &holder);
	if (err == -EINPROGRESS) {
		printf("standby %s behind %d\n", name, (int)holder);
		fflush(stdout);
		/* Woken by the kernel's event, or the holder's exit: no polling. */
		err = kreg_await_own(conn, name, -1);
	}
	if (err) {
		fprintf(stderr, "hot_standby: %s: %s\n", name, kreg_strerror(err));
		kreg_close(conn);
		return 1;
	}
	printf("active %s\n", name);
	fflush(stdout);
	err = kreg_serve(conn, name, &counter_module, &state);
	kreg_close(conn);
	return err ? 1 : 0;
}
