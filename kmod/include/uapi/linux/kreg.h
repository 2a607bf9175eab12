/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kreg: a host-wide process registry kept by the kernel.
 *
 * This header is the one contract between kreg.ko and userspace: the generic
 * netlink family, its commands, attributes and limits. Bump
 * KREG_GENL_VERSION whenever a change here is not backward compatible;
 * libkreg refuses a module whose version is older than its own.
 *
 * Version 2: access control (rights, policy, names hidden from who may not
 * see them), events through KREG_CMD_SUBSCRIBE instead of a multicast group,
 * the sender's credentials on deliveries, per-sender mailbox shares.
 *
 * Version 3: requests are judged by the credentials of the socket's opener;
 * a container (a process outside the initial user or pid namespace) owns
 * only what it registered, and sees only holders its pid namespace sees, in
 * events too; SEND can prove a name the sender holds (KREG_A_FROM_NAME) and
 * release it as the message goes (KREG_SEND_F_RELEASE_FROM); deliveries say
 * what the sender may do to the name (KREG_A_SENDER_FLAGS); reply addresses
 * are seen by their owner only; a policy load releases the names it denies
 * (KREG_REASON_REVOKED); subscriptions count toward a per-uid limit; names
 * "user.UID." spell UID without leading zeros.
 *
 * Version 4: a container that shares the host's uids (the initial user
 * namespace, another pid namespace: Docker) owns, of "user.UID." names,
 * only reply addresses ("user.UID.reply.", KREG_F_MAILBOX_BOUND); limits
 * count per account (a uid; a container as a whole); STATUS tells the
 * caller its uid as the host sees it (KREG_A_HOST_UID), and the table's
 * size and the policy's rules to administrators only; a request from
 * another network namespace than its socket's is refused; a FROM_NAME
 * proof needs the name's registrant, not only its holder; mail and events
 * are queued on the receiving socket itself, never by port id.
 *
 * Also in version 4, cluster names (KREG_CLUSTER_PREFIX). A process claims one with
 * KREG_F_CLUSTER: the claim holds the name on this node but reads as absent
 * until the node's relay (kregd, bound with KREG_CMD_RELAY) has won it in
 * the cluster and commits it with its fencing token (KREG_CMD_COMMIT). The
 * relay mirrors names held on other nodes (KREG_CMD_MIRROR, _UNMIRROR),
 * which lookups, lists and events report with their node, their pid there
 * and their token, never as a local pid; and it fences this node's holders
 * when it cannot keep its lease (KREG_CMD_FENCE, KREG_REASON_FENCED), as
 * the kernel does by itself at the lease's deadline unless the relay
 * renewed it (KREG_CMD_LEASE): with kregd gone, stopped or stuck too.
 *
 * Version 5: messages across nodes. The relay SENDs on behalf of a process
 * of another node (KREG_A_NODE, KREG_A_REMOTE_PID, KREG_A_REMOTE_UID,
 * KREG_A_REMOTE_GID); no other socket may, nor the relay's socket in a
 * process without CAP_SYS_ADMIN. Such a sender is never one of
 * this host's uids: without a policy it may see and send to what the host
 * may, under one what a rule about its node or the cluster allows (and a
 * reply address), and its delivery says so
 * (KREG_SENDER_F_REMOTE, its node, pid, uid and gid there); rules name it
 * as KREG_WHO_NODE or KREG_WHO_CLUSTER. Its share of a
 * mailbox is its node's. A SEND with KREG_A_TOKEN reaches the name only
 * while its holder is the one that token was granted to (ESTALE).
 *
 * Version 6: calls across nodes. The relay's SEND for another node's
 * process may carry KREG_A_FROM_NAME, a name that process holds on its
 * node, which that node's relay vouched for: a cluster name only if this
 * node's mirror says that node holds it (EPERM otherwise), or the
 * caller's reply address there ("user.UID.reply.", of its own uid); never with
 * KREG_SEND_F_RELEASE_FROM. The delivery carries it with the sender's node
 * (KREG_SENDER_F_REMOTE): an answer goes to that name on that node.
 *
 * Version 7: names have a grammar (KREG_NAME_MAX, kreg_name_problem_of()):
 * elements of letters, digits, '_' and '-', separated by single dots; a
 * name that breaks it is EINVAL with an extack saying what is wrong.
 * Policy patterns are a name, a name followed by ".*", or "*". LIST and
 * SUBSCRIBE take such a pattern (KREG_A_PATTERN), and LIST a holder's
 * KREG_A_PID: only what matches is sent.
 *
 * Version 8: a registration's value changes in place (KREG_CMD_UPDATE),
 * with an event (KREG_CMD_UPDATED): the name never reads as absent
 * meanwhile, as it would between an UNREGISTER and a REGISTER.
 *
 * Version 9: a REGISTER with KREG_F_QUEUE waits in line for a held name,
 * as D-Bus's RequestName does without DO_NOT_QUEUE: when its holder goes,
 * the first live process in line holds it, in the same step, so the name
 * never reads as absent between the two.
 *
 * The read-only view of the table (the end of this file) has its own
 * version, KREG_VIEW_VERSION; the family does not depend on it.
 */
#ifndef _UAPI_LINUX_KREG_H
#define _UAPI_LINUX_KREG_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KREG_GENL_NAME		"kreg"
#define KREG_GENL_VERSION	9

/*
 * The grammar of a name, the same in kreg.ko, libkreg and kregctl:
 *
 *   name    = element *("." element)        1 to KREG_NAME_MAX bytes
 *   element = 1*(ALPHA / DIGIT / "_" / "-")
 *
 * so no space, no '*' (a policy pattern's wildcard), no empty element
 * ("a..b"), no leading or trailing dot. A name "user.UID.REST" belongs to
 * UID, written in decimal without a leading zero ("user.0." is uid 0;
 * "user.01000." is refused, so that no uid has two spellings): an element
 * right after "user." that is all digits never starts with a 0 unless it
 * is "0" ("user.007" is refused too).
 * On the wire a name is NUL-terminated.
 */
#define KREG_NAME_MAX		255
/* The largest payload SEND accepts; larger ones fail with EMSGSIZE. */
#define KREG_PAYLOAD_MAX	61440
/* The largest value a registration may carry (KREG_A_META); EMSGSIZE beyond. */
#define KREG_META_MAX		256
/*
 * Names under KREG_CLUSTER_PREFIX are the cluster's: one holder in the whole
 * cluster (kregd keeps them in etcd), claimed only with KREG_F_CLUSTER.
 * A node's name is 1 to KREG_NODE_MAX bytes of letters, digits, '-', '_'
 * and '.'.
 */
#define KREG_CLUSTER_PREFIX	"cluster."
#define KREG_NODE_MAX		63
/* The most rules a policy holds, and the longest source a rule may carry. */
#define KREG_POLICY_RULES_MAX	65536
#define KREG_POLICY_SOURCE_MAX	256

/*
 * kreg_name_problem_of() - what is wrong with a name, by its grammar (above)
 * @name: the name's bytes, not necessarily NUL-terminated
 * @len: how many there are
 *
 * Return: NULL for a good name, else a sentence saying what is wrong (the
 * kernel's extack says the same).
 */
static __inline__ const char *kreg_name_problem_of(const char *name,
						   unsigned long len)
{
	static const char user[] = "user.";
	unsigned long i, elem = 0;

	if (len == 0)
		return "name is empty";
	if (len > KREG_NAME_MAX)
		return "name is longer than 255 bytes";
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.' && !elem)
			return i ? "name has an empty element (two dots in a row)"
				 : "name starts with a dot";
		if (c == '*')
			return "'*' is never part of a name (it is a pattern's wildcard)";
		if (c != '.' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') &&
		    (c < '0' || c > '9') && c != '_' && c != '-')
			return "name has a byte other than a letter, a digit, '_', '-' or '.'";
		elem = c == '.' ? 0 : elem + 1;
	}
	if (!elem)
		return "name ends with a dot";
	/* "user.0N...": a uid with a leading zero, if that element is a number. */
	if (len > sizeof(user) && !__builtin_memcmp(name, user, sizeof(user) - 1) &&
	    name[sizeof(user) - 1] == '0' && name[sizeof(user)] >= '0' &&
	    name[sizeof(user)] <= '9') {
		for (i = sizeof(user); i < len && name[i] >= '0' && name[i] <= '9'; i++)
			;
		if (i == len || name[i] == '.')
			return "the uid of a user.UID. name has a leading zero";
	}
	return 0;
}

/*
 * kreg_pattern_problem_of() - what is wrong with a policy rule's pattern
 * @pattern: NUL-terminated: "*", a name, or a name followed by ".*"
 *
 * Return: NULL for a good pattern, else what is wrong.
 */
static __inline__ const char *kreg_pattern_problem_of(const char *pattern)
{
	unsigned long len = __builtin_strlen(pattern);

	if (len == 1 && pattern[0] == '*')
		return 0;
	if (len > 2 && pattern[len - 2] == '.' && pattern[len - 1] == '*') {
		/* "NAME." and one more byte must fit in a name. */
		if (len - 2 > KREG_NAME_MAX - 2)
			return "the pattern is longer than a name";
		len -= 2;
	}
	return kreg_name_problem_of(pattern, len);
}

/*
 * kreg_pattern_matches() - whether a name matches a pattern
 * @pattern: a pattern the grammar took: "*", a name, or a name and ".*"
 * @plen: its length
 * @name: the name's bytes, @len of them
 *
 * "*" matches every name, "NAME" that name, "PREFIX.*" every name under
 * "PREFIX." (not PREFIX itself).
 */
static __inline__ int kreg_pattern_matches(const char *pattern, unsigned long plen,
					   const char *name, unsigned long len)
{
	if (plen == 1 && pattern[0] == '*')
		return 1;
	if (plen > 2 && pattern[plen - 1] == '*')
		return len > plen - 1 && !__builtin_memcmp(name, pattern, plen - 1);
	return len == plen && !__builtin_memcmp(name, pattern, len);
}

/**
 * enum kreg_cmd - commands of the kreg family
 * @KREG_CMD_REGISTER: bind KREG_A_NAME to KREG_A_PID (default: the caller's
 *	process), with an optional value KREG_A_META and KREG_A_FLAGS. Needs
 *	the OWN right. The requesting socket becomes the name's mailbox.
 *	Replies KREG_A_NAME and KREG_A_PID. If the name is held, a reply
 *	carrying the holder's KREG_A_PID is sent before the EEXIST error,
 *	unless the caller may not see the name. With KREG_F_QUEUE, a held
 *	name is not an error: the reply carries the holder's KREG_A_PID (0
 *	when the caller may not see it) and KREG_A_FLAGS KREG_F_QUEUE, and the
 *	process waits in line for the name.
 * @KREG_CMD_UNREGISTER: release KREG_A_NAME; a process waiting in line
 *	for it leaves the line instead.
 * @KREG_CMD_WHEREIS: reply KREG_A_NAME, KREG_A_PID and any KREG_A_META, or
 *	fail with ENOENT (also for a name the caller may not SEE).
 * @KREG_CMD_LIST: dump every entry the caller may SEE (KREG_A_NAME,
 *	KREG_A_PID, KREG_A_UID, KREG_A_REGISTERED_NS, KREG_A_MAILBOX when it
 *	has one, any KREG_A_META). A dump during which the table changed is
 *	flagged NLM_F_DUMP_INTR. With KREG_A_PATTERN, only the names that
 *	match it; with KREG_A_PID, only those that process holds (a pid as
 *	the caller's pid namespace sees it).
 * @KREG_CMD_SEND: deliver KREG_A_PAYLOAD to KREG_A_NAME's mailbox. Needs the
 *	SEND right; EAGAIN when the sender's share of the mailbox is full.
 *	With KREG_A_FROM_NAME, a name the sending process holds (EPERM if it
 *	does not), the delivery carries it: the receiver knows, from the
 *	kernel, which name's holder sent it. KREG_A_SEND_FLAGS
 *	KREG_SEND_F_RELEASE_FROM releases that name as the message is
 *	delivered, for a server's last answer. With KREG_A_TOKEN, only to
 *	the holder granted that fencing token: ESTALE if the name has
 *	another (or is no cluster name). The relay alone (EPERM for any
 *	other socket) may send for a process of another node: KREG_A_NODE,
 *	its KREG_A_REMOTE_PID, _REMOTE_UID and _REMOTE_GID there, all
 *	required; with KREG_A_FROM_NAME, a name it holds there: a cluster
 *	name that node holds as this node's mirror says (EPERM otherwise), or
 *	its reply address there ("user.UID.reply.", UID its KREG_A_REMOTE_UID);
 *	never releasing it.
 * @KREG_CMD_DELIVER: kernel to mailbox: KREG_A_NAME, KREG_A_PAYLOAD, the
 *	sender's KREG_A_SENDER_PID, _UID, _GID (as the receiver's namespaces
 *	see them), _CGROUP and _FLAGS, and KREG_A_FROM_NAME when it proved
 *	one. From another node's process (KREG_SENDER_F_REMOTE): its
 *	KREG_A_NODE, KREG_A_REMOTE_PID, _REMOTE_UID and _REMOTE_GID there,
 *	and KREG_A_FROM_NAME a name of that node's (vouched for by its relay,
 *	checked as far as this node can: see KREG_CMD_SEND);
 *	its KREG_A_SENDER_PID is 0 and its _SENDER_UID and _GID are -1: no
 *	process or id of this host.
 * @KREG_CMD_REGISTERED: event: KREG_A_NAME, KREG_A_PID, KREG_A_UID (as the
 *	subscriber's namespaces see them) and any KREG_A_META.
 * @KREG_CMD_UNREGISTERED: event: the same plus KREG_A_REASON.
 * @KREG_CMD_STATUS: reply KREG_A_MAX_ENTRIES, KREG_A_MAX_PER_UID, the
 *	caller's KREG_A_UID and KREG_A_HOST_UID, KREG_A_UID_ENTRIES (the
 *	names that count toward its account's quota), KREG_A_MAX_SUBSCRIPTIONS
 *	and its account's KREG_A_UID_SUBSCRIPTIONS, and KREG_A_POLICY_RULES
 *	when a policy is loaded; KREG_A_ENTRIES and the policy's number of
 *	rules (else 0) only to CAP_SYS_ADMIN, as they would tell of names the
 *	caller may not see.
 * @KREG_CMD_SUBSCRIBE: the requesting socket receives an event for every
 *	later change of a name it may SEE held by a process its pid namespace
 *	sees, until it closes. Judged, then and for every event, by the
 *	credentials the socket was opened with. EDQUOT beyond
 *	max_subscriptions per account (a uid, or a container as a whole).
 *	With KREG_A_PATTERN, only for the names that match it; subscribing
 *	again replaces the pattern.
 * @KREG_CMD_POLICY_SET: (CAP_SYS_ADMIN) replace the policy, atomically, by
 *	the KREG_A_RULE attributes nested in KREG_A_POLICY; without
 *	KREG_A_POLICY, unload it.
 * @KREG_CMD_POLICY_GET: (CAP_SYS_ADMIN) dump the rules, one KREG_A_RULE each.
 * @KREG_CMD_POLICY_CHECK: (CAP_SYS_ADMIN) would KREG_A_UID (with KREG_A_GID
 *	and the supplementary KREG_A_GROUPS), or a process of node KREG_A_NODE
 *	(instead of those), have KREG_A_RIGHT on KREG_A_NAME?
 *	Replies KREG_A_VERDICT, KREG_A_DECIDED_BY and, when a rule decided,
 *	that KREG_A_RULE.
 * @KREG_CMD_RELAY: (CAP_SYS_ADMIN) the requesting socket becomes this
 *	node's relay, for node KREG_A_NODE: the only socket that may commit,
 *	mirror and fence cluster names. EBUSY while another relay's socket is
 *	open. When it closes, every mirrored name goes (KREG_REASON_CLOSED).
 * @KREG_CMD_COMMIT: (relay) the claim on KREG_A_NAME of process KREG_A_PID
 *	was won in the cluster with fencing token KREG_A_TOKEN: the name is
 *	registered from now on (REGISTERED event). ENOENT when that process
 *	no longer claims it; ESTALE once this node's deadline (LEASE) has
 *	passed.
 * @KREG_CMD_MIRROR: (relay) KREG_A_NAME is held on node KREG_A_NODE by its
 *	process KREG_A_REMOTE_PID, with token KREG_A_TOKEN and any KREG_A_META.
 *	Replaces a mirror with another token and a claim of this node, which
 *	has lost; EEXIST when a process of this node holds the name.
 * @KREG_CMD_UNMIRROR: (relay) KREG_A_NAME's mirror goes, for KREG_A_REASON,
 *	if its token is KREG_A_TOKEN (any without it); ENOENT if there is none.
 * @KREG_CMD_FENCE: (relay) this node's holders and claims of KREG_A_NAME,
 *	or of every cluster name without it, go with KREG_REASON_FENCED.
 *	Replies KREG_A_ENTRIES, how many went.
 * @KREG_CMD_PROGRESS: (relay) the mirrors are the cluster's names as of
 *	revision KREG_A_REVISION, known at KREG_A_HEARD_NS (CLOCK_BOOTTIME):
 *	STATUS and the view say how old the copy is.
 * @KREG_CMD_LEASE: (relay) this node's holders of cluster names keep them
 *	until KREG_A_DEADLINE_NS (CLOCK_BOOTTIME, which counts a suspend), the
 *	moment the cluster may give them away. Unless a later LEASE moves it,
 *	the kernel fences them then by itself (as FENCE does), whether the
 *	relay is still there or not, and COMMIT fails with ESTALE from then
 *	on. The relay renews it each time the cluster renews the node's lease.
 * @KREG_CMD_UPDATE: KREG_A_NAME's value becomes KREG_A_META (none: empty),
 *	in place: lookups find the old value or the new one, never no name,
 *	and the holder, its mailbox, its quota and its place in LIST stay.
 *	Only who registered the name may (EPERM, as for UNREGISTER: the same
 *	uid and namespaces), and no administrator for them: the value is
 *	what its holder says of itself. ENOENT for a name the caller may not
 *	see; EREMOTE for one held on another node, and EOPNOTSUPP for a
 *	cluster name held here, whose value the cluster keeps (its other
 *	nodes' mirrors would disagree). EMSGSIZE beyond KREG_META_MAX.
 * @KREG_CMD_UPDATED: event: as KREG_CMD_REGISTERED, with the new value.
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
	KREG_CMD_SUBSCRIBE,
	KREG_CMD_POLICY_SET,
	KREG_CMD_POLICY_GET,
	KREG_CMD_POLICY_CHECK,
	KREG_CMD_RELAY,
	KREG_CMD_COMMIT,
	KREG_CMD_MIRROR,
	KREG_CMD_UNMIRROR,
	KREG_CMD_FENCE,
	KREG_CMD_PROGRESS,
	KREG_CMD_LEASE,
	KREG_CMD_UPDATE,
	KREG_CMD_UPDATED,

	__KREG_CMD_MAX,
	KREG_CMD_MAX = __KREG_CMD_MAX - 1
};

/**
 * enum kreg_attr - attributes of the kreg family
 * @KREG_A_NAME: NUL-terminated string, see KREG_NAME_MAX
 * @KREG_A_PID: u32, a process id as seen in the caller's (events: the
 *	subscriber's) pid namespace
 * @KREG_A_UID: u32, the uid that registered the entry (STATUS: the caller's;
 *	POLICY_CHECK: the uid asked about)
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
 * @KREG_A_UID_ENTRIES: u32, names that count toward the caller's account's
 *	quota (a uid, or a container as a whole)
 * @KREG_A_SENDER_UID: u32, the sender's effective uid, as the receiver's
 *	user namespace sees it (the overflow uid when it cannot; -1 for a
 *	sender on another node)
 * @KREG_A_SENDER_GID: u32, the sender's effective gid, likewise
 * @KREG_A_SENDER_CGROUP: u64, the sender's cgroup v2 id (its inode number
 *	under /sys/fs/cgroup)
 * @KREG_A_POLICY: nested, the rules of a policy (KREG_A_RULE, repeated)
 * @KREG_A_RULE: nested, one rule: KREG_RULE_A_*
 * @KREG_A_POLICY_RULES: u32, the rules of the loaded policy
 * @KREG_A_GID: u32, POLICY_CHECK: the primary gid asked about
 * @KREG_A_GROUPS: binary, POLICY_CHECK: u32 supplementary gids
 * @KREG_A_RIGHT: u32, POLICY_CHECK: one enum kreg_right
 * @KREG_A_VERDICT: u32, POLICY_CHECK: 1 allowed, 0 denied
 * @KREG_A_DECIDED_BY: u32, POLICY_CHECK: enum kreg_decided_by
 * @KREG_A_FROM_NAME: NUL-terminated string: SEND, a name the sending process
 *	holds; DELIVER, that name, proved by the kernel
 * @KREG_A_SEND_FLAGS: u32, SEND: KREG_SEND_F_* flags
 * @KREG_A_SENDER_FLAGS: u32, DELIVER: KREG_SENDER_F_* flags
 * @KREG_A_MAX_SUBSCRIPTIONS: u32, STATUS: the most subscriptions one uid
 *	may have
 * @KREG_A_UID_SUBSCRIPTIONS: u32, STATUS: the caller's subscriptions, as
 *	counted toward that limit
 * @KREG_A_HOST_UID: u32, STATUS: the caller's effective uid as the initial
 *	user namespace sees it: the UID of the "user.UID." names it owns
 * @KREG_A_NODE: string, a node's name: RELAY, MIRROR; in replies and
 *	events, the node of a cluster name's holder; STATUS, this node's;
 *	SEND (relay) and DELIVER, a remote sender's; POLICY_CHECK, the node
 *	asked about
 * @KREG_A_TOKEN: u64, a cluster name's fencing token: the revision at which
 *	the cluster granted it, higher for each new holder of the name; SEND,
 *	the holder the message is meant for
 * @KREG_A_REMOTE_PID: u32, the pid of a holder on another node, there (its
 *	KREG_A_PID is then 0: no process of this node holds it); SEND (relay)
 *	and DELIVER, a remote sender's pid there
 * @KREG_A_REVISION: u64, PROGRESS, STATUS: the cluster revision the mirrors
 *	are as of
 * @KREG_A_HEARD_NS: u64, PROGRESS, STATUS: when that was known
 *	(CLOCK_BOOTTIME, ns); in replies and events about a cluster name, the
 *	same, for how old the answer may be
 * @KREG_A_DEADLINE_NS: u64, LEASE: until when this node's holders keep their
 *	cluster names (CLOCK_BOOTTIME, ns)
 * @KREG_A_REMOTE_UID: u32, SEND (relay), DELIVER: the effective uid of a
 *	sender on another node, as that node knows it
 * @KREG_A_REMOTE_GID: u32, likewise its effective gid
 * @KREG_A_PATTERN: string, LIST and SUBSCRIBE: only the names that match
 *	it (kreg_pattern_matches()): the kernel sends nothing about others
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
	KREG_A_SENDER_UID,
	KREG_A_SENDER_GID,
	KREG_A_SENDER_CGROUP,
	KREG_A_POLICY,
	KREG_A_RULE,
	KREG_A_POLICY_RULES,
	KREG_A_GID,
	KREG_A_GROUPS,
	KREG_A_RIGHT,
	KREG_A_VERDICT,
	KREG_A_DECIDED_BY,
	KREG_A_FROM_NAME,
	KREG_A_SEND_FLAGS,
	KREG_A_SENDER_FLAGS,
	KREG_A_MAX_SUBSCRIPTIONS,
	KREG_A_UID_SUBSCRIPTIONS,
	KREG_A_HOST_UID,
	KREG_A_NODE,
	KREG_A_TOKEN,
	KREG_A_REMOTE_PID,
	KREG_A_REVISION,
	KREG_A_HEARD_NS,
	KREG_A_DEADLINE_NS,
	KREG_A_REMOTE_UID,
	KREG_A_REMOTE_GID,
	KREG_A_PATTERN,

	__KREG_A_MAX,
	KREG_A_MAX = __KREG_A_MAX - 1
};

/**
 * enum kreg_rule_attr - the attributes nested in KREG_A_RULE
 * @KREG_RULE_A_EFFECT: u32, enum kreg_effect
 * @KREG_RULE_A_RIGHTS: u32, KREG_RIGHT_* bits
 * @KREG_RULE_A_PATTERN: string: a name, "PREFIX.*" (names that start with
 *	"PREFIX."), or "*" (every name)
 * @KREG_RULE_A_WHO: u32, enum kreg_who
 * @KREG_RULE_A_ID: u32, the uid or gid of KREG_WHO_UID or KREG_WHO_GID, as
 *	the loader's user namespace sees it
 * @KREG_RULE_A_NODE: string, the node of a KREG_WHO_NODE rule
 * @KREG_RULE_A_SOURCE: string, where the rule came from ("FILE:LINE"), at
 *	most KREG_POLICY_SOURCE_MAX bytes; kept and reported, never interpreted
 */
enum kreg_rule_attr {
	KREG_RULE_A_UNSPEC,
	KREG_RULE_A_EFFECT,
	KREG_RULE_A_RIGHTS,
	KREG_RULE_A_PATTERN,
	KREG_RULE_A_WHO,
	KREG_RULE_A_ID,
	KREG_RULE_A_SOURCE,
	KREG_RULE_A_NODE,

	__KREG_RULE_A_MAX,
	KREG_RULE_A_MAX = __KREG_RULE_A_MAX - 1
};

/*
 * Rights on a name. OWN: register it. SEE: learn that it exists and who
 * holds it (whereis, list, events, the holder of a failed register). SEND:
 * deliver to its mailbox (which also needs SEE).
 */
enum kreg_right {
	KREG_RIGHT_OWN	= 1 << 0,
	KREG_RIGHT_SEE	= 1 << 1,
	KREG_RIGHT_SEND	= 1 << 2,
};

#define KREG_RIGHTS_ALL	(KREG_RIGHT_OWN | KREG_RIGHT_SEE | KREG_RIGHT_SEND)

enum kreg_effect {
	KREG_EFFECT_DENY,
	KREG_EFFECT_ALLOW,
};

/**
 * enum kreg_who - whom a rule is about
 * @KREG_WHO_EVERYONE: every process of the host: the initial user and pid
 *	namespaces (containers are never "everyone": name their uid or gid)
 * @KREG_WHO_UID: processes whose effective uid is KREG_RULE_A_ID
 * @KREG_WHO_GID: processes whose effective or a supplementary gid is it
 * @KREG_WHO_NODE: the processes of another node, KREG_RULE_A_NODE, that
 *	this node's relay sends for (never matched by a uid, gid or everyone)
 * @KREG_WHO_CLUSTER: the processes of every other node of the cluster
 */
enum kreg_who {
	KREG_WHO_EVERYONE,
	KREG_WHO_UID,
	KREG_WHO_GID,
	KREG_WHO_NODE,
	KREG_WHO_CLUSTER,
};

/**
 * enum kreg_decided_by - what decided an access
 * @KREG_BY_ADMIN: CAP_SYS_ADMIN in the initial user namespace bypasses all
 * @KREG_BY_USER_NAMESPACE: names under "user.UID." are UID's alone to own
 * @KREG_BY_OWNER: who registered a name (its uid, from the same host or
 *	container) may always see and send to it
 * @KREG_BY_RULE: a rule of the loaded policy
 * @KREG_BY_DEFAULT: no rule applied: without a policy, the host may do
 *	anything and a container only use its "user.UID." names; with one,
 *	what no rule allows is denied
 * @KREG_BY_REPLY_ADDRESS: a KREG_F_MAILBOX_BOUND name under its owner's
 *	"user.UID." is a reply address: anyone who knows it may send to it,
 *	nobody but its owner may see it
 */
enum kreg_decided_by {
	KREG_BY_ADMIN,
	KREG_BY_USER_NAMESPACE,
	KREG_BY_OWNER,
	KREG_BY_RULE,
	KREG_BY_DEFAULT,
	KREG_BY_REPLY_ADDRESS,
};

/*
 * KREG_A_FLAGS of a registration.
 * KREG_F_MAILBOX_BOUND: the name lasts only as long as its mailbox: when the
 *	socket that registered it closes (the holder exits, or closes it), the
 *	name goes with reason KREG_REASON_CLOSED. For private reply mailboxes,
 *	which nothing else would ever release.
 */
#define KREG_F_MAILBOX_BOUND	(1U << 0)
/*
 * KREG_F_CLUSTER: a claim on a name under KREG_CLUSTER_PREFIX, which
 *	reads as absent (and fails another claim with EBUSY) until the relay
 *	commits it; the only way to register such a name.
 * In LIST replies, KREG_A_FLAGS also says KREG_F_REMOTE (held on another
 * node) and, to the relay only, KREG_F_PENDING (a claim not yet committed).
 */
#define KREG_F_CLUSTER		(1U << 1)
#define KREG_F_REMOTE		(1U << 2)
#define KREG_F_PENDING		(1U << 3)
/*
 * KREG_F_QUEUE: if the name is held, wait in line for it (after whoever
 *	waits already) rather than fail with EEXIST. When the holder goes (it
 *	exits, releases it, or its mailbox or the policy takes it), the first
 *	process in line that still lives and may own it holds it in the same
 *	step: subscribers see the holder's KREG_CMD_UNREGISTERED, then a
 *	KREG_CMD_REGISTERED for the next. A place in line counts toward the
 *	quota and the table's size like a name, and goes like one: when its
 *	process exits, its mailbox closes (KREG_F_MAILBOX_BOUND), or it
 *	UNREGISTERs the name. Names of this host only (not KREG_F_CLUSTER:
 *	EOPNOTSUPP); a process that holds the name or waits for it already is
 *	EEXIST or EALREADY; at most KREG_LINE_MAX wait for one name (EUSERS).
 *	Queueing needs the OWN right, as registering does: whoever may queue
 *	may also take the name whenever it is free.
 */
#define KREG_F_QUEUE		(1U << 4)
#define KREG_LINE_MAX		64
#define KREG_F_ALL		(KREG_F_MAILBOX_BOUND | KREG_F_CLUSTER | KREG_F_QUEUE)

/*
 * KREG_A_SEND_FLAGS of a SEND.
 * KREG_SEND_F_RELEASE_FROM: release KREG_A_FROM_NAME (reason
 *	KREG_REASON_EXPLICIT) before the message is delivered, so that the
 *	receiver, once it has the message, finds the name gone.
 */
#define KREG_SEND_F_RELEASE_FROM	(1U << 0)
#define KREG_SEND_F_ALL			KREG_SEND_F_RELEASE_FROM

/*
 * KREG_A_SENDER_FLAGS of a delivery: what the sender may do to the name it
 * sent to, so that a server can tell whom to obey.
 * KREG_SENDER_F_OWNER: the sender is who registered the name (its uid, from
 *	the same host or container).
 * KREG_SENDER_F_MAY_OWN: a sender that is not its owner may own the name
 *	by CAP_SYS_ADMIN, by its "user.UID." or by a rule of the policy; never
 *	by the default of a host without one.
 * KREG_SENDER_F_HOST: the sender runs on the host, not in a container.
 * KREG_SENDER_F_REMOTE: the sender is a process of another node, relayed
 *	by this node's relay (never with the others).
 */
#define KREG_SENDER_F_OWNER	(1U << 0)
#define KREG_SENDER_F_MAY_OWN	(1U << 1)
#define KREG_SENDER_F_HOST	(1U << 2)
#define KREG_SENDER_F_REMOTE	(1U << 3)

/**
 * enum kreg_reason - why an entry was removed
 * @KREG_REASON_EXPLICIT: KREG_CMD_UNREGISTER
 * @KREG_REASON_EXITED: the holder process exited
 * @KREG_REASON_UNLOADING: kreg.ko is being removed
 * @KREG_REASON_CLOSED: the mailbox of a KREG_F_MAILBOX_BOUND name closed
 * @KREG_REASON_REVOKED: a newly loaded policy denies who registered it the
 *	OWN right
 * @KREG_REASON_FENCED: this node could not keep its cluster lease: its
 *	holders of cluster names lost them before the cluster could give them
 *	to another node
 * @KREG_REASON_REMOTE: a name held on another node was released there
 * @KREG_REASON_NODE_LOST: the node that held it lost its lease (it died,
 *	or was cut off from the cluster)
 */
enum kreg_reason {
	KREG_REASON_EXPLICIT,
	KREG_REASON_EXITED,
	KREG_REASON_UNLOADING,
	KREG_REASON_CLOSED,
	KREG_REASON_REVOKED,
	KREG_REASON_FENCED,
	KREG_REASON_REMOTE,
	KREG_REASON_NODE_LOST,
};

/*
 * The view: a read-only copy of the names every host process may see, in
 * shared memory, which processes map and search with no system call (see
 * docs/view.md for the protocol).
 *
 * ioctl(open(KREG_VIEW_DEVICE, O_RDONLY), KREG_IOC_VIEW) returns a new
 * read-only file descriptor (close-on-exec) of the current view; mmap() its
 * whole size (fstat) with PROT_READ and MAP_SHARED. Only a process of the
 * initial user and pid namespaces may have it (EPERM): its pids are the
 * initial namespace's, and containers may not read the host's names.
 *
 * A name that not every host process may see is never in the view, in any
 * form: not a reply address, and under a policy not a name some host
 * process may not see. So a reader that does not find a name asks the
 * kernel (KREG_CMD_WHEREIS) unless the view is KREG_VIEW_LIVE and the name
 * is not under "user.".
 *
 * Layout: struct kreg_view_header at offset 0; index_slots __u32 at
 * index_offset (0: empty, KREG_VIEW_TOMBSTONE: deleted, else record number
 * + 1), probed linearly from hash & (index_slots - 1), at most
 * KREG_VIEW_PROBE_MAX slots: a name is never further than that from its
 * first slot, and a search that has met no empty slot by then asks the
 * kernel; capacity records at records_offset; capacity __u32 holder words
 * at holders_offset.
 *
 * A reader reads seq (odd: being changed, try again), then state, searches,
 * and reads seq again: unchanged, what it read is consistent. A found
 * record's holder is alive while holders[holder] == holder_word; the word
 * changes the instant the holder's last thread exits, before its parent can
 * reap it, so a dead or recycled pid is never reported. A view that grows is
 * replaced: the old one says KREG_VIEW_RETIRED (and is emptied), and a new
 * KREG_IOC_VIEW returns the new one.
 */
#define KREG_VIEW_DEVICE	"/dev/kreg"
#define KREG_IOC_VIEW		_IO(0xB8, 1)
#define KREG_VIEW_MAGIC		0x6b726567	/* "kreg" */
#define KREG_VIEW_VERSION	3
#define KREG_VIEW_TOMBSTONE	0xffffffffU
#define KREG_VIEW_DATA_MAX	96
#define KREG_VIEW_PROBE_MAX	32
/* The hash of a name: 32-bit FNV-1a over its bytes, started from hash_seed. */
#define KREG_VIEW_FNV_PRIME	16777619U

/**
 * enum kreg_view_state - what a reader may do with the view
 * @KREG_VIEW_LIVE: no policy is loaded and the view holds every name but
 *	reply addresses: a name not found, and not under "user.", is not
 *	registered
 * @KREG_VIEW_PARTIAL: a policy is loaded, or the view is out of room: what
 *	it holds is right, but a name not found may exist: ask the kernel
 * @KREG_VIEW_RETIRED: replaced by another view: get it with KREG_IOC_VIEW
 * @KREG_VIEW_CLOSED: kreg.ko is gone
 */
enum kreg_view_state {
	KREG_VIEW_LIVE = 1,
	KREG_VIEW_PARTIAL,
	KREG_VIEW_RETIRED,
	KREG_VIEW_CLOSED,
};

struct kreg_view_header {
	__u32	magic;
	__u32	version;
	__u32	seq;
	__u32	state;		/* enum kreg_view_state */
	__u32	hash_seed;	/* random, for each view */
	__u32	index_slots;	/* a power of two */
	__u32	capacity;	/* records, and holder words */
	__u32	entries;
	__u64	index_offset;
	__u64	records_offset;
	__u64	holders_offset;
	__u64	size;		/* of the whole view, in bytes */
	/*
	 * The cluster names' copy (KREG_CMD_PROGRESS): the revision it is as
	 * of and when that was known (CLOCK_BOOTTIME, ns); 0 when this node
	 * has no relay. Read them between the two reads of seq, like records.
	 */
	__u64	cluster_revision;
	__u64	cluster_heard_ns;
};

/*
 * The record holds the name (KREG_VIEW_R_NAME), then the value (_META),
 * each when it fits in data. A record of a name held on another node
 * (KREG_VIEW_R_REMOTE): pid is its pid there, holder its relay's word on
 * this node (when the relay dies, so does the copy), and its node's name
 * follows name and value in data, node_len bytes (0: it did not fit; ask
 * the kernel).
 */
#define KREG_VIEW_R_NAME	(1U << 0)
#define KREG_VIEW_R_META	(1U << 1)
#define KREG_VIEW_R_REMOTE	(1U << 2)

struct kreg_view_record {
	__u32	hash;
	__u32	pid;		/* in the initial pid namespace, or on its node */
	__u32	holder;		/* index of the holder's word */
	__u32	holder_word;	/* its value while the holder lives */
	__u16	name_len;
	__u16	meta_len;
	__u16	flags;		/* KREG_VIEW_R_* */
	__u16	node_len;
	__u64	token;		/* a cluster name's fencing token, else 0 */
	__u8	data[KREG_VIEW_DATA_MAX];
};

#endif /* _UAPI_LINUX_KREG_H */
