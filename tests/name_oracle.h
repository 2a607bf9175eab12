/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The names' grammar said a second way, for the tests: a POSIX regular
 * expression and a uid rule, written from the README's text and not from
 * kreg_name_problem_of(), so that a test comparing the two can fail.
 * Also random names that often break the grammar in just one place.
 */
#ifndef KREG_TEST_NAME_ORACLE_H
#define KREG_TEST_NAME_ORACLE_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Whether @name (@len bytes, no NUL among them) is a good name. */
static inline bool oracle_name_ok(const char *name, size_t len)
{
	static regex_t grammar, padded_uid;
	static bool compiled;
	char copy[1024];

	if (!compiled) {
		if (regcomp(&grammar, "^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$",
			    REG_EXTENDED | REG_NOSUB) ||
		    regcomp(&padded_uid, "^user\\.0[0-9]+(\\.|$)", REG_EXTENDED | REG_NOSUB))
			abort();
		compiled = true;
	}
	if (len == 0 || len > 255 || memchr(name, '\0', len))
		return false;
	memcpy(copy, name, len);
	copy[len] = '\0';
	return !regexec(&grammar, copy, 0, NULL, 0) && regexec(&padded_uid, copy, 0, NULL, 0);
}

/*
 * A random name of 1 to 300 bytes in @buf (size > 300), NUL-terminated,
 * from an alphabet where dots, stars, spaces, zeros and bytes outside
 * ASCII are common; a quarter start "user.0".
 */
static inline size_t oracle_random_name(char *buf, unsigned int *seed)
{
	static const char alphabet[] = "ab0019Z_-....*  \t\xc3\xa9\x7f";
	size_t len, i = 0;

	len = rand_r(seed) % 4 ? 1 + rand_r(seed) % 12 : 1 + rand_r(seed) % 300;
	if (rand_r(seed) % 4 == 0) {
		memcpy(buf, "user.0", 6);
		i = 6;
		len += 6;
	}
	for (; i < len; i++)
		buf[i] = alphabet[rand_r(seed) % (sizeof(alphabet) - 1)];
	buf[len] = '\0';
	return len;
}

#endif
