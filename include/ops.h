/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bulk operations on a set of blocks, shared by memhpctl and memhpd so both
 * online and offline exactly alike: online in ascending address order with
 * the policy's zone per block (or a forced one), offline from the highest
 * block down, each block bounded, every result reported to a callback.
 */
#ifndef MEMHP_OPS_H
#define MEMHP_OPS_H

#include "actions.h"
#include "config.h"
#include "machine.h"

struct sysroot;

typedef void (*ops_report_fn)(void *data, const struct mem_block *b, const char *op,
			      const struct action_result *res);

struct ops_tally {
	unsigned ok; /* ended in the requested state (done, already, by other) */
	unsigned failed; /* failed or mismatch */
	unsigned by_other;
};

/* The zone the policy wants for block bi (ZC_UNSET: kernel default). Pure. */
enum zone_choice ops_policy_zone(const struct config *cfg, const struct machine *m, size_t bi);

/*
 * blocks: indices into m->blocks, ascending.  zones: the zone per block
 * (a decision already taken, e.g. by the daemon), or NULL to use `zone` for
 * all, where ZC_UNSET = ask the policy per block.  The node and device sums
 * of m follow every block as it changes.  Returns 0 (results in tally) or
 * -errno.
 */
int ops_online(struct sysroot *sr, const struct config *cfg, struct machine *m,
	       const size_t *blocks, size_t n, const enum zone_choice *zones, enum zone_choice zone,
	       unsigned timeout_ms, ops_report_fn report, void *data, struct ops_tally *tally);
/* Offline from the highest block down; virtio-mem blocks are refused (the driver owns them). */
int ops_offline(struct sysroot *sr, struct machine *m, const size_t *blocks, size_t n,
		unsigned timeout_ms, ops_report_fn report, void *data, struct ops_tally *tally);

/* 0 when all succeeded, 64 when some did, 1 when none did (chmem's convention). */
int ops_exit_code(const struct ops_tally *t);

#endif
