/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Resolve what a user names on the command line or in a control request
 * ("memory32", "memory32-memory39", "PNP0C80:00", "dax0.0",
 * "0x100000000-0x13fffffff") into blocks of the machine.  Shared by memhpctl
 * and the daemon so both accept exactly the same names.
 */
#ifndef MEMHP_TARGET_H
#define MEMHP_TARGET_H

#include "machine.h"

struct target {
	size_t *blocks; /* indices into machine.blocks, ascending */
	size_t nblocks;
	const struct mem_device *device; /* when a device was named */
	const struct dax_device *dax; /* when a dax device was named */
};

/*
 * Returns 0, or -EINVAL (malformed spec: msg says why) / -ENOENT (nothing of
 * that name: msg says so) / -ENOMEM.  msg is always set on error.
 */
int target_resolve(const struct machine *m, const char *spec, struct target *t, char *msg,
		   size_t msglen);
void target_free(struct target *t);

#endif
