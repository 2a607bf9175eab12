// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lookups without a system call: kreg.ko's read-only view of the names
 * every host process may see (the layout in linux/kreg.h, the protocol in
 * docs/view.md), mapped once per handle and searched under its sequence
 * counter.
 *
 * The view answers only what it knows for certain: a name it holds, or,
 * while it is LIVE, that a name outside "user." is not registered. For
 * anything else (a name it lacks while PARTIAL, a "user." name, a name or
 * value too long for a record, a full probe window, a writer in the middle
 * of a change for too long, no view at all) it says "ask the kernel", and
 * the caller takes the netlink path.
 *
 * A mapping is never inherited: it is made MADV_DONTFORK, and a child's
 * handles map the view anew, which the kernel refuses to a child in a new
 * pid namespace (its pids would not be the child's) or user namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel.h"

/* Searches of a view in the middle of a change before asking the kernel. */
#define KREG_VIEW_TRIES		64
/* How long a handle whose view could not be had waits before trying again. */
#define KREG_VIEW_RETRY_MS	1000

/* Forks since the library was loaded: a mapping made before one is not this process's. */
static unsigned long kreg_view_forks;
static pthread_once_t kreg_view_once = PTHREAD_ONCE_INIT;

static void kreg_view_forked(void)
{
	__atomic_add_fetch(&kreg_view_forks, 1, __ATOMIC_RELAXED);
}

static void kreg_view_watch_forks(void)
{
	pthread_atfork(NULL, NULL, kreg_view_forked);
}

static uint32_t kreg_load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint32_t kreg_load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void kreg_view_unmap(struct kreg_view_map *v)
{
	if (v->hdr)
		munmap((void *)v->hdr, v->size);
	v->hdr = NULL;
}

/* Whether the header describes a view that fits in @size bytes. */
static bool kreg_view_sane(const struct kreg_view_header *h, size_t size)
{
	uint64_t index_end = h->index_offset + (uint64_t)h->index_slots * 4;
	uint64_t records_end = h->records_offset +
			       (uint64_t)h->capacity * sizeof(struct kreg_view_record);
	uint64_t holders_end = h->holders_offset + (uint64_t)h->capacity * 4;

	return h->magic == KREG_VIEW_MAGIC && h->version == KREG_VIEW_VERSION &&
	       h->size == size && h->index_slots >= KREG_VIEW_PROBE_MAX &&
	       !(h->index_slots & (h->index_slots - 1)) &&
	       index_end <= size && records_end <= size && holders_end <= size &&
	       h->index_offset % 4 == 0 && h->records_offset % 8 == 0 &&
	       h->holders_offset % 4 == 0;
}

static int kreg_view_map(struct kreg_view_map *v)
{
	struct stat st;
	void *base;
	int dev, fd;

	dev = open(KREG_VIEW_DEVICE, O_RDONLY | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	fd = ioctl(dev, KREG_IOC_VIEW);
	close(dev);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(struct kreg_view_header)) {
		close(fd);
		return -EPROTO;
	}
	pthread_once(&kreg_view_once, kreg_view_watch_forks);
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		return -errno;
	v->hdr = base;
	v->size = (size_t)st.st_size;
	v->forks = __atomic_load_n(&kreg_view_forks, __ATOMIC_RELAXED);
	/* A child, perhaps in a container, gets no copy: it asks for its own. */
	if (madvise(base, v->size, MADV_DONTFORK)) {
		kreg_view_unmap(v);
		return -errno;
	}
	/* The layout of a view never changes once it is published. */
	if (!kreg_view_sane(v->hdr, v->size)) {
		kreg_view_unmap(v);
		return -EPROTO;
	}
	v->index = (const uint32_t *)((const char *)base + v->hdr->index_offset);
	v->records = (const struct kreg_view_record *)((const char *)base +
							 v->hdr->records_offset);
	v->holders = (const uint32_t *)((const char *)base + v->hdr->holders_offset);
	v->mask = v->hdr->index_slots - 1;
	v->capacity = v->hdr->capacity;
	v->seed = v->hdr->hash_seed;
	return 0;
}

/* The view to search, mapped anew when it was replaced; NULL: ask the kernel. */
static const struct kreg_view_header *kreg_view_get(struct kreg_view_map *v)
{
	uint64_t now;

	if (v->off)
		return NULL;
	/* Mapped by the parent: not in this process, whose address is stale. */
	if (v->hdr && v->forks != __atomic_load_n(&kreg_view_forks, __ATOMIC_RELAXED)) {
		v->hdr = NULL;
		v->lookups = 1;
	}
	/*
	 * Mapping costs four system calls and a netlink lookup two: a handle
	 * maps the view at its second lookup, so a one-shot tool never does.
	 */
	if (!v->hdr && !v->lookups++)
		return NULL;
	if (v->hdr) {
		uint32_t state = kreg_load_acquire(&v->hdr->state);

		if (state != KREG_VIEW_RETIRED && state != KREG_VIEW_CLOSED)
			return v->hdr;
		kreg_view_unmap(v);
	}
	now = kreg_now_ms();
	if (now < v->retry_at_ms)
		return NULL;
	if (kreg_view_map(v)) {
		v->retry_at_ms = now + KREG_VIEW_RETRY_MS;
		return NULL;
	}
	return v->hdr;
}

static uint32_t kreg_view_hash(uint32_t seed, const char *name, size_t len)
{
	uint32_t h = seed;

	while (len--) {
		h ^= (unsigned char)*name++;
		h *= KREG_VIEW_FNV_PRIME;
	}
	return h;
}

/* What one search of a view found. */
struct kreg_view_hit {
	int result;		/* as kreg_view_whereis() returns */
	uint32_t pid;
	size_t meta_len;
	bool remote;
	uint64_t token;
	char node[KREG_NODE_MAX + 1];
};

/*
 * One search, which the caller validates with seq: every value read may be
 * torn by a writer, so each is checked before it is used as an offset. A
 * name is never further than KREG_VIEW_PROBE_MAX slots from its first: past
 * that with no empty slot seen, it may have been left out.
 */
static void kreg_view_search(const struct kreg_view_map *v, const char *name,
			     size_t len, uint32_t hash, void *meta, size_t size,
			     bool want_meta, struct kreg_view_hit *hit)
{
	uint32_t i, n;

	hit->result = -EAGAIN;
	for (i = hash & v->mask, n = 0; n < KREG_VIEW_PROBE_MAX; i = (i + 1) & v->mask, n++) {
		uint32_t slot = kreg_load(&v->index[i]);
		const struct kreg_view_record *r;
		uint32_t flags, holder;

		if (slot == 0) {
			hit->result = KREG_UNDEFINED;
			return;
		}
		if (slot == KREG_VIEW_TOMBSTONE || slot > v->capacity)
			continue;
		r = &v->records[slot - 1];
		if (kreg_load(&r->hash) != hash ||
		    __atomic_load_n(&r->name_len, __ATOMIC_RELAXED) != len)
			continue;
		flags = __atomic_load_n(&r->flags, __ATOMIC_RELAXED);
		if (!(flags & KREG_VIEW_R_NAME))
			return;		/* too long for a record */
		if (memcmp(r->data, name, len))
			continue;
		if (want_meta || (flags & KREG_VIEW_R_REMOTE)) {
			size_t meta_len = __atomic_load_n(&r->meta_len, __ATOMIC_RELAXED);

			if (!(flags & KREG_VIEW_R_META) || meta_len > KREG_VIEW_DATA_MAX - len)
				return;
			if (meta)
				memcpy(meta, r->data + len, meta_len < size ? meta_len : size);
			hit->meta_len = meta_len;
			hit->remote = flags & KREG_VIEW_R_REMOTE;
			if (hit->remote) {
				size_t node_len = __atomic_load_n(&r->node_len, __ATOMIC_RELAXED);

				/* Its node did not fit: the kernel tells it. */
				if (!node_len || node_len > KREG_NODE_MAX ||
				    node_len > KREG_VIEW_DATA_MAX - len - meta_len)
					return;
				memcpy(hit->node, r->data + len + meta_len, node_len);
				hit->node[node_len] = '\0';
			}
		}
		hit->token = __atomic_load_n(&r->token, __ATOMIC_RELAXED);
		holder = kreg_load(&r->holder);
		/* A holder whose word changed has died: the name is not held. */
		if (holder >= v->capacity ||
		    kreg_load(&v->holders[holder]) != kreg_load(&r->holder_word)) {
			hit->result = -ESRCH;
			return;
		}
		hit->pid = kreg_load(&r->pid);
		hit->result = 0;
		return;
	}
}

uint64_t kreg_age_ms(uint64_t ns)
{
	struct timespec ts;
	uint64_t now;

	if (!ns || clock_gettime(CLOCK_BOOTTIME, &ts))
		return 0;
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	return now > ns ? (now - ns) / 1000000 : 0;
}

uint64_t kreg_view_cluster_age_ms(struct kreg_conn *conn)
{
	const struct kreg_view_header *h = conn->view.hdr;

	return h ? kreg_age_ms(__atomic_load_n(&h->cluster_heard_ns, __ATOMIC_RELAXED)) : 0;
}

int kreg_view_whereis(struct kreg_conn *conn, const char *name, bool checked, void *meta,
		      size_t size, size_t *meta_len, struct kreg_holder *holder)
{
	struct kreg_view_map *v = &conn->view;
	const struct kreg_view_header *h;
	struct kreg_view_hit hit = { 0 };
	uint32_t hash;
	size_t len;
	int tries;

	if (!checked && kreg_name_problem(name)[0])
		return -EAGAIN;		/* the kernel says what is wrong with it */
	h = kreg_view_get(v);
	if (!h)
		return -EAGAIN;
	len = strlen(name);
	hash = kreg_view_hash(v->seed, name, len);
	for (tries = 0; tries < KREG_VIEW_TRIES; tries++) {
		uint32_t seq = kreg_load_acquire(&h->seq), state;

		if (seq & 1)
			continue;
		state = kreg_load(&h->state);
		if (state != KREG_VIEW_LIVE && state != KREG_VIEW_PARTIAL)
			return -EAGAIN;	/* replaced or closed: next time */
		kreg_view_search(v, name, len, hash, meta, size,
				 meta != NULL || meta_len != NULL, &hit);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (kreg_load(&h->seq) != seq)
			continue;
		/*
		 * Not found: certain only in a LIVE view, and never for a
		 * "user." name, which may be a reply address the view leaves
		 * out: the kernel knows whether this caller may see it.
		 */
		if (hit.result == KREG_UNDEFINED &&
		    (state != KREG_VIEW_LIVE || !strncmp(name, "user.", 5)))
			return -EAGAIN;
		if (hit.result == 0) {
			conn->error[0] = '\0';
			memset(holder, 0, sizeof(*holder));
			holder->pid = (pid_t)hit.pid;
			holder->local = !hit.remote;
			holder->token = hit.token;
			memcpy(holder->node, hit.node, sizeof(holder->node));
			if (hit.token)
				holder->age_ms = kreg_view_cluster_age_ms(conn);
			if (meta_len)
				*meta_len = hit.meta_len;
		} else if (hit.result == KREG_UNDEFINED) {
			kreg_set_error(conn, "the name is not registered");
		}
		return hit.result;
	}
	return -EAGAIN;
}

void kreg_view_open(struct kreg_conn *conn)
{
	const char *env = secure_getenv("KREG_VIEW");

	memset(&conn->view, 0, sizeof(conn->view));
	/* KREG_VIEW=off: every lookup asks the kernel (for comparison). */
	conn->view.off = env && !strcmp(env, "off");
}

void kreg_view_close(struct kreg_conn *conn)
{
	kreg_view_unmap(&conn->view);
}
