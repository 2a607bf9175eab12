/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkreg: names for processes, kept by the kernel; the C counterpart of
 * Commanded's Registration behaviour.
 *
 * Every function returns 0 on success or a negative errno, as the kernel
 * does. kreg_whereis_name() has one more, distinct, result: KREG_UNDEFINED
 * (a positive value) when no live process holds the name.
 *
 * A struct kreg_conn is a handle on one registry, through one of two
 * providers: the kernel's table (kreg.ko, one for the whole host) or the
 * process's local table (threads hold names; no module needed). The API and
 * its errors are the same for both. A handle is not thread-safe: give each
 * thread its own. The handle that registers a name is that name's mailbox:
 * what kreg_send() sends to the name arrives on it, to be read with
 * kreg_recv(). Close it and the name stays registered without a mailbox.
 */
#ifndef KREG_H
#define KREG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/kreg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* kreg_whereis_name(): no live process holds the name. */
#define KREG_UNDEFINED 1

struct kreg_conn;

/* Which table a handle uses (Commanded's registry provider). */
enum kreg_provider {
	/* kreg.ko: one table for the host; processes hold names. */
	KREG_PROVIDER_KERNEL,
	/*
	 * This process's own table: threads hold names, the pid of a holder is
	 * its thread id, and a thread can register only itself. A thread's
	 * names go when it ends (reason "exited"), as a process's do in the
	 * kernel. A child made by fork() starts with an empty table.
	 */
	KREG_PROVIDER_LOCAL,
	/*
	 * The cluster's: one holder per name across every node, decided by
	 * etcd before a register returns, through kregd, this node's daemon
	 * (-ENOTCONN when it is not running). Processes hold names, as with
	 * the kernel provider, whose table on each node holds the cluster's
	 * names under "cluster." (where policy rules name them). A holder on
	 * another node is never a pid of this one: kreg_whereis_name() says
	 * -EREMOTE, kreg_whereis_holder() where it is, with its fencing token.
	 * Names under "user." stay this node's own: a uid means nothing on
	 * another host. When this node cannot keep its lease in etcd, its
	 * holders lose their names (reason "fenced") before the cluster could
	 * give them away, and their handles' registers, releases and
	 * linearizable lookups fail with -ESTALE from then on.
	 */
	KREG_PROVIDER_CLUSTER,
};

/*
 * Opens a handle on the configured provider: the one the KREG_REGISTRY
 * environment variable names ("kernel", "local" or "cluster"), else the
 * kernel. (A
 * set-user-ID or set-group-ID program ignores KREG_REGISTRY and KREG_VIEW:
 * they are read with secure_getenv().)
 * -ENOPROTOOPT when KREG_REGISTRY names neither. With the kernel provider
 * and no module loaded, fails with -EPROTONOSUPPORT (kreg_strerror() says
 * how to load it); it never falls back to another provider.
 */
int kreg_open(struct kreg_conn **connp);

/* kreg_open() with the provider chosen by the caller, whatever the environment. */
int kreg_open_provider(struct kreg_conn **connp, enum kreg_provider provider);

/*
 * Frees @conn and closes its sockets. Names it registered stay registered,
 * without a mailbox; those bound to it (a call's reply name) go.
 */
void kreg_close(struct kreg_conn *conn);

/* The provider @conn uses. */
enum kreg_provider kreg_registry_provider(const struct kreg_conn *conn);

/* "kernel", "local", "cluster". */
const char *kreg_provider_name(enum kreg_provider provider);

/* How this node stands in its cluster (kreg_cluster_status()). */
struct kreg_cluster_status {
	char cluster[64];
	char node[KREG_NODE_MAX + 1];
	uint64_t lease;			/* this node's lease in etcd (0: none now) */
	int64_t ttl_ms;			/* its TTL */
	/* Left before this node fences its holders, unless etcd renews the lease. */
	int64_t deadline_ms;
	uint32_t fenced;		/* holders fenced since kregd started */
	uint32_t endpoints;		/* etcd endpoints configured */
	uint32_t reachable;		/* of which answered last */
	char endpoint[128];		/* the one in use */
	uint32_t names;			/* cluster names this node knows of */
	uint32_t local_names;		/* of which held on this node */
	uint64_t revision;		/* its copy of them is as of this revision */
	int64_t age_ms;			/* which was known this long ago (-1: never) */
};

/*
 * Asks kregd, this node's daemon, how the node stands (any provider's
 * handle may ask): -ENOTCONN when kregd is not running.
 */
int kreg_cluster_status(struct kreg_conn *conn, struct kreg_cluster_status *st);

enum kreg_link_state {
	KREG_LINK_DOWN,			/* none now: one is made when a message is to go */
	KREG_LINK_CONNECTING,		/* its address read in etcd, dialed, TLS, HELLO */
	KREG_LINK_UP,
};

/*
 * Another node this node's kregd has a link to, or had: messages to names
 * held there go through it (TLS 1.3, both nodes' certificates checked),
 * each answered with that node's kernel's errno.
 */
struct kreg_peer {
	char node[KREG_NODE_MAX + 1];
	char address[80];		/* where it was dialed, or dialed from */
	enum kreg_link_state state;
	int last_error;			/* the link's last failure (negative errno), or 0 */
	int64_t rtt_us;			/* the last round trip, -1 not known */
	uint64_t queued_bytes;		/* sent or waiting to be, not yet answered */
	uint64_t in_flight;		/* messages sent, not yet answered */
	uint64_t sent, delivered, failed;	/* messages to it, by their answers */
	uint64_t received;		/* messages from it */
	uint64_t up_ms;			/* how long the link has been up */
};

/*
 * This node's peers, at most @max into @peers, *@n of them (added in
 * libkreg 0.10.0): -ENOTCONN when kregd is not running.
 */
int kreg_cluster_peers(struct kreg_conn *conn, struct kreg_peer *peers, size_t max, size_t *n);

/*
 * A fence for a resource that holders of one cluster name write to: it
 * admits a write with a fencing token no lower than any it admitted
 * before, and refuses an older one (-ESTALE), so that a holder that lost
 * its name (a node paused, cut off, fenced too late) cannot overwrite its
 * successor's work. Thread-safe; keep it where the resource is (in shared
 * memory, or persisted with it).
 */
struct kreg_fence {
	uint64_t highest;	/* the highest token admitted so far (0: none) */
};

int kreg_fence_admit(struct kreg_fence *fence, uint64_t token);

/*
 * Sets *@provider to the configured provider (see kreg_open()), or returns
 * -ENOPROTOOPT when KREG_REGISTRY names none.
 */
int kreg_configured_provider(enum kreg_provider *provider);

/*
 * A descriptor to poll for POLLIN before kreg_recv() or kreg_next_event():
 * the netlink socket, or the local provider's eventfd.
 */
int kreg_fd(const struct kreg_conn *conn);

/*
 * What the kernel said about the last failed request on @conn (its extended
 * ack message), or "" when it said nothing.
 */
const char *kreg_last_error(const struct kreg_conn *conn);

/* Like strerror(), with kreg's meaning of each errno (-ENOENT, -EEXIST...). */
const char *kreg_strerror(int err);

/*
 * Binds @name to process @pid (0: the calling process). Another process must
 * be a child of the caller unless the caller has CAP_SYS_ADMIN. (Local
 * provider: 0 or the calling thread's id; another thread of this process
 * gets -EPERM, anything else -ESRCH. A thread that has just ended, even
 * joined, counts as this process's until the kernel has let it go, a
 * moment later.)
 * On success *@holder (if not NULL) is the registered pid. When the name is
 * held, returns -EEXIST and sets *@holder to the holder's pid (0 if it lives
 * in a pid namespace the caller cannot see).
 * Other errors: -EINVAL (bad name), -ESRCH (no such process), -EPERM,
 * -EDQUOT (per-uid quota), -ENOSPC (registry full).
 */
int kreg_register(struct kreg_conn *conn, const char *name, pid_t pid,
		  pid_t *holder);

/*
 * kreg_register() with a value (up to KREG_META_MAX bytes, -EMSGSIZE beyond)
 * kept with the registration and reported by kreg_whereis_meta(), kreg_list()
 * and registration events.
 */
int kreg_register_meta(struct kreg_conn *conn, const char *name, pid_t pid,
		       const void *meta, size_t meta_len, pid_t *holder);

/*
 * Registers @name for the calling process (the calling thread on the local
 * provider), or waits in line for it when it is held, as D-Bus's
 * RequestName does without DO_NOT_QUEUE. Returns 0 when it holds @name
 * now, or -EINPROGRESS when it waits in line, after whoever waited first;
 * *@holder (if not NULL) is then the holder's pid, 0 if the caller cannot
 * see it. When the holder goes (it exits, releases the name, or loses it to
 * its mailbox or the policy), the first in line that still lives and may
 * own the name holds it, in the same step: no lookup, send or registration
 * finds the name free between the two, and subscribers see the holder's
 * KREG_EVENT_UNREGISTERED, then a KREG_EVENT_REGISTERED for the next.
 * kreg_await_own() waits for that. A place in line counts toward the quota
 * like a name, and goes like one: when the process exits, or calls
 * kreg_unregister() for the name. -EEXIST when the caller holds the name,
 * -EALREADY when it waits for it already, -EUSERS when KREG_LINE_MAX
 * processes do; the kernel and local providers only (a cluster name has
 * one holder in the cluster and no line: -EOPNOTSUPP). Queueing needs the
 * right to own the name, as registering does.
 */
int kreg_register_queued(struct kreg_conn *conn, const char *name, const void *meta,
			 size_t meta_len, pid_t *holder);

/*
 * Waits until the calling process (on the local provider, thread) holds
 * @name, after kreg_register_queued() returned -EINPROGRESS: woken by
 * events, and by the exit of the process that holds it (its pidfd), whose
 * name a lookup then hands on, so that a standby takes over with or without
 * BPF exit cleanup attached (a holder the caller cannot see, as from a
 * container, is not watched: then with exit cleanup only). Returns 0,
 * -ETIMEDOUT after @timeout_ms (-1: for ever; a caller in no line waits
 * that long), or another negative errno. Uses a connection of its own,
 * subscribed to @name alone, as kreg_await_name() does.
 */
int kreg_await_own(struct kreg_conn *conn, const char *name, int timeout_ms);

/*
 * -ENOENT if not registered, -EPERM if another uid registered it. A caller
 * waiting in line for @name (kreg_register_queued()) leaves the line
 * instead, and the holder keeps it.
 */
int kreg_unregister(struct kreg_conn *conn, const char *name);

/*
 * Changes the value of @name's registration to @meta (@meta_len bytes, up
 * to KREG_META_MAX, -EMSGSIZE beyond; 0: empty), in place, as Elixir's
 * Registry.update_value/3: lookups find the old value or the new one, never
 * no name, and the holder, its mailbox and its place in kreg_list() stay.
 * Subscribers get a KREG_EVENT_UPDATED with the new value. Only who
 * registered the name may change it: -EPERM for another uid or container
 * (the kernel provider), -ENOENT for a name not registered. On the cluster
 * provider a cluster name's value is the cluster's: -EOPNOTSUPP.
 */
int kreg_update_meta(struct kreg_conn *conn, const char *name, const void *meta,
		     size_t meta_len);

/*
 * Sets *@pid to the live holder of @name and returns 0, or returns
 * KREG_UNDEFINED when there is none. Never reports a dead process, nor a
 * process of another node as if it were one of this node's: a cluster name
 * held on another node is -EREMOTE (kreg_whereis_holder() tells where).
 */
int kreg_whereis_name(struct kreg_conn *conn, const char *name, pid_t *pid);

/*
 * A name's holder, wherever it is. For a cluster name held on another
 * node, @pid is that node's process, never one of this node's: @local says
 * which. Names of the kernel and local providers are always local, with no
 * node and no token.
 */
struct kreg_holder {
	pid_t pid;			/* its pid, as its node sees it */
	bool local;			/* on this node (the local provider: a thread here) */
	char node[KREG_NODE_MAX + 1];	/* a cluster name's node, else "" */
	/*
	 * A cluster name's fencing token, else 0: the cluster revision at
	 * which this holder got the name, higher for every later holder of it.
	 */
	uint64_t token;
	/*
	 * How old the answer may be: the age of this node's copy of the
	 * cluster names it was read from; 0 when it was just decided or read
	 * from the cluster itself (KREG_WHEREIS_LINEARIZABLE).
	 */
	uint64_t age_ms;
};

/* kreg_whereis_holder(): ask the cluster itself (etcd), not this node's copy. */
#define KREG_WHEREIS_LINEARIZABLE	(1U << 0)

/*
 * Sets *@holder to @name's live holder and returns 0, or KREG_UNDEFINED.
 * @flags: KREG_WHEREIS_LINEARIZABLE (the cluster provider; the others are
 * always current). With it, a cluster that cannot answer (no quorum, or
 * unreachable) is -EHOSTUNREACH, within a second.
 */
int kreg_whereis_holder(struct kreg_conn *conn, const char *name, unsigned int flags,
			struct kreg_holder *holder);

/*
 * The holder that the last kreg_register() or kreg_register_meta() on
 * @conn reported (the new holder, or the one that made it fail with
 * -EEXIST), or that kreg_start_link() found (KREG_ALREADY_STARTED): with
 * its node and token, where a bare pid would not say enough. -ENOENT when
 * none was reported.
 */
int kreg_last_holder(const struct kreg_conn *conn, struct kreg_holder *holder);

/*
 * kreg_whereis_name() that also copies the registration's value into @meta
 * (at most @size bytes) and sets *@meta_len to its full length.
 */
int kreg_whereis_meta(struct kreg_conn *conn, const char *name, pid_t *pid,
		      void *meta, size_t size, size_t *meta_len);

struct kreg_entry_info {
	const char *name;
	pid_t pid;		/* 0 when held on another node (see node) */
	uid_t uid;		/* (uid_t)-1 when held on another node */
	uint64_t registered_ns;	/* since the Unix epoch */
	bool has_mailbox;
	const void *meta;	/* the registration's value: meta_len bytes */
	size_t meta_len;
	/* A cluster name's: its holder's node (NULL otherwise), pid there and token. */
	const char *node;
	pid_t remote_pid;
	uint64_t token;
};

/*
 * Calls @fn once for every registered name the caller may see. A non-zero
 * return from @fn stops the iteration and is returned. Entries that exist
 * for the whole listing are reported exactly once; the listing streams,
 * whatever the table's size. -EINTR, after every entry was reported: the
 * table changed during the listing (netlink's NLM_F_DUMP_INTR), so it is
 * not a snapshot; list again for one.
 */
typedef int (*kreg_list_fn)(const struct kreg_entry_info *entry, void *arg);
int kreg_list(struct kreg_conn *conn, kreg_list_fn fn, void *arg);

/*
 * What kreg_select() and kreg_count() keep (Elixir Registry's match,
 * select, count_match and keys): every field that is set must match.
 */
struct kreg_match {
	/*
	 * NULL or "*": any name; "NAME": that name; "PREFIX.*": the names
	 * under "PREFIX." (the grammar of policy patterns). The kernel
	 * filters: names that do not match never leave it.
	 */
	const char *pattern;
	/* > 0: only the names this process holds (Registry.keys/2); 0: any. */
	pid_t pid;
	/* Non-NULL: only registrations whose value is these value_len bytes. */
	const void *value;
	size_t value_len;
};

/* kreg_list() of what matches @m only; -EINVAL for a bad pattern or pid. */
int kreg_select(struct kreg_conn *conn, const struct kreg_match *m, kreg_list_fn fn, void *arg);
/* How many names kreg_select() would report (-EINTR as kreg_list()). */
int kreg_count(struct kreg_conn *conn, const struct kreg_match *m, size_t *count);

/* What a registry holds and allows. */
struct kreg_status {
	/*
	 * Names held, counting dead holders' not yet released. The kernel
	 * tells it to CAP_SYS_ADMIN only (0 for others): a count would tell
	 * of names the caller may not see.
	 */
	size_t entries;
	size_t max_entries;	/* the most the registry holds (0: no limit) */
	size_t max_per_uid;	/* the most one account may hold (0: no limit) */
	uid_t uid;		/* the caller's effective uid */
	/*
	 * Names that count toward the caller's account: its uid's on the
	 * host; in a user namespace, those of every uid of the namespace's
	 * owner (of the namespace alone when root made it); in a container
	 * that shares the host's uids, the whole container's.
	 */
	size_t uid_entries;
	size_t max_subscriptions;	/* the most one account may have (0: no limit) */
	size_t uid_subscriptions;	/* the caller's, counted as uid_entries are */
	bool policy_loaded;	/* access control by a policy (kreg_policy_set()) */
	size_t policy_rules;	/* told to CAP_SYS_ADMIN only (0 for others) */
};

/* Fills *@st. The local provider has no limits: both are 0. */
int kreg_status(struct kreg_conn *conn, struct kreg_status *st);

/*
 * Access control (kernel provider only; the local one has none and answers
 * -EOPNOTSUPP). A policy is an ordered list of rules; kreg(7) in README.md
 * tells how they decide. Loading, listing and checking it need
 * CAP_SYS_ADMIN (-EPERM).
 */
struct kreg_rule {
	enum kreg_effect effect;
	unsigned int rights;			/* KREG_RIGHT_* */
	char pattern[KREG_NAME_MAX + 2];	/* NAME, PREFIX.* or * */
	enum kreg_who who;
	uint32_t id;				/* the uid or gid, for those */
	char source[KREG_POLICY_SOURCE_MAX];	/* "FILE:LINE", or "" */
	char node[KREG_NODE_MAX + 1];		/* KREG_WHO_NODE's */
};

/*
 * Replaces the loaded policy by @rules, atomically. On a bad rule nothing
 * changes, and kreg_last_error() names the rule and its source.
 */
int kreg_policy_set(struct kreg_conn *conn, const struct kreg_rule *rules, size_t n);

/* Unloads the policy: kreg goes back to its defaults. */
int kreg_policy_unload(struct kreg_conn *conn);

/* Calls @fn for each rule of the loaded policy, in order (none if none is). */
typedef int (*kreg_rule_fn)(const struct kreg_rule *rule, void *arg);
int kreg_policy_get(struct kreg_conn *conn, kreg_rule_fn fn, void *arg);

struct kreg_verdict {
	bool allowed;
	enum kreg_decided_by by;
	bool has_rule;			/* by == KREG_BY_RULE: which one */
	struct kreg_rule rule;
};

/*
 * What kreg decides for @uid (primary group @gid, supplementary @groups) in
 * the initial user namespace, without capabilities, asking @right on @name.
 */
int kreg_policy_check(struct kreg_conn *conn, uid_t uid, gid_t gid,
		      const gid_t *groups, size_t ngroups, const char *name,
		      enum kreg_right right, struct kreg_verdict *verdict);
/* The same for a process of node @node, whose messages this node's kregd relays. */
int kreg_policy_check_node(struct kreg_conn *conn, const char *node, const char *name,
			   enum kreg_right right, struct kreg_verdict *verdict);

/*
 * Reads the rules of policy file @path, or of every "*.conf" file in
 * directory @path in name order, into *@rules (free() it), *@n of them. On
 * a bad line returns -EINVAL and @error says "FILE:LINE: what is wrong";
 * other errors are the system's, with @error naming the file.
 */
int kreg_policy_read(const char *path, struct kreg_rule **rules, size_t *n,
		     char *error, size_t size);

/* "allow see,send orders.* gid 1002": a rule as a policy file would say it. */
int kreg_rule_format(const struct kreg_rule *rule, char *buf, size_t size);

/* "admin", "user namespace", "owner", "rule", "default", "reply address". */
const char *kreg_decided_by_name(enum kreg_decided_by by);

/*
 * Delivers @len bytes to the mailbox of @name. Errors: -ENOENT (not
 * registered), -ECONNREFUSED (no mailbox), -EAGAIN (the mailbox is full:
 * nothing was delivered, try later), -EMSGSIZE (@len > KREG_PAYLOAD_MAX).
 * A cluster name held on another node is reached through kregd's link to
 * that node, and the answer is that node's kernel's; or the link's:
 * -EHOSTUNREACH (no link could be made: nothing was sent), -ETIMEDOUT or
 * -ECONNRESET (the link failed with the message sent: it may or may not
 * have been delivered; it is never sent twice).
 */
int kreg_send(struct kreg_conn *conn, const char *name, const void *data,
	      size_t len);

/*
 * kreg_send() only if @name's holder is still the one fencing token @token
 * was granted to (kreg_whereis_holder(), struct kreg_holder.token):
 * -ESTALE when the name has another holder now, or never had a token (not
 * a cluster name). On a name held on another node, the check is that
 * node's kernel's, as the message arrives. (Added in libkreg 0.10.0.)
 */
int kreg_send_fenced(struct kreg_conn *conn, const char *name, uint64_t token,
		     const void *data, size_t len);

/*
 * kreg_send() as the holder of @from, a name this process holds (-EPERM
 * when it does not): the receiver's kreg_message.from_name is @from, as the
 * kernel checked it. What a server answers to, and how a caller knows the
 * answer came from the server it called.
 */
int kreg_send_from(struct kreg_conn *conn, const char *name, const char *from,
		   const void *data, size_t len);

/*
 * Fire and forget: kreg_send() to @name on every node of the registry, as
 * Commanded's multi_send: with the cluster provider, to the name each node
 * has of its own (the kernel provider's @name there, not the cluster's),
 * on this node and every other node of the cluster; with the others, on
 * this host (or in this process, for the local provider). Returns 0
 * whether or not anything was delivered, once every node has answered.
 */
int kreg_multi_send(struct kreg_conn *conn, const char *name, const void *data,
		    size_t len);

/* One node's answer to kreg_multi_send_each(). */
struct kreg_node_result {
	char node[KREG_NODE_MAX + 1];	/* "" for this host, outside a cluster */
	int err;			/* 0, or what kreg_send() there answered */
};

/*
 * kreg_multi_send(), saying what each node answered: at most @max of them
 * into @results, *@n in all, this node's first. Returns 0, or the error
 * that kept it from asking the other nodes (kregd not running): this
 * node's answer is in @results even then. (Added in libkreg 0.10.0.)
 */
int kreg_multi_send_each(struct kreg_conn *conn, const char *name, const void *data,
			 size_t len, struct kreg_node_result *results, size_t max, size_t *n);

/*
 * A message, with who sent it as the kernel saw it: enough for a service to
 * decide whether to serve a request. Ids are those this process's
 * namespaces see (an id they cannot map reads as the overflow id, 65534);
 * the uid and gid are those the sender's socket was opened with.
 */
struct kreg_message {
	char name[KREG_NAME_MAX + 1];	/* the name it was sent to */
	/*
	 * The name the sender proved it holds (kreg_send_from()), or "". For
	 * another node's process (sender_node set), a name it holds on its
	 * node, which that node vouched for: a cluster name this node's copy
	 * says that node holds, or its reply address there ("user.UID.reply.",
	 * its uid there). A name of that node, never this one's.
	 */
	char from_name[KREG_NAME_MAX + 1];
	pid_t sender;			/* the sending process (0: in a pid namespace this one cannot see) */
	uid_t sender_uid;		/* its effective uid */
	gid_t sender_gid;		/* its effective gid */
	uint64_t sender_cgroup;		/* its cgroup v2 id (0: not known) */
	/* KREG_SENDER_F_*: whether it registered the name, or may own it. */
	uint32_t sender_flags;
	/*
	 * A process of another node (KREG_SENDER_F_REMOTE; sender is then 0
	 * and its uid and gid -1): that node, and its pid, uid and gid there.
	 * "" for this node's. Its from_name is a name it holds there.
	 */
	char sender_node[KREG_NODE_MAX + 1];
	pid_t sender_remote_pid;
	uid_t sender_remote_uid;
	gid_t sender_remote_gid;
	size_t len;
	unsigned char data[KREG_PAYLOAD_MAX];
};

/*
 * Receives the next message sent to a name this connection registered.
 * @timeout_ms: -1 waits for ever, 0 does not wait. -ETIMEDOUT when none came.
 */
int kreg_recv(struct kreg_conn *conn, struct kreg_message *msg, int timeout_ms);

/*
 * Kinds may be added: a subscriber ignores those it does not know. A
 * program linked against libkreg before 0.12.0 is told only the two kinds
 * it knows: kreg_next_event() and the listeners have new symbol versions
 * (KREG_4.3), and their old ones leave KREG_EVENT_UPDATED out.
 */
enum kreg_event_kind {
	KREG_EVENT_REGISTERED,
	KREG_EVENT_UNREGISTERED,
	KREG_EVENT_UPDATED,	/* the registration's value changed (kreg_update_meta()) */
};

struct kreg_event {
	enum kreg_event_kind kind;
	char name[KREG_NAME_MAX + 1];
	pid_t pid;		/* in the subscriber's pid namespace; 0: on another node */
	uid_t uid;		/* in the subscriber's user namespace; (uid_t)-1: another node's */
	enum kreg_reason reason;	/* for KREG_EVENT_UNREGISTERED */
	size_t meta_len;		/* for KREG_EVENT_REGISTERED and _UPDATED */
	unsigned char meta[KREG_META_MAX];
	/* A cluster name's: its holder's node ("" otherwise), pid there and token. */
	char node[KREG_NODE_MAX + 1];
	pid_t remote_pid;
	uint64_t token;
};

/*
 * Subscribes @conn to events: every later change of a name the caller may
 * see, held by a process its pid namespace sees, is reported on it, until
 * it closes. -EDQUOT when the caller's uid has max_subscriptions already.
 */
int kreg_subscribe(struct kreg_conn *conn);

/*
 * kreg_subscribe() to the names that match @pattern only ("*", "NAME" or
 * "PREFIX.*", as in struct kreg_match): the kernel sends no other event.
 * Subscribing again replaces the pattern. -EINVAL for a bad pattern.
 */
int kreg_subscribe_matching(struct kreg_conn *conn, const char *pattern);

/*
 * The next change, in the order the kernel made them. -ENOBUFS means events
 * were lost because the socket fell behind; later calls go on normally.
 */
int kreg_next_event(struct kreg_conn *conn, struct kreg_event *ev,
		    int timeout_ms);

/*
 * Waits until a live process holds @name and sets *@pid, woken by events
 * (no polling). Returns 0, -ETIMEDOUT after @timeout_ms (-1: for ever),
 * -EREMOTE once a cluster name is held on another node (no process here
 * holds it: kreg_whereis_holder() says where), or another negative errno. Uses a connection of its own, so it takes no
 * events or messages from @conn's caller; @conn only proves the module is
 * there and is otherwise untouched.
 */
int kreg_await_name(struct kreg_conn *conn, const char *name, int timeout_ms,
		    pid_t *pid);

/*
 * "explicit", "exited", "unloading", "closed", "revoked", "fenced",
 * "remote", "node-lost".
 */
const char *kreg_reason_name(enum kreg_reason reason);

/*
 * A listener calls @fn for every registration and unregistration, in order,
 * from a thread of its own; @ev is NULL when events were lost (the listener
 * fell behind). Every change made after kreg_listen() returns is reported.
 */
typedef void (*kreg_event_fn)(const struct kreg_event *ev, void *arg);
struct kreg_listener;

/* Listens on @conn's provider (with a handle of its own). */
int kreg_listen(struct kreg_conn *conn, kreg_event_fn fn, void *arg,
		struct kreg_listener **listenerp);
/* kreg_listen() to the names that match @pattern only (kreg_subscribe_matching()). */
int kreg_listen_matching(struct kreg_conn *conn, const char *pattern, kreg_event_fn fn,
			 void *arg, struct kreg_listener **listenerp);

/* Stops the listener: once this returns, @fn is not running and not called again. */
void kreg_listener_stop(struct kreg_listener *listener);

/*
 * The library's own messages: unexpected calls to a server, casts and
 * infos nobody handles, supervisor restarts.
 */
enum kreg_log_level {
	KREG_LOG_ERROR,
	KREG_LOG_WARNING,
	KREG_LOG_INFO,
	KREG_LOG_DEBUG,
};

typedef void (*kreg_log_fn)(enum kreg_log_level level, const char *msg, void *arg);

/*
 * Sends the library's messages to @fn (called from any thread). NULL
 * restores the default: warnings and errors to stderr, debug messages too
 * when the KREG_DEBUG environment variable is set.
 */
void kreg_set_logger(kreg_log_fn fn, void *arg);

/*
 * Servers: a process (kernel provider) or thread (local provider) that holds
 * a name and answers calls, casts and other messages sent to it, as a
 * GenServer does. Its module is a struct of callbacks; any left NULL gets
 * the library's default, as Commanded injects defaults:
 * - init: the state is @args;
 * - handle_call: answers -EOPNOTSUPP and logs the call as an error;
 * - handle_cast, handle_info: log at debug level and ignore the message;
 * - terminate: nothing.
 */
struct kreg_server;

/*
 * Who made a call: where to answer (copy it to answer after handle_call
 * returns), and the caller's credentials, as kreg_message gives them, to
 * decide whether to serve it. The reply mailbox is the name the kernel
 * proved the caller holds, never one the caller claims: a server answers
 * nobody else.
 */
struct kreg_from {
	char reply_to[KREG_NAME_MAX + 1];	/* the caller's reply mailbox */
	uint64_t ref;				/* this call, random, among the caller's */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	uint64_t cgroup;
	/* A caller on another node: its node ("" on this one), pid, uid and gid there. */
	char node[KREG_NODE_MAX + 1];
	pid_t remote_pid;
	uid_t remote_uid;
	gid_t remote_gid;
};

/* What a callback returns: go on, stop normally, or a negative errno to stop with. */
#define KREG_CONTINUE	0
#define KREG_STOP	1

struct kreg_module {
	/* Sets *@state. A negative errno fails the start with it. */
	int (*init)(struct kreg_server *srv, void *args, void **state);
	/* Answers with kreg_reply() or kreg_reply_error(), now or later. */
	int (*handle_call)(struct kreg_server *srv, void *state, const void *req,
			   size_t len, const struct kreg_from *from);
	int (*handle_cast)(struct kreg_server *srv, void *state, const void *msg,
			   size_t len);
	/* Anything sent with kreg_send() rather than kreg_call()/kreg_cast(). */
	int (*handle_info)(struct kreg_server *srv, void *state,
			   const struct kreg_message *msg);
	/* @reason: 0 after KREG_STOP, kreg_stop() or SIGTERM; else the error. */
	void (*terminate)(struct kreg_server *srv, void *state, int reason);
};

/*
 * Answers the call @from with @len bytes (at most KREG_CALL_MAX, -EMSGSIZE
 * beyond). A caller that has gone, or cannot take the answer, is the
 * caller's affair: that is logged (debug) and this returns 0, so that a
 * handle_call that returns kreg_reply() never stops its server for it.
 */
int kreg_reply(struct kreg_server *srv, const struct kreg_from *from,
	       const void *data, size_t len);

/* Answers the call @from with an error: its kreg_call() returns @err. */
int kreg_reply_error(struct kreg_server *srv, const struct kreg_from *from, int err);

/* The name the server holds, and its handle (its mailbox). */
const char *kreg_server_name(const struct kreg_server *srv);
struct kreg_conn *kreg_server_conn(struct kreg_server *srv);

/*
 * Runs @module on @conn, which holds @name: init, then each message as it
 * comes, until a callback stops the server, kreg_stop() asks it to, or (in
 * a process of its own) SIGTERM comes. Returns 0 or the error it stopped with.
 */
int kreg_serve(struct kreg_conn *conn, const char *name,
	       const struct kreg_module *module, void *args);

/* The largest request or reply a call carries. */
#define KREG_CALL_MAX (KREG_PAYLOAD_MAX - 512)

/*
 * Servers in the caller's own event loop (epoll, libevent, sd-event...).
 *
 * kreg_server_open() runs @module's init on @conn, which holds @name, as
 * kreg_serve() does, and returns; the caller then polls kreg_server_fd()
 * for POLLIN (it is an epoll descriptor: add it to an epoll set, or poll
 * it) and calls kreg_server_dispatch() when it is readable. kreg_serve()
 * is exactly this with a poll() of its own.
 *
 * kreg_server_dispatch() never blocks. It runs a pending continue step,
 * handles the messages that are queued (at most 64, so that one busy
 * server cannot starve the loop: the fd stays readable), then the timers
 * that are due. Returns 0 while the server runs, 1 once it stopped in an
 * orderly way (a callback returned KREG_STOP, or kreg_stop() asked), or
 * the negative errno it stopped with; terminate has run then. A stop that
 * kreg_stop() asked for is answered with the name released; otherwise the
 * name stays with whoever registered it (the caller, who may hand it on),
 * as with a server process, whose names go when it ends.
 *
 * kreg_server_close() frees the server; if it still runs, terminate runs
 * first (reason 0). Never from the server's own callbacks: stop it by
 * returning KREG_STOP.
 */
int kreg_server_open(struct kreg_conn *conn, const char *name,
		     const struct kreg_module *module, void *args,
		     struct kreg_server **srvp);
int kreg_server_fd(const struct kreg_server *srv);
int kreg_server_dispatch(struct kreg_server *srv);
void kreg_server_close(struct kreg_server *srv);

/*
 * GenServer's timeout: if no message comes within @timeout_ms, handle_info
 * gets a message with KREG_MESSAGE_F_TIMEOUT in sender_flags, no data, and
 * the server's own pid as sender. Any message that comes first cancels it,
 * as in GenServer; a callback arms it again. -1 cancels it.
 */
int kreg_server_timeout(struct kreg_server *srv, int timeout_ms);
#define KREG_MESSAGE_F_TIMEOUT	(1U << 31)

/*
 * Erlang's send_after: sends @len bytes to @name (any name, the server's
 * own included: its handle_info gets them) after @delay_ms, from the
 * server's handle. *@timer (if not NULL) names the timer for
 * kreg_cancel_timer(). A send that fails when the timer fires is logged
 * (warning) with its errno. A timer lives as long as its server.
 */
int kreg_send_after(struct kreg_server *srv, const char *name, const void *data,
		    size_t len, int delay_ms, uint64_t *timer);
/* 0, or -ENOENT when the timer has fired or was cancelled already. */
int kreg_cancel_timer(struct kreg_server *srv, uint64_t timer);

/*
 * GenServer's handle_continue: @step runs as soon as the current callback
 * returns, before any message. Called from init, it runs after the
 * server's starter was told init succeeded (kreg_start_link() has
 * returned), so slow setup need not hold the starter up. @step returns
 * what a callback returns (KREG_CONTINUE, KREG_STOP or a negative errno).
 * One step may be pending at a time: -EBUSY otherwise.
 */
int kreg_server_continue(struct kreg_server *srv,
			 int (*step)(struct kreg_server *srv, void *state, void *arg),
			 void *arg);


/*
 * A by-name address, bound to a registry (Commanded's via tuple): what the
 * server API takes as a destination. The name is looked up each time it is
 * used, so a via tuple follows a restarted server.
 */
struct kreg_via {
	struct kreg_conn *registry;
	char name[KREG_NAME_MAX + 1];
};

/* -EINVAL when @name is empty or longer than KREG_NAME_MAX. */
int kreg_via_tuple(struct kreg_conn *registry, const char *name,
		   struct kreg_via *via);

/*
 * Calls the server at @dest and waits @timeout_ms (-1: for ever) for its
 * answer, which only this caller receives (a reply mailbox of the caller's
 * own, registered on first use under "user.<uid>.reply.<64 random bits>",
 * which only its owner sees). Only an answer that the kernel says comes from
 * the holder of @dest's name, to this call (a random reference), is taken.
 * Copies at most @size bytes of it into @reply and sets *@reply_len to its
 * length. Errors: those of kreg_send(), -ETIMEDOUT, or the server's
 * kreg_reply_error(). With the cluster provider the server may be on any
 * node: the answer comes back to this node, and only from the node that
 * holds the name, as this node's copy says.
 */
int kreg_call(const struct kreg_via *dest, const void *req, size_t len,
	      void *reply, size_t size, size_t *reply_len, int timeout_ms);

/* Sends a request that has no answer; the errors of kreg_send(). */
int kreg_cast(const struct kreg_via *dest, const void *msg, size_t len);

/*
 * Asks the server at @dest to stop: it runs terminate(0) and ends (a
 * process exits, a thread returns), and its names go with it. Waits for
 * that, up to @timeout_ms. A server obeys only who registered its name or
 * may own it (kreg_message.sender_flags): CAP_SYS_ADMIN, its user.UID., or a
 * rule of the policy; anyone else's stop, a process of another node's
 * included, is answered -EPERM.
 */
int kreg_stop(const struct kreg_via *dest, int timeout_ms);

/* How kreg_start_link() and kreg_start_child() succeeded. */
enum kreg_started {
	KREG_STARTED,		/* a new server holds the name */
	KREG_ALREADY_STARTED,	/* the name was held: the pid is the holder's */
};

/*
 * Supervision, as OTP defines it. A supervisor starts its children, learns
 * of their ends, and restarts them by strategy; a child with a name takes
 * that name itself when it starts, so after a restart the name follows the
 * live child. On the kernel and cluster providers a child is a process
 * (forked; its end is learned through a pidfd). On the local provider,
 * whose table is this process's, a child is a thread of this process: its
 * "pid" is its thread id, its exit status is what start returned (a server:
 * 0 after an orderly stop, 1 after an error), SIGTERM is a stop request its
 * server obeys, and SIGKILL is pthread_cancel() (a start function should
 * reach cancellation points, such as poll() or read()); its names go as it
 * ends, cancelled or not.
 */
enum kreg_strategy {
	KREG_ONE_FOR_ONE,	/* restart only the child that ended */
	KREG_ONE_FOR_ALL,	/* stop the others, restart them all */
	KREG_REST_FOR_ONE,	/* stop and restart it and those started after it */
};

enum kreg_restart {
	KREG_PERMANENT,		/* always restarted */
	KREG_TRANSIENT,		/* restarted unless it exited with status 0 */
	KREG_TEMPORARY,		/* never restarted */
};

/* A child that cannot take its name exits with this status. */
#define KREG_EXIT_NAME_HELD 111

struct kreg_child_spec {
	const char *name;	/* taken by the child itself; NULL: no name */
	/*
	 * Runs in the new process (a thread, on the local provider). @conn is
	 * the name's connection and mailbox (NULL without a name). The return
	 * value is the exit status.
	 */
	int (*start)(struct kreg_conn *conn, void *arg);
	/* Or, instead of start: a server running this module on the name. */
	const struct kreg_module *module;
	void *arg;			/* for start, or the module's init */
	enum kreg_restart restart;
	int shutdown_ms;	/* SIGTERM, then SIGKILL after this; 0: SIGKILL */
};

struct kreg_supervisor;

/*
 * More than @max_restarts restarts within @max_seconds and the supervisor
 * stops every child and reports -ELOOP. Its children take their names on
 * the configured provider (KREG_REGISTRY, as kreg_open()); -ENOPROTOOPT
 * when KREG_REGISTRY names none.
 */
int kreg_supervisor_new(struct kreg_supervisor **supp, enum kreg_strategy strategy,
			int max_restarts, int max_seconds);

/*
 * kreg_supervisor_new() whose children take their names on @registry's
 * provider: the kernel's, the local one's (children are threads), or the
 * cluster's. A child whose name another node holds
 * reports KREG_ALREADY_STARTED with pid 0 (kreg_whereis_holder() tells
 * where it is).
 */
int kreg_supervisor_new_on(struct kreg_supervisor **supp, struct kreg_conn *registry,
			   enum kreg_strategy strategy, int max_restarts, int max_seconds);

/*
 * Starts a child under @sup (Commanded's start_child) and returns once it
 * holds its name and its module's init has run. When the name is held, the
 * new process ends, nothing is added, and this returns 0 with *@pid the
 * holder and *@how KREG_ALREADY_STARTED. A start child killed before it
 * could report has started and ended: it is added, and kreg_supervisor_run()
 * restarts it as its restart type says. A server that dies in init fails
 * the start (-ECHILD). Children start, and are restarted,
 * in the order added, on the supervisor's provider.
 */
int kreg_start_child(struct kreg_supervisor *sup, const struct kreg_child_spec *spec,
		     pid_t *pid, enum kreg_started *how);

/* The pid of child @index (in the order added), or 0 if it is not running. */
pid_t kreg_supervisor_child_pid(const struct kreg_supervisor *sup, size_t index);

/*
 * Supervises for @timeout_ms (-1: until nothing is left to supervise):
 * returns -ETIMEDOUT when the time is up, 0 when every child has ended for
 * good, -ELOOP when the restart intensity was exceeded (every child is then
 * stopped), or another negative errno.
 */
int kreg_supervisor_run(struct kreg_supervisor *sup, int timeout_ms);

/* Stops every child, the last started first, each with its grace period. */
void kreg_supervisor_stop(struct kreg_supervisor *sup);

/* Stops every child and frees @sup. */
void kreg_supervisor_free(struct kreg_supervisor *sup);

/*
 * Starts a server running @module under @name and returns once it holds the
 * name and init has run (Commanded's start_link). The server is a child
 * process (kernel provider: the caller reaps it; it gets SIGTERM if the
 * calling thread ends) or a thread (local provider). The new server takes
 * the name itself, atomically: when the name is held, the new server ends
 * at once, the holder is left alone, and this returns 0 with *@pid the
 * holder (never a dead process) and *@how KREG_ALREADY_STARTED.
 * init's error fails the start with it.
 */
int kreg_start_link(struct kreg_conn *conn, const char *name,
		    const struct kreg_module *module, void *args, pid_t *pid,
		    enum kreg_started *how);

/*
 * What a supervisor needs to start the registry itself (Commanded's
 * child_spec): kreg's registries need no process, as the kernel's table is
 * the module and the local one lives in the process, so it sets *@n to 0
 * after checking that @provider can be used (-EPROTONOSUPPORT: the module
 * is not loaded).
 */
int kreg_child_spec(enum kreg_provider provider, struct kreg_child_spec *specs,
		    size_t size, size_t *n);


#ifdef __cplusplus
}
#endif

#endif /* KREG_H */
