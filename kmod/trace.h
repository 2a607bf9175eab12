/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kreg tracepoints: every change and use of the table, for bpftrace,
 * bpftool-attached programs and ftrace. Pids and uids are those of the
 * initial namespaces; results are 0 or a negative errno.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kreg

#if !defined(_KREG_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KREG_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(kreg_register,
	TP_PROTO(const char *name, pid_t pid, uid_t uid, int result),
	TP_ARGS(name, pid, uid, result),
	TP_STRUCT__entry(
		__string(name, name)
		__field(pid_t, pid)
		__field(uid_t, uid)
		__field(int, result)
	),
	TP_fast_assign(
		__assign_str(name, name);
		__entry->pid = pid;
		__entry->uid = uid;
		__entry->result = result;
	),
	TP_printk("name=%s pid=%d uid=%u result=%d", __get_str(name),
		  __entry->pid, __entry->uid, __entry->result)
);

TRACE_EVENT(kreg_unregister,
	TP_PROTO(const char *name, pid_t pid, uid_t uid, int reason),
	TP_ARGS(name, pid, uid, reason),
	TP_STRUCT__entry(
		__string(name, name)
		__field(pid_t, pid)
		__field(uid_t, uid)
		__field(int, reason)
	),
	TP_fast_assign(
		__assign_str(name, name);
		__entry->pid = pid;
		__entry->uid = uid;
		__entry->reason = reason;
	),
	TP_printk("name=%s pid=%d uid=%u reason=%s", __get_str(name),
		  __entry->pid, __entry->uid,
		  __print_symbolic(__entry->reason,
				   { KREG_REASON_EXPLICIT, "explicit" },
				   { KREG_REASON_EXITED, "exited" },
				   { KREG_REASON_UNLOADING, "unloading" },
				   { KREG_REASON_CLOSED, "closed" },
				   { KREG_REASON_REVOKED, "revoked" },
				   { KREG_REASON_FENCED, "fenced" },
				   { KREG_REASON_REMOTE, "remote" },
				   { KREG_REASON_NODE_LOST, "node-lost" }))
);

/*
 * A place in line for a held name (KREG_F_QUEUE): taken, left (its process
 * exited, it UNREGISTERed, its mailbox closed, the policy denies it, or
 * kreg is unloading), or made the name's holder (@pid holds it now).
 */
#ifndef KREG_LINE_JOINED
#define KREG_LINE_JOINED	0
#define KREG_LINE_LEFT		1
#define KREG_LINE_HOLDS		2
#endif

TRACE_EVENT(kreg_queue,
	TP_PROTO(const char *name, pid_t pid, uid_t uid, int what),
	TP_ARGS(name, pid, uid, what),
	TP_STRUCT__entry(
		__string(name, name)
		__field(pid_t, pid)
		__field(uid_t, uid)
		__field(int, what)
	),
	TP_fast_assign(
		__assign_str(name, name);
		__entry->pid = pid;
		__entry->uid = uid;
		__entry->what = what;
	),
	TP_printk("name=%s pid=%d uid=%u %s", __get_str(name), __entry->pid,
		  __entry->uid,
		  __print_symbolic(__entry->what,
				   { KREG_LINE_JOINED, "joined" },
				   { KREG_LINE_LEFT, "left" },
				   { KREG_LINE_HOLDS, "holds" }))
);

/* A registration's value changed in place (or not): its new length. */
TRACE_EVENT(kreg_update,
	TP_PROTO(const char *name, pid_t pid, uid_t uid, size_t meta_len, int result),
	TP_ARGS(name, pid, uid, meta_len, result),
	TP_STRUCT__entry(
		__string(name, name)
		__field(pid_t, pid)
		__field(uid_t, uid)
		__field(u32, meta_len)
		__field(int, result)
	),
	TP_fast_assign(
		__assign_str(name, name);
		__entry->pid = pid;
		__entry->uid = uid;
		__entry->meta_len = meta_len;
		__entry->result = result;
	),
	TP_printk("name=%s pid=%d uid=%u meta_len=%u result=%d", __get_str(name),
		  __entry->pid, __entry->uid, __entry->meta_len, __entry->result)
);

/* A claim of this node, won in the cluster with @token, committed (or not). */
TRACE_EVENT(kreg_commit,
	TP_PROTO(const char *name, pid_t pid, u64 token, int result),
	TP_ARGS(name, pid, token, result),
	TP_STRUCT__entry(
		__string(name, name)
		__field(pid_t, pid)
		__field(u64, token)
		__field(int, result)
	),
	TP_fast_assign(
		__assign_str(name, name);
		__entry->pid = pid;
		__entry->token = token;
		__entry->result = result;
	),
	TP_printk("name=%s pid=%d token=%llu result=%d", __get_str(name),
		  __entry->pid, __entry->token, __entry->result)
);

/* A name held on another node, mirrored here. */
TRACE_EVENT(kreg_mirror,
	TP_PROTO(const char *name, const char *node, u32 remote_pid, u64 token,
		 int result),
	TP_ARGS(name, node, remote_pid, token, result),
	TP_STRUCT__entry(
		__string(name, name)
		__string(node, node)
		__field(u32, remote_pid)
		__field(u64, token)
		__field(int, result)
	),
	TP_fast_assign(
		__assign_str(name, name);
		__assign_str(node, node);
		__entry->remote_pid = remote_pid;
		__entry->token = token;
		__entry->result = result;
	),
	TP_printk("name=%s node=%s pid=%u token=%llu result=%d", __get_str(name),
		  __get_str(node), __entry->remote_pid, __entry->token, __entry->result)
);

/* This node's holders of cluster names fenced: it could not keep its lease. */
TRACE_EVENT(kreg_fence,
	TP_PROTO(int fenced),
	TP_ARGS(fenced),
	TP_STRUCT__entry(
		__field(int, fenced)
	),
	TP_fast_assign(
		__entry->fenced = fenced;
	),
	TP_printk("fenced=%d", __entry->fenced)
);

TRACE_EVENT(kreg_lookup,
	TP_PROTO(const char *name, pid_t pid, int result),
	TP_ARGS(name, pid, result),
	TP_STRUCT__entry(
		__string(name, name)
		__field(pid_t, pid)
		__field(int, result)
	),
	TP_fast_assign(
		__assign_str(name, name);
		__entry->pid = pid;
		__entry->result = result;
	),
	TP_printk("name=%s pid=%d result=%d", __get_str(name), __entry->pid,
		  __entry->result)
);

/* @node: the other node the relay (@sender) sent for, or "". */
TRACE_EVENT(kreg_send,
	TP_PROTO(const char *name, pid_t sender, u32 len, int result, const char *node),
	TP_ARGS(name, sender, len, result, node),
	TP_STRUCT__entry(
		__string(name, name)
		__field(pid_t, sender)
		__field(u32, len)
		__field(int, result)
		__string(node, node)
	),
	TP_fast_assign(
		__assign_str(name, name);
		__entry->sender = sender;
		__entry->len = len;
		__entry->result = result;
		__assign_str(node, node);
	),
	TP_printk("name=%s sender=%d len=%u result=%d node=%s", __get_str(name),
		  __entry->sender, __entry->len, __entry->result, __get_str(node))
);

/* @node: the other node whose process the relay (@pid) sent for, or "". */
TRACE_EVENT(kreg_denied,
	TP_PROTO(const char *name, pid_t pid, uid_t uid, int right, const char *node),
	TP_ARGS(name, pid, uid, right, node),
	TP_STRUCT__entry(
		__string(name, name)
		__field(pid_t, pid)
		__field(uid_t, uid)
		__field(int, right)
		__string(node, node)
	),
	TP_fast_assign(
		__assign_str(name, name);
		__entry->pid = pid;
		__entry->uid = uid;
		__entry->right = right;
		__assign_str(node, node);
	),
	TP_printk("name=%s pid=%d uid=%u node=%s right=%s", __get_str(name),
		  __entry->pid, __entry->uid, __get_str(node),
		  __print_symbolic(__entry->right,
				   { KREG_RIGHT_OWN, "own" },
				   { KREG_RIGHT_SEE, "see" },
				   { KREG_RIGHT_SEND, "send" }))
);

TRACE_EVENT(kreg_exit_cleanup,
	TP_PROTO(pid_t pid, int released),
	TP_ARGS(pid, released),
	TP_STRUCT__entry(
		__field(pid_t, pid)
		__field(int, released)
	),
	TP_fast_assign(
		__entry->pid = pid;
		__entry->released = released;
	),
	TP_printk("pid=%d released=%d", __entry->pid, __entry->released)
);

#endif /* _KREG_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
