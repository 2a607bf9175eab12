// SPDX-License-Identifier: GPL-2.0
/* Bytes from others as text (text.h). */
#include "text.h"

size_t text_printable_at(const unsigned char *s, size_t len)
{
	unsigned int cp, min;
	size_t n, i;

	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] != 0x7f;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong, a surrogate, beyond Unicode, or a C1 control. */
	if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	/* Marks that reorder or hide what follows on the line (bidi, zero width). */
	if ((cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff)
		return 0;
	return n;
}

void text_write_escaped(FILE *out, const void *data, size_t len)
{
	const unsigned char *s = data;
	size_t i = 0, n;

	while (i < len) {
		n = text_printable_at(s + i, len - i);
		if (n && s[i] != '\\') {
			fwrite(s + i, 1, n, out);
			i += n;
		} else if (s[i] == '\\') {
			fputs("\\\\", out);
			i++;
		} else {
			fprintf(out, "\\x%02x", s[i]);
			i++;
		}
	}
}
