/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Actions: change kernel state through the sysroot (online/offline blocks,
 * dax mode changes) and verify what the kernel actually did.  Retries are
 * bounded; every outcome is returned, never printed.
 */
#ifndef MEMHP_ACTIONS_H
#define MEMHP_ACTIONS_H

#include <stdbool.h>

#include "config.h"
#include "machine.h"

struct sysroot;

/*
 * EBUSY/EAGAIN from the kernel are retried: at most retries + 1 writes, sleeping
 * backoff_ms, 2 * backoff_ms, ... (capped at 1 s) in between.  timeout_ms, if
 * non-zero, additionally bounds the time from the first write: no sleep reaches
 * past it and no write starts after it.  Whichever bound is hit first ends the
 * retries.  One write itself may block as long as the kernel takes.
 */
struct action_opts {
	unsigned retries; /* EBUSY/EAGAIN retries */
	unsigned backoff_ms; /* first backoff, doubled up to 1 s */
	unsigned timeout_ms; /* overall bound for one block, 0 = none */
};

enum action_outcome {
	OUTCOME_DONE = 0, /* we changed it and verified */
	OUTCOME_ALREADY, /* it already was in the requested state */
	OUTCOME_BY_OTHER, /* someone else onlined/offlined it meanwhile */
	OUTCOME_FAILED, /* the kernel refused; err says why */
	OUTCOME_MISMATCH, /* the write succeeded but verification disagrees */
};
const char *action_outcome_name(enum action_outcome o);

struct action_result {
	enum action_outcome outcome;
	int err; /* -errno of the last attempt */
	unsigned attempts;
	enum zone_id zone; /* zone the block ended in */
	uint64_t write_us; /* the state write(s), retries included */
	uint64_t verify_us; /* reading state and valid_zones back */
	char msg[160]; /* short human explanation */
};

/*
 * Online or offline one block (b->name) and verify state and valid_zones
 * afterwards; b->state, b->zone, b->valid_zones and b->zone_default are
 * updated from what was read.  zone ZC_UNSET = plain "online" (kernel default
 * zone), ZC_MOVABLE = "online_movable", ZC_KERNEL = "online_kernel".
 *
 * Return value: 0 whenever an outcome was determined, including
 * OUTCOME_FAILED (kernel refused, or the block's attributes could not be read:
 * err has the -errno, msg names the attribute) -- always check res->outcome.
 * Negative -errno only when no action was tried at all (-EINVAL: NULL
 * argument, bad block name or zone choice).
 *
 * b->state is the caller's model: a block it says is offline is written
 * without reading it first (the caller just read it).  Onlining a block that
 * is already online by the model or by a fresh read gives OUTCOME_ALREADY with
 * res->zone set; a caller that expected it offline counts that as a conflict.  A write
 * refused with EINVAL after which the block is in the requested state is
 * OUTCOME_BY_OTHER (someone else raced us), not a failure.  OUTCOME_MISMATCH:
 * the write succeeded but the block is not online/offline afterwards, or (for
 * ZC_MOVABLE/ZC_KERNEL) landed in a zone of the wrong kind.
 */
int action_online_block(struct sysroot *sr, struct mem_block *b, enum zone_choice zone,
			const struct action_opts *o, struct action_result *res);
int action_offline_block(struct sysroot *sr, struct mem_block *b, const struct action_opts *o,
			 struct action_result *res);
/*
 * Write auto_online_blocks (kernel_auto_online = set-offline) and read it back.
 * 0, -EINVAL for a value the kernel does not know (nothing is written), the
 * kernel's -errno, or -EIO if the value read back differs.
 */
int action_set_auto_online(struct sysroot *sr, const char *value);
/*
 * Set memory_hotplug.memmap_on_memory at runtime (companion kernel series
 * only; stock kernels make it read-only: -EACCES/-EPERM) and read it back.
 */
int action_set_memmap_param(struct sysroot *sr, bool on);

#endif
