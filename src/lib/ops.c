// SPDX-License-Identifier: GPL-2.0-or-later
#include "ops.h"
#include "policy.h"

enum zone_choice ops_policy_zone(const struct config *cfg, const struct machine *m, size_t bi)
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
		/* an explicit request overrides "leave": use the device's zone */
		if (z == ZC_UNSET)
			z = dec.zone;
	}
	decision_free(&dec);
	return z;
}

static void count(struct ops_tally *t, const struct action_result *res)
{
	if (res->outcome == OUTCOME_FAILED || res->outcome == OUTCOME_MISMATCH) {
		t->failed++;
		return;
	}
	t->ok++;
	if (res->outcome == OUTCOME_BY_OTHER)
		t->by_other++;
}

static void failed(struct action_result *res, int err, const char *msg)
{
	memset(res, 0, sizeof(*res));
	res->outcome = OUTCOME_FAILED;
	res->err = err;
	snprintf(res->msg, sizeof(res->msg), "%s", msg);
}

int ops_online(struct sysroot *sr, const struct config *cfg, struct machine *m,
	       const size_t *blocks, size_t n, const enum zone_choice *zones, enum zone_choice zone,
	       unsigned timeout_ms, ops_report_fn report, void *data, struct ops_tally *tally)
{
	struct action_opts o = { .retries = cfg->online_retries,
				 .backoff_ms = cfg->retry_backoff_ms,
				 .timeout_ms = timeout_ms };

	for (size_t i = 0; i < n; i++) {
		struct mem_block *b = &m->blocks[blocks[i]];
		struct action_result res = { 0 };
		enum zone_choice z;
		int r;

		if (zones)
			z = zones[i];
		else
			z = zone != ZC_UNSET ? zone : ops_policy_zone(cfg, m, blocks[i]);

		/*
		 * The next block's policy zone depends on what is online now
		 * (ratio guard): this block's share of the sums is taken out
		 * and put back once it changed, not recounted from every block.
		 */
		machine_account_blocks(m, &blocks[i], 1, -1);
		r = action_online_block(sr, b, z, &o, &res);
		machine_account_blocks(m, &blocks[i], 1, 1);
		if (b->device >= 0)
			machine_recount_device(m, (size_t)b->device);
		if (r < 0)
			failed(&res, r, strerror(-r));
		count(tally, &res);
		if (report)
			report(data, b, "online", &res);
	}
	return 0;
}

int ops_offline(struct sysroot *sr, struct machine *m, const size_t *blocks, size_t n,
		unsigned timeout_ms, ops_report_fn report, void *data, struct ops_tally *tally)
{
	struct action_opts o = { .retries = UINT32_MAX,
				 .backoff_ms = 50,
				 .timeout_ms = timeout_ms };

	/* highest block first: ZONE_MOVABLE sits at the top and is freed from there */
	for (size_t i = n; i-- > 0;) {
		struct mem_block *b = &m->blocks[blocks[i]];
		struct action_result res = { 0 };
		int r;

		if (b->device >= 0 && m->devices[b->device].type == DEV_VIRTIO_MEM) {
			failed(&res, -EPERM,
			       "virtio-mem blocks are offlined by the virtio-mem driver on unplug");
		} else {
			r = action_offline_block(sr, b, &o, &res);
			if (r < 0)
				failed(&res, r, strerror(-r));
		}
		count(tally, &res);
		if (report)
			report(data, b, "offline", &res);
	}
	machine_recount(m);
	return 0;
}

int ops_exit_code(const struct ops_tally *t)
{
	if (!t->failed)
		return 0;
	return t->ok ? 64 : 1;
}
