// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memhpctl online|offline TARGET: one-shot state changes, no daemon needed.
 * Without --zone, online uses the zone the policy picks for each block
 * (exactly what `memhpctl explain` shows).  Offline walks from the highest
 * block down, bounding each block by --timeout.  Exit 0 when every block
 * ended in the requested state, 64 when some did, 1 when none did.
 */
#include "memhpctl.h"
#include "ops.h"
#include "render.h"
#include "target.h"

struct out {
	const struct ctl *c;
	json_object *results;
};

static void report(void *data, const struct mem_block *b, const char *op,
		   const struct action_result *res)
{
	struct out *o = data;
	bool ok = res->outcome != OUTCOME_FAILED && res->outcome != OUTCOME_MISMATCH;

	if (o->c->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "block", json_object_new_string(b->name));
		json_object_object_add(j, "op", json_object_new_string(op));
		json_object_object_add(j, "outcome",
				       json_object_new_string(action_outcome_name(res->outcome)));
		json_object_object_add(j, "zone",
				       res->zone != ZONE_ID_NONE
					       ? json_object_new_string(zone_name(res->zone))
					       : NULL);
		json_object_object_add(j, "attempts", json_object_new_int((int)res->attempts));
		json_object_object_add(j, "message", json_object_new_string(res->msg));
		json_object_array_add(o->results, j);
	} else if (!ok) {
		fprintf(stderr, "memhpctl: %s %s: %s\n", op, b->name, res->msg);
	} else if (o->c->verbose || res->outcome != OUTCOME_DONE) {
		printf("%s: %s%s%s\n", b->name, action_outcome_name(res->outcome),
		       res->zone != ZONE_ID_NONE ? " " : "",
		       res->zone != ZONE_ID_NONE ? zone_name(res->zone) : "");
	}
}

static int finish(struct out *o, const struct ops_tally *t, const char *op)
{
	if (o->c->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "op", json_object_new_string(op));
		json_object_object_add(j, "succeeded", json_object_new_int((int)t->ok));
		json_object_object_add(j, "failed", json_object_new_int((int)t->failed));
		json_object_object_add(j, "results", o->results);
		o->results = NULL; /* owned by j now */
		ctl_print_json(j);
		json_object_put(j);
	} else {
		printf("%s: %u block(s) done, %u failed\n", op, t->ok, t->failed);
	}
	return ops_exit_code(t);
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

int cmd_online(struct ctl *c)
{
	_cleanup_sysroot_ struct sysroot *sr = NULL;
	_cleanup_machine_ struct machine *m = NULL;
	struct out o = { .c = c, .results = json_object_new_array() };
	struct ops_tally tally = { 0 };
	enum zone_choice zone = ZC_UNSET;
	struct config cfg;
	struct target t;
	int r;

	if (c->zone)
		zone = streq(c->zone, "movable") ? ZC_MOVABLE : ZC_KERNEL;
	r = ctl_scan(c, &sr, &m);
	if (r)
		goto out_json;
	r = ctl_config(c, &cfg);
	if (r)
		goto out_json;
	r = resolve(c, m, &t);
	if (r)
		goto out_cfg;
	r = ops_online(sr, &cfg, m, t.blocks, t.nblocks, NULL, zone, c->timeout_ms, report, &o,
		       &tally);
	r = r < 0 ? EXIT_FAILURE : finish(&o, &tally, "online");
	target_free(&t);
out_cfg:
	config_free(&cfg);
out_json:
	json_object_put(o.results);
	return r;
}

int cmd_offline(struct ctl *c)
{
	_cleanup_sysroot_ struct sysroot *sr = NULL;
	_cleanup_machine_ struct machine *m = NULL;
	struct out o = { .c = c, .results = json_object_new_array() };
	struct ops_tally tally = { 0 };
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
	r = ops_offline(sr, m, t.blocks, t.nblocks, c->timeout_ms, report, &o, &tally);
	r = r < 0 ? EXIT_FAILURE : finish(&o, &tally, "offline");
	target_free(&t);
out_json:
	json_object_put(o.results);
	return r;
}
