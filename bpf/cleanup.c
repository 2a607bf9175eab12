// SPDX-License-Identifier: GPL-2.0
/*
 * The loader for kreg_exit.bpf.c. Attaching pins the program's link and its
 * statistics map under /sys/fs/bpf/kreg/, so cleanup runs with no daemon
 * after the loader exits; detaching removes the pins, which destroys the
 * link. While attached, the program holds a reference on kreg.ko: rmmod
 * fails until `kregctl bpf detach`.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cleanup.h"
#include "kreg_exit.skel.h"

/* libbpf explains load failures on stderr; keep the first line for @why. */
static char libbpf_first_error[256];

static int note_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_WARN && !libbpf_first_error[0])
		vsnprintf(libbpf_first_error, sizeof(libbpf_first_error), fmt, args);
	return 0;
}

int cleanup_attach(char *why, size_t size)
{
	struct kreg_exit *skel;
	int err;

	why[0] = '\0';
	if (access("/sys/module/kreg", F_OK))
		return -EPROTONOSUPPORT;
	if (access(KREG_BPF_PIN_LINK, F_OK) == 0)
		return 1;
	if (mkdir(KREG_BPF_PIN_DIR, 0755) && errno != EEXIST)
		return -errno;

	libbpf_set_print(note_libbpf);
	skel = kreg_exit__open_and_load();
	if (!skel) {
		err = -errno;
		snprintf(why, size, "%s", libbpf_first_error);
		return err ? err : -EINVAL;
	}
	err = kreg_exit__attach(skel);
	if (err)
		goto out;
	/* The link pin claims the attachment: a racing attach gets EEXIST. */
	err = bpf_link__pin(skel->links.kreg_exit, KREG_BPF_PIN_LINK);
	if (err == -EEXIST) {
		err = 1;
		goto out;
	}
	if (err)
		goto out;
	err = bpf_map__pin(skel->maps.stats, KREG_BPF_PIN_STATS);
	if (err)
		unlink(KREG_BPF_PIN_LINK);
out:
	/* Pinned objects outlive the skeleton; the rest goes with it. */
	kreg_exit__destroy(skel);
	return err;
}

int cleanup_detach(void)
{
	bool was = access(KREG_BPF_PIN_LINK, F_OK) == 0;

	if (unlink(KREG_BPF_PIN_LINK) && errno != ENOENT)
		return -errno;
	if (unlink(KREG_BPF_PIN_STATS) && errno != ENOENT)
		return -errno;
	rmdir(KREG_BPF_PIN_DIR);
	return was ? 0 : 1;
}

int cleanup_status(struct cleanup_status *st)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int ncpus, fd, i, err = 0;
	__u32 key = 0;

	memset(st, 0, sizeof(*st));
	fd = bpf_obj_get(KREG_BPF_PIN_LINK);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	st->attached = true;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		st->link_id = info.id;
		st->prog_id = info.prog_id;
	}
	close(fd);

	ncpus = libbpf_num_possible_cpus();
	fd = bpf_obj_get(KREG_BPF_PIN_STATS);
	if (ncpus <= 0 || fd < 0)
		return fd < 0 ? -errno : ncpus;
	{
		struct kreg_exit_stats per_cpu[ncpus];

		if (bpf_map_lookup_elem(fd, &key, per_cpu)) {
			err = -errno;
		} else {
			for (i = 0; i < ncpus; i++) {
				st->totals.exits += per_cpu[i].exits;
				st->totals.holders += per_cpu[i].holders;
			}
		}
	}
	close(fd);
	return err;
}
