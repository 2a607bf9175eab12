// SPDX-License-Identifier: GPL-2.0
/*
 * The policy: an immutable set of rules, published under RCU and replaced
 * whole, so a reader sees either the old policy or the new one, never a mix.
 *
 * Rules are grouped by pattern ("bucket"): one exact name, one prefix such
 * as "orders." (from "orders.*"), or "" (from "*"). A decision looks up at
 * most one bucket per '.' in the name plus two, in an open-addressed table,
 * and only the prefix lengths some rule uses: so a thousand rules cost a
 * lookup no more than ten do.
 */
#include <linux/bitmap.h>
#include <linux/cred.h>
#include <linux/jhash.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <net/netlink.h>

#include "grammar.h"
#include "lock.h"
#include "policy.h"
#include "principal.h"

struct kreg_bucket {
	const char	*key;
	u16		key_len;
	bool		prefix;
	u32		first;		/* in kreg_policy.by_bucket */
	u32		count;
};

struct kreg_policy {
	unsigned long		generation;	/* tells one load from another */
	unsigned int		nrules;
	struct kreg_rule	*rules;		/* in load order */
	unsigned int		nbuckets;
	struct kreg_bucket	*buckets;
	u32			*by_bucket;	/* rule indices, grouped by bucket */
	u32			*slots;		/* open addressing: bucket + 1, 0 empty */
	u32			mask;
	char			*strings;	/* every key and source */
	DECLARE_BITMAP(prefix_lens, KREG_NAME_MAX + 2);
};

bool kreg_policy_required;

static struct kreg_policy __rcu *kreg_policy;
static unsigned long kreg_policy_loads;

/* What applies under policy_required while no policy is loaded. */
static u32 kreg_empty_slots[1];
static struct kreg_policy kreg_empty_policy = {
	.slots	= kreg_empty_slots,
	.mask	= 0,
};

static const struct nla_policy kreg_rule_policy[KREG_RULE_A_MAX + 1] = {
	[KREG_RULE_A_EFFECT]	= NLA_POLICY_MAX(NLA_U32, KREG_EFFECT_ALLOW),
	[KREG_RULE_A_RIGHTS]	= NLA_POLICY_MASK(NLA_U32, KREG_RIGHTS_ALL),
	[KREG_RULE_A_PATTERN]	= { .type = NLA_NUL_STRING, .len = KREG_NAME_MAX + 1 },
	[KREG_RULE_A_WHO]	= NLA_POLICY_MAX(NLA_U32, KREG_WHO_CLUSTER),
	[KREG_RULE_A_ID]	= { .type = NLA_U32 },
	[KREG_RULE_A_SOURCE]	= { .type = NLA_NUL_STRING,
				    .len = KREG_POLICY_SOURCE_MAX - 1 },
	[KREG_RULE_A_NODE]	= { .type = NLA_NUL_STRING, .len = KREG_NODE_MAX },
};

const struct kreg_policy *kreg_policy_effective(const struct kreg_policy *policy)
{
	return policy || !kreg_policy_required ? policy : &kreg_empty_policy;
}

const struct kreg_policy *kreg_policy_current(void)
{
	return kreg_policy_effective(rcu_dereference_check(kreg_policy,
							   kreg_table_lock_held()));
}

unsigned int kreg_policy_rules(const struct kreg_policy *policy)
{
	return policy->nrules;
}

unsigned long kreg_policy_generation(const struct kreg_policy *policy)
{
	return policy ? policy->generation : 0;
}

const struct kreg_rule *kreg_policy_rule(const struct kreg_policy *policy,
					 unsigned int index)
{
	return index < policy->nrules ? &policy->rules[index] : NULL;
}

static u32 kreg_bucket_hash(const char *key, size_t len, bool prefix)
{
	return jhash(key, len, prefix);
}

static const struct kreg_bucket *kreg_bucket_find(const struct kreg_policy *policy,
						  const char *key, size_t len,
						  bool prefix)
{
	u32 i = kreg_bucket_hash(key, len, prefix) & policy->mask;
	const struct kreg_bucket *b;

	for (; policy->slots[i]; i = (i + 1) & policy->mask) {
		b = &policy->buckets[policy->slots[i] - 1];
		if (b->prefix == prefix && b->key_len == len &&
		    !memcmp(b->key, key, len))
			return b;
	}
	return NULL;
}

/* Whether @p is in group @gid: effective, supplementary, or POLICY_CHECK's. */
static bool kreg_in_group(const struct kreg_principal *p, kgid_t gid)
{
	unsigned int lo = 0, hi, mid, i;

	if (gid_eq(p->gid, gid))
		return true;
	for (i = 0; i < p->n_more_gids; i++)
		if (gid_eq(p->more_gids[i], gid))
			return true;
	if (!p->groups)
		return false;
	/* A group_info is kept sorted (groups_sort()): search it. */
	hi = p->groups->ngroups;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (gid_gt(gid, p->groups->gid[mid]))
			lo = mid + 1;
		else if (gid_lt(gid, p->groups->gid[mid]))
			hi = mid;
		else
			return true;
	}
	return false;
}

static bool kreg_rule_applies(const struct kreg_rule *r,
			      const struct kreg_principal *p)
{
	/* Another node's process: only its node's rules and the cluster's. */
	if (p->node)
		return r->who == KREG_WHO_CLUSTER ||
		       (r->who == KREG_WHO_NODE && r->node_len == p->node_len &&
			!memcmp(r->node, p->node, p->node_len));
	switch (r->who) {
	case KREG_WHO_UID:
		return uid_eq(r->uid, p->uid);
	case KREG_WHO_GID:
		return kreg_in_group(p, r->gid);
	case KREG_WHO_NODE:
	case KREG_WHO_CLUSTER:
		return false;
	default:
		/* Containers are named by their ids, never by "everyone". */
		return p->host;
	}
}

/* The most specific principal wins; at the same, deny does. */
static const struct kreg_rule *kreg_bucket_decide(const struct kreg_policy *policy,
						  const struct kreg_bucket *b,
						  const struct kreg_principal *p,
						  enum kreg_right right)
{
	static const u8 rank[] = {
		[KREG_WHO_EVERYONE] = 1, [KREG_WHO_GID] = 2, [KREG_WHO_UID] = 3,
		[KREG_WHO_CLUSTER] = 1, [KREG_WHO_NODE] = 3,
	};
	const struct kreg_rule *best = NULL, *r;
	u32 i;

	if (!b)
		return NULL;
	for (i = 0; i < b->count; i++) {
		r = &policy->rules[policy->by_bucket[b->first + i]];
		if (!(r->rights & right) || !kreg_rule_applies(r, p))
			continue;
		if (!best || rank[r->who] > rank[best->who] ||
		    (rank[r->who] == rank[best->who] &&
		     r->effect == KREG_EFFECT_DENY))
			best = r;
	}
	return best;
}

const struct kreg_rule *kreg_policy_decide(const struct kreg_policy *policy,
					   const struct kreg_principal *p,
					   const char *name, size_t len,
					   enum kreg_right right)
{
	const struct kreg_rule *r;
	size_t i;

	r = kreg_bucket_decide(policy, kreg_bucket_find(policy, name, len, false),
			       p, right);
	/* Then every prefix that ends at a '.', longest first, then "*". */
	for (i = len; !r && i-- > 0;) {
		if (name[i] != '.' || !test_bit(i + 1, policy->prefix_lens))
			continue;
		r = kreg_bucket_decide(policy,
				       kreg_bucket_find(policy, name, i + 1, true),
				       p, right);
	}
	if (!r && test_bit(0, policy->prefix_lens))
		r = kreg_bucket_decide(policy, kreg_bucket_find(policy, "", 0, true),
				       p, right);
	return r;
}

/*
 * For kreg_policy_public(): 1 when the bucket allows @right to whoever it
 * is about and to everyone; 0 when it denies it to somebody; -1 when it
 * allows it to some only, or says nothing: the others go on to the next.
 */
static int kreg_bucket_public(const struct kreg_policy *policy,
			      const struct kreg_bucket *b, enum kreg_right right)
{
	const struct kreg_rule *r;
	bool everyone = false;
	u32 i;

	if (!b)
		return -1;
	for (i = 0; i < b->count; i++) {
		r = &policy->rules[policy->by_bucket[b->first + i]];
		/* The view is this host's: other nodes' rules say nothing of it. */
		if (!(r->rights & right) || r->who == KREG_WHO_NODE ||
		    r->who == KREG_WHO_CLUSTER)
			continue;
		if (r->effect == KREG_EFFECT_DENY)
			return 0;
		everyone |= r->who == KREG_WHO_EVERYONE;
	}
	return everyone ? 1 : -1;
}

/*
 * The walk of kreg_policy_decide(), for every principal at once: the first
 * pattern with a rule for @right decides for those its rules apply to, and
 * what no rule decides is denied.
 */
bool kreg_policy_public(const struct kreg_policy *policy, const char *name,
			size_t len, enum kreg_right right)
{
	int verdict;
	size_t i;

	verdict = kreg_bucket_public(policy, kreg_bucket_find(policy, name, len, false),
				     right);
	for (i = len; verdict < 0 && i-- > 0;) {
		if (name[i] != '.' || !test_bit(i + 1, policy->prefix_lens))
			continue;
		verdict = kreg_bucket_public(policy,
					     kreg_bucket_find(policy, name, i + 1, true),
					     right);
	}
	if (verdict < 0 && test_bit(0, policy->prefix_lens))
		verdict = kreg_bucket_public(policy, kreg_bucket_find(policy, "", 0, true),
					     right);
	return verdict > 0;
}

void kreg_policy_free(struct kreg_policy *policy)
{
	if (!policy || policy == &kreg_empty_policy)
		return;
	kvfree(policy->rules);
	kvfree(policy->buckets);
	kvfree(policy->by_bucket);
	kvfree(policy->slots);
	kvfree(policy->strings);
	kfree(policy);
}

/*
 * A pattern is a name, "PREFIX.*" or "*" (kreg_pattern_problem_of()), so
 * that "orders*" is not silently taken as a name.
 */
static int kreg_parse_pattern(const char *pattern, struct kreg_rule *r,
			      struct netlink_ext_ack *extack,
			      const struct nlattr *attr)
{
	size_t len = strlen(pattern);

	r->prefix = false;
	if (!strcmp(pattern, "*")) {
		r->prefix = true;
		len = 0;
	} else if (len > 2 && !strcmp(pattern + len - 2, ".*")) {
		r->prefix = true;
		len--;		/* keep the '.' */
	}
	r->key_len = len;
	return kreg_grammar_verdict(kreg_pattern_problem_of(pattern), attr, extack);
}

/* Fills @r from one KREG_A_RULE; its strings are placed later. */
static int kreg_parse_rule(const struct nlattr *attr, struct kreg_rule *r,
			   const char **pattern, const char **source,
			   const char **node, struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KREG_RULE_A_MAX + 1];
	u32 id;
	int err;

	err = nla_parse_nested(tb, KREG_RULE_A_MAX, attr, kreg_rule_policy, extack);
	if (err)
		return err;
	if (!tb[KREG_RULE_A_EFFECT] || !tb[KREG_RULE_A_RIGHTS] ||
	    !tb[KREG_RULE_A_PATTERN] || !tb[KREG_RULE_A_WHO]) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "a rule needs an effect, rights, a pattern and whom it is about");
		return -EINVAL;
	}
	r->effect = nla_get_u32(tb[KREG_RULE_A_EFFECT]);
	r->rights = nla_get_u32(tb[KREG_RULE_A_RIGHTS]);
	r->who = nla_get_u32(tb[KREG_RULE_A_WHO]);
	if (!r->rights) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KREG_RULE_A_RIGHTS],
				    "a rule must name at least one right");
		return -EINVAL;
	}
	*pattern = nla_data(tb[KREG_RULE_A_PATTERN]);
	err = kreg_parse_pattern(*pattern, r, extack, tb[KREG_RULE_A_PATTERN]);
	if (err)
		return err;
	*source = tb[KREG_RULE_A_SOURCE] ? nla_data(tb[KREG_RULE_A_SOURCE]) : "";
	*node = "";
	r->node_len = 0;
	if ((r->who == KREG_WHO_NODE) != !!tb[KREG_RULE_A_NODE]) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "a node's rule, and only it, names the node (KREG_RULE_A_NODE)");
		return -EINVAL;
	}
	if (r->who == KREG_WHO_NODE) {
		*node = nla_data(tb[KREG_RULE_A_NODE]);
		r->node_len = strlen(*node);
		if (!kreg_node_name_ok(*node, r->node_len)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KREG_RULE_A_NODE],
					    "a node's name is 1 to " __stringify(KREG_NODE_MAX)
					    " letters, digits, '-', '_' and '.'");
			return -EINVAL;
		}
	}
	if (r->who == KREG_WHO_EVERYONE)
		return 0;
	if (r->who == KREG_WHO_NODE || r->who == KREG_WHO_CLUSTER) {
		if (r->rights & KREG_RIGHT_OWN) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KREG_RULE_A_RIGHTS],
					    "another node's processes own no name here: see and send only");
			return -EINVAL;
		}
		if (tb[KREG_RULE_A_ID]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KREG_RULE_A_ID],
					    "only a uid or gid rule takes an id");
			return -EINVAL;
		}
		return 0;
	}
	if (!tb[KREG_RULE_A_ID]) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "a uid or gid rule needs its id");
		return -EINVAL;
	}
	id = nla_get_u32(tb[KREG_RULE_A_ID]);
	/* Ids as the loader sees them: the initial namespace's, as it must be there. */
	if (r->who == KREG_WHO_UID) {
		r->uid = make_kuid(current_user_ns(), id);
		if (!uid_valid(r->uid)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KREG_RULE_A_ID], "the uid is not valid");
			return -EINVAL;
		}
	} else {
		r->gid = make_kgid(current_user_ns(), id);
		if (!gid_valid(r->gid)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KREG_RULE_A_ID], "the gid is not valid");
			return -EINVAL;
		}
	}
	return 0;
}

/* Groups the rules by pattern, each group in load order. */
static int kreg_policy_index(struct kreg_policy *policy)
{
	unsigned int n = max(policy->nrules, 1U);
	unsigned int size = roundup_pow_of_two(2 * n);
	u32 i, slot, *bucket_of, *placed;
	struct kreg_bucket *b;
	int err = -ENOMEM;

	policy->mask = size - 1;
	policy->slots = kvcalloc(size, sizeof(*policy->slots), GFP_KERNEL);
	policy->buckets = kvcalloc(n, sizeof(*policy->buckets), GFP_KERNEL);
	policy->by_bucket = kvcalloc(n, sizeof(*policy->by_bucket), GFP_KERNEL);
	bucket_of = kvcalloc(n, sizeof(*bucket_of), GFP_KERNEL);
	placed = kvcalloc(n, sizeof(*placed), GFP_KERNEL);
	if (!policy->slots || !policy->buckets || !policy->by_bucket ||
	    !bucket_of || !placed)
		goto out;
	for (i = 0; i < policy->nrules; i++) {
		struct kreg_rule *r = &policy->rules[i];

		slot = kreg_bucket_hash(r->key, r->key_len, r->prefix) & policy->mask;
		for (; policy->slots[slot]; slot = (slot + 1) & policy->mask) {
			b = &policy->buckets[policy->slots[slot] - 1];
			if (b->prefix == r->prefix && b->key_len == r->key_len &&
			    !memcmp(b->key, r->key, r->key_len))
				break;
		}
		if (!policy->slots[slot]) {
			b = &policy->buckets[policy->nbuckets++];
			b->key = r->key;
			b->key_len = r->key_len;
			b->prefix = r->prefix;
			policy->slots[slot] = policy->nbuckets;
			if (r->prefix)
				__set_bit(r->key_len, policy->prefix_lens);
		}
		b->count++;
		bucket_of[i] = policy->slots[slot] - 1;
	}
	for (i = 1; i < policy->nbuckets; i++)
		policy->buckets[i].first = policy->buckets[i - 1].first +
					   policy->buckets[i - 1].count;
	for (i = 0; i < policy->nrules; i++) {
		b = &policy->buckets[bucket_of[i]];
		policy->by_bucket[b->first + placed[bucket_of[i]]++] = i;
	}
	err = 0;
out:
	kvfree(bucket_of);
	kvfree(placed);
	return err;
}

struct kreg_policy *kreg_policy_build(const struct nlattr *rules,
				      struct netlink_ext_ack *extack)
{
	const char *pattern, *source, *node;
	struct kreg_policy *policy;
	const struct nlattr *attr;
	size_t strings = 0, at = 0;
	unsigned int n = 0;
	int rem, err;

	nla_for_each_nested(attr, rules, rem) {
		if (nla_type(attr) != KREG_A_RULE) {
			NL_SET_ERR_MSG_ATTR(extack, attr, "a policy holds rules only");
			return ERR_PTR(-EINVAL);
		}
		if (++n > KREG_POLICY_RULES_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "more rules than KREG_POLICY_RULES_MAX");
			return ERR_PTR(-E2BIG);
		}
	}
	policy = kzalloc(sizeof(*policy), GFP_KERNEL);
	if (!policy)
		return ERR_PTR(-ENOMEM);
	policy->nrules = n;
	policy->rules = kvcalloc(max(n, 1U), sizeof(*policy->rules), GFP_KERNEL);
	if (!policy->rules) {
		err = -ENOMEM;
		goto free;
	}
	/* First pass: check every rule and size its strings. */
	n = 0;
	nla_for_each_nested(attr, rules, rem) {
		struct kreg_rule *r = &policy->rules[n];

		err = kreg_parse_rule(attr, r, &pattern, &source, &node, extack);
		if (err)
			goto free;
		r->index = n++;
		strings += r->key_len + 1 + strlen(source) + 1 + r->node_len + 1;
	}
	policy->strings = kvmalloc(max_t(size_t, strings, 1), GFP_KERNEL);
	if (!policy->strings) {
		err = -ENOMEM;
		goto free;
	}
	/* Second pass: keep the strings, now that they have a home. */
	n = 0;
	nla_for_each_nested(attr, rules, rem) {
		struct kreg_rule *r = &policy->rules[n++];
		char *key = policy->strings + at;

		kreg_parse_rule(attr, r, &pattern, &source, &node, NULL);
		memcpy(key, pattern, r->key_len);
		key[r->key_len] = '\0';
		r->key = key;
		at += r->key_len + 1;
		r->source = strcpy(policy->strings + at, source);
		at += strlen(source) + 1;
		r->node = strcpy(policy->strings + at, node);
		at += r->node_len + 1;
	}
	err = kreg_policy_index(policy);
	if (err)
		goto free;
	return policy;

free:
	kreg_policy_free(policy);
	return ERR_PTR(err);
}

struct kreg_policy *kreg_policy_publish(struct kreg_policy *policy)
{
	lockdep_assert_held(&kreg_table_mutex);
	if (policy)
		policy->generation = ++kreg_policy_loads;
	return rcu_replace_pointer(kreg_policy, policy, kreg_table_lock_held());
}

void kreg_policy_exit(void)
{
	kreg_policy_free(rcu_dereference_protected(kreg_policy, true));
}
