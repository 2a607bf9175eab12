/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The frames servers and their callers exchange over mailboxes (server.c):
 * never installed. Nothing in a frame says who sent it or where to answer:
 * the kernel says that, in the message that carries it.
 */
#ifndef KREG_FRAME_H
#define KREG_FRAME_H

#include <stdint.h>

/* Marks a framed message; anything without it is an info. */
#define KREG_FRAME_MAGIC 0x3276732e6765726bull	/* "kreg.sv2" */

enum kreg_frame_kind {
	KREG_FRAME_CALL = 1,
	KREG_FRAME_CAST,
	KREG_FRAME_REPLY,
	KREG_FRAME_STOP,
};

struct kreg_frame {
	uint64_t magic;
	uint64_t ref;		/* CALL, STOP, REPLY: the call it belongs to */
	int32_t status;		/* REPLY: 0, or the negative errno to return */
	uint8_t kind;
	uint8_t reserved[3];
	char body[];		/* the payload */
};

#endif /* KREG_FRAME_H */
