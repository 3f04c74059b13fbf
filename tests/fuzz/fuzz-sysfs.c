// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Every single-value sysfs parser of src/lib/sysfs_parse.c.  The first input
 * byte picks the parser (modulo their number), the rest is the value:
 *
 *   0 state  1 zone name  2 valid_zones  3 block_size_bytes  4 phys_index
 *   5 memoryN  6 nodeN  7 dax resource/start/end  8 auto_online_blocks
 *   9 memmap_on_memory  10-12 unsigned numbers (decimal, hex, either: dax
 *   size, counts)  13 signed int (target_node, numa_node)
 *
 * Invariants: an accepted value maps back to what was read (names parse back
 * to the same value, indices print back to the same text), block sizes are
 * powers of two >= 1 MiB, the default zone of valid_zones is in its mask.
 */
#include <inttypes.h>

#include "sysfs_parse.h"
#include "util.h"
#include "fuzz.h"

/* Input without surrounding whitespace, which the parsers tolerate. */
static void trimmed(const char *s, char *out, size_t size)
{
	size_t len;

	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || (s[len - 1] >= '\t' && s[len - 1] <= '\r')))
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(out, s, len);
	out[len] = '\0';
}

static void fuzz_value(unsigned which, const char *s)
{
	char buf[64], t[64];
	uint64_t u;
	int r, n;

	switch (which) {
	case 0: {
		enum block_state st, st2;

		if (parse_block_state(s, &st) == 0) {
			FUZZ_ASSERT(st > BLOCK_STATE_UNKNOWN && st <= BLOCK_GOING_OFFLINE, "state %d",
				    st);
			FUZZ_ASSERT(parse_block_state(block_state_name(st), &st2) == 0 && st2 == st,
				    "state name %s", block_state_name(st));
		}
		break;
	}
	case 1: {
		enum zone_id z, z2;

		if (parse_zone_name(s, &z) == 0) {
			FUZZ_ASSERT(z > ZONE_ID_NONE && z < ZONE_ID_MAX, "zone %d", z);
			FUZZ_ASSERT(parse_zone_name(zone_name(z), &z2) == 0 && z2 == z, "zone %s",
				    zone_name(z));
		}
		break;
	}
	case 2: {
		unsigned mask;
		enum zone_id first;

		if (parse_valid_zones(s, &mask, &first) == 0) {
			FUZZ_ASSERT(first < ZONE_ID_MAX, "first %d", first);
			FUZZ_ASSERT(!(mask & ~((1u << ZONE_ID_MAX) - 1) & ~1u) &&
					    !(mask & ZONE_BIT(ZONE_ID_NONE)),
				    "mask %#x", mask);
			if (first == ZONE_ID_NONE)
				FUZZ_ASSERT(mask == 0, "none with mask %#x", mask);
			else
				FUZZ_ASSERT(mask & ZONE_BIT(first), "first %d not in %#x", first,
					    mask);
		}
		break;
	}
	case 3:
		if (parse_block_size(s, &u) == 0)
			FUZZ_ASSERT(u >= MiB && !(u & (u - 1)), "block size %" PRIx64, u);
		break;
	case 4:
		r = parse_phys_index(s, &u);
		if (r == 0) {
			uint64_t u2;

			snprintf(buf, sizeof(buf), "%08" PRIx64, u);
			FUZZ_ASSERT(parse_phys_index(buf, &u2) == 0 && u2 == u, "phys_index %s",
				    buf);
		}
		break;
	case 5:
		if (parse_block_name(s, &u) == 0) {
			/* one name per block: exactly "memory%" PRIu64 */
			snprintf(buf, sizeof(buf), "memory%" PRIu64, u);
			FUZZ_ASSERT(strcmp(buf, s) == 0, "\"%s\" parsed as %s", s, buf);
		}
		break;
	case 6:
		if (parse_node_name(s, &n) == 0) {
			FUZZ_ASSERT(n >= 0, "node %d", n);
			snprintf(buf, sizeof(buf), "node%d", n);
			FUZZ_ASSERT(strcmp(buf, s) == 0, "\"%s\" parsed as %s", s, buf);
		}
		break;
	case 7:
		if (parse_hex_addr(s, &u) == 0) {
			uint64_t u2;

			trimmed(s, t, sizeof(t));
			FUZZ_ASSERT(t[0] == '0' && (t[1] == 'x' || t[1] == 'X'), "\"%s\" without 0x",
				    s);
			snprintf(buf, sizeof(buf), "%#" PRIx64, u);
			if (!u)
				snprintf(buf, sizeof(buf), "0x0");
			FUZZ_ASSERT(parse_hex_addr(buf, &u2) == 0 && u2 == u, "hex %s", buf);
		}
		break;
	case 8: {
		enum auto_online a, a2;

		if (parse_auto_online(s, &a) == 0) {
			FUZZ_ASSERT(a > AUTO_ONLINE_UNKNOWN && a <= AUTO_ONLINE_MOVABLE, "auto %d",
				    a);
			FUZZ_ASSERT(parse_auto_online(auto_online_name(a), &a2) == 0 && a2 == a,
				    "auto_online %s", auto_online_name(a));
		}
		break;
	}
	case 9: {
		enum memmap_param p, p2;

		if (parse_memmap_param(s, &p) == 0) {
			FUZZ_ASSERT(p > MEMMAP_PARAM_UNKNOWN && p <= MEMMAP_PARAM_FORCE, "memmap %d",
				    p);
			FUZZ_ASSERT(parse_memmap_param(memmap_param_name(p), &p2) == 0 && p2 == p,
				    "memmap %s", memmap_param_name(p));
		}
		break;
	}
	case 10:
	case 11:
	case 12: {
		/* the generic number readers (util.c): dax "size", counts, ids */
		static const int bases[] = { 10, 16, 0 };
		int base = bases[which - 10];
		uint64_t u2;

		if (parse_u64(s, base, &u) == 0) {
			snprintf(buf, sizeof(buf), base == 10 ? "%" PRIu64 : "0x%" PRIx64, u);
			FUZZ_ASSERT(parse_u64(buf, base, &u2) == 0 && u2 == u, "u64 %s base %d", buf,
				    base);
		}
		break;
	}
	case 13:
		/* target_node, numa_node: may be -1 */
		if (parse_int(s, &n) == 0) {
			int n2;

			snprintf(buf, sizeof(buf), "%d", n);
			FUZZ_ASSERT(parse_int(buf, &n2) == 0 && n2 == n, "int %s", buf);
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (!size)
		return 0;
	s = fuzz_str(data + 1, size - 1);
	fuzz_value(data[0] % 14, s);
	free(s);
	return 0;
}
