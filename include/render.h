/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JSON views of the machine model and of decisions, shared by memhpctl
 * (list/explain --json) and the daemon's control socket and state file.
 * The schema is documented in memhpctl(8).
 */
#ifndef MEMHP_RENDER_H
#define MEMHP_RENDER_H

#include <json-c/json.h>
#include <stdio.h>

#include "machine.h"
#include "policy.h"

json_object *render_block(const struct machine *m, const struct mem_block *b);
json_object *render_device(const struct machine *m, const struct mem_device *d);
json_object *render_node(const struct machine *m, const struct numa_node *n);
json_object *render_dax(const struct machine *m, const struct dax_device *d);
json_object *render_decision(const struct machine *m, const struct mem_device *d,
			     const struct decision *dec);

enum render_what {
	RENDER_BLOCKS = 1u << 0,
	RENDER_DEVICES = 1u << 1,
	RENDER_NODES = 1u << 2,
	RENDER_DAX = 1u << 3,
	RENDER_ALL = 0xf,
};
/* { "block_size":..., "blocks":[...], "devices":[...], "nodes":[...], "dax":[...], "errors":[...], "totals":{...} } */
json_object *render_machine(const struct machine *m, unsigned what);
/*
 * The same printed to f with json-c flags (JSON_C_TO_STRING_PRETTY
 * required), streaming the blocks instead of building them all first.
 * Returns 0, -EINVAL (flags) or -EIO (write error).
 */
int render_machine_print(FILE *f, const struct machine *m, unsigned what, int flags);

#endif
