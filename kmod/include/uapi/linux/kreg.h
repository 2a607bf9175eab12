/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kreg: a host-wide process registry kept by the kernel.
 *
 * This header is the one contract between kreg.ko and userspace: the generic
 * netlink family, its commands, attributes, multicast group and limits.
 * Bump KREG_GENL_VERSION whenever a change here is not backward compatible.
 */
#ifndef _UAPI_LINUX_KREG_H
#define _UAPI_LINUX_KREG_H

#define KREG_GENL_NAME		"kreg"
#define KREG_GENL_VERSION	1
#define KREG_MCGRP_EVENTS	"events"

/* A name is 1 to KREG_NAME_MAX printable ASCII bytes (0x20-0x7e), NUL-terminated. */
#define KREG_NAME_MAX		255
/* The largest payload SEND accepts; larger ones fail with EMSGSIZE. */
#define KREG_PAYLOAD_MAX	61440
/* The largest value a registration may carry (KREG_A_META); EMSGSIZE beyond. */
#define KREG_META_MAX		256

/**
 * enum kreg_cmd - commands of the kreg family
 * @KREG_CMD_REGISTER: bind KREG_A_NAME to KREG_A_PID (default: the caller's
 *	process), with an optional value KREG_A_META and KREG_A_FLAGS. The
 *	requesting socket becomes the name's mailbox. Replies KREG_A_NAME and
 *	KREG_A_PID. If the name is held, a reply carrying the holder's
 *	KREG_A_PID is sent before the EEXIST error.
 * @KREG_CMD_UNREGISTER: release KREG_A_NAME.
 * @KREG_CMD_WHEREIS: reply KREG_A_NAME, KREG_A_PID and any KREG_A_META, or
 *	fail with ENOENT.
 * @KREG_CMD_LIST: dump every entry (KREG_A_NAME, KREG_A_PID, KREG_A_UID,
 *	KREG_A_REGISTERED_NS, KREG_A_MAILBOX when it has one, any KREG_A_META).
 * @KREG_CMD_SEND: deliver KREG_A_PAYLOAD to KREG_A_NAME's mailbox.
 * @KREG_CMD_DELIVER: kernel to mailbox: KREG_A_NAME, KREG_A_SENDER_PID and
 *	KREG_A_PAYLOAD, as sent by KREG_CMD_SEND.
 * @KREG_CMD_REGISTERED: event: KREG_A_NAME, KREG_A_PID, KREG_A_UID and any
 *	KREG_A_META.
 * @KREG_CMD_UNREGISTERED: event: the same plus KREG_A_REASON.
 * @KREG_CMD_STATUS: reply KREG_A_ENTRIES, KREG_A_MAX_ENTRIES,
 *	KREG_A_MAX_PER_UID, and the caller's KREG_A_UID with KREG_A_UID_ENTRIES,
 *	the names that count toward its quota.
 */
enum kreg_cmd {
	KREG_CMD_UNSPEC,
	KREG_CMD_REGISTER,
	KREG_CMD_UNREGISTER,
	KREG_CMD_WHEREIS,
	KREG_CMD_LIST,
	KREG_CMD_SEND,
	KREG_CMD_DELIVER,
	KREG_CMD_REGISTERED,
	KREG_CMD_UNREGISTERED,
	KREG_CMD_STATUS,

	__KREG_CMD_MAX,
	KREG_CMD_MAX = __KREG_CMD_MAX - 1
};

/**
 * enum kreg_attr - attributes of the kreg family
 * @KREG_A_NAME: NUL-terminated string, see KREG_NAME_MAX
 * @KREG_A_PID: u32; in requests and replies, a process id as seen in the
 *	caller's pid namespace; in events, as seen in the initial one
 * @KREG_A_UID: u32, the uid that registered the entry
 * @KREG_A_REGISTERED_NS: u64, registration time, ns since the Unix epoch
 * @KREG_A_MAILBOX: flag, the entry has a mailbox socket
 * @KREG_A_PAYLOAD: binary, at most KREG_PAYLOAD_MAX bytes
 * @KREG_A_SENDER_PID: u32, the sending process as seen by the receiver
 * @KREG_A_REASON: u32, enum kreg_reason
 * @KREG_A_PAD: alignment padding for 64-bit attributes
 * @KREG_A_META: binary, the registration's value, at most KREG_META_MAX bytes
 * @KREG_A_FLAGS: u32, KREG_F_* flags of a registration
 * @KREG_A_ENTRIES: u32, names in the registry
 * @KREG_A_MAX_ENTRIES: u32, the most names the registry holds
 * @KREG_A_MAX_PER_UID: u32, the most names one uid may hold
 * @KREG_A_UID_ENTRIES: u32, names that count toward KREG_A_UID's quota
 */
enum kreg_attr {
	KREG_A_UNSPEC,
	KREG_A_NAME,
	KREG_A_PID,
	KREG_A_UID,
	KREG_A_REGISTERED_NS,
	KREG_A_MAILBOX,
	KREG_A_PAYLOAD,
	KREG_A_SENDER_PID,
	KREG_A_REASON,
	KREG_A_PAD,
	KREG_A_META,
	KREG_A_FLAGS,
	KREG_A_ENTRIES,
	KREG_A_MAX_ENTRIES,
	KREG_A_MAX_PER_UID,
	KREG_A_UID_ENTRIES,

	__KREG_A_MAX,
	KREG_A_MAX = __KREG_A_MAX - 1
};

/*
 * KREG_A_FLAGS of a registration.
 * KREG_F_MAILBOX_BOUND: the name lasts only as long as its mailbox: when the
 *	socket that registered it closes (the holder exits, or closes it), the
 *	name goes with reason KREG_REASON_CLOSED. For private reply mailboxes,
 *	which nothing else would ever release.
 */
#define KREG_F_MAILBOX_BOUND	(1U << 0)
#define KREG_F_ALL		KREG_F_MAILBOX_BOUND

/**
 * enum kreg_reason - why an entry was removed
 * @KREG_REASON_EXPLICIT: KREG_CMD_UNREGISTER
 * @KREG_REASON_EXITED: the holder process exited
 * @KREG_REASON_UNLOADING: kreg.ko is being removed
 * @KREG_REASON_CLOSED: the mailbox of a KREG_F_MAILBOX_BOUND name closed
 */
enum kreg_reason {
	KREG_REASON_EXPLICIT,
	KREG_REASON_EXITED,
	KREG_REASON_UNLOADING,
	KREG_REASON_CLOSED,
};

#endif /* _UAPI_LINUX_KREG_H */
