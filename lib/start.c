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
#include <sys/eventfd.h>
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
	char name[KREG_NAME_MAX + 1];	/* "": no name */
	const struct kreg_module *module;
	int (*start)(struct kreg_conn *conn, void *arg);
	void *args;
	int report_fd;
	struct kreg_thread_child *child;	/* NULL: kreg_start_link()'s, detached */
};

/* What a child thread leaves when it ends, however it ends. */
struct kreg_thread_end {
	struct kreg_conn *conn;
	struct kreg_thread_child *child;	/* NULL: nobody waits for the end */
	int status;				/* a wait status, as a process's */
};

/*
 * As a process's exit does: names first, then the mailbox; then the
 * supervisor hears of it. Also what a cancel (a supervisor's "kill") runs.
 */
static void kreg_thread_end(void *arg)
{
	struct kreg_thread_end *end = arg;
	uint64_t one = 1;

	kreg_local_release_self();
	kreg_close(end->conn);
	if (!end->child)
		return;
	end->child->status = end->status;
	/* An eventfd's write of 1 fails only on overflow, after 2^64 - 2 of them. */
	if (write(end->child->done_fd, &one, sizeof(one)) < 0)
		kreg_log(KREG_LOG_ERROR, "a child thread cannot say it ended: %s",
			 kreg_strerror(-errno));
}

/* The thread's start or server: the only part a cancel may cut short. */
static void kreg_thread_run(const struct kreg_thread_start *ts, struct kreg_thread_end *end,
			    const struct kreg_start_report *r, struct kreg_init_report *ir)
{
	int code;

	end->status = SIGKILL;		/* what a cancel leaves */
	pthread_cleanup_push(kreg_thread_end, end);
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	if (!ts->module) {
		kreg_write_report(ts->report_fd, r);
		code = ts->start(end->conn, ts->args) & 0xff;
	} else {
		code = kreg_serve_until(end->conn, ts->name, ts->module, ts->args,
					kreg_report_init, ir,
					ts->child ? ts->child->stop_fd : -1) ? 1 : 0;
	}
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	end->status = code << 8;	/* WIFEXITED, WEXITSTATUS */
	pthread_cleanup_pop(1);
}

/* As kreg_process_main(), in a thread. */
static void *kreg_thread_main(void *p)
{
	struct kreg_thread_start ts = *(struct kreg_thread_start *)p;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	struct kreg_init_report ir = { .fd = ts.report_fd, .pid = tid };
	struct kreg_start_report r = { .pid = tid };
	struct kreg_thread_end end = { .child = ts.child };

	free(p);
	/* Taking the name and letting it go are not to be cut short. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	if (ts.child)
		__atomic_store_n(&ts.child->tid, tid, __ATOMIC_RELEASE);
	if (ts.name[0]) {
		r.err = kreg_open_provider(&end.conn, KREG_PROVIDER_LOCAL);
		if (!r.err)
			r.err = kreg_take_name(end.conn, ts.name, &r);
		if (r.err || r.how == KREG_ALREADY_STARTED) {
			kreg_write_report(ts.report_fd, &r);
			end.status = KREG_EXIT_NAME_HELD << 8;
			kreg_thread_end(&end);
			return NULL;
		}
		r.pid = tid;
	}
	kreg_thread_run(&ts, &end, &r, &ir);
	return NULL;
}

/* Starts the thread; 0 once it runs (it reports on @report_fd itself). */
static int kreg_thread_launch(const char *name, const struct kreg_module *module,
			      int (*start)(struct kreg_conn *conn, void *arg), void *args,
			      int report_fd, struct kreg_thread_child *child)
{
	struct kreg_thread_start *ts = calloc(1, sizeof(*ts));
	pthread_attr_t attr;
	pthread_t thread;
	int err;

	if (!ts)
		return -ENOMEM;
	if (name)
		memcpy(ts->name, name, strlen(name) + 1);
	ts->module = module;
	ts->start = start;
	ts->args = args;
	ts->report_fd = report_fd;
	ts->child = child;
	pthread_attr_init(&attr);
	if (!child)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = -pthread_create(child ? &child->thread : &thread, &attr, kreg_thread_main, ts);
	pthread_attr_destroy(&attr);
	if (err)
		free(ts);
	else if (child)
		child->started = true;
	return err;
}

int kreg_thread_child_start(struct kreg_thread_child *child, const char *name,
			    const struct kreg_module *module,
			    int (*start)(struct kreg_conn *conn, void *arg), void *arg,
			    int report_fd)
{
	int err;

	child->status = 0;
	child->tid = 0;
	child->started = false;
	child->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	child->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = child->stop_fd < 0 || child->done_fd < 0 ? -errno : 0;
	if (!err)
		err = kreg_thread_launch(name, module, start, arg, report_fd, child);
	if (err) {
		kreg_thread_child_reap(child);
		return err;
	}
	return 0;
}

void kreg_thread_child_reap(struct kreg_thread_child *child)
{
	if (child->started)
		pthread_join(child->thread, NULL);
	child->started = false;
	if (child->stop_fd >= 0)
		close(child->stop_fd);
	if (child->done_fd >= 0)
		close(child->done_fd);
	child->stop_fd = child->done_fd = -1;
}

static int kreg_start_thread(const char *name, const struct kreg_module *module,
			     void *args, struct kreg_start_report *r)
{
	int fds[2], err;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	err = kreg_thread_launch(name, module, NULL, args, fds[1], NULL);
	if (err)
		close(fds[1]);
	else
		err = kreg_read_report(fds[0], r);
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
