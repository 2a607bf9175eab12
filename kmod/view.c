// SPDX-License-Identifier: GPL-2.0
/*
 * The view: a read-only copy of the name table in shared memory, so that a
 * process looks a name up with no system call, as it reads the time from
 * the vDSO. The layout is in uapi/linux/kreg.h, the protocol in
 * docs/view.md.
 *
 * Records and index change only under kreg_lock, between two increments of
 * the header's seq (odd in between). A reader that sees seq odd, or changed
 * by the end of its search, searches again. kreg_lock is a mutex, so a
 * writer may be preempted with seq odd: libkreg then asks the kernel rather
 * than spin.
 *
 * A holder's word changes, with cmpxchg, in whatever context learns first
 * that its process died: the wake-up of pidfd pollers (holders.c), or the
 * exit kfunc with preemption off. Neither may sleep or lock, on PREEMPT_RT
 * either, and marking a word does neither. Every word marked dead is marked
 * before the dead process can be reaped, so a view never reports a dead
 * process, nor a pid number reused since.
 *
 * The memory is a tmpfs (shmem) file of the kernel's own, mapped here with
 * vmap() and handed to readers as a read-only file: its pages belong to that
 * file, not to this module, so a process may keep its mapping across rmmod
 * (the view then says KREG_VIEW_CLOSED) and no reader can write to it.
 *
 * A view never changes size. When it must grow (or be rid of its
 * tombstones), a new one is built from the table under kreg_lock, published,
 * and the old one says KREG_VIEW_RETIRED: readers map the new one. It starts
 * at KREG_VIEW_MIN records, doubles when full, and goes back to the minimum
 * when the table empties.
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

#include "holders.h"
#include "table.h"
#include "view.h"

#define KREG_VIEW_MIN		64U
/* 2^26 records: a 9 GiB view. Beyond, lookups go through netlink. */
#define KREG_VIEW_MAX		(1U << 26)
/* Records plus tombstones may fill this share of the index, in quarters. */
#define KREG_VIEW_FILL_QUARTERS	3

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
	u32				used_slots;	/* records and tombstones */
	u32				entries;
	u32				*free_recs;	/* a stack of free records */
	u32				nr_free;
	/* Retired, and still marked by dying holders until readers leave it. */
	struct kreg_view __rcu		*older;
	struct rcu_work			free_work;
};

/* Changed under kreg_lock; read under RCU by kreg_view_holder_dead(). */
static struct kreg_view __rcu *kreg_view;
static bool kreg_view_withdrawn;
static bool kreg_view_broken;	/* could not grow: closed until it can */
static u32 kreg_view_seed;
static u32 kreg_view_gen;
static DEFINE_IDA(kreg_view_slots);
static LIST_HEAD(kreg_view_holders);
static struct workqueue_struct *kreg_view_wq;

static struct kreg_view *kreg_view_locked(void)
{
	return rcu_dereference_protected(kreg_view, kreg_table_lock_held());
}

static u32 kreg_view_hash(const char *name, size_t len)
{
	u32 h = kreg_view_seed;

	while (len--) {
		h ^= (u8)*name++;
		h *= KREG_VIEW_FNV_PRIME;
	}
	return h;
}

/* seq is odd from begin to end: readers that overlap it search again. */
static void kreg_view_write_begin(struct kreg_view *v)
{
	WRITE_ONCE(v->hdr->seq, v->hdr->seq + 1);
	/* seq odd before any change: pairs with the reader's acquire of seq. */
	smp_wmb();
}

static void kreg_view_write_end(struct kreg_view *v)
{
	/* Every change before seq even again: pairs with the reader's fence. */
	smp_wmb();
	WRITE_ONCE(v->hdr->seq, v->hdr->seq + 1);
}

static void kreg_view_set_state(struct kreg_view *v, u32 state)
{
	kreg_view_write_begin(v);
	WRITE_ONCE(v->hdr->state, state);
	kreg_view_write_end(v);
}

static u32 kreg_view_state(void)
{
	if (kreg_view_broken)
		return KREG_VIEW_CLOSED;
	return kreg_view_withdrawn ? KREG_VIEW_WITHDRAWN : KREG_VIEW_LIVE;
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
	fput(v->file);
	kfree(v);
}

static void kreg_view_free_work(struct work_struct *work)
{
	kreg_view_free(container_of(to_rcu_work(work), struct kreg_view,
				    free_work));
}

/* The shmem file, read-only to everyone and owned by root, whoever grew it. */
static struct file *kreg_view_file(size_t size)
{
	struct inode *inode;
	struct file *file;

	file = shmem_file_setup("kreg-view", size, VM_NORESERVE);
	if (IS_ERR(file))
		return file;
	inode = file_inode(file);
	inode->i_mode = S_IFREG | 0444;
	inode->i_uid = GLOBAL_ROOT_UID;
	inode->i_gid = GLOBAL_ROOT_GID;
	mapping_set_unevictable(file->f_mapping);
	return file;
}

static struct kreg_view *kreg_view_alloc(u32 capacity)
{
	u32 slots = capacity * 2;
	size_t index_off = PAGE_SIZE;
	size_t records_off = ALIGN(index_off + (size_t)slots * sizeof(u32), 64);
	size_t holders_off = records_off +
			     (size_t)capacity * sizeof(struct kreg_view_record);
	size_t size = PAGE_ALIGN(holders_off + (size_t)capacity * sizeof(u32));
	struct kreg_view *v;
	unsigned int i;
	u32 r;

	BUILD_BUG_ON(sizeof(struct kreg_view_header) > PAGE_SIZE);
	BUILD_BUG_ON(sizeof(struct kreg_view_record) != 128);

	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return NULL;
	INIT_RCU_WORK(&v->free_work, kreg_view_free_work);
	v->file = kreg_view_file(size);
	if (IS_ERR(v->file)) {
		kfree(v);
		return NULL;
	}
	v->nr_pages = size >> PAGE_SHIFT;
	v->pages = kvcalloc(v->nr_pages, sizeof(*v->pages), GFP_KERNEL);
	v->free_recs = kvmalloc_array(capacity, sizeof(u32), GFP_KERNEL);
	if (!v->pages || !v->free_recs)
		goto fail;
	for (i = 0; i < v->nr_pages; i++) {
		/* A new shmem page comes zeroed. */
		struct page *page = shmem_read_mapping_page_gfp(v->file->f_mapping,
								i, GFP_KERNEL);

		if (IS_ERR(page)) {
			v->nr_pages = i;
			goto fail;
		}
		v->pages[i] = page;
	}
	v->base = vmap(v->pages, v->nr_pages, VM_MAP, PAGE_KERNEL);
	if (!v->base)
		goto fail;

	v->capacity = capacity;
	v->index_slots = slots;
	v->hdr = v->base;
	v->index = v->base + index_off;
	v->records = v->base + records_off;
	v->holders = v->base + holders_off;
	/* Lowest numbers on top, so that records stay packed. */
	for (r = 0; r < capacity; r++)
		v->free_recs[r] = capacity - 1 - r;
	v->nr_free = capacity;

	v->hdr->magic = KREG_VIEW_MAGIC;
	v->hdr->version = KREG_VIEW_VERSION;
	v->hdr->hash_seed = kreg_view_seed;
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

static void kreg_view_mark_dead(struct kreg_view *v, u32 slot, u32 word)
{
	if (slot < v->capacity)
		cmpxchg(&v->holders[slot], word, word & ~1U);
}

static void kreg_view_insert(struct kreg_view *v, struct kreg_entry *e)
{
	struct kreg_view_holder *vh = kreg_holder_view(e->holder);
	u32 hash = kreg_view_hash(e->name, e->name_len);
	u32 mask = v->index_slots - 1;
	struct kreg_view_record *r;
	u32 i, rec;

	rec = v->free_recs[--v->nr_free];
	r = &v->records[rec];
	r->hash = hash;
	r->pid = pid_nr(e->pid);
	r->holder = vh->slot;
	r->holder_word = vh->word;
	r->name_len = e->name_len;
	r->meta_len = e->meta_len;
	r->flags = 0;
	if (e->name_len <= KREG_VIEW_DATA_MAX) {
		memcpy(r->data, e->name, e->name_len);
		r->flags |= KREG_VIEW_R_NAME;
		if (e->name_len + e->meta_len <= KREG_VIEW_DATA_MAX) {
			memcpy(r->data + e->name_len, kreg_entry_meta(e),
			       e->meta_len);
			r->flags |= KREG_VIEW_R_META;
		}
	}
	/* The table keeps names unique: the first free or deleted slot is it. */
	for (i = hash & mask; ; i = (i + 1) & mask) {
		u32 cur = v->index[i];

		if (cur == 0 || cur == KREG_VIEW_TOMBSTONE) {
			if (cur == 0)
				v->used_slots++;
			WRITE_ONCE(v->index[i], rec + 1);
			break;
		}
	}
	e->view_rec = rec;
	v->entries++;
	WRITE_ONCE(v->hdr->entries, v->entries);
}

/* Builds a view of @capacity records from the table; NULL if out of memory. */
static struct kreg_view *kreg_view_build(u32 capacity)
{
	struct kreg_view_holder *vh;
	struct kreg_view *v;
	struct kreg_entry *e;
	unsigned long id = 0;

	v = kreg_view_alloc(capacity);
	if (!v)
		return NULL;
	list_for_each_entry(vh, &kreg_view_holders, link) {
		if (vh->slot != KREG_VIEW_NO_SLOT && vh->slot >= capacity)
			goto fail;	/* never: views only shrink when no holder is left */
		if (vh->slot == KREG_VIEW_NO_SLOT) {
			int slot = ida_alloc_max(&kreg_view_slots, capacity - 1,
						 GFP_KERNEL);

			if (slot < 0)
				goto fail;
			vh->word = (++kreg_view_gen << 1) | 1;
			/* Before the wake-up that marks it may read it. */
			smp_store_release(&vh->slot, slot);
		}
		v->holders[vh->slot] = test_bit(0, &vh->dead) ?
				       vh->word & ~1U : vh->word;
	}
	for (; (e = kreg_table_next(&id)); id++)
		kreg_view_insert(v, e);
	v->hdr->state = kreg_view_state();
	return v;

fail:
	kreg_view_free(v);
	return NULL;
}

/*
 * Replaces the view by one of @capacity records. Holders that die meanwhile
 * are marked in both, as kreg_view_holder_dead() reads the pointer after
 * setting their bit, and this reads the bits after publishing the pointer.
 */
static int kreg_view_rebuild(u32 capacity)
{
	struct kreg_view *old = kreg_view_locked(), *new, *gone;
	struct kreg_view_holder *vh;

	new = kreg_view_build(capacity);
	if (!new)
		return -ENOMEM;
	if (kreg_view_broken) {
		kreg_view_broken = false;
		new->hdr->state = kreg_view_state();
	}
	rcu_assign_pointer(new->older, old);
	rcu_assign_pointer(kreg_view, new);
	/* The pointer before the bits: pairs with kreg_view_holder_dead(). */
	smp_mb();
	list_for_each_entry(vh, &kreg_view_holders, link)
		if (test_bit(0, &vh->dead))
			kreg_view_mark_dead(new, vh->slot, vh->word);
	if (!old)
		return 0;
	kreg_view_set_state(old, KREG_VIEW_RETIRED);
	/* Two views back is out of every marker's reach after a grace period. */
	gone = rcu_replace_pointer(old->older, NULL, kreg_table_lock_held());
	if (gone)
		queue_rcu_work(kreg_view_wq, &gone->free_work);
	return 0;
}

/* The view cannot say what the table holds: readers must ask the kernel. */
static void kreg_view_break(struct kreg_view *v)
{
	pr_warn_ratelimited("view: cannot grow; lookups go through netlink until it can\n");
	kreg_view_broken = true;
	kreg_view_set_state(v, KREG_VIEW_CLOSED);
}

void kreg_view_reserve_locked(void)
{
	struct kreg_view *v = kreg_view_locked();
	u32 capacity = v->capacity;

	if (!kreg_view_broken &&
	    v->entries < v->capacity &&
	    (v->used_slots + 1) * 4 <= v->index_slots * KREG_VIEW_FILL_QUARTERS)
		return;
	/* Full: double. Tombstones only: the same size, without them. */
	while (capacity <= v->entries && capacity < KREG_VIEW_MAX)
		capacity *= 2;
	if ((capacity <= v->entries || kreg_view_rebuild(capacity)) && !kreg_view_broken)
		kreg_view_break(v);
}

void kreg_view_add_locked(struct kreg_entry *e)
{
	struct kreg_view *v = kreg_view_locked();

	e->view_rec = U32_MAX;
	if (kreg_view_broken)
		return;
	/* No room, or no word for its holder: both only for want of memory. */
	if (v->entries >= v->capacity ||
	    kreg_holder_view(e->holder)->slot >= v->capacity) {
		kreg_view_break(v);
		return;
	}
	kreg_view_write_begin(v);
	kreg_view_insert(v, e);
	kreg_view_write_end(v);
}

void kreg_view_remove_locked(struct kreg_entry *e)
{
	struct kreg_view *v = kreg_view_locked();
	u32 mask = v->index_slots - 1;
	struct kreg_view_record *r;
	u32 i, n, rec = e->view_rec;

	if (rec >= v->capacity)
		return;
	r = &v->records[rec];
	kreg_view_write_begin(v);
	for (i = r->hash & mask, n = 0; n < v->index_slots; i = (i + 1) & mask, n++) {
		if (v->index[i] == rec + 1) {
			WRITE_ONCE(v->index[i], KREG_VIEW_TOMBSTONE);
			break;
		}
	}
	WARN_ON_ONCE(n == v->index_slots);
	memset(r, 0, sizeof(*r));
	v->free_recs[v->nr_free++] = rec;
	v->entries--;
	WRITE_ONCE(v->hdr->entries, v->entries);
	kreg_view_write_end(v);
	e->view_rec = U32_MAX;
}

void kreg_view_shrink_locked(void)
{
	struct kreg_view *v = kreg_view_locked();

	/* With no entry and no holder, no record or word has to stay put. */
	if (!v->entries && v->capacity > KREG_VIEW_MIN &&
	    list_empty(&kreg_view_holders))
		kreg_view_rebuild(KREG_VIEW_MIN);
}

void kreg_view_holder_attach_locked(struct kreg_view_holder *vh)
{
	struct kreg_view *v = kreg_view_locked();
	int slot;

	list_add(&vh->link, &kreg_view_holders);
	if (kreg_view_broken)
		return;	/* the rebuild that mends the view gives it one */
	slot = ida_alloc_max(&kreg_view_slots, v->capacity - 1, GFP_KERNEL);
	if (slot < 0)
		return;
	vh->word = (++kreg_view_gen << 1) | 1;
	WRITE_ONCE(v->holders[slot], vh->word);
	/* The word is in place before a marker can find the slot. */
	smp_store_release(&vh->slot, slot);
}

void kreg_view_holder_detach_locked(struct kreg_view_holder *vh)
{
	struct kreg_view *v = kreg_view_locked();

	list_del(&vh->link);
	if (vh->slot == KREG_VIEW_NO_SLOT)
		return;
	if (vh->slot < v->capacity)
		WRITE_ONCE(v->holders[vh->slot], 0);
	ida_free(&kreg_view_slots, vh->slot);
	vh->slot = KREG_VIEW_NO_SLOT;
}

void kreg_view_holder_dead(struct kreg_view_holder *vh)
{
	struct kreg_view *v, *older;
	u32 slot;

	set_bit(0, &vh->dead);
	/* The bit before the pointer: pairs with the barrier in kreg_view_rebuild(). */
	smp_mb__after_atomic();
	/* A slot given by a rebuild comes with its word (smp_store_release). */
	slot = smp_load_acquire(&vh->slot);
	if (slot == KREG_VIEW_NO_SLOT)
		return;
	rcu_read_lock();
	v = rcu_dereference(kreg_view);
	if (v) {
		kreg_view_mark_dead(v, slot, vh->word);
		older = rcu_dereference(v->older);
		if (older)
			kreg_view_mark_dead(older, slot, vh->word);
	}
	rcu_read_unlock();
}

void kreg_view_withdraw(bool withdrawn)
{
	struct kreg_view *v;

	kreg_lock_table();
	v = kreg_view_locked();
	kreg_view_withdrawn = withdrawn;
	if (!kreg_view_broken)
		kreg_view_set_state(v, kreg_view_state());
	kreg_unlock_table();
}

/*
 * KREG_IOC_VIEW: a new read-only descriptor of the current view. Its pids
 * are the initial pid namespace's, and a container may not read the host's
 * names: only the initial namespaces may have it.
 */
static long kreg_view_ioctl(struct file *dev, unsigned int cmd, unsigned long arg)
{
	struct file *file, *ro;
	int fd;

	if (cmd != KREG_IOC_VIEW)
		return -ENOTTY;
	if (current_user_ns() != &init_user_ns ||
	    task_active_pid_ns(current) != &init_pid_ns)
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

	kreg_view_seed = get_random_u32();
	kreg_view_wq = alloc_workqueue("kreg_view", 0, 0);
	if (!kreg_view_wq)
		return -ENOMEM;
	v = kreg_view_alloc(KREG_VIEW_MIN);
	if (!v) {
		err = -ENOMEM;
		goto destroy_wq;
	}
	v->hdr->state = KREG_VIEW_LIVE;
	rcu_assign_pointer(kreg_view, v);
	err = misc_register(&kreg_view_dev);
	if (err)
		goto free_view;
	return 0;

free_view:
	RCU_INIT_POINTER(kreg_view, NULL);
	kreg_view_free(v);
destroy_wq:
	destroy_workqueue(kreg_view_wq);
	return err;
}

void kreg_view_exit(void)
{
	struct kreg_view *v = rcu_dereference_protected(kreg_view, true);
	struct kreg_view *older = rcu_dereference_protected(v->older, true);

	misc_deregister(&kreg_view_dev);
	/* Processes may keep their mappings: tell them to ask the kernel. */
	kreg_view_set_state(v, KREG_VIEW_CLOSED);
	RCU_INIT_POINTER(kreg_view, NULL);
	synchronize_rcu();
	if (older)
		kreg_view_free(older);
	kreg_view_free(v);
	/* Views retired earlier wait for a grace period, then for this queue. */
	rcu_barrier();
	destroy_workqueue(kreg_view_wq);
	ida_destroy(&kreg_view_slots);
}
