// SPDX-License-Identifier: GPL-2.0
/* kregctl -j: a small JSON writer (json.h). */
#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "text.h"

void json_start(struct json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->first[0] = true;
}

/*
 * Well-formed UTF-8 passes as itself (controls escaped, as JSON wants);
 * any other byte, which JSON's Unicode strings cannot hold, is written as
 * the code point of the same value (\u00XX): a lossy, documented mapping.
 */
static void json_escaped(FILE *out, const unsigned char *s, size_t len)
{
	size_t i = 0, n;

	fputc('"', out);
	while (i < len) {
		unsigned char c = s[i];

		n = text_printable_at(s + i, len - i);
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (n > 1)
			fwrite(s + i, 1, n, out);
		else if (!n && c == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			/* A C1 control, well-formed: its code point, escaped. */
			fprintf(out, "\\u%04x", s[++i]);
		else if (!n)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
		i++;
		if (n > 1)
			i += n - 1;
	}
	fputc('"', out);
}

/* The separator and the member's name, before any value. */
static void json_member(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
	if (key) {
		json_escaped(j->out, (const unsigned char *)key, strlen(key));
		fputc(':', j->out);
	}
}

static void json_open(struct json *j, const char *key, char opener)
{
	json_member(j, key);
	fputc(opener, j->out);
	if (j->depth + 1 < (int)(sizeof(j->first) / sizeof(j->first[0])))
		j->depth++;
	j->first[j->depth] = true;
}

void json_object(struct json *j, const char *key)
{
	json_open(j, key, '{');
}

void json_array(struct json *j, const char *key)
{
	json_open(j, key, '[');
}

void json_end(struct json *j, char closer)
{
	fputc(closer, j->out);
	if (j->depth > 0)
		j->depth--;
	if (j->depth == 0) {
		fputc('\n', j->out);
		fflush(j->out);
		j->first[0] = true;
	}
}

void json_string(struct json *j, const char *key, const char *s)
{
	json_member(j, key);
	json_escaped(j->out, (const unsigned char *)s, strlen(s));
}

void json_bytes(struct json *j, const char *key, const void *data, size_t len)
{
	json_member(j, key);
	json_escaped(j->out, data, len);
}

void json_int(struct json *j, const char *key, int64_t v)
{
	json_member(j, key);
	fprintf(j->out, "%" PRId64, v);
}

void json_uint(struct json *j, const char *key, uint64_t v)
{
	json_member(j, key);
	fprintf(j->out, "%" PRIu64, v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_member(j, key);
	fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j, const char *key)
{
	json_member(j, key);
	fputs("null", j->out);
}
