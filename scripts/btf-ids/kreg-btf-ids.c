// SPDX-License-Identifier: GPL-2.0
/*
 * kreg-btf-ids: fills in the BTF ids that a module's .BTF_ids section asks
 * for (BTF_ID(), BTF_SET8_START() and the like in <linux/btf_ids.h>), once
 * pahole has given the module its .BTF. The kernel's build does this with
 * its own resolve_btfids, which Debian's header packages do not ship, and a
 * DKMS build has no kernel tree to build it from. Without these ids the
 * module's kfunc set is empty and BPF programs may not call kreg's kfunc.
 *
 *   kreg-btf-ids BASE_BTF MODULE.ko
 *
 * BASE_BTF: the kernel's BTF, raw (/sys/kernel/btf/vmlinux) or in its
 * vmlinux. MODULE.ko is patched in place.
 *
 * The section holds, for each symbol __BTF_ID__KIND__NAME[__N]:
 *   func, struct, union, typedef: a u32 slot for the id of NAME of that kind;
 *   set8: u32 count, u32 flags, then count {u32 id, u32 flags} pairs, which
 *         end up sorted by id (the kernel searches them by bisection);
 *   set:  u32 count, then count u32 ids, sorted likewise.
 */
#include <bpf/btf.h>
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX "__BTF_ID__"

struct module {
	unsigned char *map;
	size_t size;
	const Elf64_Shdr *shdrs;
	unsigned int nsections;
	unsigned char *ids;		/* the .BTF_ids section's bytes */
	size_t ids_size;
	unsigned int ids_index;
};

static int fail(const char *fmt, const char *what)
{
	fprintf(stderr, "kreg-btf-ids: ");
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	return 1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether [off, off + len) lies inside the file. */
static int in_file(const struct module *m, uint64_t off, uint64_t len)
{
	return off <= m->size && len <= m->size - off;
}

static int open_module(const char *path, struct module *m)
{
	const Elf64_Ehdr *eh;
	const char *names;
	struct stat st;
	unsigned int i;
	int fd;

	fd = open(path, O_RDWR);
	if (fd < 0 || fstat(fd, &st))
		return fail("%s: cannot open", path);
	m->size = (size_t)st.st_size;
	m->map = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m->map == MAP_FAILED)
		return fail("%s: cannot map", path);
	eh = (const Elf64_Ehdr *)m->map;
	if (m->size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    !in_file(m, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)) ||
	    eh->e_shstrndx >= eh->e_shnum)
		return fail("%s: not a 64-bit little-endian ELF object", path);
	m->shdrs = (const Elf64_Shdr *)(m->map + eh->e_shoff);
	m->nsections = eh->e_shnum;
	names = (const char *)m->map + m->shdrs[eh->e_shstrndx].sh_offset;
	for (i = 0; i < m->nsections; i++) {
		if (strcmp(names + m->shdrs[i].sh_name, ".BTF_ids"))
			continue;
		if (!in_file(m, m->shdrs[i].sh_offset, m->shdrs[i].sh_size))
			return fail("%s: .BTF_ids lies outside the file", path);
		m->ids = m->map + m->shdrs[i].sh_offset;
		m->ids_size = m->shdrs[i].sh_size;
		m->ids_index = i;
		return 0;
	}
	return fail("%s: no .BTF_ids section: nothing to resolve", path);
}

/* NAME from "NAME__N" (BTF_ID's counter), in @out. */
static void strip_counter(const char *name, char *out, size_t size)
{
	const char *end = strrchr(name, '_');
	size_t len = strlen(name);

	if (end && end > name + 1 && end[-1] == '_' && end[1] && isdigit((unsigned char)end[1])) {
		const char *d = end + 1;

		while (isdigit((unsigned char)*d))
			d++;
		if (!*d)
			len = (size_t)(end - 1 - name);
	}
	snprintf(out, size, "%.*s", (int)len, name);
}

static uint32_t *slot(struct module *m, uint64_t off, uint64_t len)
{
	return off <= m->ids_size && len <= m->ids_size - off ? (uint32_t *)(m->ids + off) : NULL;
}

static int resolve(struct module *m, const struct btf *btf)
{
	unsigned int i, unresolved = 0, resolved = 0;

	for (i = 0; i < m->nsections; i++) {
		const Elf64_Shdr *symtab = &m->shdrs[i];
		const Elf64_Sym *syms;
		const char *strtab;
		size_t n, k;

		if (symtab->sh_type != SHT_SYMTAB || symtab->sh_link >= m->nsections ||
		    !in_file(m, symtab->sh_offset, symtab->sh_size))
			continue;
		syms = (const Elf64_Sym *)(m->map + symtab->sh_offset);
		strtab = (const char *)m->map + m->shdrs[symtab->sh_link].sh_offset;
		n = symtab->sh_size / sizeof(*syms);
		for (k = 0; k < n; k++) {
			const char *name = strtab + syms[k].st_name, *rest;
			char target[256];
			uint32_t *p;
			int kind = -1, id;

			if (syms[k].st_shndx != m->ids_index || strncmp(name, PREFIX, strlen(PREFIX)))
				continue;
			rest = name + strlen(PREFIX);
			if (!strncmp(rest, "set8__", 6) || !strncmp(rest, "set__", 5)) {
				size_t unit = rest[3] == '8' ? 8 : 4;
				uint64_t count = syms[k].st_size / unit;

				p = slot(m, syms[k].st_value, syms[k].st_size);
				if (!p || count == 0)
					return fail("%s: a set outside .BTF_ids", name);
				/* Its count, then its members sorted once they are known. */
				p[0] = (uint32_t)(count - 1);
				continue;
			}
			if (!strncmp(rest, "func__", 6))
				kind = BTF_KIND_FUNC, rest += 6;
			else if (!strncmp(rest, "struct__", 8))
				kind = BTF_KIND_STRUCT, rest += 8;
			else if (!strncmp(rest, "union__", 7))
				kind = BTF_KIND_UNION, rest += 7;
			else if (!strncmp(rest, "typedef__", 9))
				kind = BTF_KIND_TYPEDEF, rest += 9;
			else
				return fail("%s: a kind this tool does not know", name);
			strip_counter(rest, target, sizeof(target));
			p = slot(m, syms[k].st_value, 4);
			if (!p)
				return fail("%s: outside .BTF_ids", name);
			id = btf__find_by_name_kind(btf, target, kind);
			if (id <= 0) {
				fprintf(stderr, "kreg-btf-ids: %s: no such type in the BTF\n", target);
				unresolved++;
				continue;
			}
			*p = (uint32_t)id;
			resolved++;
		}
	}
	if (unresolved)
		return 1;
	return resolved ? 0 : fail("%s", "no BTF id to resolve");
}

/* Sorts each set's members by id, now that the ids are in. */
static int sort_sets(struct module *m)
{
	unsigned int i;

	for (i = 0; i < m->nsections; i++) {
		const Elf64_Shdr *symtab = &m->shdrs[i];
		const Elf64_Sym *syms;
		const char *strtab;
		size_t n, k;

		if (symtab->sh_type != SHT_SYMTAB || symtab->sh_link >= m->nsections)
			continue;
		syms = (const Elf64_Sym *)(m->map + symtab->sh_offset);
		strtab = (const char *)m->map + m->shdrs[symtab->sh_link].sh_offset;
		n = symtab->sh_size / sizeof(*syms);
		for (k = 0; k < n; k++) {
			const char *name = strtab + syms[k].st_name;
			bool set8 = !strncmp(name, PREFIX "set8__", strlen(PREFIX "set8__"));
			size_t unit = set8 ? 8 : 4, head = set8 ? 8 : 4;
			uint32_t *p;

			if (syms[k].st_shndx != m->ids_index ||
			    (!set8 && strncmp(name, PREFIX "set__", strlen(PREFIX "set__"))))
				continue;
			p = slot(m, syms[k].st_value, syms[k].st_size);
			if (!p || head + (uint64_t)p[0] * unit > syms[k].st_size)
				return fail("%s: a set that does not fit", name);
			qsort((unsigned char *)p + head, p[0], unit, cmp_u32);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct module m = { 0 };
	struct btf *base, *btf;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: kreg-btf-ids BASE_BTF MODULE.ko\n");
		return 2;
	}
	base = btf__parse(argv[1], NULL);
	if (!base)
		return fail("%s: no BTF to read", argv[1]);
	btf = btf__parse_split(argv[2], base);
	if (!btf)
		return fail("%s: no .BTF (run pahole -J --btf_base first)", argv[2]);
	if (open_module(argv[2], &m))
		return 1;
	err = resolve(&m, btf) || sort_sets(&m);
	if (!err && msync(m.map, m.size, MS_SYNC))
		err = fail("%s: cannot write", argv[2]);
	munmap(m.map, m.size);
	btf__free(btf);
	btf__free(base);
	return err;
}
