/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kregctl -j: JSON on standard output, one document per command (one line
 * per event for monitor). A writer that only knows what kregctl prints.
 */
#ifndef KREGCTL_JSON_H
#define KREGCTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *out;
	int depth;
	bool first[16];		/* no member written yet at this depth */
};

void json_start(struct json *j, FILE *out);
/* @key: a member's name inside an object, NULL inside an array. */
void json_object(struct json *j, const char *key);
void json_array(struct json *j, const char *key);
/* Ends the innermost object or array; at depth 0 also the line. */
void json_end(struct json *j, char closer);
void json_string(struct json *j, const char *key, const char *s);
/* Bytes as a string: well-formed UTF-8 as is, any other byte as \u00XX. */
void json_bytes(struct json *j, const char *key, const void *data, size_t len);
void json_int(struct json *j, const char *key, int64_t v);
void json_uint(struct json *j, const char *key, uint64_t v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);

#endif /* KREGCTL_JSON_H */
