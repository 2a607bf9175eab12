// SPDX-License-Identifier: GPL-2.0
/*
 * kregd: the node daemon of kreg's cluster provider (kregd.h says what
 * each part does). One loop, one thread: libcurl's transfers wait in
 * curl_multi_poll(), with kregd's own descriptors (the kernel's events,
 * clients, peer links, holders' pidfds, signals) behind one epoll descriptor beside
 * them; the lease and the watch are ticked after every wake-up.
 *
 *   kregd [-c /etc/kreg/cluster.conf] [-v]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "etcd.h"
#include "kreg.h"
#include "kregd.h"
#include "log.h"
#include "peers.h"
#include "relay.h"

#define TICK_MS		100
#define WORK_SLICE_MS	20

static const enum watched_kind events_kind = WATCHED_EVENTS;
static const enum watched_kind signal_kind = WATCHED_SIGNAL;

uint64_t kregd_now_us(void)
{
	struct timespec ts;

	/* The lease's clock: a suspend counts, as it does for etcd. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t kregd_now_ms(void)
{
	return kregd_now_us() / 1000;
}

void kregd_watch_fd(struct kregd *d, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev))
		kregd_log(LOG_ERR, "epoll: %s", strerror(errno));
}

void kregd_unwatch_fd(struct kregd *d, int fd)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* systemd's readiness, without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path)));
	close(fd);
}

static void dispatch(struct kregd *d, void *ptr, uint32_t events)
{
	enum watched_kind kind = *(enum watched_kind *)ptr;

	switch (kind) {
	case WATCHED_LISTEN:
		clients_accept(d);
		break;
	case WATCHED_EVENTS:
		claims_event(d);
		break;
	case WATCHED_CLIENT:
		clients_read(d, ptr);
		break;
	case WATCHED_HOLDER:
		claims_holder_exited(d, ptr);
		break;
	case WATCHED_PEER_LISTEN:
		peers_accept(d);
		break;
	case WATCHED_PEER_LINK:
		peers_io(d, ptr, events);
		break;
	case WATCHED_SIGNAL:
		break;
	}
}

static int loop(struct kregd *d, int sigfd)
{
	struct curl_waitfd extra = { .fd = d->epfd, .events = CURL_WAIT_POLLIN };
	struct epoll_event evs[64];
	bool ready = false, busy = false;
	int n, i;

	while (!d->stopping) {
		int64_t timeout = lease_next_timeout(d);
		struct signalfd_siginfo si;

		if (timeout > TICK_MS)
			timeout = TICK_MS;
		if (busy)
			timeout = 0;
		curl_multi_poll(etcd_multi(d->etcd), &extra, 1, (int)timeout, NULL);
		etcd_perform(d->etcd);
		/* The watch's news, a slice at a time: the lease's turn comes between. */
		busy = watch_work(d, WORK_SLICE_MS);
		n = epoll_wait(d->epfd, evs, 64, 0);
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &signal_kind) {
				if (read(sigfd, &si, sizeof(si)) == sizeof(si))
					kregd_log(LOG_INFO, "signal %u: stopping (the lease stays: names last its TTL)",
						  si.ssi_signo);
				d->stopping = true;
				continue;
			}
			dispatch(d, evs[i].data.ptr, evs[i].events);
		}
		clients_reap();
		lease_tick(d);
		watch_tick(d);
		claims_tick(d);
		peers_tick(d);
		if (!ready && d->synced && d->lease) {
			notify_ready();
			ready = true;
			kregd_log(LOG_INFO, "node %s of cluster %s ready", d->c.node, d->c.cluster);
		}
	}
	return 0;
}

/* As many descriptors as allowed: clients' connections must never starve etcd's. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: kregd [-c CONFIG] [-v]\n"
			"  -c CONFIG  the cluster's configuration (default %s)\n"
			"  -v         debug messages\n", KREGD_CONFIG);
}

int main(int argc, char **argv)
{
	const char *config = KREGD_CONFIG;
	static struct kregd d;
	char error[512];
	sigset_t mask;
	int opt, err, sigfd;

	while ((opt = getopt(argc, argv, "c:vh")) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'v':
			kregd_verbose = 1;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	err = kregd_config_read(config, &d.c, error, sizeof(error));
	if (err) {
		kregd_log(LOG_ERR, "%s", error);
		return 1;
	}
	snprintf(d.cluster_prefix, sizeof(d.cluster_prefix), "/kreg/%s/", d.c.cluster);
	snprintf(d.names_prefix, sizeof(d.names_prefix), "/kreg/%s/names/", d.c.cluster);
	snprintf(d.nodes_prefix, sizeof(d.nodes_prefix), "/kreg/%s/nodes/", d.c.cluster);
	d.listen_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	curl_global_init(CURL_GLOBAL_DEFAULT);

	err = relay_open(&d.relay, d.c.node);
	if (err) {
		kregd_log(LOG_ERR, "cannot be this node's relay in kreg.ko: %s",
			  err == -EPROTONOSUPPORT ? "kreg.ko is not loaded" :
			  err == -EBUSY ? "another kregd is running" : strerror(-err));
		return 1;
	}
	err = kreg_open_provider(&d.events, KREG_PROVIDER_KERNEL);
	if (!err)
		err = kreg_subscribe(d.events);
	if (err) {
		kregd_log(LOG_ERR, "cannot read kreg.ko's events: %s", kreg_strerror(err));
		return 1;
	}
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d.epfd < 0 || sigfd < 0) {
		kregd_log(LOG_ERR, "epoll, signalfd: %s", strerror(errno));
		return 1;
	}
	kregd_watch_fd(&d, sigfd, (void *)&signal_kind);
	kregd_watch_fd(&d, kreg_fd(d.events), (void *)&events_kind);
	err = clients_listen(&d);
	if (err) {
		kregd_log(LOG_ERR, "%s: %s", d.c.socket, strerror(-err));
		return 1;
	}
	if (peers_start(&d))
		return 1;
	d.etcd = etcd_new(&d.c);
	if (!d.etcd) {
		kregd_log(LOG_ERR, "no memory for the etcd client");
		return 1;
	}
	kregd_log(LOG_INFO, "node %s of cluster %s, etcd at %s (%d endpoint%s), lease TTL %d s",
		  d.c.node, d.c.cluster, d.c.endpoints[0], d.c.n_endpoints,
		  d.c.n_endpoints == 1 ? "" : "s", d.c.lease_ttl);
	lease_start(&d);
	watch_start(&d);
	loop(&d, sigfd);

	clients_close_all(&d);
	clients_reap();
	peers_stop(&d);
	if (d.policy)
		kreg_close(d.policy);
	etcd_free(d.etcd);
	kreg_close(d.events);
	/* The relay's socket closes: the mirrors go with it, this node's names stay. */
	relay_close(d.relay);
	copy_free(&d.copy);
	curl_global_cleanup();
	return 0;
}
