// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memhpctl standby list|configure|deconfigure: s390 standby memory, the way
 * util-linux chmem -c / -g and lsmem's CONFIGURED and MEMMAP-ON-MEMORY
 * columns see it (SIZE in MiB without a unit, 0xSTART-0xEND ranges,
 * --blocks A-B), on the 6.19 firmware interface or, before 6.19, by
 * onlining and offlining the standby blocks.  Exit 0 when everything asked
 * for was done, 64 when part of it, 1 when nothing.
 */
#include <inttypes.h>

#include "memhpctl.h"
#include "render.h"
#include "standby.h"

#define SZ(v, b) format_size((v), (b), sizeof(b))

static const char *state_str(const struct standby_incr *in)
{
	return in->block < 0 ? "offline" : block_state_name(in->state);
}

static const char *memmap_str(const struct standby_incr *in)
{
	switch (in->memmap) {
	case MEMMAP_ON_MEMORY:
		return "yes";
	case MEMMAP_RAM:
		return "no";
	default:
		return "-";
	}
}

/* lsmem-style: runs of increments that agree in every column shown */
static bool same_run(const struct standby_incr *a, const struct standby_incr *b)
{
	return a->index + 1 == b->index && a->configured == b->configured &&
	       streq(state_str(a), state_str(b)) && a->zone == b->zone && a->memmap == b->memmap;
}

static void print_text(const struct standby *sb)
{
	static const char *const hdr[] = { "RANGE",	 "SIZE", "STATE",	    "BLOCK",
					   "CONFIGURED", "ZONE", "MEMMAP-ON-MEMORY" };
	struct table *t = table_new(ARRAY_SIZE(hdr), hdr);
	char b1[32], b2[32], b3[32], b4[64];

	if (!t)
		return;
	for (size_t i = 0; i < sb->n;) {
		const struct standby_incr *a = &sb->incr[i];
		size_t j = i;

		while (j + 1 < sb->n && same_run(&sb->incr[j], &sb->incr[j + 1]))
			j++;
		snprintf(b4, sizeof(b4), "0x%016" PRIx64 "-0x%016" PRIx64, a->start,
			 sb->incr[j].start + sb->incr[j].size - 1);
		if (i == j)
			snprintf(b2, sizeof(b2), "%" PRIu64, a->index);
		else
			snprintf(b2, sizeof(b2), "%" PRIu64 "-%" PRIu64, a->index,
				 sb->incr[j].index);
		table_add(t, b4, SZ(sb->incr[j].start + sb->incr[j].size - a->start, b1),
			  state_str(a), b2, a->configured ? "yes" : "no",
			  a->zone != ZONE_ID_NONE ? zone_name(a->zone) : "-", memmap_str(a));
		(void)b3;
		i = j + 1;
	}
	table_print(t, stdout);
	table_free(t);
	printf("\nInterface:              %s\n",
	       sb->iface == STANDBY_IFACE_FIRMWARE
		       ? "firmware (" SYSFS_FW_MEMORY ", Linux 6.19+)"
		       : "legacy (standby increments are offline blocks, memmap fixed at boot)");
	printf("Memory block size:      %s\n", SZ(sb->block_size, b1));
	printf("Total configured:       %s\n", SZ(sb->configured, b1));
	printf("Total deconfigured:     %s\n", SZ(sb->deconfigured, b1));
	printf("Total online:           %s\n", SZ(sb->online, b1));
	printf("Total offline:          %s\n", SZ(sb->offline, b1));
	printf("Memmap on memory:       %s\n", SZ(sb->memmap_on_memory, b1));
}

static json_object *incr_json(const struct standby_incr *in)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "block", json_object_new_string(in->name));
	json_object_object_add(j, "index", json_object_new_int64((int64_t)in->index));
	json_object_object_add(j, "start", json_object_new_int64((int64_t)in->start));
	json_object_object_add(j, "end",
			       json_object_new_int64((int64_t)(in->start + in->size - 1)));
	json_object_object_add(j, "size", json_object_new_int64((int64_t)in->size));
	json_object_object_add(j, "configured", json_object_new_boolean(in->configured));
	json_object_object_add(j, "state", json_object_new_string(state_str(in)));
	json_object_object_add(
		j, "zone",
		in->zone != ZONE_ID_NONE ? json_object_new_string(zone_name(in->zone)) : NULL);
	json_object_object_add(j, "memmap", json_object_new_string(memmap_place_name(in->memmap)));
	json_object_object_add(j, "memmap_on_memory",
			       in->fw_memmap_on_memory >= 0
				       ? json_object_new_boolean(in->fw_memmap_on_memory)
				       : NULL);
	json_object_object_add(j, "removable",
			       in->removable >= 0 ? json_object_new_boolean(in->removable) : NULL);
	json_object_object_add(j, "shrinkable",
			       json_object_new_boolean(standby_incr_shrinkable(in)));
	return j;
}

static json_object *standby_json(const struct standby *sb)
{
	json_object *j = json_object_new_object(), *a = json_object_new_array();
	json_object *tot = json_object_new_object(), *errs = json_object_new_array();

	json_object_object_add(j, "interface",
			       json_object_new_string(standby_iface_name(sb->iface)));
	json_object_object_add(j, "block_size", json_object_new_int64((int64_t)sb->block_size));
	for (size_t i = 0; i < sb->n; i++)
		json_object_array_add(a, incr_json(&sb->incr[i]));
	json_object_object_add(j, "increments", a);
	json_object_object_add(tot, "configured", json_object_new_int64((int64_t)sb->configured));
	json_object_object_add(tot, "deconfigured",
			       json_object_new_int64((int64_t)sb->deconfigured));
	json_object_object_add(tot, "online", json_object_new_int64((int64_t)sb->online));
	json_object_object_add(tot, "offline", json_object_new_int64((int64_t)sb->offline));
	json_object_object_add(tot, "memmap_on_memory",
			       json_object_new_int64((int64_t)sb->memmap_on_memory));
	json_object_object_add(j, "totals", tot);
	for (size_t i = 0; i < sb->errors.n; i++)
		json_object_array_add(errs, json_object_new_string(sb->errors.v[i]));
	json_object_object_add(j, "errors", errs);
	return j;
}

static int do_list(struct ctl *c, struct sysroot *sr, struct machine *m)
{
	struct standby sb;
	int r;

	if (c->argc != 1) {
		ctl_err("standby list takes no arguments");
		return EXIT_FAILURE;
	}
	r = standby_scan(sr, m, &sb);
	if (r < 0) {
		ctl_err("cannot read standby memory: %s", strerror(-r));
		return EXIT_FAILURE;
	}
	for (size_t i = 0; !c->json && i < sb.errors.n; i++)
		fprintf(stderr, "memhpctl: warning: %s\n", sb.errors.v[i]);
	if (c->json) {
		json_object *j = standby_json(&sb);

		ctl_print_json(j);
		json_object_put(j);
	} else if (sb.iface == STANDBY_IFACE_NONE) {
		printf("no s390 standby memory (not an s390 machine)\n");
	} else {
		print_text(&sb);
	}
	standby_free(&sb);
	return 0;
}

struct out {
	const struct ctl *c;
	json_object *steps;
};

static void report(void *data, const struct standby_incr *in, const char *op, int err,
		   const char *msg)
{
	struct out *o = data;
	bool main_op = streq(op, "configure") || streq(op, "deconfigure");

	if (o->c->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "block", json_object_new_string(in->name));
		json_object_object_add(j, "op", json_object_new_string(op));
		json_object_object_add(j, "ok", json_object_new_boolean(err == 0));
		json_object_object_add(j, "error",
				       err ? json_object_new_string(strerror(-err)) : NULL);
		json_object_object_add(j, "message", json_object_new_string(msg));
		json_object_array_add(o->steps, j);
	} else if (err) {
		fprintf(stderr, "memhpctl: %s\n", msg);
	} else if (main_op || o->c->verbose) {
		printf("%s\n", msg);
	}
}

static int do_change(struct ctl *c, struct sysroot *sr, struct machine *m, bool configure)
{
	const char *verb = configure ? "configure" : "deconfigure";
	struct out o = { .c = c, .steps = json_object_new_array() };
	struct standby_opts opts = { .timeout_ms = c->timeout_ms, .no_online = c->no_online };
	struct standby_tally t = { 0 };
	struct standby_sel sel;
	struct standby sb = { 0 };
	struct config cfg;
	char msg[512];
	int r, ret = EXIT_FAILURE;

	if (c->argc != 2) {
		ctl_err("standby %s: expected exactly one SIZE, 0xSTART-0xEND or (with --blocks) "
			"A-B",
			verb);
		goto out_json;
	}
	if (!configure && (c->memmap || c->zone || c->no_online)) {
		ctl_err("standby deconfigure takes no --memmap, --zone or --no-online");
		goto out_json;
	}
	if (c->memmap)
		opts.memmap = streq(c->memmap, "on-memory") ? MC_ON_MEMORY
			      : streq(c->memmap, "ram")	    ? MC_RAM
							    : MC_AUTO;
	if (c->zone)
		opts.zone = streq(c->zone, "movable") ? ZC_MOVABLE : ZC_KERNEL;
	r = standby_parse_sel(c->argv[1], c->what & RENDER_BLOCKS, m->block_size, &sel, msg,
			      sizeof(msg));
	if (r < 0) {
		ctl_err("standby %s: %s", verb, msg);
		goto out_json;
	}
	if (ctl_config(c, &cfg))
		goto out_json;
	r = standby_scan(sr, m, &sb);
	if (r < 0) {
		ctl_err("cannot read standby memory: %s", strerror(-r));
		goto out_cfg;
	}
	if (configure)
		r = standby_configure(sr, &cfg, m, &sb, &sel, &opts, report, &o, &t, msg,
				      sizeof(msg));
	else
		r = standby_deconfigure(sr, &cfg, m, &sb, &sel, &opts, report, &o, &t, msg,
					sizeof(msg));
	if (r < 0) {
		ctl_err("standby %s: %s", verb, msg[0] ? msg : strerror(-r));
		goto out_sb;
	}
	ret = standby_exit_code(&t);
	if (c->json) {
		json_object *j = json_object_new_object(), *why = json_object_new_array();

		json_object_object_add(j, "op", json_object_new_string(verb));
		json_object_object_add(j, "interface",
				       json_object_new_string(standby_iface_name(sb.iface)));
		json_object_object_add(j, "requested", json_object_new_int64((int64_t)t.requested));
		json_object_object_add(j, "succeeded", json_object_new_int64((int64_t)t.done));
		json_object_object_add(j, "failed", json_object_new_int64((int64_t)t.failed));
		json_object_object_add(j, "message", msg[0] ? json_object_new_string(msg) : NULL);
		for (size_t i = 0; i < t.reasons.n; i++)
			json_object_array_add(why, json_object_new_string(t.reasons.v[i]));
		json_object_object_add(j, "reasons", why);
		json_object_object_add(j, "steps", o.steps);
		o.steps = NULL;
		json_object_object_add(j, "standby", standby_json(&sb));
		ctl_print_json(j);
		json_object_put(j);
	} else {
		char b1[32];

		for (size_t i = 0; c->verbose && i < t.reasons.n; i++)
			printf("  policy: %s\n", t.reasons.v[i]);
		if (msg[0])
			printf("%s\n", msg);
		printf("%s: %" PRIu64 " of %" PRIu64 " increment(s) done (%s), %" PRIu64
		       " failed\n",
		       verb, t.done, t.requested, SZ(t.done * sb.block_size, b1), t.failed);
	}
out_sb:
	standby_tally_free(&t);
	standby_free(&sb);
out_cfg:
	config_free(&cfg);
out_json:
	json_object_put(o.steps);
	return ret;
}

int cmd_standby(struct ctl *c)
{
	_cleanup_sysroot_ struct sysroot *sr = NULL;
	_cleanup_machine_ struct machine *m = NULL;
	const char *sub = c->argc ? c->argv[0] : "";
	int r;

	if (!streq(sub, "list") && !streq(sub, "configure") && !streq(sub, "deconfigure")) {
		ctl_err("standby: expected list, configure or deconfigure%s%s%s",
			*sub ? " (not \"" : "", sub, *sub ? "\")" : "");
		return EXIT_FAILURE;
	}
	if ((c->what & ~(unsigned)RENDER_BLOCKS) || (streq(sub, "list") && c->what)) {
		ctl_err("standby %s: --devices, --nodes and --dax do not apply%s", sub,
			streq(sub, "list") ? "; nor does --blocks" : "");
		return EXIT_FAILURE;
	}
	if (streq(sub, "list") && (c->memmap || c->zone || c->no_online)) {
		ctl_err("standby list takes no --memmap, --zone or --no-online");
		return EXIT_FAILURE;
	}
	r = ctl_scan(c, &sr, &m);
	if (r)
		return r;
	if (streq(sub, "list"))
		return do_list(c, sr, m);
	return do_change(c, sr, m, streq(sub, "configure"));
}
