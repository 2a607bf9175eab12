/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cluster agent's messages (mail.c): streams of numbered, checksummed
 * messages from many senders, and an inbox that checks what arrives, so
 * that the host can tell whether every message came exactly once, in
 * order per sender, intact.
 *
 * A stream's report, one line:   OK SENDERS s:acked:failed:retried:first-last@errno/...
 *                                ... ms=MS
 * An inbox's report, one line:   OK total corrupt last=NODE/PID/UID/FLAGS
 *                                s:count:max:dups:disorder:missing:first-last/... ...
 */
#ifndef KREG_TEST_MAIL_H
#define KREG_TEST_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "kreg.h"

#define MAIL_SENDERS_MAX	64
#define MAIL_SEQ_MAX		65536
/* Runs of failed or missing sequence numbers a report lists, per sender. */
#define MAIL_LIST_MAX		24

struct inbox_sender {
	char tag[16];
	uint32_t count, max, dups, disorder;
	uint8_t seen[MAIL_SEQ_MAX / 8];
};

struct inbox {
	uint32_t total, corrupt, other;
	struct kreg_message last;
	struct inbox_sender senders[MAIL_SENDERS_MAX];
	int n;
};

/* Checks message @m into @in (a stream's, or another: "other"). */
void inbox_take(struct inbox *in, const struct kreg_message *m);
/* @in's report, into @buf. */
void inbox_report(const struct inbox *in, char *buf, size_t size);
/*
 * @senders processes send @count messages each of @size bytes of filler to
 * cluster name @name, tagged @tag0..: -EAGAIN (a full mailbox) is retried,
 * any other failure is counted and the stream goes on. Writes the report
 * to @fd when every sender is done.
 */
void stream_run(int fd, const char *name, const char *tag, int senders, int count, int size);

#endif /* KREG_TEST_MAIL_H */
