/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's types that kreg_exit.bpf.c needs, and nothing more: the
 * integer types, one map type, and task_struct, which the program only
 * hands to kreg.ko's kfunc (it reads no field of it). Written here rather
 * than dumped from some kernel's BTF (vmlinux.h), so that the object, and
 * the packages that carry it, come out the same on every build machine,
 * whatever kernel it runs. CO-RE matches task_struct by name at load time.
 */
#ifndef KREG_BPF_KERNEL_TYPES_H
#define KREG_BPF_KERNEL_TYPES_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

/* include/uapi/linux/bpf.h: a value of the kernel's ABI. */
enum bpf_map_type {
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
};

/* Passed through, never read: any layout that names it will do. */
struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

#endif /* KREG_BPF_KERNEL_TYPES_H */
