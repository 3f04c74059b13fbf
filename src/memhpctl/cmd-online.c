// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memhpctl online|offline TARGET: one-shot state changes, no daemon needed.
 * Without --zone, online uses the zone the policy picks for each block
 * (exactly what `memhpctl explain` shows).  Offline walks from the highest
 * block down, bounding each block by --timeout.  Exit 0 when every block
 * ended in the requested state, 64 when some did, 1 when none did.
 */
#include "actions.h"
#include "memhpctl.h"
#include "policy.h"
#include "render.h"
#include "target.h"

struct tally {
	unsigned ok, failed;
	json_object *results;
};

static void report(const struct ctl *c, struct tally *t, const struct mem_block *b,
		   const char *op, const struct action_result *res)
{
	bool ok = res->outcome != OUTCOME_FAILED && res->outcome != OUTCOME_MISMATCH;

	if (ok)
		t->ok++;
	else
		t->failed++;
	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "block", json_object_new_string(b->name));
		json_object_object_add(o, "op", json_object_new_string(op));
		json_object_object_add(o, "outcome",
				       json_object_new_string(action_outcome_name(res->outcome)));
		json_object_object_add(o, "zone", res->zone != ZONE_ID_NONE ?
							  json_object_new_string(zone_name(res->zone)) :
							  NULL);
		json_object_object_add(o, "attempts", json_object_new_int((int)res->attempts));
		json_object_object_add(o, "message", json_object_new_string(res->msg));
		json_object_array_add(t->results, o);
	} else if (!ok) {
		fprintf(stderr, "memhpctl: %s %s: %s\n", op, b->name, res->msg);
	} else if (c->verbose || res->outcome != OUTCOME_DONE) {
		printf("%s: %s%s%s\n", b->name, action_outcome_name(res->outcome),
		       res->zone != ZONE_ID_NONE ? " " : "",
		       res->zone != ZONE_ID_NONE ? zone_name(res->zone) : "");
	}
}

static int finish(const struct ctl *c, struct tally *t, const char *op)
{
	int ret = !t->failed ? EXIT_SUCCESS : t->ok ? EXIT_PARTIAL : EXIT_FAILURE;

	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "op", json_object_new_string(op));
		json_object_object_add(o, "succeeded", json_object_new_int((int)t->ok));
		json_object_object_add(o, "failed", json_object_new_int((int)t->failed));
		json_object_object_add(o, "results", t->results);
		t->results = NULL; /* owned by o now */
		ctl_print_json(o);
		json_object_put(o);
	} else {
		printf("%s: %u block(s) done, %u failed\n", op, t->ok, t->failed);
	}
	return ret;
}

static int resolve(const struct ctl *c, const struct machine *m, struct target *t)
{
	char msg[256];
	int r;

	if (c->argc != 1) {
		ctl_err("expected exactly one TARGET (memoryN, memoryA-memoryB, 0xSTART-0xEND, device)");
		return EXIT_FAILURE;
	}
	r = target_resolve(m, c->argv[0], t, msg, sizeof(msg));
	if (r < 0) {
		ctl_err("%s", msg);
		return EXIT_FAILURE;
	}
	if (!t->nblocks) {
		ctl_err("%s has no memory blocks (a dax device in devdax mode must be reconfigured "
			"to system-ram first)",
			c->argv[0]);
		target_free(t);
		return EXIT_FAILURE;
	}
	return 0;
}

/* The zone the policy wants for block bi, ZC_UNSET for the kernel default. */
static enum zone_choice policy_zone(const struct config *cfg, const struct machine *m, size_t bi)
{
	const struct mem_block *b = &m->blocks[bi];
	const struct mem_device *d;
	enum zone_choice z = ZC_UNSET;
	struct decision dec;

	if (b->device < 0)
		return ZC_UNSET;
	d = &m->devices[b->device];
	decision_init(&dec);
	if (policy_decide(cfg, m, d, &dec) == 0) {
		for (size_t i = 0; i < d->nblocks && i < dec.nblocks; i++)
			if (d->blocks[i] == bi && dec.block_zone)
				z = dec.block_zone[i];
		if (z == ZC_UNSET)
			z = dec.zone;
	}
	decision_free(&dec);
	return z;
}

int cmd_online(struct ctl *c)
{
	_cleanup_sysroot_ struct sysroot *sr = NULL;
	_cleanup_machine_ struct machine *m = NULL;
	struct tally tally = { .results = json_object_new_array() };
	struct config cfg;
	struct target t;
	int r;

	r = ctl_scan(c, &sr, &m);
	if (r)
		goto out_json;
	r = ctl_config(c, &cfg);
	if (r)
		goto out_json;
	r = resolve(c, m, &t);
	if (r)
		goto out_cfg;

	for (size_t i = 0; i < t.nblocks; i++) {
		struct mem_block *b = &m->blocks[t.blocks[i]];
		struct action_opts o = { .retries = cfg.online_retries,
					 .backoff_ms = cfg.retry_backoff_ms,
					 .timeout_ms = c->timeout_ms };
		struct action_result res = { 0 };
		enum zone_choice z;

		if (c->zone)
			z = streq(c->zone, "movable") ? ZC_MOVABLE : ZC_KERNEL;
		else
			z = policy_zone(&cfg, m, t.blocks[i]);
		r = action_online_block(sr, b, z, &o, &res);
		if (r < 0) {
			res.outcome = OUTCOME_FAILED;
			res.err = r;
			snprintf(res.msg, sizeof(res.msg), "%s", strerror(-r));
		}
		report(c, &tally, b, "online", &res);
		/* later blocks' zone choices depend on what is online now */
		machine_recount(m);
	}
	r = finish(c, &tally, "online");
	target_free(&t);
out_cfg:
	config_free(&cfg);
out_json:
	json_object_put(tally.results);
	return r;
}

int cmd_offline(struct ctl *c)
{
	_cleanup_sysroot_ struct sysroot *sr = NULL;
	_cleanup_machine_ struct machine *m = NULL;
	struct tally tally = { .results = json_object_new_array() };
	struct target t;
	int r;

	if (c->zone) {
		ctl_err("offline takes no --zone");
		r = EXIT_FAILURE;
		goto out_json;
	}
	r = ctl_scan(c, &sr, &m);
	if (r)
		goto out_json;
	r = resolve(c, m, &t);
	if (r)
		goto out_json;

	/* highest block first: ZONE_MOVABLE sits at the top and frees from there */
	for (size_t i = t.nblocks; i-- > 0;) {
		struct mem_block *b = &m->blocks[t.blocks[i]];
		struct action_opts o = { .retries = 1000,
					 .backoff_ms = 50,
					 .timeout_ms = c->timeout_ms };
		struct action_result res = { 0 };

		r = action_offline_block(sr, b, &o, &res);
		if (r < 0) {
			res.outcome = OUTCOME_FAILED;
			res.err = r;
			snprintf(res.msg, sizeof(res.msg), "%s", strerror(-r));
		}
		report(c, &tally, b, "offline", &res);
	}
	r = finish(c, &tally, "offline");
	target_free(&t);
out_json:
	json_object_put(tally.results);
	return r;
}
