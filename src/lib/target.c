// SPDX-License-Identifier: GPL-2.0-or-later
#include <inttypes.h>

#include "target.h"

static int push(struct target *t, size_t *cap, size_t bi)
{
	int r = grow_array((void **)&t->blocks, cap, t->nblocks + 1, sizeof(*t->blocks));

	if (r < 0)
		return r;
	t->blocks[t->nblocks++] = bi;
	return 0;
}

/* Blocks with lo <= index <= hi that exist; holes in the range are skipped. */
static int by_index_range(const struct machine *m, uint64_t lo, uint64_t hi, struct target *t)
{
	size_t cap = 0;
	int r;

	for (size_t i = 0; i < m->nblocks; i++) {
		if (m->blocks[i].index < lo || m->blocks[i].index > hi)
			continue;
		r = push(t, &cap, i);
		if (r < 0)
			return r;
	}
	return 0;
}

static int by_device(const struct machine *m, const struct mem_device *d, struct target *t)
{
	size_t cap = 0;
	int r;

	t->device = d;
	for (size_t i = 0; i < d->nblocks; i++) {
		r = push(t, &cap, d->blocks[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int target_resolve(const struct machine *m, const char *spec, struct target *t, char *msg,
		   size_t msglen)
{
	const char *dash;
	uint64_t lo, hi;
	int r;

	memset(t, 0, sizeof(*t));
	if (!spec || !*spec || strlen(spec) > 128 || strchr(spec, '/') || strstr(spec, "..")) {
		snprintf(msg, msglen, "invalid name \"%.40s\"", spec ? spec : "");
		return -EINVAL;
	}

	if (startswith(spec, "memory")) {
		char first[64];

		dash = strchr(spec, '-');
		if (!dash) {
			if (parse_block_name(spec, &lo) < 0) {
				snprintf(msg, msglen, "invalid block name \"%s\"", spec);
				return -EINVAL;
			}
			hi = lo;
		} else {
			if ((size_t)(dash - spec) >= sizeof(first))
				return snprintf(msg, msglen, "invalid block range"), -EINVAL;
			memcpy(first, spec, dash - spec);
			first[dash - spec] = '\0';
			if (parse_block_name(first, &lo) < 0 ||
			    parse_block_name(dash + 1, &hi) < 0 || hi < lo) {
				snprintf(msg, msglen,
					 "invalid block range \"%s\" (expected memoryA-memoryB)",
					 spec);
				return -EINVAL;
			}
		}
		/* a device id can also look like a block range (unknown runs) */
		if (dash && machine_find_device(m, spec))
			return by_device(m, machine_find_device(m, spec), t);
		r = by_index_range(m, lo, hi, t);
		if (r < 0)
			return r;
		if (!t->nblocks) {
			snprintf(msg, msglen, "no such memory block: %s", spec);
			return -ENOENT;
		}
		return 0;
	}

	if (startswith(spec, "0x") && (dash = strchr(spec, '-'))) {
		char a[32];

		if ((size_t)(dash - spec) >= sizeof(a))
			return snprintf(msg, msglen, "invalid address range"), -EINVAL;
		memcpy(a, spec, dash - spec);
		a[dash - spec] = '\0';
		if (parse_u64(a, 16, &lo) < 0 || parse_u64(dash + 1, 16, &hi) < 0 || hi < lo ||
		    !m->block_size || lo % m->block_size || (hi + 1) % m->block_size) {
			snprintf(msg, msglen,
				 "invalid address range \"%s\": expected START-END aligned to the "
				 "block size (%#" PRIx64 ")",
				 spec, m->block_size);
			return -EINVAL;
		}
		r = by_index_range(m, lo / m->block_size, hi / m->block_size, t);
		if (r < 0)
			return r;
		if (!t->nblocks) {
			snprintf(msg, msglen, "no memory blocks in %s", spec);
			return -ENOENT;
		}
		return 0;
	}

	if (machine_find_device(m, spec))
		return by_device(m, machine_find_device(m, spec), t);
	t->dax = machine_find_dax(m, spec);
	if (t->dax) {
		if (t->dax->device >= 0)
			return by_device(m, &m->devices[t->dax->device], t);
		return 0; /* a dax device without memory (devdax): the caller decides */
	}
	snprintf(msg, msglen, "no block, device or dax device named \"%s\"", spec);
	return -ENOENT;
}

void target_free(struct target *t)
{
	free(t->blocks);
	memset(t, 0, sizeof(*t));
}
