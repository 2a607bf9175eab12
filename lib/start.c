// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Starting named servers (Commanded's start_link): a child process for the
 * kernel provider, a thread for the local one. Either way the new server
 * takes its name itself, in one atomic registration, and tells its starter
 * over a pipe whether it holds the name (and init ran) or who does.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

static void kreg_write_report(int fd, const struct kreg_start_report *r)
{
	if (fd < 0)
		return;
	/* Smaller than PIPE_BUF: one write, whole or not at all. */
	if (write(fd, r, sizeof(*r)) != (ssize_t)sizeof(*r))
		kreg_log(KREG_LOG_ERROR, "cannot report a start: %s", kreg_strerror(-errno));
	close(fd);
}

int kreg_read_report(int fd, struct kreg_start_report *r)
{
	ssize_t n;

	do {
		n = read(fd, r, sizeof(*r));
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*r) ? 0 : -ECHILD;
}

struct kreg_init_report {
	int fd;
	pid_t pid;
};

/* kreg_serve_until()'s @started: init ran, with this result. */
static void kreg_report_init(int err, void *arg)
{
	struct kreg_init_report *ir = arg;
	struct kreg_start_report r = { .err = err, .pid = ir->pid, .how = KREG_STARTED };

	kreg_write_report(ir->fd, &r);
}

/*
 * Takes @name in @conn's table for the calling process or thread. 0 with
 * r->how saying whether it was already held (r->pid: the holder), or an error.
 */
static int kreg_take_name(struct kreg_conn *conn, const char *name,
			  struct kreg_start_report *r)
{
	int err = kreg_register(conn, name, 0, &r->pid);

	r->how = KREG_STARTED;
	kreg_last_holder(conn, &r->holder);
	/*
	 * A holder this namespace cannot see has no pid to report; one on
	 * another node has no local pid, but a node and a token.
	 */
	if (err == -EEXIST && (r->pid > 0 || !r->holder.local)) {
		r->how = KREG_ALREADY_STARTED;
		err = 0;
	}
	return err;
}

void kreg_process_main(pid_t parent, enum kreg_provider provider, const char *name,
		       const struct kreg_module *module,
		       int (*start)(struct kreg_conn *conn, void *arg),
		       void *arg, int report_fd)
{
	struct kreg_start_report r = { .pid = getpid() };
	struct kreg_init_report ir = { .fd = report_fd, .pid = getpid() };
	struct kreg_conn *conn = NULL;
	sigset_t term;
	int sfd;

	/* Linked: the child gets SIGTERM when the thread that started it ends. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if (name) {
		r.err = kreg_open_provider(&conn, provider);
		if (!r.err)
			r.err = kreg_take_name(conn, name, &r);
		if (r.err || r.how == KREG_ALREADY_STARTED) {
			kreg_write_report(report_fd, &r);
			_exit(KREG_EXIT_NAME_HELD);
		}
		r.pid = getpid();
	}
	if (!module) {
		kreg_write_report(report_fd, &r);
		_exit(start(conn, arg) & 0xff);
	}
	/* SIGTERM (a supervisor's stop, a linked starter's end) runs terminate. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	sfd = signalfd(-1, &term, SFD_CLOEXEC);
	_exit(kreg_serve_until(conn, name, module, arg, kreg_report_init, &ir, sfd) ? 1 : 0);
}

static int kreg_start_process(enum kreg_provider provider, const char *name,
			      const struct kreg_module *module, void *args,
			      struct kreg_start_report *r)
{
	pid_t parent = getpid(), child;
	int fds[2], err;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	child = fork();
	if (child < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (child == 0) {
		close(fds[0]);
		kreg_process_main(parent, provider, name, module, NULL, args, fds[1]);
	}
	close(fds[1]);
	err = kreg_read_report(fds[0], r);
	close(fds[0]);
	if (!err)
		err = r->err;
	if (err || r->how == KREG_ALREADY_STARTED)
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
	return err;
}

struct kreg_thread_start {
	char name[KREG_NAME_MAX + 1];
	const struct kreg_module *module;
	void *args;
	int report_fd;
};

static void *kreg_server_thread(void *p)
{
	struct kreg_thread_start ts = *(struct kreg_thread_start *)p;
	struct kreg_init_report ir = { .fd = ts.report_fd, .pid = (pid_t)syscall(SYS_gettid) };
	struct kreg_start_report r = { 0 };
	struct kreg_conn *conn = NULL;

	free(p);
	r.err = kreg_open_provider(&conn, KREG_PROVIDER_LOCAL);
	if (!r.err)
		r.err = kreg_take_name(conn, ts.name, &r);
	if (r.err || r.how == KREG_ALREADY_STARTED)
		kreg_write_report(ts.report_fd, &r);
	else
		kreg_serve_until(conn, ts.name, ts.module, ts.args, kreg_report_init, &ir, -1);
	/* As a process's exit does: names first, then the mailbox. */
	kreg_local_release_self();
	kreg_close(conn);
	return NULL;
}

static int kreg_start_thread(const char *name, const struct kreg_module *module,
			     void *args, struct kreg_start_report *r)
{
	struct kreg_thread_start *ts = calloc(1, sizeof(*ts));
	pthread_attr_t attr;
	pthread_t thread;
	int fds[2], err;

	if (!ts)
		return -ENOMEM;
	if (pipe2(fds, O_CLOEXEC)) {
		free(ts);
		return -errno;
	}
	memcpy(ts->name, name, strlen(name) + 1);
	ts->module = module;
	ts->args = args;
	ts->report_fd = fds[1];
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = -pthread_create(&thread, &attr, kreg_server_thread, ts);
	pthread_attr_destroy(&attr);
	if (err) {
		free(ts);
		close(fds[1]);
	} else {
		err = kreg_read_report(fds[0], r);
	}
	close(fds[0]);
	return err ? err : r->err;
}

int kreg_start_link(struct kreg_conn *conn, const char *name,
		    const struct kreg_module *module, void *args, pid_t *pid,
		    enum kreg_started *how)
{
	struct kreg_start_report r = { 0 };
	const char *problem = kreg_name_problem(name);
	int err;

	if (*problem) {
		kreg_set_error(conn, "%s", problem);
		return -EINVAL;
	}
	if (kreg_registry_provider(conn) == KREG_PROVIDER_LOCAL)
		err = kreg_start_thread(name, module, args, &r);
	else
		err = kreg_start_process(kreg_registry_provider(conn), name, module, args, &r);
	if (err)
		return err;
	conn->last_holder = r.holder;
	conn->has_last_holder = true;
	if (r.how == KREG_STARTED) {
		memset(&conn->last_holder, 0, sizeof(conn->last_holder));
		conn->last_holder.pid = r.pid;
		conn->last_holder.local = true;
	}
	/* A holder on another node has no pid here: kreg_last_holder() tells it. */
	if (pid)
		*pid = r.how == KREG_ALREADY_STARTED && !r.holder.local ? 0 : r.pid;
	if (how)
		*how = r.how;
	return 0;
}
