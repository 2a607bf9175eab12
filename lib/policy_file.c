// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Policy files, as kregctl policy load reads them (/etc/kreg/policy.d/):
 *
 *   # A comment, or a blank line, or a rule:
 *   EFFECT RIGHTS PATTERN WHO
 *
 *   EFFECT   allow | deny
 *   RIGHTS   own, see, send, or a comma-separated list of them, or all
 *   PATTERN  a name, PREFIX.* (names starting with "PREFIX."), or *
 *   WHO      everyone | uid N | user NAME | gid N | group NAME
 *            | node NAME | cluster   (another node's processes, which its
 *            kregd relays: never a uid, gid or everyone of this host;
 *            see and send only)
 *
 * A bad line fails the whole read with FILE:LINE and the reason, so that a
 * policy is loaded whole or not at all.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

struct kreg_rules {
	struct kreg_rule *v;
	size_t n, cap;
};

static int kreg_rights_parse(char *word, unsigned int *rights)
{
	char *save = NULL, *r;

	*rights = 0;
	for (r = strtok_r(word, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
		if (!strcmp(r, "own"))
			*rights |= KREG_RIGHT_OWN;
		else if (!strcmp(r, "see"))
			*rights |= KREG_RIGHT_SEE;
		else if (!strcmp(r, "send"))
			*rights |= KREG_RIGHT_SEND;
		else if (!strcmp(r, "all"))
			*rights |= KREG_RIGHTS_ALL;
		else
			return -EINVAL;
	}
	return *rights ? 0 : -EINVAL;
}

static bool kreg_number(const char *word, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*word))
		return false;
	errno = 0;
	v = strtoul(word, &end, 10);
	if (*end || errno || v >= UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* A user's or a group's id by name (reentrant: this is a library). */
static bool kreg_user_id(const char *name, uint32_t *id)
{
	struct passwd pw, *found = NULL;
	char buf[4096];

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &found) || !found)
		return false;
	*id = found->pw_uid;
	return true;
}

static bool kreg_group_id(const char *name, uint32_t *id)
{
	struct group gr, *found = NULL;
	char buf[16384];

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &found) || !found)
		return false;
	*id = found->gr_gid;
	return true;
}

/* A node's name: letters, digits, '-', '_' and '.', as kreg.ko takes it. */
static bool kreg_node_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > KREG_NODE_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

/*
 * WHO: "everyone", a uid or gid given by number or by name, another node
 * ("node NAME") or every other node ("cluster").
 */
static const char *kreg_who_parse(char **words, int n, struct kreg_rule *r)
{
	static const char usage[] =
		"whom the rule is about: everyone, uid N, user NAME, gid N, group NAME, "
		"node NAME or cluster";

	if (n == 1 && !strcmp(words[0], "everyone")) {
		r->who = KREG_WHO_EVERYONE;
		return NULL;
	}
	if (n == 1 && !strcmp(words[0], "cluster")) {
		r->who = KREG_WHO_CLUSTER;
		return NULL;
	}
	if (n == 2 && !strcmp(words[0], "node")) {
		r->who = KREG_WHO_NODE;
		if (!kreg_node_name(words[1]))
			return "a node's name is 1 to 63 letters, digits, '-', '_' and '.'";
		strcpy(r->node, words[1]);
		return NULL;
	}
	if (n != 2)
		return usage;
	if (!strcmp(words[0], "uid") || !strcmp(words[0], "user")) {
		r->who = KREG_WHO_UID;
		if (kreg_number(words[1], &r->id) || kreg_user_id(words[1], &r->id))
			return NULL;
		return "no such user";
	}
	if (!strcmp(words[0], "gid") || !strcmp(words[0], "group")) {
		r->who = KREG_WHO_GID;
		if (kreg_number(words[1], &r->id) || kreg_group_id(words[1], &r->id))
			return NULL;
		return "no such group";
	}
	return usage;
}

/* One line; NULL when it is fine (a rule, a comment or nothing). */
static const char *kreg_line_parse(char *line, struct kreg_rule *r, bool *is_rule)
{
	char *words[8], *save = NULL, *w;
	const char *problem;
	int n = 0;

	*is_rule = false;
	w = strchr(line, '#');
	if (w)
		*w = '\0';
	for (w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == (int)(sizeof(words) / sizeof(words[0])))
			return "too many words: EFFECT RIGHTS PATTERN WHO";
		words[n++] = w;
	}
	if (!n)
		return NULL;
	if (n < 4)
		return "a rule is EFFECT RIGHTS PATTERN WHO, e.g. \"allow see,send orders.* everyone\"";
	memset(r, 0, sizeof(*r));
	if (!strcmp(words[0], "allow"))
		r->effect = KREG_EFFECT_ALLOW;
	else if (!strcmp(words[0], "deny"))
		r->effect = KREG_EFFECT_DENY;
	else
		return "the effect is allow or deny";
	if (kreg_rights_parse(words[1], &r->rights))
		return "rights are own, see, send or all, separated by commas";
	problem = kreg_pattern_problem_of(words[2]);
	if (problem)
		return problem;
	snprintf(r->pattern, sizeof(r->pattern), "%s", words[2]);
	problem = kreg_who_parse(words + 3, n - 3, r);
	if (problem)
		return problem;
	if ((r->who == KREG_WHO_NODE || r->who == KREG_WHO_CLUSTER) &&
	    (r->rights & KREG_RIGHT_OWN))
		return "another node's processes own no name here: a node or cluster rule "
		       "gives see and send only";
	*is_rule = true;
	return NULL;
}

static int kreg_rules_add(struct kreg_rules *rules, const struct kreg_rule *r)
{
	if (rules->n == rules->cap) {
		size_t cap = rules->cap ? 2 * rules->cap : 64;
		void *more = realloc(rules->v, cap * sizeof(*rules->v));

		if (!more)
			return -ENOMEM;
		rules->v = more;
		rules->cap = cap;
	}
	rules->v[rules->n++] = *r;
	return 0;
}

static int kreg_file_read(const char *path, struct kreg_rules *rules,
			  char *error, size_t size)
{
	char line[4096];
	struct kreg_rule r;
	const char *problem;
	unsigned int lineno = 0;
	bool is_rule;
	int err = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		err = -errno;
		snprintf(error, size, "%s: %s", path, strerror(-err));
		return err;
	}
	while (!err && fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(error, size, "%s:%u: the line is too long", path, lineno);
			err = -EINVAL;
			break;
		}
		problem = kreg_line_parse(line, &r, &is_rule);
		if (problem) {
			snprintf(error, size, "%s:%u: %s", path, lineno, problem);
			err = -EINVAL;
		} else if (is_rule) {
			snprintf(r.source, sizeof(r.source), "%s:%u", path, lineno);
			err = kreg_rules_add(rules, &r);
		}
	}
	if (!err && ferror(f)) {
		err = -EIO;
		snprintf(error, size, "%s: %s", path, strerror(EIO));
	}
	fclose(f);
	return err;
}

static int kreg_by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int kreg_is_conf(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 5 && !strcmp(d->d_name + len - 5, ".conf");
}

int kreg_policy_read(const char *path, struct kreg_rule **rules, size_t *n,
		     char *error, size_t size)
{
	struct kreg_rules all = { 0 };
	struct dirent **files = NULL;
	char file[PATH_MAX];
	struct stat st;
	int i, count, err = 0;

	error[0] = '\0';
	if (stat(path, &st)) {
		err = -errno;
		snprintf(error, size, "%s: %s", path, strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		err = kreg_file_read(path, &all, error, size);
	} else {
		count = scandir(path, &files, kreg_is_conf, kreg_by_name);
		if (count < 0) {
			err = -errno;
			snprintf(error, size, "%s: %s", path, strerror(-err));
		}
		for (i = 0; i < count; i++) {
			if (!err) {
				snprintf(file, sizeof(file), "%s/%s", path, files[i]->d_name);
				err = kreg_file_read(file, &all, error, size);
			}
			free(files[i]);
		}
		free(files);
	}
	if (err) {
		free(all.v);
		return err;
	}
	*rules = all.v;
	*n = all.n;
	return 0;
}

int kreg_rule_format(const struct kreg_rule *r, char *buf, size_t size)
{
	static const char *const names[] = { "own", "see", "send" };
	char rights[32] = "", who[KREG_NODE_MAX + 8];
	unsigned int i;
	int len;

	if (r->rights == KREG_RIGHTS_ALL) {
		strcpy(rights, "all");
	} else {
		for (i = 0; i < 3; i++) {
			if (!(r->rights & (1U << i)))
				continue;
			if (rights[0])
				strcat(rights, ",");
			strcat(rights, names[i]);
		}
	}
	if (r->who == KREG_WHO_UID)
		snprintf(who, sizeof(who), "uid %u", r->id);
	else if (r->who == KREG_WHO_GID)
		snprintf(who, sizeof(who), "gid %u", r->id);
	else if (r->who == KREG_WHO_NODE)
		snprintf(who, sizeof(who), "node %.*s", KREG_NODE_MAX, r->node);
	else if (r->who == KREG_WHO_CLUSTER)
		strcpy(who, "cluster");
	else
		strcpy(who, "everyone");
	len = snprintf(buf, size, "%s %s %s %s",
		       r->effect == KREG_EFFECT_ALLOW ? "allow" : "deny", rights, r->pattern, who);
	return len < 0 || (size_t)len >= size ? -ENOSPC : 0;
}
