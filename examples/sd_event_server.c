// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A kreg server in an sd-event loop (libsystemd), beside the program's
 * other work (a heartbeat timer) and its signals.
 *
 *   sd_event_server [NAME] [--calls N]
 *
 * The same service and options as epoll_server.c: only the loop differs.
 */
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <systemd/sd-event.h>

#include "counter.h"

static int on_kreg(sd_event_source *s, int fd, uint32_t revents, void *srv)
{
	int rc = kreg_server_dispatch(srv);

	(void)fd;
	(void)revents;
	if (rc)
		sd_event_exit(sd_event_source_get_event(s), rc < 0);
	return 0;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *heartbeats)
{
	++*(long *)heartbeats;
	return sd_event_source_set_time(s, usec + 100000);
}

int main(int argc, char **argv)
{
	struct counter_app app = { .prog = "sd_event_server" };
	sd_event_source *io = NULL;
	sd_event *loop = NULL;
	uint64_t now;
	int rc;

	if (counter_app_start(&app, argc, argv))
		return 1;
	/* NULL handlers for the signals: sd-event exits the loop on them. */
	rc = sd_event_default(&loop);
	if (rc >= 0)
		rc = sd_event_add_io(loop, &io, kreg_server_fd(app.srv), EPOLLIN, on_kreg, app.srv);
	if (rc >= 0)
		rc = sd_event_now(loop, CLOCK_MONOTONIC, &now);
	if (rc >= 0)
		rc = sd_event_add_time(loop, NULL, CLOCK_MONOTONIC, now + 100000, 0, on_tick,
				       &app.heartbeats);
	if (rc >= 0)
		rc = sd_event_add_signal(loop, NULL, SIGINT, NULL, NULL);
	if (rc >= 0)
		rc = sd_event_add_signal(loop, NULL, SIGTERM, NULL, NULL);
	if (rc >= 0)
		rc = sd_event_loop(loop);
	else
		fprintf(stderr, "sd_event_server: sd-event: %s\n", strerror(-rc));
	sd_event_source_unref(io);	/* before the server's fd goes */
	sd_event_unref(loop);
	return counter_app_finish(&app, rc != 0);
}
