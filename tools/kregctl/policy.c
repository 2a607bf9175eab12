// SPDX-License-Identifier: GPL-2.0
/* kregctl policy: load, unload, show and check kreg's access policy. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "kregctl.h"

static int policy_load(struct kreg_conn *conn, const char *path)
{
	struct kreg_rule *rules = NULL;
	char error[512];
	size_t n = 0;
	int err;

	err = kreg_policy_read(path, &rules, &n, error, sizeof(error));
	if (err) {
		fprintf(stderr, "kregctl: %s; nothing was loaded\n", error);
		return EXIT_ERROR;
	}
	if (!n) {
		fprintf(stderr, "kregctl: %s holds no rule; nothing was loaded "
			"(kregctl policy unload goes back to the defaults)\n", path);
		free(rules);
		return EXIT_ERROR;
	}
	if (ctl_open(&conn)) {
		free(rules);
		return EXIT_ERROR;
	}
	err = kreg_policy_set(conn, rules, n);
	free(rules);
	if (err) {
		ctl_fail(conn, "policy load", err);
		fprintf(stderr, "kregctl: nothing was loaded\n");
		return EXIT_ERROR;
	}
	if (ctl_json) {
		json_object(&ctl_out, NULL);
		json_uint(&ctl_out, "loaded", n);
		json_string(&ctl_out, "from", path);
		json_end(&ctl_out, '}');
	} else {
		printf("loaded %zu rule%s from %s\n", n, n == 1 ? "" : "s", path);
	}
	return 0;
}

/* Reads FILE or DIR as load would, and says what it would load: no module needed. */
static int policy_check_file(const char *path)
{
	struct kreg_rule *rules = NULL;
	char error[512];
	size_t n = 0;

	if (kreg_policy_read(path, &rules, &n, error, sizeof(error))) {
		fprintf(stderr, "kregctl: %s\n", error);
		return EXIT_ERROR;
	}
	free(rules);
	if (ctl_json) {
		json_object(&ctl_out, NULL);
		json_uint(&ctl_out, "rules", n);
		json_string(&ctl_out, "from", path);
		json_end(&ctl_out, '}');
	} else {
		printf("%s: %zu rule%s, each as the kernel would take it\n", path, n,
		       n == 1 ? "" : "s");
	}
	return n ? 0 : EXIT_ERROR;
}

static const char *const right_names[] = { "own", "see", "send" };

/* One rule as JSON: what kreg_rule_format() says in words, in members. */
static void json_rule(const char *key, const struct kreg_rule *rule)
{
	static const char *const who[] = { "everyone", "uid", "gid", "node", "cluster" };
	unsigned int i;

	json_object(&ctl_out, key);
	json_string(&ctl_out, "effect", rule->effect == KREG_EFFECT_ALLOW ? "allow" : "deny");
	json_array(&ctl_out, "rights");
	for (i = 0; i < 3; i++)
		if (rule->rights & (1U << i))
			json_string(&ctl_out, NULL, right_names[i]);
	json_end(&ctl_out, ']');
	json_string(&ctl_out, "pattern", rule->pattern);
	json_string(&ctl_out, "who", rule->who <= KREG_WHO_CLUSTER ? who[rule->who] : "?");
	if (rule->who == KREG_WHO_UID || rule->who == KREG_WHO_GID)
		json_uint(&ctl_out, "id", rule->id);
	if (rule->who == KREG_WHO_NODE)
		json_string(&ctl_out, "node", rule->node);
	if (rule->source[0])
		json_string(&ctl_out, "source", rule->source);
	else
		json_null(&ctl_out, "source");
	json_end(&ctl_out, '}');
}

static int print_rule(const struct kreg_rule *rule, void *arg)
{
	char text[KREG_NAME_MAX + 128];

	(*(size_t *)arg)++;
	if (ctl_json) {
		json_rule(NULL, rule);
		return 0;
	}
	kreg_rule_format(rule, text, sizeof(text));
	printf("%-60s # %s\n", text, rule->source[0] ? rule->source : "(no source)");
	return 0;
}

static int policy_show(struct kreg_conn *conn)
{
	struct kreg_status st;
	size_t n = 0;
	int err;

	if (ctl_open(&conn))
		return EXIT_ERROR;
	err = kreg_status(conn, &st);
	if (err)
		return ctl_fail(conn, "policy show", err);
	if (ctl_json) {
		json_object(&ctl_out, NULL);
		json_bool(&ctl_out, "loaded", st.policy_loaded);
		json_array(&ctl_out, "rules");
		err = st.policy_loaded ? kreg_policy_get(conn, print_rule, &n) : 0;
		json_end(&ctl_out, ']');
		json_end(&ctl_out, '}');
		if (err == -EINTR)
			fprintf(stderr, "kregctl: the policy was replaced while it was listed\n");
		else if (err)
			return ctl_fail(conn, "policy show", err);
		return 0;
	}
	if (!st.policy_loaded) {
		printf("no policy is loaded: the initial user namespace may do anything, a\n"
		       "container only use its user.UID. names; user.UID. names are UID's alone\n");
		return 0;
	}
	err = kreg_policy_get(conn, print_rule, &n);
	if (err == -EINTR)
		fprintf(stderr, "kregctl: the policy was replaced while it was listed\n");
	else if (err)
		return ctl_fail(conn, "policy show", err);
	return 0;
}

/* own, see or send; else says so. */
static int parse_right(const char *word, enum kreg_right *right)
{
	unsigned int i;

	for (i = 0; i < 3; i++) {
		if (!strcmp(word, right_names[i])) {
			*right = (enum kreg_right)(1U << i);
			return 0;
		}
	}
	fprintf(stderr, "kregctl: the right is own, see or send, not '%s'\n", word);
	return -EINVAL;
}

/* A uid, by number or by name, with its groups when the user exists. */
static int parse_user(const char *word, uid_t *uid, gid_t *gid, gid_t *groups, int *ngroups)
{
	struct passwd *pw;
	char *end;
	long v;

	v = strtol(word, &end, 10);
	pw = *end ? getpwnam(word) : getpwuid((uid_t)v);
	if (*end && !pw)
		return -ENOENT;
	if (!*end && (v < 0 || v >= (long)UINT32_MAX))
		return -EINVAL;
	*uid = pw ? pw->pw_uid : (uid_t)v;
	*gid = pw ? pw->pw_gid : (gid_t)-1;
	if (!pw) {
		*ngroups = 0;
		return 0;
	}
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, ngroups) < 0)
		return -E2BIG;
	return 0;
}

/* Whom a check was about: a uid of this host, or a process of another node. */
struct checked {
	const char *node;	/* NULL: the uid */
	uid_t uid;
};

static int print_verdict(const struct checked *who, const char *name, const char *right,
			 const struct kreg_verdict *v)
{
	char text[KREG_NAME_MAX + 128];

	if (ctl_json) {
		json_object(&ctl_out, NULL);
		if (who->node)
			json_string(&ctl_out, "node", who->node);
		else
			json_uint(&ctl_out, "uid", who->uid);
		json_string(&ctl_out, "name", name);
		json_string(&ctl_out, "right", right);
		json_bool(&ctl_out, "allowed", v->allowed);
		json_string(&ctl_out, "decided_by", kreg_decided_by_name(v->by));
		if (v->by == KREG_BY_RULE)
			json_rule("rule", &v->rule);
		else
			json_null(&ctl_out, "rule");
		json_end(&ctl_out, '}');
		return v->allowed ? 0 : EXIT_NOTFOUND;
	}
	if (who->node)
		printf("%s: node %s's processes may %s%s %s\n", v->allowed ? "allow" : "deny",
		       who->node, v->allowed ? "" : "not ", right, name);
	else
		printf("%s: uid %u may %s%s %s\n", v->allowed ? "allow" : "deny",
		       (unsigned int)who->uid, v->allowed ? "" : "not ", right, name);
	switch (v->by) {
	case KREG_BY_RULE:
		kreg_rule_format(&v->rule, text, sizeof(text));
		printf("decided by the rule \"%s\" (%s)\n", text,
		       v->rule.source[0] ? v->rule.source : "no source");
		break;
	case KREG_BY_USER_NAMESPACE:
		printf("decided by the user namespace: names under user.UID. are UID's alone to own\n");
		break;
	case KREG_BY_OWNER:
		printf("decided by ownership: a uid may always see and send to its own names\n");
		break;
	case KREG_BY_ADMIN:
		printf("decided by CAP_SYS_ADMIN, which bypasses the policy\n");
		break;
	case KREG_BY_REPLY_ADDRESS:
		printf("decided by the name being a reply address: anyone may answer a call\n");
		break;
	case KREG_BY_DEFAULT:
		printf("decided by the default: %s\n", !v->allowed ?
		       "a loaded policy denies what no rule allows" : who->node ?
		       "no policy is loaded, and the cluster's nodes may see and send as the host" :
		       "no policy is loaded, and the initial user namespace may do anything");
		break;
	}
	if (!who->node && who->uid == 0 && !v->allowed)
		printf("(a root process with CAP_SYS_ADMIN would bypass this)\n");
	return v->allowed ? 0 : EXIT_NOTFOUND;
}

/* check UID NAME RIGHT */
static int policy_check(struct kreg_conn *conn, char **argv)
{
	static gid_t groups[NGROUPS_MAX];
	int ngroups = NGROUPS_MAX, err;
	struct checked who = { NULL, 0 };
	enum kreg_right right;
	struct kreg_verdict v;
	gid_t gid;

	if (parse_right(argv[3], &right))
		return EXIT_ERROR;
	if (parse_user(argv[1], &who.uid, &gid, groups, &ngroups)) {
		fprintf(stderr, "kregctl: no such user: %s\n", argv[1]);
		return EXIT_ERROR;
	}
	if (ctl_check_name(argv[2]) || ctl_open(&conn))
		return EXIT_ERROR;
	err = kreg_policy_check(conn, who.uid, gid, groups, (size_t)ngroups, argv[2], right, &v);
	if (err)
		return ctl_fail(conn, "policy check", err);
	return print_verdict(&who, argv[2], argv[3], &v);
}

/* check node NODE NAME RIGHT: a process of another node, which kregd relays. */
static int policy_check_node(struct kreg_conn *conn, char **argv)
{
	struct checked who = { argv[2], 0 };
	enum kreg_right right;
	struct kreg_verdict v;
	int err;

	if (parse_right(argv[4], &right))
		return EXIT_ERROR;
	if (ctl_check_name(argv[3]) || ctl_open(&conn))
		return EXIT_ERROR;
	err = kreg_policy_check_node(conn, argv[2], argv[3], right, &v);
	if (err)
		return ctl_fail(conn, "policy check", err);
	return print_verdict(&who, argv[3], argv[4], &v);
}

int cmd_policy(struct kreg_conn *conn, int argc, char **argv)
{
	int err;

	if (argc == 3 && !strcmp(argv[1], "load"))
		return policy_load(conn, argv[2]);
	if (argc == 3 && !strcmp(argv[1], "check-file"))
		return policy_check_file(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "unload")) {
		if (ctl_open(&conn))
			return EXIT_ERROR;
		err = kreg_policy_unload(conn);
		if (err)
			return ctl_fail(conn, "policy unload", err);
		if (ctl_json) {
			json_object(&ctl_out, NULL);
			json_bool(&ctl_out, "loaded", false);
			json_end(&ctl_out, '}');
		} else {
			printf("policy unloaded: kreg is back to its defaults\n");
		}
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "show"))
		return policy_show(conn);
	if (argc == 6 && !strcmp(argv[1], "check") && !strcmp(argv[2], "node"))
		return policy_check_node(conn, argv + 1);
	if (argc == 5 && !strcmp(argv[1], "check"))
		return policy_check(conn, argv + 1);
	return ctl_bad_usage("load, check-file, unload, show or check, with their arguments");
}
