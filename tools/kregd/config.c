// SPDX-License-Identifier: GPL-2.0
/*
 * /etc/kreg/cluster.conf: "key = value" lines, '#' comments. Every secret
 * (the file itself, the node's private key, the etcd password) must be
 * readable by root only: kregd refuses to start otherwise, as sshd does.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "protocol.h"

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int set_string(char *dst, size_t size, const char *value)
{
	if (strlen(value) >= size)
		return -EINVAL;
	strcpy(dst, value);
	return 0;
}

static int set_int(int *dst, const char *value, int min, int max)
{
	char *end;
	long v = strtol(value, &end, 10);

	if (!*value || *end || v < min || v > max)
		return -EINVAL;
	*dst = (int)v;
	return 0;
}

static int set_endpoints(struct kregd_config *c, char *value)
{
	char *save, *tok;

	c->n_endpoints = 0;
	for (tok = strtok_r(value, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (c->n_endpoints == KREGD_ENDPOINTS_MAX ||
		    strlen(tok) >= sizeof(c->endpoints[0]) ||
		    (strncmp(tok, "https://", 8) && strncmp(tok, "http://", 7)))
			return -EINVAL;
		strcpy(c->endpoints[c->n_endpoints++], tok);
	}
	return c->n_endpoints ? 0 : -EINVAL;
}

bool kregd_node_name_ok(const char *s)
{
	size_t i, len = s ? strlen(s) : 0;

	if (!len || len > KREG_NODE_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

/* One "key = value"; a negative errno for a bad key or value. */
static int set(struct kregd_config *c, const char *key, char *value, const char **why)
{
	*why = "bad value";
	if (!strcmp(key, "cluster"))
		return kregd_node_name_ok(value) ? set_string(c->cluster, sizeof(c->cluster), value) :
					     -EINVAL;
	if (!strcmp(key, "node")) {
		*why = "a node's name is 1 to 63 letters, digits, '-', '_' and '.'";
		return kregd_node_name_ok(value) ? set_string(c->node, sizeof(c->node), value) : -EINVAL;
	}
	if (!strcmp(key, "endpoints")) {
		*why = "endpoints are http:// or https:// URLs, separated by commas";
		return set_endpoints(c, value);
	}
	if (!strcmp(key, "ca"))
		return set_string(c->ca, sizeof(c->ca), value);
	if (!strcmp(key, "cert"))
		return set_string(c->cert, sizeof(c->cert), value);
	if (!strcmp(key, "key"))
		return set_string(c->key, sizeof(c->key), value);
	if (!strcmp(key, "user"))
		return set_string(c->user, sizeof(c->user), value);
	if (!strcmp(key, "password_file"))
		return set_string(c->password_file, sizeof(c->password_file), value);
	if (!strcmp(key, "lease_ttl")) {
		*why = "lease_ttl is 2 to 3600 seconds (etcd grants no less than about 2)";
		return set_int(&c->lease_ttl, value, 2, 3600);
	}
	if (!strcmp(key, "fence_margin_ms")) {
		*why = "fence_margin_ms is 100 to 10000";
		return set_int(&c->fence_margin_ms, value, 100, 10000);
	}
	if (!strcmp(key, "fence_signal")) {
		*why = "fence_signal is none or SIGTERM";
		if (!strcmp(value, "none"))
			c->fence_signal = 0;
		else if (!strcmp(value, "SIGTERM"))
			c->fence_signal = SIGTERM;
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(key, "state_dir"))
		return set_string(c->state_dir, sizeof(c->state_dir), value);
	if (!strcmp(key, "socket"))
		return set_string(c->socket, sizeof(c->socket), value);
	if (!strcmp(key, "relay_listen") || !strcmp(key, "relay_address")) {
		char host[128], port[16];

		*why = "an address is HOST:PORT, or [IPV6]:PORT";
		if (kregd_split_address(value, host, sizeof(host), port, sizeof(port)))
			return -EINVAL;
		return set_string(key[6] == 'l' ? c->relay_listen : c->relay_address,
				  sizeof(c->relay_listen), value);
	}
	*why = "unknown setting";
	return -EINVAL;
}

int kregd_split_address(const char *addr, char *host, size_t hsize, char *port, size_t psize)
{
	const char *colon = strrchr(addr, ':'), *start = addr, *end = colon;
	char *num_end;
	long num;

	if (!colon || colon == addr)
		return -EINVAL;
	if (*addr == '[') {
		start = addr + 1;
		end = strchr(addr, ']');
		if (!end || end + 1 != colon)
			return -EINVAL;
	}
	num = strtol(colon + 1, &num_end, 10);
	if ((size_t)(end - start) >= hsize || end == start || *num_end || num < 1 || num > 65535 ||
	    strlen(colon + 1) >= psize)
		return -EINVAL;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

/* A secret must be root's, and nobody else's to read. */
static int root_only(const char *path, char *error, size_t size)
{
	struct stat st;

	if (stat(path, &st)) {
		snprintf(error, size, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (st.st_uid != 0 || (st.st_mode & 077)) {
		snprintf(error, size,
			 "%s: readable by others than root (mode %03o, owner %u): chmod 600 and chown root",
			 path, st.st_mode & 0777, st.st_uid);
		return -EACCES;
	}
	return 0;
}

static int read_password(struct kregd_config *c, char *error, size_t size)
{
	FILE *f;
	int err = root_only(c->password_file, error, size);

	if (err)
		return err;
	f = fopen(c->password_file, "r");
	if (!f || !fgets(c->password, sizeof(c->password), f)) {
		snprintf(error, size, "%s: cannot read the password", c->password_file);
		if (f)
			fclose(f);
		return -EINVAL;
	}
	fclose(f);
	c->password[strcspn(c->password, "\r\n")] = '\0';
	return 0;
}

int kregd_config_read(const char *path, struct kregd_config *c, char *error, size_t size)
{
	char line[2048], *eq, *key, *value;
	const char *why;
	int lineno = 0, err;
	FILE *f;

	memset(c, 0, sizeof(*c));
	c->lease_ttl = 5;
	c->fence_margin_ms = 500;
	strcpy(c->state_dir, "/run/kreg");
	strcpy(c->socket, KREGD_SOCKET);
	err = root_only(path, error, size);
	if (err)
		return err;
	f = fopen(path, "r");
	if (!f) {
		snprintf(error, size, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(error, size, "%s:%d: expected \"key = value\"", path, lineno);
			fclose(f);
			return -EINVAL;
		}
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
		if (set(c, key, value, &why)) {
			snprintf(error, size, "%s:%d: %s: %s", path, lineno, key, why);
			fclose(f);
			return -EINVAL;
		}
	}
	fclose(f);
	if (!c->cluster[0] || !c->node[0] || !c->n_endpoints) {
		snprintf(error, size, "%s: cluster, node and endpoints are required", path);
		return -EINVAL;
	}
	if (c->fence_margin_ms >= c->lease_ttl * 1000 / 2) {
		snprintf(error, size, "%s: fence_margin_ms must be under half the lease's TTL", path);
		return -EINVAL;
	}
	if (!c->relay_listen[0])
		strcpy(c->relay_listen, "0.0.0.0:" KREGD_RELAY_PORT);
	if (!c->relay_address[0]) {
		char host[128], port[16];

		kregd_split_address(c->relay_listen, host, sizeof(host), port, sizeof(port));
		snprintf(c->relay_address, sizeof(c->relay_address), "%s:%s", c->node, port);
	}
	if (c->key[0] && (err = root_only(c->key, error, size)))
		return err;
	if (c->password_file[0] && (err = read_password(c, error, size)))
		return err;
	if (c->user[0] && !c->password[0]) {
		snprintf(error, size, "%s: user needs password_file", path);
		return -EINVAL;
	}
	return 0;
}
