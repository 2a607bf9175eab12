// SPDX-License-Identifier: GPL-2.0
/* The cluster agent's streams and inbox (mail.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mail.h"

/* A message: "K1 TAG SEQ LEN SUM|" then LEN bytes of filler, which SUM covers. */
#define MAIL_MAGIC	"K1 "

static uint32_t fnv1a(const unsigned char *p, size_t len)
{
	uint32_t h = 2166136261u;

	while (len--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

static size_t mail_make(char *buf, size_t size, const char *tag, uint32_t seq, int len)
{
	char filler[KREG_PAYLOAD_MAX];
	int i, n;

	if (len < 0 || (size_t)len > sizeof(filler))
		len = 0;
	for (i = 0; i < len; i++)
		filler[i] = (char)('a' + (seq * 31u + (uint32_t)i) % 26);
	n = snprintf(buf, size, MAIL_MAGIC "%s %u %d %08x|", tag, seq, len,
		     fnv1a((unsigned char *)filler, (size_t)len));
	if (n < 0 || (size_t)n + (size_t)len > size)
		return 0;
	memcpy(buf + n, filler, (size_t)len);
	return (size_t)n + (size_t)len;
}

static struct inbox_sender *sender_of(struct inbox *in, const char *tag)
{
	int i;

	for (i = 0; i < in->n; i++)
		if (!strcmp(in->senders[i].tag, tag))
			return &in->senders[i];
	if (in->n == MAIL_SENDERS_MAX)
		return NULL;
	snprintf(in->senders[in->n].tag, sizeof(in->senders[0].tag), "%s", tag);
	return &in->senders[in->n++];
}

void inbox_take(struct inbox *in, const struct kreg_message *m)
{
	char tag[16], head[96];
	unsigned int seq, sum;
	struct inbox_sender *s;
	const char *bar;
	int len, hlen;

	in->total++;
	in->last = *m;
	bar = memchr(m->data, '|', m->len < sizeof(head) ? m->len : sizeof(head));
	if (m->len < 3 || memcmp(m->data, MAIL_MAGIC, 3) || !bar) {
		in->other++;
		return;
	}
	hlen = (int)(bar - (const char *)m->data) + 1;
	memcpy(head, m->data, (size_t)hlen);
	head[hlen] = '\0';
	if (sscanf(head, MAIL_MAGIC "%15s %u %d %x|", tag, &seq, &len, &sum) != 4 ||
	    len < 0 || (size_t)hlen + (size_t)len != m->len || seq == 0 || seq >= MAIL_SEQ_MAX ||
	    fnv1a(m->data + hlen, (size_t)len) != sum) {
		in->corrupt++;
		return;
	}
	s = sender_of(in, tag);
	if (!s) {
		in->other++;
		return;
	}
	if (s->seen[seq / 8] & (1u << (seq % 8))) {
		s->dups++;
		return;
	}
	s->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	if (seq < s->max)
		s->disorder++;
	else
		s->max = seq;
	s->count++;
}

/* Appends to @buf, whatever fits. */
static void add(char *buf, size_t size, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(char *buf, size_t size, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, size - *at, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at += (size_t)n < size - *at ? (size_t)n : size - *at - 1;
}

void inbox_report(const struct inbox *in, char *buf, size_t size)
{
	const struct kreg_message *l = &in->last;
	size_t at = 0;
	int i;

	add(buf, size, &at, "OK %u %u last=%s/%d/%d/%u", in->total, in->corrupt,
	    l->sender_node[0] ? l->sender_node : "-",
	    l->sender_node[0] ? (int)l->sender_remote_pid : (int)l->sender,
	    l->sender_node[0] ? (int)l->sender_remote_uid : (int)l->sender_uid, l->sender_flags);
	for (i = 0; i < in->n; i++) {
		const struct inbox_sender *s = &in->senders[i];
		uint32_t seq, missing = 0, listed = 0;

		for (seq = 1; seq <= s->max; seq++)
			missing += !(s->seen[seq / 8] & (1u << (seq % 8)));
		add(buf, size, &at, " %s:%u:%u:%u:%u:%u:", s->tag, s->count, s->max, s->dups,
		    s->disorder, missing);
		for (seq = 1; seq <= s->max && listed < MAIL_LIST_MAX; seq++) {
			uint32_t end = seq;

			if (s->seen[seq / 8] & (1u << (seq % 8)))
				continue;
			while (end + 1 <= s->max && !(s->seen[(end + 1) / 8] & (1u << ((end + 1) % 8))))
				end++;
			add(buf, size, &at, "%s%u-%u", listed++ ? "/" : "", seq, end);
			seq = end;
		}
	}
}

/* One sender: its part of the report, written to @fd. */
static void sender_main(int fd, const char *name, const char *tag, int count, int size)
{
	static char msg[KREG_PAYLOAD_MAX];
	char report[1024];
	uint32_t acked = 0, failed = 0, retried = 0, listed = 0, run_first = 0, run_last = 0;
	int run_err = 0;
	struct kreg_conn *c;
	size_t at = 0, len;
	uint32_t seq;
	int err;

	err = kreg_open_provider(&c, KREG_PROVIDER_CLUSTER);
	if (err) {
		dprintf(fd, "%s:0:%d:0:0@%d\n", tag, count, err);
		_exit(0);
	}
	report[0] = '\0';
	for (seq = 1; seq <= (uint32_t)count; seq++) {
		len = mail_make(msg, sizeof(msg), tag, seq, size);
		for (;;) {
			err = kreg_send(c, name, msg, len);
			/* Nothing was delivered: the mailbox's share was full. */
			if (err != -EAGAIN)
				break;
			retried++;
			usleep(2000);
		}
		if (!err) {
			acked++;
			continue;
		}
		failed++;
		/* Failures as runs, "FIRST-LAST@ERRNO": a cut fails many in a row. */
		if (run_first && run_last + 1 == seq && run_err == -err) {
			run_last = seq;
		} else {
			if (run_first && listed++ < MAIL_LIST_MAX)
				add(report, sizeof(report), &at, "%s%u-%u@%d", at ? "/" : "",
				    run_first, run_last, run_err);
			run_first = run_last = seq;
			run_err = -err;
		}
		/* A link that failed: the next message gets a new one, a moment later. */
		usleep(20000);
	}
	if (run_first && listed < MAIL_LIST_MAX)
		add(report, sizeof(report), &at, "%s%u-%u@%d", at ? "/" : "", run_first, run_last,
		    run_err);
	dprintf(fd, "%s:%u:%u:%u:%s\n", tag, acked, failed, retried, report);
	kreg_close(c);
	_exit(0);
}

void stream_run(int fd, const char *name, const char *tag, int senders, int count, int size)
{
	char line[4096], out[8192], mytag[16];
	struct timespec t0, t1;
	int pipes[2], i;
	size_t at = 0, n = 0;
	FILE *f;

	if (senders < 1 || senders > MAIL_SENDERS_MAX || count < 1 || count >= MAIL_SEQ_MAX ||
	    pipe(pipes)) {
		dprintf(fd, "ERR %d bad stream", -EINVAL);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < senders; i++) {
		snprintf(mytag, sizeof(mytag), "%s%d", tag, i);
		if (fork() == 0) {
			close(pipes[0]);
			sender_main(pipes[1], name, mytag, count, size);
		}
	}
	close(pipes[1]);
	f = fdopen(pipes[0], "r");
	add(out, sizeof(out), &at, "OK %d", senders);
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		add(out, sizeof(out), &at, " %s", line);
		n++;
	}
	if (f)
		fclose(f);
	while (wait(NULL) > 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	add(out, sizeof(out), &at, " ms=%ld",
	    (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	if (write(fd, out, at) < 0)
		return;
}
