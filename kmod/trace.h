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
				   { KREG_REASON_CLOSED, "closed" }))
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

TRACE_EVENT(kreg_send,
	TP_PROTO(const char *name, pid_t sender, u32 len, int result),
	TP_ARGS(name, sender, len, result),
	TP_STRUCT__entry(
		__string(name, name)
		__field(pid_t, sender)
		__field(u32, len)
		__field(int, result)
	),
	TP_fast_assign(
		__assign_str(name, name);
		__entry->sender = sender;
		__entry->len = len;
		__entry->result = result;
	),
	TP_printk("name=%s sender=%d len=%u result=%d", __get_str(name),
		  __entry->sender, __entry->len, __entry->result)
);

TRACE_EVENT(kreg_denied,
	TP_PROTO(const char *name, pid_t pid, uid_t uid, int right),
	TP_ARGS(name, pid, uid, right),
	TP_STRUCT__entry(
		__string(name, name)
		__field(pid_t, pid)
		__field(uid_t, uid)
		__field(int, right)
	),
	TP_fast_assign(
		__assign_str(name, name);
		__entry->pid = pid;
		__entry->uid = uid;
		__entry->right = right;
	),
	TP_printk("name=%s pid=%d uid=%u right=%s", __get_str(name),
		  __entry->pid, __entry->uid,
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
