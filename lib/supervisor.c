// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Supervision in userspace, as OTP defines it: strategies, restart types and
 * restart intensity. Exits are learned from pidfds, never by polling; a named
 * child takes its name itself when it starts, so restarts keep names pointing
 * at the live process. On the local provider, whose table is this process's,
 * children are threads of it (start.c): an eventfd says one ended, another
 * asks it to stop (its SIGTERM), and pthread_cancel() is its SIGKILL.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

struct kreg_supervised {
	struct kreg_child_spec spec;	/* spec.name is our own copy */
	pid_t pid;			/* 0: not running (a thread's id, on the local provider) */
	int pidfd;			/* a process's; a thread's is thread->done_fd */
	struct kreg_thread_child *thread;	/* the local provider's: where it runs */
	bool done;			/* ended for good: not to be restarted */
};

struct kreg_supervisor {
	enum kreg_provider provider;	/* where its children take their names */
	enum kreg_strategy strategy;
	int max_restarts;
	int max_seconds;
	struct kreg_supervised *children;
	size_t n, cap;
	uint64_t *restarts;		/* when the last max_restarts + 1 happened */
	size_t nrestarts;
};

int kreg_supervisor_new(struct kreg_supervisor **supp, enum kreg_strategy strategy,
			int max_restarts, int max_seconds)
{
	return kreg_supervisor_new_on(supp, NULL, strategy, max_restarts, max_seconds);
}

int kreg_supervisor_new_on(struct kreg_supervisor **supp, struct kreg_conn *registry,
			   enum kreg_strategy strategy, int max_restarts, int max_seconds)
{
	struct kreg_supervisor *sup;

	if (strategy > KREG_REST_FOR_ONE || max_restarts < 0 || max_seconds <= 0)
		return -EINVAL;
	sup = calloc(1, sizeof(*sup));
	if (!sup)
		return -ENOMEM;
	sup->restarts = calloc((size_t)max_restarts + 1, sizeof(*sup->restarts));
	if (!sup->restarts) {
		free(sup);
		return -ENOMEM;
	}
	if (registry) {
		sup->provider = kreg_registry_provider(registry);
	} else if (kreg_configured_provider(&sup->provider)) {
		free(sup->restarts);
		free(sup);
		return -ENOPROTOOPT;
	}
	sup->strategy = strategy;
	sup->max_restarts = max_restarts;
	sup->max_seconds = max_seconds;
	*supp = sup;
	return 0;
}

/* Child @c's descriptor that is readable once it ended. */
static int kreg_child_fd(const struct kreg_supervised *c)
{
	return c->thread ? c->thread->done_fd : c->pidfd;
}

/* Starts child @c; a first start reports on @report_fd, a restart has none (-1). */
static int kreg_child_launch(struct kreg_supervisor *sup, struct kreg_supervised *c,
			     int report_fd)
{
	pid_t parent = getpid(), pid;
	int err;

	if (c->thread) {
		/* The thread closes its report descriptor; the caller closes its own. */
		int fd = report_fd >= 0 ? fcntl(report_fd, F_DUPFD_CLOEXEC, 0) : -1;

		if (report_fd >= 0 && fd < 0)
			return -errno;
		err = kreg_thread_child_start(c->thread, c->spec.name, c->spec.module,
					      c->spec.start, c->spec.arg, fd);
		if (err) {
			if (fd >= 0)
				close(fd);
			return err;
		}
		/* Its id, which it learns first thing: a restart reports nothing. */
		while (!__atomic_load_n(&c->thread->tid, __ATOMIC_ACQUIRE))
			sched_yield();
		c->pid = c->thread->tid;
		return 0;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		kreg_process_main(parent, sup->provider, c->spec.name, c->spec.module,
				  c->spec.start, c->spec.arg, report_fd);
	c->pidfd = pidfd_open(pid, 0);
	if (c->pidfd < 0) {
		err = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return err;
	}
	c->pid = pid;
	return 0;
}

/* Reaps an exited child; its wait status. */
static int kreg_child_reap(struct kreg_supervised *c)
{
	int status = 0;

	if (c->thread) {
		kreg_thread_child_reap(c->thread);
		status = c->thread->status;
	} else {
		while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
			;
		close(c->pidfd);
		c->pidfd = -1;
	}
	c->pid = 0;
	return status;
}

/* A thread's SIGTERM and SIGKILL: a server's stop eventfd, and a cancel. */
static void kreg_child_signal(struct kreg_supervised *c, int sig)
{
	uint64_t one = 1;

	/* A start function has no stop request to heed: SIGTERM's default, then. */
	if (!c->thread)
		pidfd_send_signal(c->pidfd, sig, NULL, 0);
	else if (sig == SIGKILL || !c->spec.module ||
		 write(c->thread->stop_fd, &one, sizeof(one)) < 0)
		pthread_cancel(c->thread->thread);
}

/* SIGTERM, a grace period, then SIGKILL; reaps the child. */
static void kreg_child_stop(struct kreg_supervised *c)
{
	struct pollfd p = { .events = POLLIN };

	if (!c->pid)
		return;
	p.fd = kreg_child_fd(c);
	if (c->spec.shutdown_ms > 0) {
		kreg_child_signal(c, SIGTERM);
		if (poll(&p, 1, c->spec.shutdown_ms) == 0)
			kreg_child_signal(c, SIGKILL);
	} else {
		kreg_child_signal(c, SIGKILL);
	}
	kreg_child_reap(c);
}

/* Frees what a stopped child @c keeps: its name's copy, its thread's state. */
static void kreg_child_forget(struct kreg_supervised *c)
{
	free((char *)c->spec.name);
	free(c->thread);
}

int kreg_start_child(struct kreg_supervisor *sup, const struct kreg_child_spec *spec,
		     pid_t *pid, enum kreg_started *how)
{
	struct kreg_start_report r = { 0 };
	struct kreg_supervised *c;
	int fds[2], err;

	if (!!spec->start == !!spec->module || (spec->module && !spec->name) ||
	    (spec->name && *kreg_name_problem(spec->name)) ||
	    spec->restart > KREG_TEMPORARY || spec->shutdown_ms < 0)
		return -EINVAL;
	if (sup->n == sup->cap) {
		size_t cap = sup->cap ? 2 * sup->cap : 8;
		void *more = realloc(sup->children, cap * sizeof(*sup->children));

		if (!more)
			return -ENOMEM;
		sup->children = more;
		sup->cap = cap;
	}
	c = &sup->children[sup->n];
	memset(c, 0, sizeof(*c));
	c->spec = *spec;
	c->pidfd = -1;
	c->spec.name = NULL;
	if (sup->provider == KREG_PROVIDER_LOCAL) {
		/* Apart from the array, which grows: the thread keeps a pointer. */
		c->thread = calloc(1, sizeof(*c->thread));
		if (!c->thread)
			return -ENOMEM;
		c->thread->stop_fd = c->thread->done_fd = -1;
	}
	if (spec->name) {
		c->spec.name = strdup(spec->name);
		if (!c->spec.name) {
			err = -ENOMEM;
			goto forget;
		}
	}
	if (pipe2(fds, O_CLOEXEC)) {
		err = -errno;
		goto forget;
	}
	err = kreg_child_launch(sup, c, fds[1]);
	close(fds[1]);
	if (!err)
		err = kreg_read_report(fds[0], &r);
	close(fds[0]);
	/*
	 * No report: the child ended before it could write one. A start child
	 * runs nothing of its own before reporting, so something killed it (it
	 * may already hold its name, and whoever saw the name may be the one who
	 * killed it). That is a start followed by an exit: keep the child, and
	 * let the run loop see the exit on its pidfd and restart it. A server
	 * that dies in init fails its start, as in OTP.
	 */
	if (err == -ECHILD && spec->start) {
		r.how = KREG_STARTED;
		err = 0;
	} else if (!err) {
		err = r.err;
	}
	if (err || r.how == KREG_ALREADY_STARTED) {
		/* Nothing lasting: the child has ended, or is ending. */
		if (c->pid)
			kreg_child_reap(c);
		if (err)
			goto forget;
		kreg_child_forget(c);
		/* A holder on another node has no pid here. */
		if (pid)
			*pid = r.holder.local ? r.pid : 0;
		if (how)
			*how = KREG_ALREADY_STARTED;
		return 0;
	}
	sup->n++;
	if (pid)
		*pid = c->pid;
	if (how)
		*how = KREG_STARTED;
	return 0;

forget:
	kreg_child_forget(c);
	return err;
}

pid_t kreg_supervisor_child_pid(const struct kreg_supervisor *sup, size_t index)
{
	return index < sup->n ? sup->children[index].pid : 0;
}

void kreg_supervisor_stop(struct kreg_supervisor *sup)
{
	size_t i;

	for (i = sup->n; i-- > 0;)
		kreg_child_stop(&sup->children[i]);
}

void kreg_supervisor_free(struct kreg_supervisor *sup)
{
	size_t i;

	if (!sup)
		return;
	kreg_supervisor_stop(sup);
	for (i = 0; i < sup->n; i++)
		kreg_child_forget(&sup->children[i]);
	free(sup->children);
	free(sup->restarts);
	free(sup);
}

/* Records a restart; false when it is one too many for the intensity. */
static bool kreg_restart_allowed(struct kreg_supervisor *sup)
{
	uint64_t now = kreg_now_ms(), window = (uint64_t)sup->max_seconds * 1000;
	size_t i, kept = 0;

	for (i = 0; i < sup->nrestarts; i++)
		if (now - sup->restarts[i] < window)
			sup->restarts[kept++] = sup->restarts[i];
	sup->nrestarts = kept;
	if ((int)kept >= sup->max_restarts)
		return false;
	sup->restarts[sup->nrestarts++] = now;
	return true;
}

static bool kreg_wants_restart(const struct kreg_supervised *c, int status)
{
	switch (c->spec.restart) {
	case KREG_PERMANENT:
		return true;
	case KREG_TRANSIENT:
		return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	case KREG_TEMPORARY:
		return false;
	}
	return false;
}

/*
 * Child @i ended with @status: restart what the strategy says. Children
 * stopped on its account are restarted too, unless they are temporary.
 */
static int kreg_handle_exit(struct kreg_supervisor *sup, size_t i, int status)
{
	size_t first = i, last = i, j;
	int err;

	if (!kreg_wants_restart(&sup->children[i], status)) {
		sup->children[i].done = true;
		return 0;
	}
	if (!kreg_restart_allowed(sup)) {
		kreg_supervisor_stop(sup);
		return -ELOOP;
	}
	if (sup->strategy == KREG_ONE_FOR_ALL)
		first = 0;
	if (sup->strategy != KREG_ONE_FOR_ONE)
		last = sup->n - 1;
	for (j = last + 1; j-- > first;) {
		struct kreg_supervised *c = &sup->children[j];

		if (j != i && c->pid) {
			kreg_child_stop(c);
			if (c->spec.restart == KREG_TEMPORARY)
				c->done = true;
		}
	}
	for (j = first; j <= last; j++) {
		struct kreg_supervised *c = &sup->children[j];

		if (c->done || c->pid)
			continue;
		err = kreg_child_launch(sup, c, -1);
		if (err)
			return err;
	}
	return 0;
}

int kreg_supervisor_run(struct kreg_supervisor *sup, int timeout_ms)
{
	uint64_t deadline = kreg_deadline(timeout_ms);
	struct pollfd *fds;
	size_t i, n;
	int ready, err = 0;

	fds = calloc(sup->n ? sup->n : 1, sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	for (;;) {
		int wait_ms;

		for (i = n = 0; i < sup->n; i++)
			if (sup->children[i].pid)
				n++;
		if (!n)
			break;		/* nothing left to supervise */
		for (i = 0; i < sup->n; i++) {
			fds[i].fd = sup->children[i].pid ? kreg_child_fd(&sup->children[i]) : -1;
			fds[i].events = POLLIN;
			fds[i].revents = 0;
		}
		wait_ms = kreg_ms_left(deadline, timeout_ms);
		if (wait_ms == 0) {
			err = -ETIMEDOUT;
			break;
		}
		ready = poll(fds, sup->n, wait_ms);
		if (ready < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		/*
		 * One exit at a time: handling it may stop and relaunch other
		 * children, which makes the rest of this poll's answer stale.
		 */
		for (i = 0; ready > 0 && i < sup->n; i++) {
			if (!(fds[i].revents & POLLIN) || !sup->children[i].pid)
				continue;
			err = kreg_handle_exit(sup, i, kreg_child_reap(&sup->children[i]));
			break;
		}
		if (err)
			break;
	}
	free(fds);
	return err;
}
