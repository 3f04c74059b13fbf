/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The s390 standby pressure policy: when to grow (configure a step of standby
 * memory) and when to shrink (deconfigure one).  Pure: no I/O, no clock; the
 * caller feeds samples with their timestamps and tells it when it acted.
 *
 *   floor / ceiling   hard limits on online memory, enforced first (grow to
 *                     the floor, shrink to the ceiling) without waiting for
 *                     pressure, but still rate limited after the first action.
 *   pressure          PSI memory "some" avg10 (hundredths of a percent).
 *                     Above pressure_threshold continuously for grow_window:
 *                     grow by step.  Below half the threshold continuously for
 *                     shrink_idle: shrink by step.  In between: both windows
 *                     reset (hysteresis).  No valid sample: both reset.
 *   rate limit        at most one action per min_interval; after an action
 *                     both windows start over.
 *   shrinking         only ever the memory the caller says can be offlined
 *                     (movable, removable increments), never below the floor.
 * Sizes are rounded down to whole blocks (a step smaller than a block is one
 * block).  Every decision carries its reason.
 */
#ifndef MEMHP_STANDBY_POLICY_H
#define MEMHP_STANDBY_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct psi_sample {
	uint64_t t_ms; /* monotonic time of the sample */
	bool valid; /* false: no PSI (or unreadable) */
	unsigned some_avg10; /* hundredths of a percent: 1234 = 12.34% */
};

enum sp_action {
	SP_HOLD = 0,
	SP_GROW,
	SP_SHRINK,
};
const char *sp_action_name(enum sp_action a); /* "hold", "grow", "shrink" */

struct sp_state {
	bool above; /* pressure above the threshold since above_since */
	uint64_t above_since;
	bool idle; /* pressure below half the threshold since idle_since */
	uint64_t idle_since;
	bool acted;
	uint64_t last_action; /* t_ms of the last action */
};

struct sp_inputs {
	struct psi_sample psi; /* psi.t_ms is "now" even when !psi.valid */
	uint64_t online; /* bytes of online memory of the partition */
	uint64_t growable; /* bytes that can still be configured */
	uint64_t shrinkable; /* bytes that can be offlined and deconfigured */
	uint64_t block_size;
};

struct sp_decision {
	enum sp_action action;
	uint64_t bytes; /* whole blocks, > 0 for grow/shrink */
	char reason[320];
};

/*
 * "some avg10=1.23 avg60=..." line of /proc/pressure/memory -> 123.  Returns 0,
 * or -EINVAL when there is no well-formed "some" line with avg10.
 */
int psi_parse_some_avg10(const char *text, unsigned *out);

void sp_init(struct sp_state *st);
/* Account for one sample and decide.  The state changes only by the sample. */
void sp_decide(struct sp_state *st, const struct standby_config *cfg, const struct sp_inputs *in,
	       struct sp_decision *out);
/* The caller acted (successfully or not) at now_ms: rate limit, windows restart. */
void sp_acted(struct sp_state *st, uint64_t now_ms);

#endif
