/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The view read raw, as any process may read it, without libkreg: to check
 * what it shows, and above all what it must not.
 */
#ifndef KREG_TEST_VIEW_RAW_H
#define KREG_TEST_VIEW_RAW_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kreg.h>

struct raw_view {
	const struct kreg_view_header *h;
	size_t size;
	int fd;			/* the view's descriptor, kept open (or -1) */
};

/* Maps the current view; 0 or a negative errno. @keep_fd: keep its descriptor. */
static inline int raw_view_map(struct raw_view *v, int keep_fd)
{
	int dev = open(KREG_VIEW_DEVICE, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *p;
	int fd;

	v->h = NULL;
	v->size = 0;
	v->fd = -1;
	if (dev < 0)
		return -errno;
	fd = ioctl(dev, KREG_IOC_VIEW);
	close(dev);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	if (keep_fd)
		v->fd = fd;
	else
		close(fd);
	v->h = p;
	v->size = st.st_size;
	return 0;
}

static inline void raw_view_unmap(struct raw_view *v)
{
	if (v->h)
		munmap((void *)v->h, v->size);
	if (v->fd >= 0)
		close(v->fd);
	v->h = NULL;
	v->fd = -1;
}

static inline const struct kreg_view_record *raw_view_record(const struct raw_view *v,
							     uint32_t i)
{
	return (const struct kreg_view_record *)((const char *)v->h +
						 v->h->records_offset) + i;
}

/*
 * Whether @needle appears anywhere in the view's records or anywhere after
 * its header, raw: names, values, torn or not, live or not.
 */
static inline int raw_view_contains(const struct raw_view *v, const char *needle)
{
	const char *base = (const char *)v->h;

	return memmem(base + sizeof(*v->h), v->size - sizeof(*v->h), needle,
		      strlen(needle)) != NULL;
}

/* The pid the view's record for @name says (0: no record), raw. */
static inline uint32_t raw_view_pid(const struct raw_view *v, const char *name)
{
	size_t len = strlen(name);
	uint32_t i;

	for (i = 0; i < v->h->capacity; i++) {
		const struct kreg_view_record *r = raw_view_record(v, i);

		if ((r->flags & KREG_VIEW_R_NAME) && r->name_len == len &&
		    !memcmp(r->data, name, len))
			return r->pid;
	}
	return 0;
}

/*
 * Maps the current view, again and again for up to 5 s, until it is LIVE
 * and holds @name (the module catches up in the background): 0, with @v
 * mapped, or -ETIMEDOUT.
 */
static inline int raw_view_wait(struct raw_view *v, const char *name)
{
	int tries;

	for (tries = 0; tries < 500; tries++) {
		if (raw_view_map(v, 0))
			return -ENODEV;
		if (v->h->state == KREG_VIEW_LIVE && raw_view_pid(v, name))
			return 0;
		raw_view_unmap(v);
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/*
 * Maps the current view, again and again for up to 5 s, until its record
 * of @name says @pid, whatever its state: 0, with @v mapped, or -ETIMEDOUT.
 */
static inline int raw_view_wait_pid(struct raw_view *v, const char *name, uint32_t pid)
{
	int tries;

	for (tries = 0; tries < 500; tries++) {
		if (raw_view_map(v, 0))
			return -ENODEV;
		if (raw_view_pid(v, name) == pid)
			return 0;
		raw_view_unmap(v);
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* 32-bit FNV-1a from the view's seed, as kreg.ko and libkreg hash names. */
static inline uint32_t raw_view_hash(const struct raw_view *v, const char *name)
{
	uint32_t h = v->h->hash_seed;

	while (*name) {
		h ^= (unsigned char)*name++;
		h *= KREG_VIEW_FNV_PRIME;
	}
	return h;
}

#endif /* KREG_TEST_VIEW_RAW_H */
