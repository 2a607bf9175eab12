// SPDX-License-Identifier: GPL-2.0
/*
 * The copy of the cluster's names: a hash map by name, of records and
 * tombstones (a name known absent as of a revision, so that an older event
 * arriving after a newer read cannot bring it back). It grows as names
 * come, at three quarters full.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kregd.h"

static size_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h & (n - 1);
}

static int grow(struct copy *c)
{
	size_t n = c->n_buckets ? c->n_buckets * 2 : 1024, i;
	struct name_rec **b = calloc(n, sizeof(*b)), *r, *next;

	if (!b)
		return -1;
	for (i = 0; i < c->n_buckets; i++) {
		for (r = c->buckets[i]; r; r = next) {
			size_t h = hash(r->name, n);

			next = r->next;
			r->next = b[h];
			b[h] = r;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->n_buckets = n;
	return 0;
}

struct name_rec *copy_find(struct copy *c, const char *name)
{
	struct name_rec *r;

	if (!c->n_buckets)
		return NULL;
	for (r = c->buckets[hash(name, c->n_buckets)]; r; r = r->next)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

struct name_rec *copy_get(struct copy *c, const char *name)
{
	struct name_rec *r = copy_find(c, name);
	size_t h, len;

	if (r)
		return r;
	if ((c->count + 1) * 4 > c->n_buckets * 3 && grow(c))
		return NULL;
	len = strlen(name);
	if (len > KREG_NAME_MAX)
		return NULL;
	r = calloc(1, sizeof(*r) + len + 1);
	if (!r)
		return NULL;
	r->kind = WATCHED_HOLDER;
	r->pidfd = -1;
	memcpy(r->name, name, len + 1);
	h = hash(name, c->n_buckets);
	r->next = c->buckets[h];
	c->buckets[h] = r;
	c->count++;
	return r;
}

void copy_drop(struct copy *c, struct name_rec *r)
{
	struct name_rec **p = &c->buckets[hash(r->name, c->n_buckets)];

	while (*p && *p != r)
		p = &(*p)->next;
	/* Never free what is still linked: a record is always in its name's chain. */
	assert(*p);
	*p = r->next;
	c->count--;
	free(r->meta);
	free(r);
}

int copy_set_meta(struct name_rec *r, const void *meta, uint32_t len)
{
	uint8_t *m = NULL;

	if (len) {
		m = r->meta_len == len ? r->meta : malloc(len);
		if (!m) {
			free(r->meta);
			r->meta = NULL;
			r->meta_len = 0;
			return -ENOMEM;
		}
		memcpy(m, meta, len);
	}
	if (m != r->meta)
		free(r->meta);
	r->meta = m;
	r->meta_len = len;
	return 0;
}

void copy_for_each(struct copy *c, void (*fn)(struct name_rec *r, void *arg), void *arg)
{
	struct name_rec *r, *next;
	size_t i;

	for (i = 0; i < c->n_buckets; i++)
		for (r = c->buckets[i]; r; r = next) {
			next = r->next;
			fn(r, arg);
		}
}

void copy_free(struct copy *c)
{
	struct name_rec *r, *next;
	size_t i;

	for (i = 0; i < c->n_buckets; i++)
		for (r = c->buckets[i]; r; r = next) {
			next = r->next;
			free(r->meta);
			free(r);
		}
	free(c->buckets);
	memset(c, 0, sizeof(*c));
}
