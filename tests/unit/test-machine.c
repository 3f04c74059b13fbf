/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * machine_dimms_complete(), the check that lets memhpd decide a hot-added
 * DIMM before its settle time is up, against a mkdtemp() sysfs tree: every
 * way a batch is not (yet) a set of fully added DIMMs must say "not yet",
 * and an unreadable /proc/iomem must be an error, never "complete".  Blocks
 * of a complete DIMM that udev has not passed on yet join the batch.
 */
#include "check.h"
#include "machine.h"
#include "sysroot.h"
#include "tree.h"

#define MEM "sys/devices/system/memory"
#define BS 0x8000000ull /* 128 MiB */

static char root[] = "/tmp/memhp-test-machine-XXXXXX";

static const char iomem_ok[] = "100000000-11fffffff : System RAM\n" /* blocks 32-35 */
			       "120000000-127ffffff : System RAM\n" /* 36 */
			       "128000000-12fffffff : System RAM\n" /* 37 */
			       "130000000-13fffffff : System RAM\n" /* 38-39 */
			       "140000000-14fffffff : System RAM\n"; /* 40-41 */

static char also_text[128];

/* machine_dimms_complete(), with the blocks it adds to the batch in also_text ("35,36") */
static int complete(struct sysroot *sr, const struct machine *m, const uint64_t *idx, size_t n)
{
	uint64_t *also = (uint64_t *)1;
	size_t nalso = 99, len = 0;
	int r;

	r = machine_dimms_complete(sr, m, idx, n, &also, &nalso);
	also_text[0] = '\0';
	for (size_t i = 0; i < nalso && also; i++)
		len += snprintf(also_text + len, sizeof(also_text) - len, "%s%llu", i ? "," : "",
				(unsigned long long)also[i]);
	CHECK(r == 1 || (!also && !nalso), "not complete, but blocks to add");
	free(also);
	return r;
}

/* memoryN bound to firmware device fw ("" none), with a node0 link or not */
static void block(unsigned n, const char *fw, bool node_link)
{
	char d[64], p[96], t[96];

	snprintf(d, sizeof(d), MEM "/memory%u", n);
	mkpath(d);
	if (*fw) {
		snprintf(p, sizeof(p), "%s/firmware_node", d);
		snprintf(t, sizeof(t), "../../../LNXSYSTM:00/%s", fw);
		link_at(t, p);
	}
	if (node_link) {
		snprintf(p, sizeof(p), "%s/node0", d);
		link_at("../../node/node0", p);
	}
}

int main(void)
{
	static const uint64_t all4[] = { 35, 34, 32, 33 }, three[] = { 32, 33, 34 },
			      last3[] = { 33, 34, 35 }, with36[] = { 32, 33, 34, 35, 36 },
			      only37[] = { 37 }, gone[] = { 42 }, only38[] = { 38 },
			      only40[] = { 40 }, mid2[] = { 33, 34 };
	struct mem_block known[1] = { { .index = 32 } };
	struct machine m = { .block_size = BS, .is_numa = true };
	struct sysroot *sr = NULL;
	char path[PATH_MAX];

	CHECK(mkdtemp(root) != NULL, "mkdtemp");
	tree_root = root;
	mkpath("sys/devices/system/node/node0");
	mkpath("proc");
	for (unsigned n = 32; n <= 35; n++)
		block(n, "PNP0C80:00", true);
	block(36, "PNP0A06:00", true); /* memory, but not an ACPI DIMM's */
	block(37, "PNP0C80:01", false); /* no node link yet */
	block(38, "PNP0C80:02", true);
	block(39, "", true); /* PNP0C80:02's, not bound yet: its add is not over */
	block(40, "PNP0C80:03", true); /* memory41, the rest of its range, not there yet */
	put("proc/iomem", iomem_ok);
	CHECK_EQ_INT(sysroot_open(root, &sr), 0);
	if (!sr)
		return check_exit();

	/* the whole DIMM heard of, in any order */
	CHECK_EQ_INT(complete(sr, &m, all4, ARRAY_SIZE(all4)), 1);
	CHECK_STREQ(also_text, "");
	/* udev has not passed on memory35 yet: sysfs shows it is bound, it joins */
	CHECK_EQ_INT(complete(sr, &m, three, ARRAY_SIZE(three)), 1);
	CHECK_STREQ(also_text, "35");
	/* ... unless memhpd knows it already */
	m.blocks = known;
	m.nblocks = 1;
	CHECK_EQ_INT(complete(sr, &m, last3, ARRAY_SIZE(last3)), 1);
	CHECK_STREQ(also_text, "");
	CHECK_EQ_INT(complete(sr, &m, mid2, ARRAY_SIZE(mid2)), 1);
	CHECK_STREQ(also_text, "35");
	/* another block of the range is not bound yet, or not there yet: wait */
	CHECK_EQ_INT(complete(sr, &m, only38, 1), 0);
	CHECK_EQ_INT(complete(sr, &m, only40, 1), 0);
	m.blocks = NULL;
	m.nblocks = 0;
	/* a block that is not an ACPI DIMM's spoils the batch */
	CHECK_EQ_INT(complete(sr, &m, with36, ARRAY_SIZE(with36)), 0);
	/* no node link yet on a NUMA kernel; fine without NUMA */
	CHECK_EQ_INT(complete(sr, &m, only37, 1), 0);
	m.is_numa = false;
	CHECK_EQ_INT(complete(sr, &m, only37, 1), 1);
	m.is_numa = true;
	/* a block that is gone, an empty batch, no block size */
	CHECK_EQ_INT(complete(sr, &m, gone, 1), 0);
	CHECK_EQ_INT(complete(sr, &m, all4, 0), 0);
	m.block_size = 0;
	CHECK_EQ_INT(complete(sr, &m, all4, ARRAY_SIZE(all4)), 0);
	m.block_size = BS;

	/* /proc/iomem: no System RAM range for the DIMM, addresses hidden, unreadable */
	put("proc/iomem", "100000000-11fffffff : Reserved\n");
	CHECK_EQ_INT(complete(sr, &m, all4, ARRAY_SIZE(all4)), 0);
	put("proc/iomem", "00000000-00000000 : System RAM\n");
	CHECK_EQ_INT(complete(sr, &m, all4, ARRAY_SIZE(all4)), 0);
	snprintf(path, sizeof(path), "%s/proc/iomem", root);
	CHECK(unlink(path) == 0, "unlink %s", path);
	CHECK_EQ_INT(complete(sr, &m, all4, ARRAY_SIZE(all4)), -ENOENT);

	/* a firmware_node whose name no ACPI device has: an error, and no grouping by it */
	{
		struct machine *ms = NULL;
		const struct mem_block *b;
		bool said = false;

		block(44, "PNP0C80:0123456789abcdef01234567", true);
		block(45, "PNP0C80:0123456789abcde", true); /* 23 characters: fits */
		put(MEM "/block_size_bytes", "8000000\n");
		put(MEM "/memory44/state", "offline\n");
		put(MEM "/memory45/state", "offline\n");
		CHECK_EQ_INT(machine_scan(sr, &ms), 0);
		b = ms ? machine_find_block(ms, "memory44") : NULL;
		CHECK(b && !b->firmware_node[0], "memory44: too long a firmware_node is not kept");
		for (size_t i = 0; ms && i < ms->nerrors; i++)
			said |= strstr(ms->errors[i].path, "memory44/firmware_node") &&
				strstr(ms->errors[i].msg, "too long");
		CHECK(said, "memory44: the scan names the firmware_node that is too long");
		b = ms ? machine_find_block(ms, "memory45") : NULL;
		CHECK(b && streq(b->firmware_node, "PNP0C80:0123456789abcde"), "memory45 kept");
		machine_free(ms);
	}

	sysroot_free(sr);
	tree_remove();
	return check_exit();
}
