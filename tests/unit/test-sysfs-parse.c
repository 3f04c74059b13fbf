// SPDX-License-Identifier: GPL-2.0-or-later
/* Table tests for src/lib/sysfs_parse.c */
#include "check.h"
#include "sysfs_parse.h"
#include "util.h"

static void test_names(void)
{
	CHECK_STREQ(zone_name(ZONE_ID_NONE), "none");
	CHECK_STREQ(zone_name(ZONE_ID_DMA32), "DMA32");
	CHECK_STREQ(zone_name(ZONE_ID_HIGHMEM), "HighMem");
	CHECK_STREQ(zone_name(ZONE_ID_MOVABLE), "Movable");
	CHECK_STREQ(zone_name(ZONE_ID_MAX), "unknown");
	CHECK_STREQ(zone_name((enum zone_id) - 1), "unknown");
	CHECK_STREQ(block_state_name(BLOCK_GOING_OFFLINE), "going-offline");
	CHECK_STREQ(block_state_name(BLOCK_STATE_UNKNOWN), "unknown");
	CHECK_STREQ(block_state_name((enum block_state)99), "unknown");
	CHECK_STREQ(auto_online_name(AUTO_ONLINE_MOVABLE), "online_movable");
	CHECK_STREQ(auto_online_name((enum auto_online)99), "unknown");
	CHECK_STREQ(memmap_param_name(MEMMAP_PARAM_FORCE), "force");
	CHECK_STREQ(memmap_param_name((enum memmap_param)99), "unknown");
	CHECK(zone_is_kernel(ZONE_ID_NORMAL) && zone_is_kernel(ZONE_ID_DMA32), "kernel zones");
	CHECK(!zone_is_kernel(ZONE_ID_MOVABLE) && !zone_is_kernel(ZONE_ID_NONE), "not kernel");

	/* every name round-trips through its parser */
	for (int z = ZONE_ID_DMA; z < ZONE_ID_MAX; z++) {
		enum zone_id back = ZONE_ID_NONE;

		CHECK_EQ_INT(parse_zone_name(zone_name(z), &back), 0);
		CHECK_EQ_INT(back, z);
	}
	for (int s = BLOCK_ONLINE; s <= BLOCK_GOING_OFFLINE; s++) {
		enum block_state back = BLOCK_STATE_UNKNOWN;

		CHECK_EQ_INT(parse_block_state(block_state_name(s), &back), 0);
		CHECK_EQ_INT(back, s);
	}
	for (int a = AUTO_ONLINE_OFFLINE; a <= AUTO_ONLINE_MOVABLE; a++) {
		enum auto_online back = AUTO_ONLINE_UNKNOWN;

		CHECK_EQ_INT(parse_auto_online(auto_online_name(a), &back), 0);
		CHECK_EQ_INT(back, a);
	}
	for (int p = MEMMAP_PARAM_OFF; p <= MEMMAP_PARAM_FORCE; p++) {
		enum memmap_param back = MEMMAP_PARAM_UNKNOWN;

		CHECK_EQ_INT(parse_memmap_param(memmap_param_name(p), &back), 0);
		CHECK_EQ_INT(back, p);
	}
}

static void test_block_state(void)
{
	static const struct {
		const char *s;
		int ret;
		enum block_state v;
	} t[] = {
		{ "online", 0, BLOCK_ONLINE },
		{ "offline", 0, BLOCK_OFFLINE },
		{ "going-offline", 0, BLOCK_GOING_OFFLINE },
		{ "online\n", 0, BLOCK_ONLINE },
		{ "", -EINVAL, 0 },
		{ "Online", -EINVAL, 0 },
		{ "onlinex", -EINVAL, 0 },
		{ "online movable", -EINVAL, 0 },
		{ "online_movable", -EINVAL, 0 },
		{ "going", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		enum block_state v = BLOCK_STATE_UNKNOWN;
		int r = parse_block_state(t[i].s, &v);

		CHECK(r == t[i].ret, "parse_block_state(\"%s\") = %d", t[i].s, r);
		CHECK(v == (r ? BLOCK_STATE_UNKNOWN : t[i].v), "value for \"%s\"", t[i].s);
	}
	CHECK_EQ_INT(parse_block_state(NULL, NULL), -EINVAL);
}

static void test_zone_name(void)
{
	static const char *const bad[] = { "",	       "normal", "NORMAL", "none", "Normal Movable",
					   "Movable2", "DMA3",	 "Dev" };
	enum zone_id z = ZONE_ID_NONE;

	CHECK_EQ_INT(parse_zone_name(" Movable ", &z), 0);
	CHECK_EQ_INT(z, ZONE_ID_MOVABLE);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		z = ZONE_ID_NONE;
		CHECK(parse_zone_name(bad[i], &z) == -EINVAL, "\"%s\" rejected", bad[i]);
		CHECK_EQ_INT(z, ZONE_ID_NONE);
	}
}

static void test_valid_zones(void)
{
	static const struct {
		const char *s;
		int ret;
		unsigned mask;
		enum zone_id first;
	} t[] = {
		{ "DMA32 Normal Movable", 0,
		  ZONE_BIT(ZONE_ID_DMA32) | ZONE_BIT(ZONE_ID_NORMAL) | ZONE_BIT(ZONE_ID_MOVABLE),
		  ZONE_ID_DMA32 },
		{ "Movable Normal", 0, ZONE_BIT(ZONE_ID_NORMAL) | ZONE_BIT(ZONE_ID_MOVABLE),
		  ZONE_ID_MOVABLE },
		{ "Movable", 0, ZONE_BIT(ZONE_ID_MOVABLE), ZONE_ID_MOVABLE },
		{ "Normal", 0, ZONE_BIT(ZONE_ID_NORMAL), ZONE_ID_NORMAL },
		{ "DMA", 0, ZONE_BIT(ZONE_ID_DMA), ZONE_ID_DMA },
		{ "none", 0, 0, ZONE_ID_NONE },
		{ "none\n", 0, 0, ZONE_ID_NONE },
		{ "Normal  Movable\n", 0, ZONE_BIT(ZONE_ID_NORMAL) | ZONE_BIT(ZONE_ID_MOVABLE),
		  ZONE_ID_NORMAL },
		{ "Normal Normal", 0, ZONE_BIT(ZONE_ID_NORMAL), ZONE_ID_NORMAL },
		{ "", -EINVAL, 0, 0 },
		{ "   ", -EINVAL, 0, 0 },
		{ "Normal Bogus", -EINVAL, 0, 0 },
		{ "Normal none", -EINVAL, 0, 0 },
		{ "none Normal", -EINVAL, 0, 0 },
		{ "normal", -EINVAL, 0, 0 },
		{ "Normal,Movable", -EINVAL, 0, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		unsigned mask = 0xdead;
		enum zone_id first = ZONE_ID_MAX;
		int r = parse_valid_zones(t[i].s, &mask, &first);

		CHECK(r == t[i].ret, "parse_valid_zones(\"%s\") = %d", t[i].s, r);
		if (r == 0 && t[i].ret == 0) {
			CHECK(mask == t[i].mask, "mask of \"%s\" = %#x", t[i].s, mask);
			CHECK(first == t[i].first, "first of \"%s\" = %d", t[i].s, first);
		}
		if (r < 0)
			CHECK(mask == 0xdead && first == ZONE_ID_MAX, "untouched on error");
	}
}

static void test_numbers(void)
{
	static const struct {
		int (*fn)(const char *, uint64_t *);
		const char *name, *s;
		int ret;
		uint64_t v;
	} t[] = {
#define B(s, r, v) { parse_block_size, "block_size", s, r, v }
		B("8000000", 0, 128 * MiB),
		B("80000000", 0, 2 * GiB),
		B("100000", 0, MiB),
		B("8000000\n", 0, 128 * MiB),
		B("80000", -ERANGE, 0),
		B("1000", -ERANGE, 0),
		B("0", -EINVAL, 0),
		B("8000001", -EINVAL, 0),
		B("c000000", -EINVAL, 0),
		B("", -EINVAL, 0),
		B("8000000 x", -EINVAL, 0),
		B("-8000000", -EINVAL, 0),
		B("zz", -EINVAL, 0),
		B("10000000000000000", -ERANGE, 0),
#undef B
#define P(s, r, v) { parse_phys_index, "phys_index", s, r, v }
		P("00000020", 0, 0x20),
		P("0000abcd", 0, 0xabcd),
		P("", -EINVAL, 0),
		P("2g", -EINVAL, 0),
		P("-1", -EINVAL, 0),
#undef P
#define H(s, r, v) { parse_hex_addr, "hex_addr", s, r, v }
		H("0x240000000", 0, 0x240000000ULL),
		H("0x0", 0, 0),
		H("0x240000000\n", 0, 0x240000000ULL),
		H("240000000", -EINVAL, 0),
		H("0x", -EINVAL, 0),
		H("0x24z", -EINVAL, 0),
		H("0x10000000000000000", -ERANGE, 0),
		H("", -EINVAL, 0),
#undef H
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		uint64_t v = 0xdead;
		int r = t[i].fn(t[i].s, &v);

		CHECK(r == t[i].ret, "parse_%s(\"%s\") = %d, want %d", t[i].name, t[i].s, r,
		      t[i].ret);
		if (r == 0 && t[i].ret == 0)
			CHECK(v == t[i].v, "parse_%s(\"%s\") = %#" PRIx64, t[i].name, t[i].s, v);
		if (r < 0)
			CHECK(v == 0xdead, "untouched on error");
	}
}

static void test_names_parse(void)
{
	static const struct {
		const char *s;
		int ret;
		uint64_t v;
	} blocks[] = {
		{ "memory0", 0, 0 },
		{ "memory123", 0, 123 },
		{ "memory17592186044415", 0, BLOCK_INDEX_MAX },
		{ "memory17592186044416", -EINVAL, 0 },
		{ "memory18446744073709551615", -EINVAL, 0 },
		{ "memory18446744073709551616", -EINVAL, 0 },
		{ "memory", -EINVAL, 0 },
		{ "memory-1", -EINVAL, 0 },
		{ "memory+1", -EINVAL, 0 },
		{ "memory 1", -EINVAL, 0 },
		{ "memory1x", -EINVAL, 0 },
		{ "memory01", -EINVAL, 0 },
		{ " memory1", -EINVAL, 0 },
		{ "xmemory1", -EINVAL, 0 },
		{ "memory_failure", -EINVAL, 0 },
		{ "auto_online_blocks", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ NULL, -EINVAL, 0 },
	};
	static const struct {
		const char *s;
		int ret;
		int v;
	} nodes[] = {
		{ "node0", 0, 0 },
		{ "node3", 0, 3 },
		{ "node2147483647", 0, 2147483647 },
		{ "node2147483648", -EINVAL, 0 },
		{ "node", -EINVAL, 0 },
		{ "node-1", -EINVAL, 0 },
		{ "node1a", -EINVAL, 0 },
		{ "nodes", -EINVAL, 0 },
		{ "possible", -EINVAL, 0 },
		{ "node01", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(blocks); i++) {
		uint64_t v = 0xdead;
		int r = parse_block_name(blocks[i].s, &v);

		CHECK(r == blocks[i].ret, "parse_block_name(\"%s\") = %d",
		      blocks[i].s ? blocks[i].s : "(null)", r);
		if (!r)
			CHECK_EQ_U64(v, blocks[i].v);
		else
			CHECK_EQ_U64(v, 0xdead);
	}
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		int v = -7;
		int r = parse_node_name(nodes[i].s, &v);

		CHECK(r == nodes[i].ret, "parse_node_name(\"%s\") = %d", nodes[i].s, r);
		CHECK_EQ_INT(v, r ? -7 : nodes[i].v);
	}
}

static void test_params(void)
{
	static const struct {
		const char *s;
		int ret;
		enum auto_online v;
	} ao[] = {
		{ "offline", 0, AUTO_ONLINE_OFFLINE },
		{ "online", 0, AUTO_ONLINE_ONLINE },
		{ "online_kernel", 0, AUTO_ONLINE_KERNEL },
		{ "online_movable\n", 0, AUTO_ONLINE_MOVABLE },
		{ "online-movable", -EINVAL, 0 },
		{ "movable", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "Online", -EINVAL, 0 },
		{ "online_kernelx", -EINVAL, 0 },
	};
	static const struct {
		const char *s;
		int ret;
		enum memmap_param v;
	} mm[] = {
		{ "Y", 0, MEMMAP_PARAM_ON },
		{ "N", 0, MEMMAP_PARAM_OFF },
		{ "y", 0, MEMMAP_PARAM_ON },
		{ "n\n", 0, MEMMAP_PARAM_OFF },
		{ "1", 0, MEMMAP_PARAM_ON },
		{ "0", 0, MEMMAP_PARAM_OFF },
		{ "force", 0, MEMMAP_PARAM_FORCE },
		{ "Force", -EINVAL, 0 },
		{ "yes", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "2", -EINVAL, 0 },
		{ "YN", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(ao); i++) {
		enum auto_online v = AUTO_ONLINE_UNKNOWN;
		int r = parse_auto_online(ao[i].s, &v);

		CHECK(r == ao[i].ret, "parse_auto_online(\"%s\") = %d", ao[i].s, r);
		CHECK_EQ_INT(v, r ? AUTO_ONLINE_UNKNOWN : ao[i].v);
	}
	for (size_t i = 0; i < ARRAY_SIZE(mm); i++) {
		enum memmap_param v = MEMMAP_PARAM_UNKNOWN;
		int r = parse_memmap_param(mm[i].s, &v);

		CHECK(r == mm[i].ret, "parse_memmap_param(\"%s\") = %d", mm[i].s, r);
		CHECK_EQ_INT(v, r ? MEMMAP_PARAM_UNKNOWN : mm[i].v);
	}
}

static const char node1_meminfo[] = "Node 1 MemTotal:       16318060 kB\n"
				    "Node 1 MemFree:        15000000 kB\n"
				    "Node 1 MemUsed:         1318060 kB\n"
				    "Node 1 SwapCached:            0 kB\n"
				    "Node 1 Active:            85848 kB\n"
				    "Node 1 Inactive(anon):     1722 kB\n"
				    "Node 1 FileHugePages:         0 kB\n"
				    "Node 1 HugePages_Total:     0\n"
				    "Node 1 HugePages_Free:      0\n"
				    "Node 1 HugePages_Surp:      0\n";

static void test_node_meminfo(void)
{
	static const struct {
		const char *text;
		int node, ret;
	} bad[] = {
		{ "Node 1 MemTotal:       16318060 kB\n", 0, -EINVAL }, /* wrong node */
		{ "Node 1 MemTotal:       16318060\n", 1, -EINVAL }, /* no unit */
		{ "Node 1 MemTotal:       16318060 MB\n", 1, -EINVAL }, /* wrong unit */
		{ "Node 1 MemTotal:       16318060 kB x\n", 1, -EINVAL }, /* trailing junk */
		{ "Node 1 MemTotal:       16318060kB\n", 1, -EINVAL },
		{ "Node 1 MemTotal:       -1 kB\n", 1, -EINVAL },
		{ "Node 1 MemTotal:       abc kB\n", 1, -EINVAL },
		{ "Node 1 MemTotal:\n", 1, -EINVAL },
		{ "Node 1 MemFree:        1x2 kB\n", 1, -EINVAL },
		{ "Node 1 MemTotal:       99999999999999999999 kB\n", 1, -ERANGE },
		{ "Node 1 MemTotal:       18014398509481984 kB\n", 1, -ERANGE }, /* 2^54 kB */
		{ "garbage\n", 1, -EINVAL },
		{ "Node x MemTotal: 1 kB\n", 1, -EINVAL },
		{ "Node 1 MemTotal 1 kB\n", 1, -EINVAL },
		{ "Node 1\n", 1, -EINVAL },
		{ "Node 1 : 5 kB\n", 1, -EINVAL },
		{ "Node -1 MemTotal: 1 kB\n", 1, -EINVAL },
		{ "Node 1 MemTotal: 1 kB\nNode 2 MemFree: 1 kB\n", 1, -EINVAL },
	};
	struct node_meminfo mi = { 0 };

	CHECK_EQ_INT(parse_node_meminfo(node1_meminfo, 1, &mi), 0);
	CHECK(mi.has_total && mi.has_free, "both found");
	CHECK_EQ_U64(mi.total, 16318060ULL * 1024);
	CHECK_EQ_U64(mi.free, 15000000ULL * 1024);

	/* other keys only: success, outputs untouched */
	memset(&mi, 0, sizeof(mi));
	mi.total = 42;
	CHECK_EQ_INT(parse_node_meminfo("Node 0 Active:  1 kB\n\n", 0, &mi), 0);
	CHECK(!mi.has_total && !mi.has_free && mi.total == 42, "untouched");
	/* one line at a time, no trailing newline */
	CHECK_EQ_INT(parse_node_meminfo("Node 0 MemFree:  7 kB", 0, &mi), 0);
	CHECK(mi.has_free && mi.free == 7 * 1024 && !mi.has_total, "single line");
	CHECK_EQ_INT(parse_node_meminfo("", 0, &mi), 0);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct node_meminfo m = { 0 };
		int r = parse_node_meminfo(bad[i].text, bad[i].node, &m);

		CHECK(r == bad[i].ret, "bad[%zu] \"%s\" = %d, want %d", i, bad[i].text, r,
		      bad[i].ret);
		CHECK(!m.has_total && !m.has_free, "bad[%zu] untouched", i);
	}

	/* the live file of node 0 parses (read only) */
	{
		FILE *f = fopen("/sys/devices/system/node/node0/meminfo", "r");

		if (f) {
			char text[8192];
			size_t n = fread(text, 1, sizeof(text) - 1, f);
			struct node_meminfo m = { 0 };

			fclose(f);
			text[n] = '\0';
			CHECK_EQ_INT(parse_node_meminfo(text, 0, &m), 0);
			CHECK(m.has_total && m.has_free && m.total >= m.free, "live node0");
		}
	}
}

/* Trimmed from a real 6.x x86-64 /proc/zoneinfo with two nodes */
static const char zoneinfo_text[] = "Node 0, zone      DMA\n"
				    "  per-node stats\n"
				    "      nr_inactive_anon 1722\n"
				    "      nr_active_anon 385\n"
				    "      nr_mapped    3339\n"
				    "      nr_dirty     336\n"
				    "  pages free     3840\n"
				    "        boost    0\n"
				    "        min      60\n"
				    "        low      75\n"
				    "        high     90\n"
				    "        promo    105\n"
				    "        spanned  4095\n"
				    "        present  3998\n"
				    "        managed  3840\n"
				    "        cma      0\n"
				    "        protection: (0, 3017, 4169, 4169, 4169)\n"
				    "      nr_free_pages 3840\n"
				    "      nr_zone_inactive_anon 0\n"
				    "  pagesets\n"
				    "    cpu: 0\n"
				    "              count: 0\n"
				    "              high:  0\n"
				    "              batch: 1\n"
				    "  vm stats threshold: 4\n"
				    "  node_unreclaimable:  0\n"
				    "  start_pfn:           1\n"
				    "Node 0, zone    DMA32\n"
				    "  pages free     772497\n"
				    "        spanned  1044480\n"
				    "        present  782336\n"
				    "        managed  772497\n"
				    "        protection: (0, 0, 1151, 1151, 1151)\n"
				    "  start_pfn:           4096\n"
				    "Node 0, zone   Normal\n"
				    "  pages free     218674\n"
				    "        boost    0\n"
				    "        spanned  5505024\n"
				    "        present  5505024\n"
				    "        managed  294912\n"
				    "  start_pfn:           1048576\n"
				    "Node 0, zone  Movable\n"
				    "  pages free     0\n"
				    "        spanned  0\n"
				    "        present  0\n"
				    "        managed  0\n"
				    "Node 0, zone   Device\n"
				    "  pages free     0\n"
				    "        spanned  0\n"
				    "        present  0\n"
				    "        managed  0\n"
				    "Node 1, zone   Normal\n"
				    "  per-node stats\n"
				    "      nr_inactive_anon 5\n"
				    "  pages free     30000\n"
				    "        spanned  32768\n"
				    "        present  32768\n"
				    "        managed  32000\n"
				    "Node 1, zone  Movable\n"
				    "  pages free     65536\n"
				    "        spanned  65536\n"
				    "        present  65536\n"
				    "        managed  65536\n";

static void test_zoneinfo(void)
{
	struct zoneinfo zi = { 0 };
	static const struct {
		const char *text;
		int ret;
	} bad[] = {
		{ "Node 0, zone   Normal\n  pages free     12x\n", -EINVAL },
		{ "Node 0, zone   Normal\n  pages free\n", -EINVAL },
		{ "Node 0, zone   Normal\n        spanned  -1\n", -EINVAL },
		{ "Node 0, zone   Normal\n        present  1 2\n", -EINVAL },
		{ "Node 0, zone   Normal\n        managed  99999999999999999999\n", -EINVAL },
		{ "Node 0, zone   Normal\n        managed  \n", -EINVAL },
		{ "Node x, zone   Normal\n", -EINVAL },
		{ "Node 0 zone Normal\n", -EINVAL },
		{ "Node 0, zone\n", -EINVAL },
		{ "Node 0, zone   Normal junk\n", -EINVAL },
		{ "Node 99999999999, zone Normal\n", -EINVAL },
		{ "Node -1, zone Normal\n", -EINVAL },
	};

	CHECK_EQ_INT(parse_zoneinfo(zoneinfo_text, &zi), 0);
	CHECK_EQ_INT(zi.nzones, 7);
	if (zi.nzones == 7) {
		CHECK_EQ_INT(zi.zones[0].node, 0);
		CHECK_EQ_INT(zi.zones[0].zone, ZONE_ID_DMA);
		CHECK_EQ_U64(zi.zones[0].free, 3840);
		CHECK_EQ_U64(zi.zones[0].spanned, 4095);
		CHECK_EQ_U64(zi.zones[0].present, 3998);
		CHECK_EQ_U64(zi.zones[0].managed, 3840);
		CHECK_EQ_INT(zi.zones[1].zone, ZONE_ID_DMA32);
		CHECK_EQ_U64(zi.zones[1].present, 782336);
		CHECK_EQ_INT(zi.zones[2].zone, ZONE_ID_NORMAL);
		CHECK_EQ_U64(zi.zones[2].managed, 294912);
		CHECK_EQ_U64(zi.zones[2].spanned, 5505024);
		CHECK_EQ_INT(zi.zones[3].zone, ZONE_ID_MOVABLE);
		CHECK_EQ_INT(zi.zones[4].zone, ZONE_ID_DEVICE);
		CHECK_EQ_INT(zi.zones[5].node, 1);
		CHECK_EQ_INT(zi.zones[5].zone, ZONE_ID_NORMAL);
		CHECK_EQ_U64(zi.zones[5].free, 30000);
		CHECK_EQ_INT(zi.zones[6].node, 1);
		CHECK_EQ_INT(zi.zones[6].zone, ZONE_ID_MOVABLE);
		CHECK_EQ_U64(zi.zones[6].managed, 65536);
	}
	zoneinfo_free(&zi);
	CHECK(zi.zones == NULL && zi.nzones == 0, "freed");
	zoneinfo_free(&zi);

	/* unknown zone (a future kernel) is skipped along with its counters */
	CHECK_EQ_INT(parse_zoneinfo("Node 0, zone   Weird\n  pages free 5\n"
				    "Node 0, zone   Normal\n  pages free 6\n",
				    &zi),
		     0);
	CHECK_EQ_INT(zi.nzones, 1);
	if (zi.nzones == 1)
		CHECK_EQ_U64(zi.zones[0].free, 6);
	zoneinfo_free(&zi);

	/* empty text: no zones, no error; no trailing newline is fine */
	CHECK_EQ_INT(parse_zoneinfo("", &zi), 0);
	CHECK_EQ_INT(zi.nzones, 0);
	zoneinfo_free(&zi);
	CHECK_EQ_INT(parse_zoneinfo("Node 2, zone HighMem\n        managed 9", &zi), 0);
	CHECK(zi.nzones == 1 && zi.zones[0].node == 2 && zi.zones[0].zone == ZONE_ID_HIGHMEM &&
		      zi.zones[0].managed == 9,
	      "no trailing newline");
	zoneinfo_free(&zi);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = parse_zoneinfo(bad[i].text, &zi);

		CHECK(r == bad[i].ret, "zoneinfo bad[%zu] = %d, want %d", i, r, bad[i].ret);
		CHECK(zi.zones == NULL && zi.nzones == 0, "bad[%zu] leaves nothing", i);
		zoneinfo_free(&zi);
	}

	/* many zones: the array grows */
	{
		char *big = malloc(64 * 1024), *p = big;

		for (int n = 0; n < 500; n++)
			p += sprintf(p, "Node %d, zone Movable\n  pages free %d\n", n, n);
		CHECK_EQ_INT(parse_zoneinfo(big, &zi), 0);
		CHECK_EQ_INT(zi.nzones, 500);
		if (zi.nzones == 500)
			CHECK(zi.zones[499].node == 499 && zi.zones[499].free == 499, "last zone");
		zoneinfo_free(&zi);
		free(big);
	}

	/* the live file parses, whatever this machine has */
	{
		FILE *f = fopen("/proc/zoneinfo", "r");

		if (f) {
			char *text = calloc(1, 1 << 20);
			size_t n = fread(text, 1, (1 << 20) - 1, f);

			fclose(f);
			text[n] = '\0';
			CHECK_EQ_INT(parse_zoneinfo(text, &zi), 0);
			CHECK(zi.nzones > 0, "live zoneinfo has zones");
			zoneinfo_free(&zi);
			free(text);
		}
	}
}

int main(void)
{
	test_names();
	test_block_state();
	test_zone_name();
	test_valid_zones();
	test_numbers();
	test_names_parse();
	test_params();
	test_node_meminfo();
	test_zoneinfo();
	return check_exit();
}
