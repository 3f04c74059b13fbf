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

struct action_opts {
	unsigned retries;          /* EBUSY/EAGAIN retries */
	unsigned backoff_ms;       /* first backoff, doubled up to 1 s */
	unsigned timeout_ms;       /* overall bound for one block (offline) */
};

enum action_outcome {
	OUTCOME_DONE = 0,      /* we changed it and verified */
	OUTCOME_ALREADY,       /* it already was in the requested state */
	OUTCOME_BY_OTHER,      /* someone else onlined/offlined it meanwhile */
	OUTCOME_FAILED,        /* the kernel refused; err says why */
	OUTCOME_MISMATCH,      /* the write succeeded but verification disagrees */
};
const char *action_outcome_name(enum action_outcome o);

struct action_result {
	enum action_outcome outcome;
	int err;              /* -errno of the last attempt */
	unsigned attempts;
	enum zone_id zone;    /* zone the block ended in */
	char msg[160];        /* short human explanation */
};

/* zone ZC_UNSET = plain "online" (kernel default zone). */
int action_online_block(struct sysroot *sr, struct mem_block *b, enum zone_choice zone,
			const struct action_opts *o, struct action_result *res);
int action_offline_block(struct sysroot *sr, struct mem_block *b, const struct action_opts *o,
			 struct action_result *res);
/* Write auto_online_blocks (kernel_auto_online = set-offline). */
int action_set_auto_online(struct sysroot *sr, const char *value);

#endif
