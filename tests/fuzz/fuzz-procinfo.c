// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The multi-line procfs/sysfs text parsers: /proc/zoneinfo and
 * /sys/devices/system/node/nodeN/meminfo.  First byte: bit 0 picks the
 * parser (0 zoneinfo, 1 meminfo), bits 1-7 the node number meminfo expects.
 *
 * Invariants: zoneinfo only returns known zones of non-negative nodes and
 * leaves nothing behind on failure; meminfo values are whole kB and a failed
 * parse does not touch the output.
 */
#include "sysfs_parse.h"
#include "util.h"
#include "fuzz.h"

static void fuzz_zoneinfo(const char *text)
{
	struct zoneinfo zi;
	int r;

	memset(&zi, 0xa5, sizeof(zi));
	r = parse_zoneinfo(text, &zi);
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM, "r = %d", r);
		FUZZ_ASSERT(!zi.zones && !zi.nzones, "output left behind on failure");
		return;
	}
	FUZZ_ASSERT(r == 0, "r = %d", r);
	FUZZ_ASSERT(!zi.nzones == !zi.zones, "%zu zones", zi.nzones);
	for (size_t i = 0; i < zi.nzones; i++) {
		FUZZ_ASSERT(zi.zones[i].node >= 0, "node %d", zi.zones[i].node);
		FUZZ_ASSERT(zi.zones[i].zone > ZONE_ID_NONE && zi.zones[i].zone < ZONE_ID_MAX,
			    "zone %d", zi.zones[i].zone);
	}
	zoneinfo_free(&zi);
	FUZZ_ASSERT(!zi.zones && !zi.nzones, "zoneinfo_free");
}

static void fuzz_meminfo(const char *text, int node)
{
	struct node_meminfo mi = { .total = 1, .free = 3 };
	int r;

	r = parse_node_meminfo(text, node, &mi);
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -ERANGE, "r = %d", r);
		FUZZ_ASSERT(mi.total == 1 && mi.free == 3 && !mi.has_total && !mi.has_free,
			    "output touched on failure");
		return;
	}
	FUZZ_ASSERT(r == 0, "r = %d", r);
	FUZZ_ASSERT(mi.has_total ? mi.total % KiB == 0 : mi.total == 1, "total %llu",
		    (unsigned long long)mi.total);
	FUZZ_ASSERT(mi.has_free ? mi.free % KiB == 0 : mi.free == 3, "free %llu",
		    (unsigned long long)mi.free);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (!size)
		return 0;
	s = fuzz_str(data + 1, size - 1);
	if (data[0] & 1)
		fuzz_meminfo(s, data[0] >> 1);
	else
		fuzz_zoneinfo(s);
	free(s);
	return 0;
}
