// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A kreg server in a program's own epoll loop, beside the program's other
 * work (here a heartbeat timer) and its signals.
 *
 *   epoll_server [NAME] [--calls N]
 *
 * Serves the counter (counter.c) under NAME (default example.counter) until
 * it is asked to quit, or SIGINT or SIGTERM comes. With --calls N a thread
 * of the program is a client: it calls N times, then casts "quit".
 * KREG_REGISTRY picks the provider, as for any libkreg program.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "counter.h"

static int add(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int main(int argc, char **argv)
{
	struct itimerspec every_100ms = { { 0, 100000000 }, { 0, 100000000 } };
	struct counter_app app = { .prog = "epoll_server" };
	int ep, tick, sig, rc = 0, i;

	if (counter_app_start(&app, argc, argv))
		return 1;
	/* The program's own loop: the server's fd is one descriptor among others. */
	ep = epoll_create1(EPOLL_CLOEXEC);
	tick = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	sig = signalfd(-1, &app.stop, SFD_CLOEXEC);
	timerfd_settime(tick, 0, &every_100ms, NULL);
	if (add(ep, kreg_server_fd(app.srv)) || add(ep, tick) || add(ep, sig)) {
		perror("epoll_server: epoll_ctl");
		rc = -1;
	}
	while (!rc) {
		struct epoll_event ev[8];
		int n = epoll_wait(ep, ev, 8, -1);
		uint64_t count;

		for (i = 0; i < n && !rc; i++) {
			if (ev[i].data.fd == kreg_server_fd(app.srv)) {
				rc = kreg_server_dispatch(app.srv);
			} else if (ev[i].data.fd == tick) {
				if (read(tick, &count, sizeof(count)) == sizeof(count))
					app.heartbeats += (long)count;
			} else {
				rc = 1;	/* SIGINT or SIGTERM: counter_app_finish() stops it */
			}
		}
	}
	close(sig);
	close(tick);
	close(ep);
	return counter_app_finish(&app, rc < 0);
}
