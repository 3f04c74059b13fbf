/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-update ROOT [--expect-in-place | --expect-rebuild]
 *
 * machine_update() against a fresh machine_scan() on a fixture tree (a
 * scratch copy: this test writes to it).  Block by block, the state of one
 * block (or of a few, one named twice) is flipped in the tree; after each
 * update the daemon's model must equal what a scan from scratch sees: every
 * block, device, node, dax device and sum.  Then /proc/iomem changes, which
 * must rebuild the grouping.
 *
 * --expect-in-place: at least one update must have taken the in-place path
 * (it would otherwise be untested here); --expect-rebuild: none may (s390
 * before 6.19, where any block can move the start of standby memory).
 */
#include <inttypes.h>

#include "check.h"
#include "machine.h"
#include "sysroot.h"
#include "tree.h"
#include "util.h"

#define MEM "sys/devices/system/memory"

static const char *root;
static const char *where;
static struct sysroot *sr;

#define DIFF(what, fmt, a, b)                                                              \
	do {                                                                               \
		if ((a) != (b)) {                                                          \
			CHECK(false, "%s: %s: update " fmt ", scan " fmt, where, what, a, b); \
			return false;                                                      \
		}                                                                          \
	} while (0)
#define DIFF_STR(what, a, b)                                                               \
	do {                                                                               \
		if (!streq(a, b)) {                                                        \
			CHECK(false, "%s: %s: update \"%s\", scan \"%s\"", where, what, a, b); \
			return false;                                                      \
		}                                                                          \
	} while (0)
#define U(x) ((unsigned long long)(x))
#define I(x) ((long long)(x))

static bool same_block(const struct mem_block *a, const struct mem_block *b)
{
	DIFF_STR("block name", a->name, b->name);
	DIFF("index", "%llu", U(a->index), U(b->index));
	DIFF("start", "%llx", U(a->start), U(b->start));
	DIFF("size", "%llx", U(a->size), U(b->size));
	DIFF("state", "%lld", I(a->state), I(b->state));
	DIFF("valid_zones", "%llx", U(a->valid_zones), U(b->valid_zones));
	DIFF("zone_default", "%lld", I(a->zone_default), I(b->zone_default));
	DIFF("zone", "%lld", I(a->zone), I(b->zone));
	DIFF("node", "%lld", I(a->node), I(b->node));
	DIFF("removable", "%lld", I(a->removable), I(b->removable));
	DIFF_STR("firmware_node", a->firmware_node, b->firmware_node);
	DIFF("kernel_memmap_pages", "%lld", I(a->kernel_memmap_pages), I(b->kernel_memmap_pages));
	DIFF("fw_config", "%lld", I(a->fw_config), I(b->fw_config));
	DIFF("fw_memmap_on_memory", "%lld", I(a->fw_memmap_on_memory), I(b->fw_memmap_on_memory));
	DIFF("memmap", "%lld", I(a->memmap), I(b->memmap));
	DIFF("memmap_evidence", "%lld", I(a->memmap_evidence), I(b->memmap_evidence));
	DIFF("memmap_bytes", "%llu", U(a->memmap_bytes), U(b->memmap_bytes));
	DIFF("device", "%lld", I(a->device), I(b->device));
	DIFF("error", "%lld", I(a->error), I(b->error));
	return true;
}

static bool same_device(const struct mem_device *a, const struct mem_device *b)
{
	DIFF_STR("device id", a->id, b->id);
	DIFF("type", "%lld", I(a->type), I(b->type));
	DIFF("node", "%lld", I(a->node), I(b->node));
	DIFF("start", "%llx", U(a->start), U(b->start));
	DIFF("end", "%llx", U(a->end), U(b->end));
	DIFF("size", "%llx", U(a->size), U(b->size));
	DIFF("nblocks", "%llu", U(a->nblocks), U(b->nblocks));
	for (size_t j = 0; j < a->nblocks; j++)
		DIFF("block", "%llu", U(a->blocks[j]), U(b->blocks[j]));
	DIFF("online_blocks", "%llu", U(a->online_blocks), U(b->online_blocks));
	DIFF("zone", "%lld", I(a->zone), I(b->zone));
	DIFF("zone_mixed", "%lld", I(a->zone_mixed), I(b->zone_mixed));
	DIFF("memmap", "%lld", I(a->memmap), I(b->memmap));
	DIFF("memmap_evidence", "%lld", I(a->memmap_evidence), I(b->memmap_evidence));
	DIFF("memmap_on_device_bytes", "%llu", U(a->memmap_on_device_bytes),
	     U(b->memmap_on_device_bytes));
	DIFF("memmap_in_ram_bytes", "%llu", U(a->memmap_in_ram_bytes), U(b->memmap_in_ram_bytes));
	DIFF("dax", "%lld", I(a->dax), I(b->dax));
	return true;
}

static bool same_node(const struct numa_node *a, const struct numa_node *b)
{
	DIFF("node id", "%lld", I(a->id), I(b->id));
	DIFF("meminfo", "%lld", I(memcmp(&a->meminfo, &b->meminfo, sizeof(a->meminfo))), 0LL);
	DIFF("kernel_bytes", "%llu", U(a->kernel_bytes), U(b->kernel_bytes));
	DIFF("movable_bytes", "%llu", U(a->movable_bytes), U(b->movable_bytes));
	DIFF("offline_bytes", "%llu", U(a->offline_bytes), U(b->offline_bytes));
	DIFF("kernel_usable_bytes", "%llu", U(a->kernel_usable_bytes), U(b->kernel_usable_bytes));
	DIFF("movable_usable_bytes", "%llu", U(a->movable_usable_bytes),
	     U(b->movable_usable_bytes));
	DIFF("movable_memmap_in_ram_bytes", "%llu", U(a->movable_memmap_in_ram_bytes),
	     U(b->movable_memmap_in_ram_bytes));
	DIFF("kernel_free_bytes", "%llu", U(a->kernel_free_bytes), U(b->kernel_free_bytes));
	DIFF("kernel_free_known", "%lld", I(a->kernel_free_known), I(b->kernel_free_known));
	DIFF("memmap_on_device_bytes", "%llu", U(a->memmap_on_device_bytes),
	     U(b->memmap_on_device_bytes));
	DIFF("memmap_in_ram_bytes", "%llu", U(a->memmap_in_ram_bytes), U(b->memmap_in_ram_bytes));
	DIFF("movable_present_minus_managed", "%llu", U(a->movable_present_minus_managed),
	     U(b->movable_present_minus_managed));
	DIFF("zoneinfo_known", "%lld", I(a->zoneinfo_known), I(b->zoneinfo_known));
	return true;
}

static bool same_machine(const struct machine *a, const struct machine *b)
{
	DIFF("nblocks", "%llu", U(a->nblocks), U(b->nblocks));
	DIFF("ndevices", "%llu", U(a->ndevices), U(b->ndevices));
	DIFF("nnodes", "%llu", U(a->nnodes), U(b->nnodes));
	DIFF("ndax", "%llu", U(a->ndax), U(b->ndax));
	DIFF("memmap_on_device_bytes", "%llu", U(a->memmap_on_device_bytes),
	     U(b->memmap_on_device_bytes));
	DIFF("memmap_in_ram_bytes", "%llu", U(a->memmap_in_ram_bytes), U(b->memmap_in_ram_bytes));
	DIFF("memmap param", "%lld", I(a->params.memmap_on_memory), I(b->params.memmap_on_memory));
	for (size_t i = 0; i < a->nblocks; i++)
		if (!same_block(&a->blocks[i], &b->blocks[i]))
			return false;
	for (size_t i = 0; i < a->ndevices; i++)
		if (!same_device(&a->devices[i], &b->devices[i]))
			return false;
	for (size_t i = 0; i < a->nnodes; i++)
		if (!same_node(&a->nodes[i], &b->nodes[i]))
			return false;
	for (size_t i = 0; i < a->ndax; i++) {
		DIFF_STR("dax name", a->dax[i].name, b->dax[i].name);
		DIFF("dax device", "%lld", I(a->dax[i].device), I(b->dax[i].device));
	}
	return true;
}

static void put_attr(const char *block, const char *attr, const char *val)
{
	char rel[256];

	snprintf(rel, sizeof(rel), MEM "/%s/%s", block, attr);
	put(rel, val);
}

/* Online <-> offline in the tree, with valid_zones as the kernel would show it. */
static void flip(const struct mem_block *b)
{
	if (b->state == BLOCK_ONLINE) {
		put_attr(b->name, "state", "offline\n");
		put_attr(b->name, "valid_zones", b->zone == ZONE_ID_MOVABLE ? "Movable Normal\n"
									     : "Normal Movable\n");
	} else {
		put_attr(b->name, "state", "online\n");
		put_attr(b->name, "valid_zones", "Movable\n");
	}
}

static unsigned updates, in_place;

static void update_and_compare(struct machine *m, const uint64_t *idx, size_t n)
{
	_cleanup_machine_ struct machine *fresh = NULL;
	int r;

	r = machine_update(sr, m, idx, n);
	CHECK(r >= 0, "%s: machine_update: %d", where, r);
	updates++;
	in_place += r == 1;
	CHECK_EQ_INT(machine_scan(sr, &fresh), 0);
	if (fresh)
		same_machine(m, fresh);
}

static bool weak_movable(const struct mem_block *b)
{
	return b->state == BLOCK_ONLINE && b->zone == ZONE_ID_MOVABLE &&
	       (b->memmap_evidence == EV_MODULE_PARAM || b->memmap_evidence == EV_NONE ||
		b->memmap_evidence == EV_ZONEINFO);
}

/*
 * Rewrite the Movable zones of /proc/zoneinfo so that present - managed says
 * where the memmap of every online movable block lives whose memmap the model
 * only guesses (memmap.c's zoneinfo check): on the memory (weak_on_memory)
 * or in RAM.  The verdict covers whole nodes, beyond the blocks of a batch.
 * extra_guessed more such blocks on extra_node are not in the model yet.
 * Returns whether some node has such blocks.
 */
static bool zoneinfo_says(const struct machine *m, bool weak_on_memory, int extra_node,
			  unsigned extra_guessed)
{
	uint64_t per_block = machine_block_memmap_bytes(m) / m->page_size;
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX], *save = NULL;
	bool any = false;
	int node = -1;
	FILE *f;

	CHECK_EQ_INT(sysroot_read_file(sr, "proc/zoneinfo", &text, NULL), 0);
	snprintf(path, sizeof(path), "%s/proc/zoneinfo", root);
	f = fopen(path, "w");
	CHECK(f != NULL, "open %s: %m", path);
	if (!text || !f) {
		if (f)
			fclose(f);
		return false;
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char zone[32];
		int n;

		if (sscanf(line, "Node %d, zone %31s", &n, zone) == 2) {
			node = streq(zone, "Movable") ? n : -1;
		} else if (node >= 0 && strstr(line, " present ")) {
			uint64_t target = node == extra_node && weak_on_memory ? extra_guessed * per_block
									: 0;

			for (size_t i = 0; i < m->nblocks; i++) {
				const struct mem_block *b = &m->blocks[i];

				if (b->node != node || b->state != BLOCK_ONLINE ||
				    b->zone != ZONE_ID_MOVABLE)
					continue;
				if (weak_movable(b)) {
					target += weak_on_memory ? per_block : 0;
					any = true;
				} else if (b->memmap == MEMMAP_ON_MEMORY)
					target += per_block;
			}
			fprintf(f, "        present  %" PRIu64 "\n", target + 1000);
			continue;
		} else if (node >= 0 && strstr(line, " managed ")) {
			fputs("        managed  1000\n", f);
			continue;
		}
		fprintf(f, "%s\n", line);
	}
	fclose(f);
	return any;
}

/*
 * A hot-added block as the kernel shows it, `gap` blocks above the last
 * one: offline (or auto-onlined movable), linked to its node both ways, bound to firmware device fw
 * ("" none), with a "System RAM" resource of its own.  Returns its index.
 */
static uint64_t add_block(const struct machine *m, uint64_t gap, int node, const char *fw,
			  bool online)
{
	uint64_t idx = m->blocks[m->nblocks - 1].index + 1 + gap;
	uint64_t start = idx * m->block_size;
	char d[96], p[160], t[160], first[PATH_MAX];

	snprintf(d, sizeof(d), MEM "/memory%" PRIu64, idx);
	mkpath(d);
	snprintf(p, sizeof(p), "%s/state", d);
	put(p, online ? "online\n" : "offline\n");
	snprintf(p, sizeof(p), "%s/valid_zones", d);
	put(p, online ? "Movable\n" : "Movable Normal\n");
	snprintf(p, sizeof(p), "%s/phys_index", d);
	snprintf(t, sizeof(t), "%08" PRIx64 "\n", idx);
	put(p, t);
	snprintf(p, sizeof(p), "%s/removable", d);
	put(p, "1\n");
	/* the companion kernel's attribute, if this kernel has it (kernel-attr) */
	snprintf(first, sizeof(first), "%s/" MEM "/%s/memmap_on_memory", tree_root,
		 m->blocks[0].name);
	if (access(first, F_OK) == 0) {
		snprintf(p, sizeof(p), "%s/memmap_on_memory", d);
		put(p, "0\n");
	}
	if (*fw) {
		snprintf(p, sizeof(p), "%s/firmware_node", d);
		snprintf(t, sizeof(t), "../../../LNXSYSTM:00/LNXSYBUS:00/%s", fw);
		link_at(t, p);
	}
	if (node >= 0) {
		snprintf(p, sizeof(p), "%s/node%d", d, node);
		snprintf(t, sizeof(t), "../../node/node%d", node);
		link_at(t, p);
		snprintf(p, sizeof(p), "sys/devices/system/node/node%d/memory%" PRIu64, node, idx);
		snprintf(t, sizeof(t), "../../memory/memory%" PRIu64, idx);
		link_at(t, p);
	}
	snprintf(t, sizeof(t), "%" PRIx64 "-%" PRIx64 " : System RAM\n", start,
		 start + m->block_size - 1);
	append("proc/iomem", t);
	return idx;
}

int main(int argc, char **argv)
{
	_cleanup_machine_ struct machine *m = NULL;
	const char *expect = argc > 2 ? argv[2] : "";
	char here[160];
	size_t step;

	if (argc < 2) {
		fprintf(stderr, "usage: test-update ROOT [--expect-in-place|--expect-rebuild]\n");
		return 2;
	}
	root = argv[1];
	/* it writes to the tree: never the host's (memhp_fixture refuses these too) */
	if (root[0] != '/' || streq(root, "/") || startswith(root, "/sys") ||
	    startswith(root, "/proc")) {
		fprintf(stderr, "test-update: refusing to write to %s\n", root);
		return 2;
	}
	tree_root = root;
	where = "initial scan";
	CHECK_EQ_INT(sysroot_open(root, &sr), 0);
	if (!sr)
		return check_exit();
	CHECK_EQ_INT(machine_scan(sr, &m), 0);
	if (!m)
		return check_exit();

	/* at most 48 single-block batches, spread over the blocks */
	step = m->nblocks > 48 ? m->nblocks / 48 : 1;
	for (size_t i = 0; i < m->nblocks; i += step) {
		uint64_t idx = m->blocks[i].index;

		snprintf(here, sizeof(here), "%s flipped", m->blocks[i].name);
		where = here;
		flip(&m->blocks[i]);
		update_and_compare(m, &idx, 1);
	}
	/* a batch of three, the first named twice, and the same again */
	for (int round = 0; round < 2 && m->nblocks >= 3; round++) {
		uint64_t idx[4] = { m->blocks[m->nblocks - 1].index, m->blocks[0].index,
				    m->blocks[m->nblocks / 2].index, m->blocks[m->nblocks - 1].index };

		where = "batch of three";
		flip(&m->blocks[m->nblocks - 1]);
		flip(&m->blocks[0]);
		flip(&m->blocks[m->nblocks / 2]);
		update_and_compare(m, idx, ARRAY_SIZE(idx));
	}
	/*
	 * zoneinfo says where the guessed memmaps live, one way and then the
	 * other: a block re-read unchanged changes blocks of other devices
	 * (recount everything)
	 */
	for (size_t i = 0, done = 0; i < m->nblocks && !done; i++) {
		uint64_t idx = m->blocks[i].index;

		for (int on = 0; on < 2 && m->blocks[i].device >= 0; on++) {
			if (!zoneinfo_says(m, on, -1, 0))
				break;
			where = on ? "zoneinfo: on the memory" : "zoneinfo: in RAM";
			update_and_compare(m, &idx, 1);
			done = 1;
		}
	}
	/*
	 * Hot-added blocks above the others: a new DIMM (in place), a second
	 * block of it together with a block of the DIMM before (in place), a
	 * block no device owns (regroup: it starts a run), a DIMM block with
	 * a gap below it (in place), and one in the gap (regroup).
	 */
	if (m->nblocks) {
		bool check_path = streq(expect, "--expect-in-place");
		int node = m->blocks[m->nblocks - 1].node;
		uint64_t a, b[2], gap;
		unsigned before;

		/*
		 * auto-onlined movable on a node whose memmap guesses zoneinfo
		 * confirms (the step above): the node's verdict covers it too
		 */
		for (size_t i = 0; i < m->nblocks; i++) {
			if (!weak_movable(&m->blocks[i]) || m->blocks[i].node < 0)
				continue;
			where = "new auto-onlined block";
			before = in_place;
			a = add_block(m, 0, m->blocks[i].node, "PNP0C80:72", true);
			zoneinfo_says(m, true, m->blocks[i].node, 1);
			update_and_compare(m, &a, 1);
			CHECK(!check_path || in_place == before + 1, "%s: not in place", where);
			break;
		}

		where = "new DIMM";
		before = in_place;
		a = add_block(m, 0, node, "PNP0C80:70", false);
		update_and_compare(m, &a, 1);
		CHECK(!check_path || in_place == before + 1, "%s: not in place", where);

		/*
		 * read in place, a new block is first asked for the node of
		 * the block before it: the second block of a DIMM, and a DIMM
		 * on another node than the last block (the link is not there,
		 * the block's directory is listed)
		 */
		where = "new DIMM of two blocks";
		before = in_place;
		b[0] = add_block(m, 0, node, "PNP0C80:74", false);
		m->blocks[m->nblocks - 1].index++; /* add_block() counts from the last */
		b[1] = add_block(m, 0, node, "PNP0C80:74", false);
		m->blocks[m->nblocks - 1].index--;
		update_and_compare(m, b, 2);
		CHECK(!check_path || in_place == before + 1, "%s: not in place", where);

		for (size_t i = 0; i < m->nnodes; i++) {
			if (m->nodes[i].id == node)
				continue;
			where = "new DIMM on another node than the last block";
			before = in_place;
			a = add_block(m, 0, m->nodes[i].id, "PNP0C80:75", false);
			update_and_compare(m, &a, 1);
			CHECK(!check_path || in_place == before + 1, "%s: not in place", where);
			CHECK(machine_block_by_index(m, a) &&
				      machine_block_by_index(m, a)->node == m->nodes[i].id,
			      "%s: not on node%d", where, m->nodes[i].id);
			break;
		}

		where = "new DIMM block and an old one";
		b[0] = m->blocks[0].index;
		b[1] = add_block(m, 0, node, "PNP0C80:70", false);
		update_and_compare(m, b, 2);

		where = "new DIMM block, and dax memory among the old blocks";
		before = in_place;
		a = add_block(m, 0, node, "PNP0C80:70", false);
		if (m->nblocks > 1) {
			char line[160];
			const struct mem_block *o = &m->blocks[1];

			snprintf(line, sizeof(line),
				 "%" PRIx64 "-%" PRIx64 " : dax9.0\n  %" PRIx64 "-%" PRIx64
				 " : System RAM (kmem)\n",
				 o->start, o->start + o->size - 1, o->start, o->start + o->size - 1);
			append("proc/iomem", line);
		}
		update_and_compare(m, &a, 1);
		CHECK(!check_path || in_place == before, "%s: in place", where);

		where = "new DIMM, its block not linked to its node yet";
		before = in_place;
		a = add_block(m, 0, -1, "PNP0C80:73", false);
		update_and_compare(m, &a, 1);
		CHECK(!check_path || in_place == before + 1, "%s: not in place", where);

		where = "new block without owner";
		before = in_place;
		a = add_block(m, 0, node, "", false);
		update_and_compare(m, &a, 1);
		CHECK(!check_path || in_place == before, "%s: in place", where);

		where = "new DIMM above a gap";
		before = in_place;
		gap = add_block(m, 1, node, "PNP0C80:71", false);
		update_and_compare(m, &gap, 1);
		CHECK(!check_path || in_place == before + 1, "%s: not in place", where);

		where = "new DIMM block in the gap";
		before = in_place;
		a = gap - 1;
		m->blocks[m->nblocks - 1].index -= 2; /* add_block() counts from the last */
		add_block(m, 0, node, "PNP0C80:71", false);
		m->blocks[m->nblocks - 1].index += 2;
		update_and_compare(m, &a, 1);
		CHECK(!check_path || in_place == before, "%s: in place", where);
	}
	/* a block that did not change, after /proc/iomem did: regroup */
	if (m->nblocks) {
		uint64_t idx = m->blocks[0].index;
		unsigned before = in_place;

		where = "iomem changed";
		append("proc/iomem", "7f0000000000-7f0007ffffff : System RAM\n");
		update_and_compare(m, &idx, 1);
		CHECK(in_place == before, "%s: updated in place though /proc/iomem changed", where);
	}
	/*
	 * The other inputs that make every block's grouping or inference
	 * suspect, each alone: a dax device's attribute, the memmap_on_memory
	 * parameter, a known block that is gone.  Each regroups.
	 */
	for (size_t i = 0; i < m->ndax && m->nblocks; i++) {
		uint64_t idx = m->blocks[m->nblocks - 1].index;
		unsigned before = in_place;
		char rel[128];

		where = "a dax device's target_node changed";
		snprintf(rel, sizeof(rel), "sys/bus/dax/devices/%s/target_node", m->dax[i].name);
		put(rel, m->dax[i].target_node == 7 ? "6\n" : "7\n");
		update_and_compare(m, &idx, 1);
		CHECK(in_place == before, "%s: updated in place", where);
		break;
	}
	if (m->nblocks) {
		uint64_t idx = m->blocks[m->nblocks - 1].index;
		unsigned before = in_place;
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/sys/module/memory_hotplug/parameters/memmap_on_memory",
			 root);
		if (access(path, F_OK) == 0) {
			where = "memmap_on_memory changed";
			put("sys/module/memory_hotplug/parameters/memmap_on_memory",
			    m->params.memmap_on_memory == MEMMAP_PARAM_OFF ? "Y\n" : "N\n");
			update_and_compare(m, &idx, 1);
			CHECK(in_place == before, "%s: updated in place", where);
		}
	}
	if (m->nblocks > 1) {
		const struct mem_block *b = &m->blocks[m->nblocks - 1];
		uint64_t idx = b->index;
		unsigned before = in_place;
		char rel[96];

		where = "a known block is gone";
		snprintf(rel, sizeof(rel), MEM "/%s", b->name);
		tree_remove_at(rel);
		update_and_compare(m, &idx, 1);
		CHECK(in_place == before, "%s: updated in place", where);
		CHECK(!machine_block_by_index(m, idx), "%s: still in the model", where);
	}

	printf("%s: %u updates, %u in place\n", root, updates, in_place);
	if (streq(expect, "--expect-in-place"))
		CHECK(in_place > 0, "no update took the in-place path");
	else if (streq(expect, "--expect-rebuild"))
		CHECK(in_place == 0, "%u updates in place on a machine that must regroup", in_place);
	sysroot_free(sr);
	return check_exit();
}
