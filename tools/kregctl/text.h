/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bytes from others (values, messages) as text: UTF-8 passes, anything a
 * terminal would act on does not.
 */
#ifndef KREGCTL_TEXT_H
#define KREGCTL_TEXT_H

#include <stddef.h>
#include <stdio.h>

/*
 * The length (1 to 4) of the well-formed UTF-8 sequence at @s (@len bytes
 * left) that encodes a character to print as is, or 0: an ASCII or C1
 * control, DEL, a bidi or zero-width mark (which reorder or hide what
 * follows), or a byte that starts no well-formed sequence (overlong, a
 * surrogate, past U+10FFFF, cut short).
 */
size_t text_printable_at(const unsigned char *s, size_t len);

/*
 * Writes @len bytes to @out for a reader: printable UTF-8 as is, a
 * backslash as "\\", any other byte as "\xNN", so that nothing in them
 * moves the cursor, sets a colour or a title, or answers for the terminal.
 */
void text_write_escaped(FILE *out, const void *data, size_t len);

#endif /* KREGCTL_TEXT_H */
