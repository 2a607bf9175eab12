/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The history of a cluster test, on the host's clock, and what it must
 * never show. Each holder of a name is recorded with when it was granted
 * (its register's answer came back: the grant happened before) and when
 * it ceased (a kill or release was sent, its node was frozen or cut off,
 * its fencing was heard: it ceased no later). Then:
 *  - no two holders of one name at once: a holder granted before another
 *    ceased is a double holder;
 *  - tokens strictly increase, grant after grant;
 *  - a holder whose node kept running but lost its lease was fenced
 *    before the name was granted again (its fencing was heard before the
 *    successor's winning register was even sent);
 *  - a holder whose node was frozen acted on nothing before its fencing:
 *    no cluster call of it succeeded after the node resumed.
 */
#ifndef KREG_TEST_HISTORY_H
#define KREG_TEST_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define HISTORY_MAX	4096

enum cease {
	CEASE_NONE,		/* still holding when the test ended */
	CEASE_ASKED,		/* killed or released by the test: at @ceased, or later */
	CEASE_FENCED,		/* its fencing was heard at @ceased: it happened before */
	CEASE_LOST,		/* its node froze or was cut off at @ceased: it holds no more */
	CEASE_DEAD,		/* its node was killed at @ceased, and the holder with it */
};

struct hold {
	char name[64];
	char node[16];
	uint64_t token;
	uint64_t asked_ms;	/* the register was sent */
	uint64_t granted_ms;	/* its answer came back */
	enum cease how;
	uint64_t ceased_ms;
	uint64_t fenced_ms;	/* its fencing was heard (0: not yet) */
	uint64_t acted_ms;	/* a cluster call of it succeeded after its node resumed (0: none) */
	uint64_t resumed_ms;	/* its node resumed after a freeze (0: never frozen) */
};

struct history {
	struct hold holds[HISTORY_MAX];
	int n;
};

static inline struct hold *history_grant(struct history *h, const char *name, const char *node,
					 uint64_t token, uint64_t asked, uint64_t granted)
{
	struct hold *x;

	if (h->n == HISTORY_MAX)
		return NULL;
	x = &h->holds[h->n++];
	memset(x, 0, sizeof(*x));
	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->node, sizeof(x->node), "%s", node);
	x->token = token;
	x->asked_ms = asked;
	x->granted_ms = granted;
	return x;
}

/* The current holder of @name on @node, if the history has one. */
static inline struct hold *history_holder(struct history *h, const char *name, const char *node)
{
	int i;

	for (i = h->n - 1; i >= 0; i--)
		if (!strcmp(h->holds[i].name, name) && !strcmp(h->holds[i].node, node) &&
		    h->holds[i].how == CEASE_NONE)
			return &h->holds[i];
	return NULL;
}

static inline void history_cease(struct hold *x, enum cease how, uint64_t when)
{
	if (x && (x->how == CEASE_NONE || when < x->ceased_ms)) {
		x->how = how;
		x->ceased_ms = when;
	}
}

/*
 * Checks the history; 0, or the number of violations, each written to
 * @out ("double holder ...").
 */
static inline int history_check(const struct history *h, FILE *out)
{
	int i, j, bad = 0;

	for (i = 0; i < h->n; i++) {
		const struct hold *a = &h->holds[i];

		for (j = 0; j < h->n; j++) {
			const struct hold *b = &h->holds[j];

			/* b: a later grant of the same name. */
			if (i == j || strcmp(a->name, b->name) || b->granted_ms < a->granted_ms ||
			    (b->granted_ms == a->granted_ms && j < i))
				continue;
			if (b->token <= a->token) {
				fprintf(out, "token of %s did not increase: %llu (%s) then %llu (%s)\n",
					a->name, (unsigned long long)a->token, a->node,
					(unsigned long long)b->token, b->node);
				bad++;
			}
			/*
			 * a held from before its answer until at least its kill or
			 * release was sent (for ever if never); b from before its own
			 * answer: both held at once if b's answer came before that.
			 */
			if (a->how == CEASE_NONE || (a->how == CEASE_ASKED && b->granted_ms < a->ceased_ms)) {
				fprintf(out, "double holder of %s: %s (token %llu, granted by %llu, %s %llu) and %s (token %llu, granted by %llu)\n",
					a->name, a->node, (unsigned long long)a->token,
					(unsigned long long)a->granted_ms,
					a->how == CEASE_NONE ? "never let go, test end" : "let go from",
					(unsigned long long)a->ceased_ms, b->node,
					(unsigned long long)b->token, (unsigned long long)b->granted_ms);
				bad++;
			}
			/* A holder whose node ran on without its lease: fenced before the next was asked. */
			if ((a->how == CEASE_FENCED || (a->how == CEASE_LOST && !a->resumed_ms)) &&
			    (!a->fenced_ms || a->fenced_ms > b->asked_ms)) {
				fprintf(out, "%s on %s was not fenced before %s asked for it (fenced %llu, asked %llu)\n",
					a->name, a->node, b->node, (unsigned long long)a->fenced_ms,
					(unsigned long long)b->asked_ms);
				bad++;
			}
		}
		/* A frozen holder acts on nothing after it resumes, but is fenced first. */
		if (a->resumed_ms && a->acted_ms &&
		    (!a->fenced_ms || a->acted_ms < a->fenced_ms)) {
			fprintf(out, "%s on %s acted at %llu after resuming, before it was fenced (%llu)\n",
				a->name, a->node, (unsigned long long)a->acted_ms,
				(unsigned long long)a->fenced_ms);
			bad++;
		}
	}
	return bad;
}

#endif /* KREG_TEST_HISTORY_H */
