// SPDX-License-Identifier: GPL-2.0
/*
 * The view: a read-only copy of the names every host process may see, in
 * shared memory, so that a process looks a name up with no system call, as
 * it reads the time from the vDSO. The layout is in uapi/linux/kreg.h, the
 * protocol in docs/view.md.
 *
 * What it shows. A name goes into the view only if every host process may
 * see it (access.c's kreg_public()): never a reply address, and under a
 * policy only what its rules show to everyone. So the view can be handed
 * to any host process. A policy's arrival removes, before the policy is in
 * force, every record it hides; a view mapped before it keeps nothing the
 * policy hides. Under a policy, and whenever the view lacks room, it says
 * KREG_VIEW_PARTIAL: what it holds is right, and a reader that does not
 * find a name asks the kernel.
 *
 * Writing. Records and index change only under the table lock, as the
 * table's listener, between two increments of the header's seq (odd in
 * between). A reader that sees seq odd, or changed by the end of its
 * search, searches again. The table lock is a mutex, so a writer may be
 * preempted with seq odd: libkreg then asks the kernel rather than spin.
 * Every count (records, free records, used index slots) is the view's own
 * and changes only with the record it counts, so no failure can skew one.
 *
 * Liveness. A holder's word changes, with cmpxchg, in whatever context
 * learns first that its process died: the wake-up of pidfd pollers, or the
 * exit kfunc with preemption off (holders.c's death hook). Neither may
 * sleep or lock, on PREEMPT_RT either, and marking a word does neither.
 * Every word marked dead is marked before the dead process can be reaped,
 * so a view never reports a dead process, nor a pid number reused since.
 *
 * Memory. A view is a tmpfs (shmem) file of the kernel's own, mapped here
 * with vmap() and handed to readers as a read-only file: a process may keep
 * its mapping across rmmod (the view then says KREG_VIEW_CLOSED) and no
 * reader can write to it. A view never changes size: when it must grow,
 * shrink or shed its tombstones, a worker builds a new one from the table
 * and publishes it, and the old one says KREG_VIEW_RETIRED and is emptied
 * (all but its header page punched out), so a descriptor kept open pins
 * one page, not a view. The worker allocates outside the table lock and,
 * being a kernel thread, charges no task's memory cgroup: the view is
 * kreg's own, bounded by max_entries (about 145 bytes a record, 1 to 1.5
 * records a name). A view that cannot grow, for want of memory, stays
 * PARTIAL, never wrong.
 *
 * Hash flooding. Each view has a random seed, which readers need and so
 * may know; a name is never stored further than KREG_VIEW_PROBE_MAX slots
 * from its first, so chosen collisions cost a lookup at most that many
 * probes, and a name that finds no slot there is left out (readers, who
 * find no empty slot in its window either, ask the kernel).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pid_namespace.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "access.h"
#include "fault.h"
#include "holders.h"
#include "policy.h"
#include "table.h"
#include "view.h"

#define KREG_VIEW_MIN		64U
/* Entries walked between two chances for other tasks to run, lock held. */
#define KREG_VIEW_BATCH		256
/* 2^26 records: a 9 GiB view. Beyond, lookups go through netlink. */
#define KREG_VIEW_MAX		(1U << 26)

struct kreg_view {
	struct file			*file;
	struct page			**pages;
	unsigned int			nr_pages;
	void				*base;		/* vmap() of pages */
	struct kreg_view_header		*hdr;
	u32				*index;
	struct kreg_view_record		*records;
	u32				*holders;
	u32				capacity;
	u32				index_slots;
	u32				seed;
	/* The kernel's own copies: nothing is read back from the pages. */
	u32				seq;
	u32				state;
	u32				used_slots;	/* records and tombstones */
	u32				entries;	/* records */
	u32				*free_recs;	/* a stack of free records */
	u32				nr_free;
	/* Every name it should show is in it (or left out of a full window). */
	bool				complete;
	struct rcu_work			free_work;
};

/* Changed under the table lock; read under RCU by the death hook. */
static struct kreg_view __rcu *kreg_view;
/* A policy is in force, or about to be: the view is PARTIAL. */
static bool kreg_view_policy;
static u32 kreg_view_gen;
static DEFINE_IDA(kreg_view_slots);
/* Every holder's word, whether it has a slot or not (under the table lock). */
static LIST_HEAD(kreg_view_holders);
static struct workqueue_struct *kreg_view_wq;

static void kreg_view_resize_fn(struct work_struct *work);
static DECLARE_WORK(kreg_view_resize_work, kreg_view_resize_fn);

static struct kreg_view *kreg_view_locked(void)
{
	return rcu_dereference_protected(kreg_view, kreg_table_lock_held());
}

static u32 kreg_view_hash(u32 seed, const char *name, size_t len)
{
	u32 h = seed;

	while (len--) {
		h ^= (u8)*name++;
		h *= KREG_VIEW_FNV_PRIME;
	}
	return h;
}

/* seq is odd from begin to end: readers that overlap it search again. */
static void kreg_view_write_begin(struct kreg_view *v)
{
	WRITE_ONCE(v->hdr->seq, ++v->seq);
	/* seq odd before any change: pairs with the reader's acquire of seq. */
	smp_wmb();
}

static void kreg_view_write_end(struct kreg_view *v)
{
	/* Every change before seq even again: pairs with the reader's fence. */
	smp_wmb();
	WRITE_ONCE(v->hdr->seq, ++v->seq);
}

static u32 kreg_view_state(const struct kreg_view *v)
{
	return v->complete && !kreg_view_policy ? KREG_VIEW_LIVE : KREG_VIEW_PARTIAL;
}

static void kreg_view_set_state(struct kreg_view *v, u32 state)
{
	if (v->state == state)
		return;
	v->state = state;
	kreg_view_write_begin(v);
	WRITE_ONCE(v->hdr->state, state);
	kreg_view_write_end(v);
}

static void kreg_view_free(struct kreg_view *v)
{
	unsigned int i;

	if (v->base)
		vunmap(v->base);
	for (i = 0; i < v->nr_pages; i++)
		put_page(v->pages[i]);
	kvfree(v->pages);
	kvfree(v->free_recs);
	if (v->file) {
		/*
		 * Readers may keep it open: leave them the header page (which
		 * says RETIRED or CLOSED) and give the rest back. A reader that
		 * touches it anyway gets fresh zeroed pages of its own.
		 */
		shmem_truncate_range(file_inode(v->file), PAGE_SIZE, -1);
		fput(v->file);
	}
	kfree(v);
}

static void kreg_view_free_work(struct work_struct *work)
{
	kreg_view_free(container_of(to_rcu_work(work), struct kreg_view,
				    free_work));
}

/*
 * The shmem file, read-only to everyone and owned by root, whoever grew it;
 * immutable, so that not even root can reopen it for writing.
 */
static struct file *kreg_view_file(size_t size)
{
	struct inode *inode;
	struct file *file;

	if (kreg_fail_view(size))
		return ERR_PTR(-ENOMEM);
	file = shmem_file_setup("kreg-view", size, VM_NORESERVE);
	if (IS_ERR(file))
		return file;
	inode = file_inode(file);
	inode->i_mode = S_IFREG | 0444;
	inode->i_uid = GLOBAL_ROOT_UID;
	inode->i_gid = GLOBAL_ROOT_GID;
	inode->i_flags |= S_IMMUTABLE;
	mapping_set_unevictable(file->f_mapping);
	return file;
}

/* @nr pages of the file, held and mapped; v->nr_pages counts those held, for freeing. */
static int kreg_view_map_pages(struct kreg_view *v, unsigned int nr)
{
	unsigned int i;

	v->pages = kreg_fail_view(nr * sizeof(*v->pages)) ? NULL :
		   kvcalloc(nr, sizeof(*v->pages), GFP_KERNEL);
	if (!v->pages)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		/* A new shmem page comes zeroed. */
		struct page *page = kreg_fail_view(PAGE_SIZE) ? ERR_PTR(-ENOMEM) :
				    shmem_read_mapping_page_gfp(v->file->f_mapping,
								i, GFP_KERNEL);

		if (IS_ERR(page))
			return PTR_ERR(page);
		v->pages[i] = page;
		v->nr_pages = i + 1;
	}
	v->base = kreg_fail_view(v->nr_pages * PAGE_SIZE) ? NULL :
		  vmap(v->pages, v->nr_pages, VM_MAP, PAGE_KERNEL);
	return v->base ? 0 : -ENOMEM;
}

static struct kreg_view *kreg_view_alloc(u32 capacity)
{
	/* Records and tombstones fill at most three quarters of the index. */
	u32 slots = roundup_pow_of_two(2 * capacity);
	size_t index_off = PAGE_SIZE;
	size_t records_off = ALIGN(size_add(index_off, size_mul(slots, sizeof(u32))), 64);
	size_t holders_off = size_add(records_off,
				      size_mul(capacity, sizeof(struct kreg_view_record)));
	size_t size = size_add(holders_off, size_mul(capacity, sizeof(u32)));
	struct kreg_view *v;
	u32 r;

	/* Only a 32-bit kernel could overflow: then there is no such view. */
	if (size == SIZE_MAX)
		return NULL;
	size = PAGE_ALIGN(size);

	BUILD_BUG_ON(sizeof(struct kreg_view_header) > PAGE_SIZE);
	BUILD_BUG_ON(sizeof(struct kreg_view_record) != 128);
	BUILD_BUG_ON(KREG_VIEW_PROBE_MAX > 2 * KREG_VIEW_MIN);

	v = kreg_fail_view(sizeof(*v)) ? NULL : kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return NULL;
	INIT_RCU_WORK(&v->free_work, kreg_view_free_work);
	v->file = kreg_view_file(size);
	if (IS_ERR(v->file)) {
		v->file = NULL;
		goto fail;
	}
	v->free_recs = kreg_fail_view(capacity * sizeof(u32)) ? NULL :
		       kvmalloc_array(capacity, sizeof(u32), GFP_KERNEL);
	if (!v->free_recs || kreg_view_map_pages(v, size >> PAGE_SHIFT))
		goto fail;

	v->capacity = capacity;
	v->index_slots = slots;
	v->seed = get_random_u32();
	v->hdr = v->base;
	v->index = v->base + index_off;
	v->records = v->base + records_off;
	v->holders = v->base + holders_off;
	/* Lowest numbers on top, so that records stay packed. */
	for (r = 0; r < capacity; r++)
		v->free_recs[r] = capacity - 1 - r;
	v->nr_free = capacity;
	v->complete = true;
	v->state = KREG_VIEW_LIVE;

	v->hdr->magic = KREG_VIEW_MAGIC;
	v->hdr->version = KREG_VIEW_VERSION;
	v->hdr->hash_seed = v->seed;
	v->hdr->index_slots = slots;
	v->hdr->capacity = capacity;
	v->hdr->index_offset = index_off;
	v->hdr->records_offset = records_off;
	v->hdr->holders_offset = holders_off;
	v->hdr->size = size;
	return v;

fail:
	kreg_view_free(v);
	return NULL;
}

static void kreg_view_mark_dead(struct kreg_view *v, const struct kreg_holder_word *w)
{
	/* Pairs with the release that gave the slot: its word is in place. */
	u32 slot = smp_load_acquire(&w->slot);

	if (slot < v->capacity)
		cmpxchg(&v->holders[slot], w->word, w->word & ~1U);
}

/* The holders.c death hook: any context; no sleep, allocation or lock. */
static void kreg_view_holder_died(struct kreg_holder_word *w)
{
	struct kreg_view *v;

	/* The bit (set by holders.c) before the pointer: pairs with kreg_view_publish(). */
	smp_mb__after_atomic();
	rcu_read_lock();
	v = rcu_dereference(kreg_view);
	if (v)
		kreg_view_mark_dead(v, w);
	rcu_read_unlock();
}

static void kreg_view_resize(void)
{
	queue_work(kreg_view_wq, &kreg_view_resize_work);
}

/* Something it should show is not in it: readers must ask the kernel. */
static void kreg_view_incomplete(struct kreg_view *v)
{
	v->complete = false;
	kreg_view_set_state(v, KREG_VIEW_PARTIAL);
	kreg_view_resize();
}

/* The first free index slot in @hash's window, or U32_MAX. */
static u32 kreg_view_free_slot(const struct kreg_view *v, u32 hash)
{
	u32 mask = v->index_slots - 1, i, n;

	for (i = hash & mask, n = 0; n < KREG_VIEW_PROBE_MAX; i = (i + 1) & mask, n++)
		if (v->index[i] == 0 || v->index[i] == KREG_VIEW_TOMBSTONE)
			return i;
	return U32_MAX;
}

/*
 * What of @e's name, value and node fits in the record's data, each only
 * if what comes before it does; the rest is zero, so that no byte of a
 * value it had before stays in a view every process may map.
 */
static void kreg_view_put_data(struct kreg_view_record *r, const struct kreg_entry *e)
{
	memset(r->data, 0, sizeof(r->data));
	r->name_len = e->name_len;
	r->meta_len = e->meta_len;
	r->node_len = 0;
	r->flags = kreg_entry_remote(e) ? KREG_VIEW_R_REMOTE : 0;
	if (e->name_len > KREG_VIEW_DATA_MAX)
		return;
	memcpy(r->data, e->name, e->name_len);
	r->flags |= KREG_VIEW_R_NAME;
	if (e->name_len + e->meta_len > KREG_VIEW_DATA_MAX)
		return;
	memcpy(r->data + e->name_len, kreg_entry_meta(e), e->meta_len);
	r->flags |= KREG_VIEW_R_META;
	if (kreg_entry_remote(e) &&
	    e->name_len + e->meta_len + e->node_len <= KREG_VIEW_DATA_MAX) {
		memcpy(r->data + e->name_len + e->meta_len, kreg_entry_node(e),
		       e->node_len);
		r->node_len = e->node_len;
	}
}

/*
 * Writes @e into @v, which has a free record and @e's holder a word. A name
 * whose window is full is left out: the view stays complete, as readers
 * who search that window find no empty slot and ask the kernel.
 */
static void kreg_view_insert(struct kreg_view *v, struct kreg_entry *e)
{
	const struct kreg_holder_word *w = kreg_holder_word(e->holder);
	u32 hash = kreg_view_hash(v->seed, e->name, e->name_len);
	u32 slot = kreg_view_free_slot(v, hash);
	struct kreg_view_record *r;
	u32 rec;

	if (slot == U32_MAX)
		return;
	rec = v->free_recs[--v->nr_free];
	r = &v->records[rec];
	r->hash = hash;
	/* A mirror's holder is on another node: its pid there, never the relay's. */
	r->pid = kreg_entry_remote(e) ? e->remote_pid : pid_nr(e->pid);
	r->holder = w->slot;
	r->holder_word = w->word;
	r->token = e->token;
	kreg_view_put_data(r, e);
	if (v->index[slot] == 0)
		v->used_slots++;
	WRITE_ONCE(v->index[slot], rec + 1);
	e->view_rec = rec;
	v->entries++;
	WRITE_ONCE(v->hdr->entries, v->entries);
}

/* A value changed in place: its record, if it has one, says the new one. */
static void kreg_view_update(struct kreg_view *v, const struct kreg_entry *e)
{
	if (e->view_rec >= v->capacity)
		return;
	kreg_view_write_begin(v);
	kreg_view_put_data(&v->records[e->view_rec], e);
	kreg_view_write_end(v);
}

/*
 * Gives @w a word in @v, unless it has one: a holder gets one with its
 * first name the view shows, so that holders of hidden names leave no
 * trace in it. False when there is no slot to be had in @v.
 */
static bool kreg_view_give_word(struct kreg_view *v, struct kreg_holder_word *w)
{
	int slot;

	if (w->slot != KREG_HOLDER_NO_SLOT)
		return w->slot < v->capacity;
	slot = ida_alloc_max(&kreg_view_slots, v->capacity - 1, GFP_KERNEL);
	if (slot < 0)
		return false;
	w->word = (++kreg_view_gen << 1) | 1;
	WRITE_ONCE(v->holders[slot], w->word);
	/* The word is in place before a marker can find the slot. */
	smp_store_release(&w->slot, slot);
	/* The slot before the bit: a death that missed the slot is marked here. */
	smp_mb();
	if (test_bit(0, &w->dead))
		kreg_view_mark_dead(v, w);
	return true;
}

/* Whether @v has room for one more record, and @e's holder a word in it. */
static bool kreg_view_has_room(struct kreg_view *v, struct kreg_entry *e)
{
	return v->nr_free && (v->used_slots + 1) * 4 <= v->index_slots * 3 &&
	       kreg_view_give_word(v, kreg_holder_word(e->holder));
}

static void kreg_view_add(struct kreg_entry *e)
{
	struct kreg_view *v = kreg_view_locked();

	if (!kreg_public(kreg_policy_current(), e->name, e->name_len, KREG_OWNER_OF(e)))
		return;
	if (!kreg_view_has_room(v, e)) {
		kreg_view_incomplete(v);
		return;
	}
	kreg_view_write_begin(v);
	kreg_view_insert(v, e);
	kreg_view_write_end(v);
	/* Seven eighths full: grow before it is. */
	if (v->entries * 8 >= v->capacity * 7 || v->used_slots * 2 >= v->index_slots)
		kreg_view_resize();
}

static void kreg_view_remove(struct kreg_view *v, struct kreg_entry *e)
{
	u32 mask = v->index_slots - 1, rec = e->view_rec, i, n;
	u32 hash = kreg_view_hash(v->seed, e->name, e->name_len);
	struct kreg_view_record *r;

	if (rec >= v->capacity)
		return;
	r = &v->records[rec];
	kreg_view_write_begin(v);
	for (i = hash & mask, n = 0; n < KREG_VIEW_PROBE_MAX; i = (i + 1) & mask, n++) {
		if (v->index[i] == rec + 1) {
			WRITE_ONCE(v->index[i], KREG_VIEW_TOMBSTONE);
			break;
		}
	}
	WARN_ON_ONCE(n == KREG_VIEW_PROBE_MAX);
	memset(r, 0, sizeof(*r));
	v->free_recs[v->nr_free++] = rec;
	v->entries--;
	WRITE_ONCE(v->hdr->entries, v->entries);
	kreg_view_write_end(v);
	e->view_rec = U32_MAX;
	/* An eighth full: give memory back (it grows again at seven eighths). */
	if (v->capacity > KREG_VIEW_MIN && v->entries * 8 < v->capacity)
		kreg_view_resize();
}

/*
 * @e took the name from @old, the first in its line (KREG_F_QUEUE): @old's
 * record, if it has one, says @e's holder and value in one write, so that
 * no reader of the view finds no name between the two. Where @e may not be
 * shown (a name the policy shows to some only), or its holder gets no word
 * (the view is then partial, and readers ask the kernel), the record goes.
 */
static void kreg_view_succeed(struct kreg_entry *e, struct kreg_entry *old)
{
	struct kreg_view *v = kreg_view_locked();
	const struct kreg_holder_word *w;
	struct kreg_view_record *r;

	if (old->view_rec >= v->capacity) {
		kreg_view_add(e);
		return;
	}
	/* Not shown, as a name that some may not see never is. */
	if (!kreg_public(kreg_policy_current(), e->name, e->name_len, KREG_OWNER_OF(e))) {
		kreg_view_remove(v, old);
		return;
	}
	/*
	 * No word for its holder: the view says it is partial before the
	 * record goes, so that no reader takes the name's absence as certain.
	 */
	if (!kreg_view_give_word(v, kreg_holder_word(e->holder))) {
		kreg_view_incomplete(v);
		kreg_view_remove(v, old);
		return;
	}
	w = kreg_holder_word(e->holder);
	r = &v->records[old->view_rec];
	kreg_view_write_begin(v);
	r->pid = pid_nr(e->pid);
	r->holder = w->slot;
	r->holder_word = w->word;
	r->token = e->token;
	kreg_view_put_data(r, e);
	kreg_view_write_end(v);
	e->view_rec = old->view_rec;
	old->view_rec = U32_MAX;
}

/* Its word comes with its first name the view shows (kreg_view_give_word()). */
static void kreg_view_holder_new(struct kreg_holder_word *w)
{
	list_add(&w->link, &kreg_view_holders);
}

static void kreg_view_holder_gone(struct kreg_holder_word *w)
{
	struct kreg_view *v = kreg_view_locked();

	list_del_init(&w->link);
	if (w->slot != KREG_HOLDER_NO_SLOT) {
		if (w->slot < v->capacity)
			WRITE_ONCE(v->holders[w->slot], 0);
		ida_free(&kreg_view_slots, w->slot);
		WRITE_ONCE(w->slot, KREG_HOLDER_NO_SLOT);
	}
}

/* How recent the mirrors of cluster names are: between two seq increments, like records. */
static void kreg_view_progress(struct kreg_view *v, u64 revision, u64 heard_ns)
{
	kreg_view_write_begin(v);
	WRITE_ONCE(v->hdr->cluster_revision, revision);
	WRITE_ONCE(v->hdr->cluster_heard_ns, heard_ns);
	kreg_view_write_end(v);
}

/*
 * Before @policy is in force: every record it hides goes, so that no
 * mapping of this view shows one once lookups follow the policy.
 */
static void kreg_view_policy_changing(const struct kreg_policy *policy)
{
	struct kreg_view *v = kreg_view_locked();
	struct kreg_entry *e;
	unsigned long id = 0;
	unsigned int n = 0;

	kreg_view_policy = policy;
	/*
	 * The view lacks what the old policy hid and the new one shows, if
	 * any: complete again once rebuilt (after POLICY_DONE).
	 */
	v->complete = false;
	kreg_view_set_state(v, kreg_view_state(v));
	for (; (e = kreg_table_next(&id)); id++) {
		if (e->view_rec != U32_MAX &&
		    !kreg_public(policy, e->name, e->name_len, KREG_OWNER_OF(e)))
			kreg_view_remove(v, e);
		/* Under the table mutex, which may sleep: between records. */
		if (++n % KREG_VIEW_BATCH == 0)
			cond_resched();
	}
}

static void kreg_view_changed(const struct kreg_change *c)
{
	switch (c->kind) {
	case KREG_CHANGE_REGISTERED:
		if (c->predecessor)
			kreg_view_succeed(c->entry, c->predecessor);
		else
			kreg_view_add(c->entry);
		break;
	case KREG_CHANGE_UNREGISTERED:
		/* Its record, if any, is its successor's (REGISTERED, next). */
		if (!c->successor)
			kreg_view_remove(kreg_view_locked(), c->entry);
		break;
	case KREG_CHANGE_UPDATED:
		kreg_view_update(kreg_view_locked(), c->entry);
		break;
	case KREG_CHANGE_HOLDER_NEW:
		kreg_view_holder_new(kreg_holder_word(c->holder));
		break;
	case KREG_CHANGE_HOLDER_GONE:
		kreg_view_holder_gone(kreg_holder_word(c->holder));
		break;
	case KREG_CHANGE_POLICY:
		kreg_view_policy_changing(c->policy);
		break;
	case KREG_CHANGE_POLICY_DONE:
		/* What the policy shows that the view lacks comes with a rebuild. */
		kreg_view_resize();
		break;
	case KREG_CHANGE_PROGRESS:
		kreg_view_progress(kreg_view_locked(), c->revision, c->heard_ns);
		break;
	}
}

static struct kreg_table_listener kreg_view_listener = {
	.changed = kreg_view_changed,
};

/*
 * The capacity a table of @count names wants: half as much again, in
 * steps of 64 (a capacity need not be a power of two, only the index is);
 * and room for every holder's word where it is, since a holder keeps its
 * slot for as long as it holds names.
 */
static u32 kreg_view_capacity_for(unsigned int count)
{
	struct kreg_holder_word *w;
	u64 capacity = (u64)count + count / 2;
	u32 top = 0;

	list_for_each_entry(w, &kreg_view_holders, link)
		if (w->slot != KREG_HOLDER_NO_SLOT && w->slot >= top)
			top = w->slot + 1;
	capacity = max3(capacity, (u64)top, (u64)KREG_VIEW_MIN);
	return min_t(u64, round_up(capacity, 64), KREG_VIEW_MAX);
}

/*
 * Whether @v is the view a table of @count names wants: room for them all
 * (and their words), not four times too much, complete (or as large as a
 * view gets), and not choked by tombstones.
 */
static bool kreg_view_fits(const struct kreg_view *v, u32 want)
{
	return v->capacity >= want && v->capacity / 4 <= want &&
	       (v->complete || v->capacity == KREG_VIEW_MAX) &&
	       v->used_slots * 2 < v->index_slots;
}

/*
 * Fills @v from the table. Holders without a word get one that fits it;
 * false when one cannot (a smaller view while holders remain).
 */
static bool kreg_view_fill(struct kreg_view *v)
{
	const struct kreg_policy *policy = kreg_policy_current();
	struct kreg_holder_word *w;
	struct kreg_entry *e;
	unsigned long id = 0;
	unsigned int n = 0;

	/* Nothing is changed until every word is known to fit. */
	list_for_each_entry(w, &kreg_view_holders, link)
		if (w->slot != KREG_HOLDER_NO_SLOT && w->slot >= v->capacity)
			return false;
	list_for_each_entry(w, &kreg_view_holders, link)
		if (w->slot != KREG_HOLDER_NO_SLOT)
			v->holders[w->slot] = test_bit(0, &w->dead) ? w->word & ~1U :
								      w->word;
	for (; (e = kreg_table_next(&id)); id++) {
		e->view_rec = U32_MAX;
		/* The new view is no reader's yet: yielding here tears nothing. */
		if (++n % KREG_VIEW_BATCH == 0)
			cond_resched();
		/* A claim is shown once committed (KREG_CHANGE_REGISTERED). */
		if (kreg_entry_pending(e) ||
		    !kreg_public(policy, e->name, e->name_len, KREG_OWNER_OF(e)))
			continue;
		if (!kreg_view_has_room(v, e)) {
			v->complete = false;
			continue;
		}
		kreg_view_insert(v, e);
	}
	v->state = kreg_view_state(v);
	v->hdr->state = v->state;
	kreg_table_cluster_copy(&v->hdr->cluster_revision, &v->hdr->cluster_heard_ns);
	return true;
}

/*
 * Puts @new in place of the view. The old one says RETIRED before the new
 * one can be found, so that no reader trusts a view whose words dying
 * holders no longer mark; it is emptied after a grace period. Holders that
 * die meanwhile are marked in the new one, as the death hook reads the
 * pointer after setting their bit, and this reads the bits after
 * publishing the pointer.
 */
static void kreg_view_publish(struct kreg_view *new)
{
	struct kreg_view *old = kreg_view_locked();
	struct kreg_holder_word *w;

	kreg_view_set_state(old, KREG_VIEW_RETIRED);
	rcu_assign_pointer(kreg_view, new);
	/* The pointer before the bits: pairs with kreg_view_holder_died(). */
	smp_mb();
	list_for_each_entry(w, &kreg_view_holders, link)
		if (test_bit(0, &w->dead))
			kreg_view_mark_dead(new, w);
	/*
	 * Emptied at once, but for the header that says RETIRED: a mapping
	 * kept of it shows nothing from now on, whatever a later policy
	 * hides. A marker still writing through the kernel's own mapping
	 * writes to pages held until the grace period is over.
	 */
	shmem_truncate_range(file_inode(old->file), PAGE_SIZE, -1);
	queue_rcu_work(kreg_view_wq, &old->free_work);
}

/*
 * Builds the view the table wants, outside the table lock, and publishes
 * it. On a failure to allocate, the view stays as it is (PARTIAL if it
 * lacks something), and the next name it cannot take asks again.
 */
static void kreg_view_resize_fn(struct work_struct *work)
{
	struct kreg_view *v, *new;
	u32 capacity;
	bool filled;

	kreg_lock_table();
	v = kreg_view_locked();
	capacity = kreg_view_capacity_for(kreg_table_count());
	if (kreg_view_fits(v, capacity)) {
		kreg_unlock_table();
		return;
	}
	kreg_unlock_table();

	new = kreg_view_alloc(capacity);
	if (!new) {
		pr_warn_ratelimited("view: no memory for %u records; lookups it lacks go through netlink\n",
				    capacity);
		return;
	}
	kreg_lock_table();
	filled = kreg_view_fill(new);
	if (filled)
		kreg_view_publish(new);
	kreg_unlock_table();
	/* A holder took a slot this view cannot hold meanwhile: again. */
	if (!filled) {
		kreg_view_free(new);
		kreg_view_resize();
		return;
	}
	/* The table grew while the view was built: again, larger. */
	if (!new->complete && capacity < KREG_VIEW_MAX)
		kreg_view_resize();
}

/*
 * KREG_IOC_VIEW: a new read-only descriptor of the current view. Its pids
 * are the initial pid namespace's, and a container may not read the host's
 * names: only the host's processes may have it, by the device's opener
 * and by the caller.
 */
static long kreg_view_ioctl(struct file *dev, unsigned int cmd, unsigned long arg)
{
	struct file *file, *ro;
	int fd;

	if (cmd != KREG_IOC_VIEW)
		return -ENOTTY;
	if (!kreg_on_host(current_user_ns(), task_active_pid_ns(current)) ||
	    dev->f_cred->user_ns != &init_user_ns)
		return -EPERM;

	kreg_lock_table();
	file = get_file(kreg_view_locked()->file);
	kreg_unlock_table();
	ro = dentry_open(&file->f_path, O_RDONLY, current_cred());
	fput(file);
	if (IS_ERR(ro))
		return PTR_ERR(ro);
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		fput(ro);
		return fd;
	}
	fd_install(fd, ro);
	return fd;
}

static const struct file_operations kreg_view_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= kreg_view_ioctl,
	.compat_ioctl	= kreg_view_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice kreg_view_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "kreg",
	.fops	= &kreg_view_fops,
	.mode	= 0444,
};

int kreg_view_init(void)
{
	struct kreg_view *v;
	int err;

	kreg_view_wq = alloc_workqueue("kreg_view", 0, 0);
	if (!kreg_view_wq)
		return -ENOMEM;
	/* Under policy_required, an (empty) policy is in force from the start. */
	kreg_view_policy = kreg_policy_effective(NULL);
	v = kreg_view_alloc(KREG_VIEW_MIN);
	if (!v) {
		err = -ENOMEM;
		goto destroy_wq;
	}
	v->state = kreg_view_state(v);
	v->hdr->state = v->state;
	rcu_assign_pointer(kreg_view, v);
	kreg_holders_set_death_hook(kreg_view_holder_died);
	kreg_table_listen(&kreg_view_listener);
	err = misc_register(&kreg_view_dev);
	if (err)
		goto free_view;
	return 0;

free_view:
	kreg_holders_set_death_hook(NULL);
	RCU_INIT_POINTER(kreg_view, NULL);
	kreg_view_free(v);
destroy_wq:
	destroy_workqueue(kreg_view_wq);
	return err;
}

void kreg_view_exit(void)
{
	struct kreg_view *v;

	misc_deregister(&kreg_view_dev);
	cancel_work_sync(&kreg_view_resize_work);
	kreg_holders_set_death_hook(NULL);
	v = rcu_dereference_protected(kreg_view, true);
	/* Processes may keep their mappings: tell them to ask the kernel. */
	kreg_view_set_state(v, KREG_VIEW_CLOSED);
	RCU_INIT_POINTER(kreg_view, NULL);
	synchronize_rcu();
	kreg_view_free(v);
	/* Views retired earlier wait for a grace period, then for this queue. */
	rcu_barrier();
	destroy_workqueue(kreg_view_wq);
	ida_destroy(&kreg_view_slots);
}
