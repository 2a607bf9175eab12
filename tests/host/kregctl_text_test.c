// SPDX-License-Identifier: GPL-2.0
/*
 * kregctl's text from others (tools/kregctl/text.c): UTF-8 passes, nothing a
 * terminal acts on does. Attacker-chosen bytes, as a sender would choose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "../../tools/kregctl/json.c"
#include "../../tools/kregctl/text.c"

/* What text_write_escaped() makes of @len bytes at @in, NUL-terminated in @out. */
static const char *escaped(const char *in, size_t len, char *out, size_t size)
{
	FILE *f = fmemopen(out, size, "w");

	text_write_escaped(f, in, len);
	fclose(f);
	return out;
}

#define ESC(s, buf) escaped(s, sizeof(s) - 1, buf, sizeof(buf))

TEST(utf8_text_passes_as_itself)
{
	char buf[256];

	EXPECT_STREQ("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
		     ESC("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", buf));
	EXPECT_STREQ("back\\\\slash", ESC("back\\slash", buf));
}

TEST(terminal_controls_are_written_as_escapes)
{
	char buf[256];

	/* A title, a colour, a bell, a line kill: ESC sequences and C0. */
	EXPECT_STREQ("\\x1b]0;pwned\\x07\\x1b[31mred\\x1b[2K\\x0d",
		     ESC("\x1b]0;pwned\x07\x1b[31mred\x1b[2K\r", buf));
	/* CSI as a C1 control, in UTF-8 (U+009B) and raw; DEL. */
	EXPECT_STREQ("\\xc2\\x9b31m\\x9b\\x7f", ESC("\xc2\x9b" "31m\x9b\x7f", buf));
	EXPECT_STREQ("a\\x00b\\x0a", escaped("a\0b\n", 4, buf, sizeof(buf)));
}

TEST(malformed_utf8_is_written_as_escapes)
{
	char buf[256];

	/* Overlong '/', a surrogate, past U+10FFFF, cut short, a lone continuation. */
	EXPECT_STREQ("\\xc0\\xaf", ESC("\xc0\xaf", buf));
	EXPECT_STREQ("\\xed\\xa0\\x80", ESC("\xed\xa0\x80", buf));
	EXPECT_STREQ("\\xf4\\x90\\x80\\x80", ESC("\xf4\x90\x80\x80", buf));
	EXPECT_STREQ("\\xe6\\x97", ESC("\xe6\x97", buf));
	EXPECT_STREQ("\\x80", ESC("\x80", buf));
}

TEST(marks_that_reorder_or_hide_text_are_escaped)
{
	char buf[256];

	/* RIGHT-TO-LEFT OVERRIDE, FIRST STRONG ISOLATE, ZERO WIDTH SPACE, BOM. */
	EXPECT_STREQ("a\\xe2\\x80\\xaeb\\xe2\\x81\\xa8c\\xe2\\x80\\x8bd\\xef\\xbb\\xbf",
		     ESC("a\xe2\x80\xae" "b\xe2\x81\xa8" "c\xe2\x80\x8b" "d\xef\xbb\xbf", buf));
}

/* JSON: UTF-8 as itself, C1 controls as their code points, other bytes as \u00XX. */
TEST(json_strings_keep_utf8_and_escape_the_rest)
{
	char out[256];
	struct json j;
	FILE *f = fmemopen(out, sizeof(out), "w");

	json_start(&j, f);
	json_bytes(&j, NULL, "caf\xc3\xa9 \xc2\x85 \xff \"\x01", 13);
	fclose(f);
	EXPECT_STREQ("\"caf\xc3\xa9 \\u0085 \\u00ff \\\"\\u0001\"", out);
}

TEST_HARNESS_MAIN
