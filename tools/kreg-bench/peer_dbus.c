// SPDX-License-Identifier: GPL-2.0
/*
 * D-Bus through libdbus against a dbus-daemon ($DBUS_SESSION_BUS_ADDRESS):
 * RequestName/ReleaseName to register, GetNameOwner plus
 * GetConnectionUnixProcessID to find a pid, a method call to send.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dbus/dbus.h>

#include "bench.h"

#define BENCH_PATH	"/org/kreg/Bench"
#define BENCH_IFACE	"org.kreg.Bench"

/* kreg-bench names ("bench.echo") as bus names ("org.kreg.bench.echo"). */
static void bus_name(char *out, size_t size, const char *name)
{
	char *p;

	snprintf(out, size, "org.kreg.%s", name);
	for (p = out; *p; p++)
		if (*p == '-')
			*p = '_';
}

static DBusConnection *connect_bus(void)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
	DBusConnection *c;
	DBusError e;

	if (!addr)
		return NULL;
	dbus_error_init(&e);
	c = dbus_connection_open_private(addr, &e);
	if (c && !dbus_bus_register(c, &e)) {
		dbus_connection_close(c);
		dbus_connection_unref(c);
		c = NULL;
	}
	dbus_error_free(&e);
	return c;
}

static int d_open(void **ctx)
{
	DBusConnection *c = connect_bus();

	if (!c)
		return -ECONNREFUSED;
	*ctx = c;
	return 0;
}

static void d_close(void *ctx)
{
	dbus_connection_close(ctx);
	dbus_connection_unref(ctx);
}

static int d_reg(void *ctx, const char *name)
{
	char bus[256];
	DBusError e;
	int ret;

	bus_name(bus, sizeof(bus), name);
	dbus_error_init(&e);
	ret = dbus_bus_request_name(ctx, bus, DBUS_NAME_FLAG_DO_NOT_QUEUE, &e);
	dbus_error_free(&e);
	return ret == DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER ? 0 : -EEXIST;
}

static int d_unreg(void *ctx, const char *name)
{
	char bus[256];
	DBusError e;
	int ret;

	bus_name(bus, sizeof(bus), name);
	dbus_error_init(&e);
	ret = dbus_bus_release_name(ctx, bus, &e);
	dbus_error_free(&e);
	return ret == DBUS_RELEASE_NAME_REPLY_RELEASED ? 0 : -ENOENT;
}

/* One call to the bus itself with a string argument; the reply, or NULL. */
static DBusMessage *bus_call(DBusConnection *c, const char *method, const char *arg)
{
	DBusMessage *msg, *reply;
	DBusError e;

	msg = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS,
					   DBUS_INTERFACE_DBUS, method);
	if (!msg)
		return NULL;
	dbus_message_append_args(msg, DBUS_TYPE_STRING, &arg, DBUS_TYPE_INVALID);
	dbus_error_init(&e);
	reply = dbus_connection_send_with_reply_and_block(c, msg, 5000, &e);
	dbus_error_free(&e);
	dbus_message_unref(msg);
	return reply;
}

static int d_whereis(void *ctx, const char *name, pid_t *pid)
{
	DBusMessage *owner, *proc;
	const char *unique = NULL;
	dbus_uint32_t nr = 0;
	char bus[256];
	int err = -ENOENT;

	bus_name(bus, sizeof(bus), name);
	owner = bus_call(ctx, "GetNameOwner", bus);
	if (!owner)
		return -ENOENT;
	if (dbus_message_get_args(owner, NULL, DBUS_TYPE_STRING, &unique, DBUS_TYPE_INVALID)) {
		proc = bus_call(ctx, "GetConnectionUnixProcessID", unique);
		if (proc && dbus_message_get_args(proc, NULL, DBUS_TYPE_UINT32, &nr,
						  DBUS_TYPE_INVALID)) {
			*pid = (pid_t)nr;
			err = 0;
		}
		if (proc)
			dbus_message_unref(proc);
	}
	dbus_message_unref(owner);
	return err;
}

static DBusMessage *echo_message(const char *name, const void *buf, size_t len)
{
	const unsigned char *bytes = buf;
	int n = (int)len;
	DBusMessage *msg;
	char bus[256];

	bus_name(bus, sizeof(bus), name);
	msg = dbus_message_new_method_call(bus, BENCH_PATH, BENCH_IFACE, "Echo");
	if (msg)
		dbus_message_append_args(msg, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &bytes, n,
					 DBUS_TYPE_INVALID);
	return msg;
}

static int d_call(void *ctx, const char *name, const void *buf, size_t len)
{
	DBusMessage *msg = echo_message(name, buf, len), *reply;
	DBusError e;

	if (!msg)
		return -ENOMEM;
	dbus_error_init(&e);
	reply = dbus_connection_send_with_reply_and_block(ctx, msg, 5000, &e);
	dbus_error_free(&e);
	dbus_message_unref(msg);
	if (!reply)
		return -EIO;
	dbus_message_unref(reply);
	return 0;
}

static int d_cast(void *ctx, const char *name, const void *buf, size_t len)
{
	DBusMessage *msg = echo_message(name, buf, len);

	if (!msg)
		return -ENOMEM;
	dbus_message_set_no_reply(msg, TRUE);
	dbus_connection_send(ctx, msg, NULL);
	dbus_connection_flush(ctx);
	dbus_message_unref(msg);
	return 0;
}

static void d_serve(const char *name, int ready_fd)
{
	DBusConnection *c = connect_bus();
	DBusMessage *msg, *reply;

	if (!c || d_reg(c, name) || write(ready_fd, "r", 1) != 1)
		_exit(1);
	while (dbus_connection_read_write(c, -1)) {
		while ((msg = dbus_connection_pop_message(c))) {
			if (dbus_message_is_method_call(msg, BENCH_IFACE, "Echo") &&
			    !dbus_message_get_no_reply(msg)) {
				reply = dbus_message_new_method_return(msg);
				if (reply) {
					/* Echo the arguments back as they came. */
					DBusMessageIter in, out;

					dbus_message_iter_init(msg, &in);
					dbus_message_iter_init_append(reply, &out);
					if (dbus_message_iter_get_arg_type(&in) == DBUS_TYPE_ARRAY) {
						const unsigned char *bytes;
						DBusMessageIter sub;
						int n;

						dbus_message_iter_recurse(&in, &sub);
						dbus_message_iter_get_fixed_array(&sub, &bytes, &n);
						dbus_message_append_args(reply, DBUS_TYPE_ARRAY,
									 DBUS_TYPE_BYTE, &bytes, n,
									 DBUS_TYPE_INVALID);
					}
					dbus_connection_send(c, reply, NULL);
					dbus_message_unref(reply);
				}
			}
			dbus_message_unref(msg);
		}
	}
	_exit(0);
}

const struct peer peer_dbus = {
	.name = "dbus",
	.open = d_open, .close = d_close, .hold = d_reg,
	.whereis = d_whereis, .reg = d_reg, .unreg = d_unreg,
	.serve = d_serve, .call = d_call, .cast = d_cast,
};
