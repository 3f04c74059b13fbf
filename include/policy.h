/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy engine: config + machine snapshot + one device -> a decision.
 * Pure: no I/O, no clock, no globals.  Every branch is covered by the table
 * test in tests/unit/test-policy.c.
 */
#ifndef MEMHP_POLICY_H
#define MEMHP_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "machine.h"
#include "util.h"

enum decision_action {
	DECIDE_LEAVE = 0, /* do nothing (already online, ignored, nothing to do, error) */
	DECIDE_ONLINE, /* online the blocks listed in block_zone */
};

struct decision {
	enum decision_action action;
	/* dax device in devdax mode that a rule hands to kmem (system-ram) first */
	bool dax_to_system_ram;

	/* the device's main zone choice before the ratio guard split it */
	enum zone_choice zone;
	/*
	 * Per block of the device, same order as mem_device.blocks: the zone to
	 * online it into, or ZC_UNSET to leave that block alone.
	 */
	enum zone_choice *block_zone;
	size_t nblocks;
	size_t n_movable, n_kernel; /* blocks to online in each */

	/* memmap placement: what it will be (or is) and whether memhpd can choose */
	enum memmap_place memmap;
	bool memmap_choosable;

	const struct rule *rule; /* matching rule, NULL = defaults */
	bool config_error; /* e.g. two rules tie for this device */
	struct strv reasons; /* human sentences, in decision order */
};

void decision_init(struct decision *d);
void decision_free(struct decision *d);

/* The most specific matching rule; NULL if none.  *tie gets a second rule of equal rank. */
const struct rule *policy_match_rule(const struct config *cfg, const struct machine *m,
				     const struct mem_device *dev, const struct rule **tie);

/* Decide for a whole device.  Returns 0 or -ENOMEM. */
int policy_decide(const struct config *cfg, const struct machine *m, const struct mem_device *dev,
		  struct decision *out);

/*
 * Decide for a dax device that has no memory hot-added yet (devdax mode): a
 * pseudo-device built from its range.  Returns 0 or -ENOMEM.
 */
int policy_decide_dax(const struct config *cfg, const struct machine *m,
		      const struct dax_device *dax, struct decision *out);

/*
 * s390 standby increments [start, start + size) about to be configured: a
 * pseudo-device of type s390-standby (rules match it like any device; node:
 * the machine's first node).  memmap_choosable: their firmware
 * memmap_on_memory attribute can still be written (6.19+, deconfigured);
 * otherwise `fixed` is the placement they get.  Memmap: rule, else [standby]
 * memmap (auto resolved as in policy_decide).  Zone: rule, else [standby]
 * zone, else [policy] zone.s390-standby, else movable.  action ONLINE, or
 * LEAVE when a rule ignores them.  Returns 0 or -ENOMEM.
 */
int policy_decide_standby(const struct config *cfg, const struct machine *m, uint64_t start,
			  uint64_t size, bool memmap_choosable, enum memmap_place fixed,
			  struct decision *out);

#endif
