// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The local provider: the kernel table's semantics inside one process.
 *
 * Threads hold names; a holder's pid is its thread id. One mutex guards the
 * whole table, which keeps every change, its event and its delivery in one
 * order, as the kernel's table lock does. A thread's names go when it ends:
 * a thread-specific value's destructor drops them, the local counterpart of
 * the exit kfunc, so a lookup never finds a thread that has ended.
 *
 * Each handle is a port: a mailbox queue and an event queue, with an
 * eventfd that is readable while either has something, so a handle polls
 * the same way whichever provider it uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* A mailbox holds this much before senders get -EAGAIN (the kernel's default). */
#define KREG_LOCAL_MAILBOX_BYTES (256 * 1024)
/* Events kept for a subscriber before later ones are lost (-ENOBUFS). */
#define KREG_LOCAL_EVENTS_MAX 65536

struct kreg_local_holder;

/*
 * A name, or a place in line for one (KREG_F_QUEUE in @flags): a thread
 * waiting for a held name is in its holder's list like a name, so that it
 * leaves the line when it ends, but in no bucket: lookups never find it.
 */
struct kreg_local_entry {
	struct kreg_local_entry *next;		/* in its hash bucket */
	struct kreg_local_entry *held_next;	/* among its holder's names */
	struct kreg_local_entry **held_pprev;
	/* A name's first in line; a place in line's next, and what points at it. */
	struct kreg_local_entry *line;
	struct kreg_local_entry **line_pprev;
	struct kreg_local_holder *holder;
	struct kreg_local_port *mailbox;	/* NULL: none */
	uint32_t flags;				/* KREG_F_* */
	uint64_t registered_ns;
	uid_t uid;
	size_t meta_len;
	unsigned char *meta;			/* after the name */
	char name[];
};

/* A thread that holds names; its thread-specific value. */
struct kreg_local_holder {
	pid_t tid;
	struct kreg_local_entry *names;
};

/* Something queued on a port: a delivery or an event. */
struct kreg_local_item {
	struct kreg_local_item *next;
	size_t size;				/* payload bytes, for the mailbox's cap */
	struct kreg_event *ev;			/* an event, or else a delivery: */
	pid_t sender;
	char name[KREG_NAME_MAX + 1];
	char from_name[KREG_NAME_MAX + 1];	/* what the sender proved it holds */
	_Alignas(16) unsigned char data[];	/* the event, or the payload */
};

struct kreg_local_fifo {
	struct kreg_local_item *head, **tail;
	size_t count, bytes;
};

struct kreg_local_port {
	struct kreg_local_port *next;		/* among all ports */
	int efd;
	size_t mailbox_of;			/* names whose mailbox this is */
	bool subscribed, events_lost;
	char *pattern;			/* the subscription's (NULL: every name) */
	struct kreg_local_fifo deliveries, events;
};

static struct {
	pthread_mutex_t lock;
	struct kreg_local_entry **buckets;
	size_t nbuckets, count;
	struct kreg_local_port *ports;
	pthread_key_t holder_key;
} kreg_local = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * The table's lock, with cancellation off while it is held: a supervisor
 * cancels a thread child that outlived its grace period (its SIGKILL), and
 * one cancelled at a read() or write() under the lock would hold it for
 * ever. The lock is not recursive, so one saved state per thread suffices.
 */
static __thread int kreg_local_cancel_state;

static void kreg_local_lock(void)
{
	int state;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	pthread_mutex_lock(&kreg_local.lock);
	kreg_local_cancel_state = state;
}

static void kreg_local_unlock(void)
{
	int state = kreg_local_cancel_state;

	pthread_mutex_unlock(&kreg_local.lock);
	pthread_setcancelstate(state, NULL);
}

static pthread_once_t kreg_local_once = PTHREAD_ONCE_INIT;
static void kreg_local_init(void);

static pid_t kreg_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static uint64_t kreg_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* FNV-1a: names are short, and a process's table holds its own names only. */
static size_t kreg_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 0x100000001b3ull;
	return (size_t)h;
}

static struct kreg_local_entry **kreg_local_slot(const char *name)
{
	struct kreg_local_entry **slot;

	if (!kreg_local.nbuckets)
		return NULL;
	slot = &kreg_local.buckets[kreg_hash(name) & (kreg_local.nbuckets - 1)];
	while (*slot && strcmp((*slot)->name, name))
		slot = &(*slot)->next;
	return slot;
}

/* Doubles the buckets when the table is as full as it is wide. */
static int kreg_local_grow(void)
{
	size_t n = kreg_local.nbuckets ? 2 * kreg_local.nbuckets : 64, i;
	struct kreg_local_entry **b;

	if (kreg_local.count < kreg_local.nbuckets)
		return 0;
	b = calloc(n, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (i = 0; i < kreg_local.nbuckets; i++) {
		while (kreg_local.buckets[i]) {
			struct kreg_local_entry *e = kreg_local.buckets[i];
			size_t j = kreg_hash(e->name) & (n - 1);

			kreg_local.buckets[i] = e->next;
			e->next = b[j];
			b[j] = e;
		}
	}
	free(kreg_local.buckets);
	kreg_local.buckets = b;
	kreg_local.nbuckets = n;
	return 0;
}

static void kreg_fifo_init(struct kreg_local_fifo *f)
{
	f->head = NULL;
	f->tail = &f->head;
	f->count = 0;
	f->bytes = 0;
}

static void kreg_fifo_push(struct kreg_local_fifo *f, struct kreg_local_item *it)
{
	it->next = NULL;
	*f->tail = it;
	f->tail = &it->next;
	f->count++;
	f->bytes += it->size;
}

static struct kreg_local_item *kreg_fifo_pop(struct kreg_local_fifo *f)
{
	struct kreg_local_item *it = f->head;

	if (!it)
		return NULL;
	f->head = it->next;
	if (!f->head)
		f->tail = &f->head;
	f->count--;
	f->bytes -= it->size;
	return it;
}

static void kreg_fifo_free(struct kreg_local_fifo *f)
{
	struct kreg_local_item *it;

	while ((it = kreg_fifo_pop(f)))
		free(it);
}

/* Makes the port's eventfd readable; the caller holds the lock. */
static void kreg_port_wake(struct kreg_local_port *port)
{
	uint64_t one = 1;

	if (write(port->efd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow: readers reset it to 0. */
	}
}

/* Announces a change to every subscribed port; the caller holds the lock. */
static void kreg_local_announce(const struct kreg_local_entry *e,
				enum kreg_event_kind kind, enum kreg_reason reason)
{
	struct kreg_local_port *port;

	for (port = kreg_local.ports; port; port = port->next) {
		struct kreg_local_item *it;

		if (!port->subscribed ||
		    (port->pattern && !kreg_pattern_matches(port->pattern, strlen(port->pattern),
							    e->name, strlen(e->name))))
			continue;
		if (port->events.count >= KREG_LOCAL_EVENTS_MAX) {
			port->events_lost = true;
			kreg_port_wake(port);
			continue;
		}
		it = calloc(1, sizeof(*it) + sizeof(*it->ev));
		if (!it) {
			port->events_lost = true;
			kreg_port_wake(port);
			continue;
		}
		it->ev = (struct kreg_event *)it->data;
		it->ev->kind = kind;
		memcpy(it->ev->name, e->name, strlen(e->name) + 1);
		it->ev->pid = e->holder->tid;
		it->ev->uid = e->uid;
		it->ev->reason = reason;
		if (kind != KREG_EVENT_UNREGISTERED) {
			it->ev->meta_len = e->meta_len;
			memcpy(it->ev->meta, e->meta, e->meta_len);
		}
		kreg_fifo_push(&port->events, it);
		kreg_port_wake(port);
	}
}

/* @e leaves its holder's list and its mailbox's count; the caller holds the lock. */
static void kreg_local_unhold(struct kreg_local_entry *e)
{
	*e->held_pprev = e->held_next;
	if (e->held_next)
		e->held_next->held_pprev = e->held_pprev;
	kreg_local.count--;
	if (e->mailbox)
		e->mailbox->mailbox_of--;
}

/* A place in line goes, untold (no lookup ever found it); the caller holds the lock. */
static void kreg_local_leave_line(struct kreg_local_entry *w)
{
	*w->line_pprev = w->line;
	if (w->line)
		w->line->line_pprev = w->line_pprev;
	kreg_local_unhold(w);
	free(w);
}

/*
 * Takes the name @slot points at out of the table and its holder's list;
 * the first in its line, if any, takes its place in the bucket in the same
 * step (every waiting thread lives: a thread's end takes it out of line).
 * The caller holds the lock.
 */
static void kreg_local_remove(struct kreg_local_entry **slot, enum kreg_reason reason)
{
	struct kreg_local_entry *e = *slot, *next = e->line;

	if (next) {
		next->next = e->next;
		next->flags &= ~KREG_F_QUEUE;
		next->registered_ns = kreg_realtime_ns();
		if (next->line)
			next->line->line_pprev = &next->line;
		next->line_pprev = NULL;
		*slot = next;
	} else {
		*slot = e->next;
	}
	kreg_local_unhold(e);
	kreg_local_announce(e, KREG_EVENT_UNREGISTERED, reason);
	if (next)
		kreg_local_announce(next, KREG_EVENT_REGISTERED, KREG_REASON_EXPLICIT);
	free(e);
}

/* A name or a place in line goes; the caller holds the lock. */
static void kreg_local_drop(struct kreg_local_entry *e, enum kreg_reason reason)
{
	if (e->flags & KREG_F_QUEUE)
		kreg_local_leave_line(e);
	else
		kreg_local_remove(kreg_local_slot(e->name), reason);
}

static void kreg_local_drop_names(struct kreg_local_holder *h)
{
	kreg_local_lock();
	while (h->names)
		kreg_local_drop(h->names, KREG_REASON_EXITED);
	kreg_local_unlock();
}

/* A holder thread ends: its names go, as a process's go in the kernel. */
static void kreg_local_thread_exit(void *arg)
{
	kreg_local_drop_names(arg);
	free(arg);
}

void kreg_local_release_self(void)
{
	struct kreg_local_holder *h;

	pthread_once(&kreg_local_once, kreg_local_init);
	h = pthread_getspecific(kreg_local.holder_key);
	if (h)
		kreg_local_drop_names(h);
}

/*
 * fork() copies the table with the parent's threads in it, and eventfds
 * shared with the parent. The child starts with no names, and its handles
 * get eventfds of their own, so nothing it does reaches the parent.
 */
static void kreg_local_fork_prepare(void)
{
	kreg_local_lock();
}

static void kreg_local_fork_parent(void)
{
	kreg_local_unlock();
}

static void kreg_local_fork_child(void)
{
	struct kreg_local_holder *holder;
	struct kreg_local_port *port;
	size_t i;

	for (i = 0; i < kreg_local.nbuckets; i++) {
		while (kreg_local.buckets[i]) {
			struct kreg_local_entry *e = kreg_local.buckets[i], *w;

			kreg_local.buckets[i] = e->next;
			while ((w = e->line)) {
				e->line = w->line;
				free(w);
			}
			free(e);
		}
	}
	kreg_local.count = 0;
	for (port = kreg_local.ports; port; port = port->next) {
		int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		if (efd >= 0) {
			dup3(efd, port->efd, O_CLOEXEC);
			close(efd);
		}
		kreg_fifo_free(&port->deliveries);
		kreg_fifo_free(&port->events);
		port->events_lost = false;
		port->mailbox_of = 0;
	}
	/* The forking thread is the child's only one, under a new tid. */
	holder = pthread_getspecific(kreg_local.holder_key);
	if (holder) {
		holder->tid = kreg_gettid();
		holder->names = NULL;
	}
	kreg_local_unlock();
}

static void kreg_local_init(void)
{
	if (pthread_key_create(&kreg_local.holder_key, kreg_local_thread_exit))
		abort();	/* out of keys at first use: nothing sensible is left */
	pthread_atfork(kreg_local_fork_prepare, kreg_local_fork_parent,
		       kreg_local_fork_child);
}

static int kreg_local_open(struct kreg_conn *conn)
{
	struct kreg_local_port *port;

	pthread_once(&kreg_local_once, kreg_local_init);
	port = calloc(1, sizeof(*port));
	if (!port)
		return -ENOMEM;
	port->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (port->efd < 0) {
		free(port);
		return -errno;
	}
	kreg_fifo_init(&port->deliveries);
	kreg_fifo_init(&port->events);
	conn->port = port;
	kreg_local_lock();
	port->next = kreg_local.ports;
	kreg_local.ports = port;
	kreg_local_unlock();
	return 0;
}

/* The places in @e's line whose mailbox is @port, closing: bound ones leave the line. */
static void kreg_local_close_line(struct kreg_local_entry *e, struct kreg_local_port *port)
{
	struct kreg_local_entry *w = e->line, *next;

	for (; w; w = next) {
		next = w->line;
		if (w->mailbox != port)
			continue;
		if (w->flags & KREG_F_MAILBOX_BOUND) {
			kreg_local_leave_line(w);
		} else {
			w->mailbox = NULL;
			port->mailbox_of--;
		}
	}
}

static void kreg_local_close(struct kreg_conn *conn)
{
	struct kreg_local_port *port = conn->port, **pp;
	size_t i;

	if (!port)
		return;
	kreg_local_lock();
	for (pp = &kreg_local.ports; *pp; pp = &(*pp)->next) {
		if (*pp == port) {
			*pp = port->next;
			break;
		}
	}
	/*
	 * Its names stay registered, without a mailbox, as in the kernel; those
	 * bound to it go.
	 */
	for (i = 0; port->mailbox_of && i < kreg_local.nbuckets; i++) {
		struct kreg_local_entry **slot = &kreg_local.buckets[i], *e;

		while ((e = *slot)) {
			kreg_local_close_line(e, port);
			if (e->mailbox != port) {
				slot = &e->next;
			} else if (e->flags & KREG_F_MAILBOX_BOUND) {
				/* Its first in line, if any, is in its slot now. */
				kreg_local_remove(slot, KREG_REASON_CLOSED);
			} else {
				e->mailbox = NULL;
				port->mailbox_of--;
				slot = &e->next;
			}
		}
	}
	kreg_local_unlock();
	kreg_fifo_free(&port->deliveries);
	kreg_fifo_free(&port->events);
	close(port->efd);
	free(port->pattern);
	free(port);
	conn->port = NULL;
}

static int kreg_local_fd(const struct kreg_conn *conn)
{
	return conn->port->efd;
}

/* Every request about a name starts here: the last error cleared, the name judged. */
static int kreg_local_begin(struct kreg_conn *conn, const char *name)
{
	const char *problem = kreg_name_problem(name);

	conn->error[0] = '\0';
	if (!*problem)
		return 0;
	kreg_set_error(conn, "%s", problem);
	return -EINVAL;
}

/* The calling thread's holder record, made on its first registration. */
static struct kreg_local_holder *kreg_local_self(void)
{
	struct kreg_local_holder *h = pthread_getspecific(kreg_local.holder_key);

	if (h)
		return h;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->tid = kreg_gettid();
	if (pthread_setspecific(kreg_local.holder_key, h)) {
		free(h);
		return NULL;
	}
	return h;
}

/*
 * Whether @tid is a thread of this process that is not exiting. A thread
 * is signalable for a moment after pthread_join() returned (the kernel
 * clears its id, which wakes the joiner, before it lets go of it), so
 * tgkill() alone would call a joined thread alive. Its flags say
 * PF_EXITING from before that moment on.
 */
static bool kreg_local_thread_lives(pid_t tid)
{
	const unsigned long pf_exiting = 0x4;	/* include/linux/sched.h */
	char path[64], line[512], *end;
	unsigned long flags;
	ssize_t n = -1;
	int fd, state;

	if (syscall(SYS_tgkill, getpid(), tid, 0) != 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, line, sizeof(line) - 1);
		close(fd);
	}
	pthread_setcancelstate(state, NULL);
	/* Gone since, if /proc is there to say so; else tgkill() is all there is. */
	if (fd < 0)
		return errno != ENOENT || access("/proc/self/task", F_OK) != 0;
	/*
	 * Opened, then ESRCH: the task left between the two (its stat reads
	 * so once it is unhashed), so it was exiting when tgkill() found it.
	 */
	if (n < 0 && errno == ESRCH)
		return false;
	if (n <= 0)
		return true;
	line[n] = '\0';
	/* After the comm's ')': state, ppid, pgrp, session, tty, tpgid, flags. */
	end = strrchr(line, ')');
	if (!end || sscanf(end + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return true;
	return !(flags & pf_exiting);
}


/* An entry with its name and value in place, in no list yet; NULL: no memory. */
static struct kreg_local_entry *kreg_local_entry_new(const char *name, const void *meta,
						     size_t meta_len)
{
	size_t len = strnlen(name, KREG_NAME_MAX + 1);
	struct kreg_local_entry *e = calloc(1, sizeof(*e) + len + 1 + meta_len);

	if (!e)
		return NULL;
	memcpy(e->name, name, len);
	e->meta = (unsigned char *)e->name + len + 1;
	if (meta_len)
		memcpy(e->meta, meta, meta_len);
	e->meta_len = meta_len;
	return e;
}

/* @e joins its holder's list and its mailbox's count; the caller holds the lock. */
static void kreg_local_hold(struct kreg_conn *conn, struct kreg_local_entry *e)
{
	struct kreg_local_holder *h = e->holder;

	e->held_next = h->names;
	e->held_pprev = &h->names;
	if (h->names)
		h->names->held_pprev = &e->held_next;
	h->names = e;
	kreg_local.count++;
	conn->port->mailbox_of++;
}

/*
 * @w, a place in line, goes last in @held's line: -EINPROGRESS, or -EEXIST
 * when its thread holds the name, -EALREADY when it waits for it already,
 * -EUSERS when KREG_LINE_MAX do, as in the kernel.
 * The caller holds the lock.
 */
static int kreg_local_join_line(struct kreg_conn *conn, struct kreg_local_entry *held,
				struct kreg_local_entry *w)
{
	struct kreg_local_entry **tail = &held->line;
	unsigned int waiting = 0;

	if (held->holder == w->holder)
		return -EEXIST;
	for (; *tail; tail = &(*tail)->line, waiting++) {
		if ((*tail)->holder == w->holder) {
			kreg_set_error(conn, "this thread waits in line for the name already");
			return -EALREADY;
		}
	}
	if (waiting >= KREG_LINE_MAX) {
		kreg_set_error(conn, "the line for this name is full (KREG_LINE_MAX)");
		return -EUSERS;
	}
	w->line = NULL;
	w->line_pprev = tail;
	*tail = w;
	kreg_local_hold(conn, w);
	kreg_set_error(conn, "the name is held: this thread waits in line for it");
	return -EINPROGRESS;
}

static int kreg_local_register(struct kreg_conn *conn, const char *name, pid_t pid,
			       const void *meta, size_t meta_len, uint32_t flags,
			       struct kreg_holder *holder)
{
	struct kreg_local_entry **slot, *e;
	struct kreg_local_holder *h;
	int err;

	err = kreg_local_begin(conn, name);
	if (err)
		return err;
	if (meta_len > KREG_META_MAX) {
		kreg_set_error(conn, "the value is larger than KREG_META_MAX (%d bytes)",
			       KREG_META_MAX);
		return -EMSGSIZE;
	}
	if (pid < 0) {
		kreg_set_error(conn, "the pid must be a positive process id");
		return -EINVAL;
	}
	if (pid && pid != kreg_gettid()) {
		/* Only a thread's own end can drop its names: it registers itself. */
		if (kreg_local_thread_lives(pid)) {
			kreg_set_error(conn, "a thread can register only itself");
			return -EPERM;
		}
		kreg_set_error(conn, "no thread of this process has this id");
		return -ESRCH;
	}
	h = kreg_local_self();
	e = kreg_local_entry_new(name, meta, meta_len);
	if (!h || !e) {
		free(e);
		return -ENOMEM;
	}
	e->holder = h;
	e->mailbox = conn->port;
	e->flags = flags;
	e->uid = getuid();
	e->registered_ns = kreg_realtime_ns();

	kreg_local_lock();
	err = kreg_local_grow();
	slot = err ? NULL : kreg_local_slot(name);
	if (slot && *slot) {
		holder->pid = (*slot)->holder->tid;
		holder->local = true;
		err = (flags & KREG_F_QUEUE) ? kreg_local_join_line(conn, *slot, e) : -EEXIST;
		if (err == -EEXIST)
			kreg_set_error(conn, "the name is already registered");
		if (err == -EINPROGRESS)
			e = NULL;
	} else if (slot) {
		e->flags &= ~KREG_F_QUEUE;
		*slot = e;
		kreg_local_hold(conn, e);
		kreg_local_announce(e, KREG_EVENT_REGISTERED, KREG_REASON_EXPLICIT);
		holder->pid = h->tid;
		holder->local = true;
		e = NULL;
	}
	kreg_local_unlock();
	free(e);
	return err;
}

static int kreg_local_unregister(struct kreg_conn *conn, const char *name)
{
	struct kreg_local_entry **slot;
	int err;

	err = kreg_local_begin(conn, name);
	if (err)
		return err;
	kreg_local_lock();
	slot = kreg_local_slot(name);
	if (slot && *slot) {
		struct kreg_local_entry *w = (*slot)->line;
		struct kreg_local_holder *self = pthread_getspecific(kreg_local.holder_key);

		/* A thread in line leaves it, as D-Bus's ReleaseName does: the holder stays. */
		while (w && (!self || w->holder != self))
			w = w->line;
		if (w)
			kreg_local_leave_line(w);
		else
			kreg_local_remove(slot, KREG_REASON_EXPLICIT);
	} else {
		err = -ENOENT;
	}
	kreg_local_unlock();
	if (err)
		kreg_set_error(conn, "the name is not registered");
	return err;
}

/*
 * A copy of the entry with the new value takes its place in its bucket and
 * in its holder's list, under the lock: no lookup finds no name meanwhile.
 * Every thread of the process is its uid, as for unregistering.
 */
static int kreg_local_update_meta(struct kreg_conn *conn, const char *name,
				  const void *meta, size_t meta_len)
{
	struct kreg_local_entry **slot, *old, *e;
	int err;

	err = kreg_local_begin(conn, name);
	if (err)
		return err;
	e = kreg_local_entry_new(name, meta, meta_len);
	if (!e)
		return -ENOMEM;

	kreg_local_lock();
	slot = kreg_local_slot(name);
	old = slot ? *slot : NULL;
	if (old) {
		e->next = old->next;
		e->held_next = old->held_next;
		e->held_pprev = old->held_pprev;
		*e->held_pprev = e;
		if (e->held_next)
			e->held_next->held_pprev = &e->held_next;
		e->line = old->line;
		if (e->line)
			e->line->line_pprev = &e->line;
		e->holder = old->holder;
		e->mailbox = old->mailbox;
		e->flags = old->flags;
		e->uid = old->uid;
		e->registered_ns = old->registered_ns;
		*slot = e;
		kreg_local_announce(e, KREG_EVENT_UPDATED, KREG_REASON_EXPLICIT);
		e = old;
	} else {
		err = -ENOENT;
	}
	kreg_local_unlock();
	free(e);
	if (err)
		kreg_set_error(conn, "the name is not registered");
	return err;
}

/* One process's table: always current, never linearizable's concern. */
static int kreg_local_whereis(struct kreg_conn *conn, const char *name, unsigned int flags,
			      void *meta, size_t size, size_t *meta_len,
			      struct kreg_holder *holder)
{
	struct kreg_local_entry **slot;
	int err;

	(void)flags;
	err = kreg_local_begin(conn, name);
	if (err)
		return err;
	kreg_local_lock();
	slot = kreg_local_slot(name);
	if (slot && *slot) {
		struct kreg_local_entry *e = *slot;

		holder->pid = e->holder->tid;
		holder->local = true;
		if (meta)
			memcpy(meta, e->meta, e->meta_len < size ? e->meta_len : size);
		if (meta_len)
			*meta_len = e->meta_len;
	} else {
		err = KREG_UNDEFINED;
	}
	kreg_local_unlock();
	return err;
}

/* Every name in this process's table is its uid's; nothing limits them. */
static int kreg_local_status(struct kreg_conn *conn, struct kreg_status *st)
{
	(void)conn;
	memset(st, 0, sizeof(*st));
	kreg_local_lock();
	st->entries = kreg_local.count;
	kreg_local_unlock();
	st->uid = geteuid();
	st->uid_entries = st->entries;
	return 0;
}

/* An entry as kreg_local_list() copied it. */
struct kreg_local_snap {
	struct kreg_entry_info info;
	char name[];
};

/*
 * Copies the table, then reports it unlocked, so that @fn may use the
 * registry. Entries are copied whole: names and values are small.
 */
static int kreg_local_list(struct kreg_conn *conn, const struct kreg_filter *f,
			   kreg_list_fn fn, void *arg)
{
	size_t plen = f && f->pattern ? strlen(f->pattern) : 0;
	struct kreg_local_snap **copy;
	struct kreg_local_entry *e;
	size_t i, n = 0;
	int err = 0;

	conn->error[0] = '\0';
	kreg_local_lock();
	copy = calloc(kreg_local.count ? kreg_local.count : 1, sizeof(*copy));
	if (!copy)
		err = -ENOMEM;
	for (i = 0; !err && i < kreg_local.nbuckets; i++) {
		for (e = kreg_local.buckets[i]; !err && e; e = e->next) {
			size_t len = strlen(e->name) + 1;
			struct kreg_local_snap *c;

			if ((plen && !kreg_pattern_matches(f->pattern, plen, e->name, len - 1)) ||
			    (f && f->pid && f->pid != e->holder->tid))
				continue;
			c = malloc(sizeof(*c) + len + e->meta_len);
			if (!c) {
				err = -ENOMEM;
				break;
			}
			memcpy(c->name, e->name, len + e->meta_len);
			c->info = (struct kreg_entry_info){
				.name = c->name,
				.pid = e->holder->tid,
				.uid = e->uid,
				.registered_ns = e->registered_ns,
				.has_mailbox = e->mailbox != NULL,
				.meta = e->meta_len ? c->name + len : NULL,
				.meta_len = e->meta_len,
			};
			copy[n++] = c;
		}
	}
	kreg_local_unlock();
	for (i = 0; i < n; i++) {
		if (!err)
			err = fn(&copy[i]->info, arg);
		free(copy[i]);
	}
	free(copy);
	return err;
}

/* Whether the calling thread holds @name (the caller holds the lock). */
static bool kreg_local_held_by_self(const char *name)
{
	struct kreg_local_entry **slot = kreg_local_slot(name);

	return slot && *slot && (*slot)->holder->tid == kreg_gettid();
}

static int kreg_local_send(struct kreg_conn *conn, const char *name, const char *from,
			   uint32_t flags, const void *data, size_t len)
{
	struct kreg_local_entry **slot;
	struct kreg_local_item *it;
	int err;

	err = kreg_local_begin(conn, name);
	if (!err && from && *kreg_name_problem(from)) {
		kreg_set_error(conn, "%s", kreg_name_problem(from));
		err = -EINVAL;
	}
	if (err)
		return err;
	if (len > KREG_PAYLOAD_MAX) {
		kreg_set_error(conn, "the payload is larger than KREG_PAYLOAD_MAX (%d bytes)",
			       KREG_PAYLOAD_MAX);
		return -EMSGSIZE;
	}
	it = malloc(sizeof(*it) + len);
	if (!it)
		return -ENOMEM;
	it->size = len;
	it->ev = NULL;
	memcpy(it->name, name, strlen(name) + 1);
	snprintf(it->from_name, sizeof(it->from_name), "%s", from ? from : "");
	it->sender = kreg_gettid();
	if (len)
		memcpy(it->data, data, len);

	kreg_local_lock();
	slot = kreg_local_slot(name);
	if (!slot || !*slot) {
		kreg_set_error(conn, "the name is not registered");
		err = -ENOENT;
	} else if (from && !kreg_local_held_by_self(from)) {
		kreg_set_error(conn, "the sending thread does not hold \"%s\"", from);
		err = -EPERM;
	} else if (!(*slot)->mailbox) {
		kreg_set_error(conn, "the name has no mailbox: the handle that registered it is closed");
		err = -ECONNREFUSED;
	} else if ((*slot)->mailbox->deliveries.bytes + len > KREG_LOCAL_MAILBOX_BYTES) {
		kreg_set_error(conn, "the mailbox is full: its queue has no room");
		err = -EAGAIN;
	} else {
		kreg_fifo_push(&(*slot)->mailbox->deliveries, it);
		kreg_port_wake((*slot)->mailbox);
		it = NULL;
		/* Under the lock: the receiver, once it has the message, finds it gone. */
		if (flags & KREG_SEND_F_RELEASE_FROM)
			kreg_local_remove(kreg_local_slot(from), KREG_REASON_EXPLICIT);
	}
	kreg_local_unlock();
	free(it);
	return err;
}

/*
 * Takes the next item of @fifo, waiting up to @timeout_ms on the eventfd.
 * -ENOBUFS once, when events were lost and those before the loss are read.
 */
static int kreg_local_take(struct kreg_conn *conn, struct kreg_local_fifo *fifo,
			   int timeout_ms, struct kreg_local_item **out)
{
	struct kreg_local_port *port = conn->port;
	uint64_t deadline = kreg_deadline(timeout_ms);
	struct pollfd pfd = { .fd = port->efd, .events = POLLIN };

	for (;;) {
		uint64_t count;
		int wait_ms, err = -ETIMEDOUT;

		kreg_local_lock();
		*out = kreg_fifo_pop(fifo);
		if (*out) {
			err = 0;
		} else if (fifo == &port->events && port->events_lost) {
			port->events_lost = false;
			err = -ENOBUFS;
		}
		/* Readable exactly while something is queued. */
		if (!port->deliveries.head && !port->events.head && !port->events_lost &&
		    read(port->efd, &count, sizeof(count)) < 0) {
			/* Already 0. */
		}
		kreg_local_unlock();
		if (err != -ETIMEDOUT)
			return err;
		wait_ms = kreg_ms_left(deadline, timeout_ms);
		if (wait_ms == 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR)
			return -errno;
	}
}

static int kreg_local_recv(struct kreg_conn *conn, struct kreg_message *msg,
			   int timeout_ms)
{
	struct kreg_local_item *it;
	int err = kreg_local_take(conn, &conn->port->deliveries, timeout_ms, &it);

	if (err)
		return err;
	memcpy(msg->name, it->name, strlen(it->name) + 1);
	memcpy(msg->from_name, it->from_name, strlen(it->from_name) + 1);
	msg->sender = it->sender;
	/* One process: every sender is this one, which owns every name. */
	msg->sender_uid = geteuid();
	msg->sender_gid = getegid();
	msg->sender_cgroup = 0;
	msg->sender_flags = KREG_SENDER_F_OWNER | KREG_SENDER_F_MAY_OWN | KREG_SENDER_F_HOST;
	msg->sender_node[0] = '\0';
	msg->sender_remote_pid = 0;
	msg->sender_remote_uid = (uid_t)-1;
	msg->sender_remote_gid = (gid_t)-1;
	msg->len = it->size;
	memcpy(msg->data, it->data, it->size);
	free(it);
	return 0;
}

static int kreg_local_subscribe(struct kreg_conn *conn, const char *pattern)
{
	char *copy = pattern ? strdup(pattern) : NULL, *old;

	if (pattern && !copy)
		return -ENOMEM;
	kreg_local_lock();
	conn->port->subscribed = true;
	old = conn->port->pattern;
	conn->port->pattern = copy;
	kreg_local_unlock();
	free(old);
	return 0;
}

static int kreg_local_next_event(struct kreg_conn *conn, struct kreg_event *ev,
				 int timeout_ms)
{
	struct kreg_local_item *it;
	int err = kreg_local_take(conn, &conn->port->events, timeout_ms, &it);

	if (err)
		return err;
	*ev = *it->ev;
	free(it);
	return 0;
}

/* A process's own table has no namespaces: the uid is the one it runs as. */
static int kreg_local_owner_uid(struct kreg_conn *conn, uid_t *uid)
{
	(void)conn;
	*uid = geteuid();
	return 0;
}

const struct kreg_provider_ops kreg_local_ops = {
	.provider	= KREG_PROVIDER_LOCAL,
	.open		= kreg_local_open,
	.close		= kreg_local_close,
	.fd		= kreg_local_fd,
	.register_meta	= kreg_local_register,
	.unregister	= kreg_local_unregister,
	.update_meta	= kreg_local_update_meta,
	.whereis	= kreg_local_whereis,
	.list		= kreg_local_list,
	.status		= kreg_local_status,
	.send		= kreg_local_send,
	.recv		= kreg_local_recv,
	.subscribe	= kreg_local_subscribe,
	.next_event	= kreg_local_next_event,
	.owner_uid	= kreg_local_owner_uid,
};
