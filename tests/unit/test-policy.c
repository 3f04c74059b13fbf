/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Table test of the policy engine.  Every case builds a small machine by hand
 * (node 0 with 4G of boot kernel memory in 128M blocks, plus whatever the case
 * adds), a hand-filled config, and checks the decision: action, block counts,
 * memmap, whether memhpd may choose it, and a sentence in the reasons.
 *
 * Numbers: block 128M, page 4K, struct page 64 bytes -> 2M memmap per block
 * (512 pages), as on x86-64.
 */
#include "policy.h"
#include "check.h"

#define BS (128 * MiB)
#define MM (2 * MiB) /* memmap of one block */
#define VZ_NM (ZONE_BIT(ZONE_ID_NORMAL) | ZONE_BIT(ZONE_ID_MOVABLE))
#define VZ_N ZONE_BIT(ZONE_ID_NORMAL)
#define VZ_M ZONE_BIT(ZONE_ID_MOVABLE)

#define MAXB 128
#define MAXD 6

struct tm {
	struct machine m;
	struct mem_block blocks[MAXB];
	struct mem_device devices[MAXD];
	size_t devblocks[MAXD][MAXB];
	struct dax_device dax[2];
	struct numa_node nodes[3];
	struct rule rules[6];
	struct config cfg;
};

static struct numa_node *add_node(struct tm *t, int id, uint64_t kernel, uint64_t movable,
				  uint64_t movable_memmap_ram, uint64_t kfree, bool kfree_known)
{
	struct numa_node *n = &t->nodes[t->m.nnodes++];

	n->id = id;
	n->kernel_bytes = n->kernel_usable_bytes = kernel;
	n->movable_bytes = n->movable_usable_bytes = movable;
	n->movable_memmap_in_ram_bytes = movable_memmap_ram;
	n->kernel_free_bytes = kfree;
	n->kernel_free_known = kfree_known;
	return n;
}

/* A device of n blocks appended at the next block index. */
static struct mem_device *add_dev(struct tm *t, const char *id, enum device_type type, int node,
				  size_t n, enum block_state st, unsigned valid,
				  enum memmap_place mm, enum memmap_evidence ev)
{
	size_t d = t->m.ndevices++;
	struct mem_device *dev = &t->devices[d];

	snprintf(dev->id, sizeof(dev->id), "%s", id);
	dev->type = type;
	dev->node = node;
	dev->dax = -1;
	dev->blocks = t->devblocks[d];
	dev->memmap = mm;
	dev->memmap_evidence = ev;
	dev->zone = ZONE_ID_NONE;
	dev->start = t->m.nblocks * BS;
	for (size_t i = 0; i < n; i++) {
		size_t bi = t->m.nblocks++;
		struct mem_block *b = &t->blocks[bi];

		snprintf(b->name, sizeof(b->name), "memory%zu", bi);
		b->index = bi;
		b->start = bi * BS;
		b->size = BS;
		b->state = st;
		b->valid_zones = valid;
		b->zone_default = valid & VZ_N ? ZONE_ID_NORMAL : ZONE_ID_MOVABLE;
		b->zone = st == BLOCK_ONLINE ? b->zone_default : ZONE_ID_NONE;
		b->node = node;
		b->removable = -1;
		b->kernel_memmap_pages = -1;
		b->fw_config = -1;
		b->fw_memmap_on_memory = -1;
		b->memmap = mm;
		b->memmap_evidence = ev;
		b->memmap_bytes = MM;
		b->device = (int)d;
		dev->blocks[i] = bi;
		if (st == BLOCK_ONLINE)
			dev->online_blocks++;
	}
	dev->nblocks = n;
	dev->size = n * BS;
	dev->end = dev->start + dev->size;
	if (dev->online_blocks)
		dev->zone = t->blocks[dev->blocks[0]].zone;
	return dev;
}

static struct dax_device *add_dax(struct tm *t, const char *name, int target, uint64_t start,
				  uint64_t size, const char *driver, int memmap_attr)
{
	struct dax_device *x = &t->dax[t->m.ndax++];

	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->region, sizeof(x->region), "region0");
	snprintf(x->kind, sizeof(x->kind), "pmem");
	snprintf(x->uuid, sizeof(x->uuid), "6F1C9A2E-0B4D-4C1F-9E0A-7B3D2C1E0F00");
	snprintf(x->driver, sizeof(x->driver), "%s", driver);
	x->target_node = target;
	x->numa_node = target;
	x->start = start;
	x->size = size;
	x->align = 2 * MiB;
	x->memmap_on_memory = memmap_attr;
	x->device = -1;
	return x;
}

static struct rule *add_rule(struct tm *t, const char *name, unsigned match)
{
	struct rule *r = &t->rules[t->cfg.nrules++];

	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->file, sizeof(r->file), "test.conf");
	r->line = (int)t->cfg.nrules;
	r->match = match;
	t->cfg.rules = t->rules;
	return r;
}

/*
 * The base: node 0 with 4G of kernel memory (32 boot blocks online Normal),
 * 2G free; memmap_on_memory=Y; config: online, ratio 300%, memmap auto with
 * default ram and 5% limit, every type movable, dax kept as devdax.
 */
static void base(struct tm *t)
{
	memset(t, 0, sizeof(*t));
	t->m.block_size = BS;
	t->m.page_size = 4096;
	t->m.struct_page_size = 64;
	t->m.params.memmap_on_memory = MEMMAP_PARAM_ON;
	t->m.params.auto_movable_ratio = -1;
	t->m.blocks = t->blocks;
	t->m.devices = t->devices;
	t->m.dax = t->dax;
	t->m.nodes = t->nodes;
	add_node(t, 0, 4 * GiB, 0, 0, 2 * GiB, true);
	add_dev(t, "boot-node0", DEV_BOOT, 0, 32, BLOCK_ONLINE, VZ_N, MEMMAP_RAM, EV_BOOT);

	t->cfg.online = true;
	t->cfg.movable_ratio = 300;
	t->cfg.memmap = MC_AUTO;
	t->cfg.memmap_auto_default = MC_RAM;
	t->cfg.memmap_ram_max_percent = 5;
	for (int i = 0; i < DEV_TYPE_MAX; i++)
		t->cfg.zone[i] = ZC_MOVABLE;
	t->cfg.dax_mode = DAX_MODE_DEVDAX;
}

/* The usual device under test: an offline 1G ACPI DIMM on node 0 (memory32..39). */
static struct mem_device *dimm(struct tm *t, size_t n)
{
	return add_dev(t, "PNP0C80:00", DEV_ACPI_DIMM, 0, n, BLOCK_OFFLINE, VZ_NM, MEMMAP_RAM,
		       EV_MODULE_PARAM);
}

/*
 * Partial split machine: node 1 with 256M kernel, 16 offline blocks (2G) with
 * the memmap in RAM, ratio 300%.  In MiB, k top blocks movable and 16-k kernel:
 *   M = 128k, R = 2k, K = 256 + 128(16-k)
 *   12800k <= 300 (2304 - 130k)  <=>  51800k <= 691200  <=>  k <= 13.3
 * k = 13: 166400 <= 300 * 614 = 184200 holds; k = 14: 179200 > 145200.
 */
static void split_machine(struct tm *t)
{
	add_node(t, 1, 256 * MiB, 0, 0, 128 * MiB, true);
	add_dev(t, "PNP0C80:01", DEV_ACPI_DIMM, 1, 16, BLOCK_OFFLINE, VZ_NM, MEMMAP_RAM,
		EV_MODULE_PARAM);
}

/*
 * RAM vs on-memory: node 1 with 128M kernel, 3 offline blocks, ratio 100%.
 *  ram:       k=2: M=256 R=4 K=256: 25600 > 100*252        -> k=1 (1 movable, 2 kernel)
 *  on-memory: k=2: M=252 R=0 K=128+126=254: 25200 <= 25400 -> k=2 (2 movable, 1 kernel)
 */
static void small_node(struct tm *t, enum memmap_place mm)
{
	add_node(t, 1, 128 * MiB, 0, 0, 64 * MiB, true);
	add_dev(t, "PNP0C80:02", DEV_ACPI_DIMM, 1, 3, BLOCK_OFFLINE, VZ_NM, mm, EV_KERNEL_ATTR);
	t->cfg.movable_ratio = 100;
}

/* ---- case setups ------------------------------------------------------ */

static void s_boot(struct tm *t)
{
	(void)t;
	/* decide the boot device itself: last device is boot-node0 */
}

static void s_ignore(struct tm *t)
{
	struct rule *r = add_rule(t, "quiet", RM_NAME);

	dimm(t, 8);
	snprintf(r->dev_name, sizeof(r->dev_name), "PNP0C80:*");
	r->action = RA_IGNORE;
}

static void s_online_no(struct tm *t)
{
	dimm(t, 8);
	t->cfg.online = false;
}

static void s_online_no_rule_online(struct tm *t)
{
	struct rule *r = add_rule(t, "dimms", RM_TYPE);

	dimm(t, 8);
	t->cfg.online = false;
	r->type = DEV_ACPI_DIMM;
	r->action = RA_ONLINE;
}

static void s_all_online(struct tm *t)
{
	add_dev(t, "PNP0C80:00", DEV_ACPI_DIMM, 0, 4, BLOCK_ONLINE, VZ_NM, MEMMAP_RAM,
		EV_MODULE_PARAM);
}

static void s_no_blocks(struct tm *t)
{
	dimm(t, 0);
}

static void s_acpi_writable_no_blocks(struct tm *t)
{
	dimm(t, 0);
	t->m.params.memmap_param_writable = true;
	t->cfg.memmap = MC_ON_MEMORY;
}

static void s_node_link(struct tm *t)
{
	dimm(t, 8);
	t->blocks[34].node = -1;
}

static void s_going_offline(struct tm *t)
{
	dimm(t, 8);
	t->blocks[33].state = BLOCK_GOING_OFFLINE;
}

static void s_unknown_state(struct tm *t)
{
	dimm(t, 8);
	t->blocks[39].state = BLOCK_STATE_UNKNOWN;
}

static void s_some_online(struct tm *t)
{
	dimm(t, 8);
	t->blocks[32].state = BLOCK_ONLINE;
	t->blocks[32].zone = ZONE_ID_NORMAL;
	t->blocks[33].state = BLOCK_ONLINE;
	t->blocks[33].zone = ZONE_ID_NORMAL;
}

static void s_zone_type_default(struct tm *t)
{
	dimm(t, 8);
	t->cfg.zone[DEV_ACPI_DIMM] = ZC_KERNEL;
}

static void s_zone_unset(struct tm *t)
{
	dimm(t, 8);
	t->cfg.zone[DEV_ACPI_DIMM] = ZC_UNSET;
}

static void s_zone_rule(struct tm *t)
{
	struct rule *r = add_rule(t, "dimm-kernel", RM_TYPE);

	dimm(t, 8);
	r->type = DEV_ACPI_DIMM;
	r->zone = ZC_KERNEL;
}

static void s_valid_other(struct tm *t)
{
	add_dev(t, "PNP0C80:00", DEV_ACPI_DIMM, 0, 8, BLOCK_OFFLINE, VZ_N, MEMMAP_RAM,
		EV_MODULE_PARAM);
}

static void s_valid_other_kernel(struct tm *t)
{
	add_dev(t, "PNP0C80:00", DEV_ACPI_DIMM, 0, 8, BLOCK_OFFLINE, VZ_M, MEMMAP_RAM,
		EV_MODULE_PARAM);
	t->cfg.zone[DEV_ACPI_DIMM] = ZC_KERNEL;
}

static void s_valid_none(struct tm *t)
{
	add_dev(t, "PNP0C80:00", DEV_ACPI_DIMM, 0, 8, BLOCK_OFFLINE, ZONE_BIT(ZONE_ID_DEVICE),
		MEMMAP_RAM, EV_MODULE_PARAM);
}

static void s_valid_partly(struct tm *t)
{
	dimm(t, 8);
	t->blocks[32].valid_zones = 0; /* unreadable */
	t->blocks[33].valid_zones = VZ_N;
}

/* 1G movable on node 0: M = 1024, R = 16, K = 4096: 102400 <= 300 * 4080 */
static void s_ratio_fits(struct tm *t)
{
	dimm(t, 8);
}

static void s_ratio_split(struct tm *t)
{
	split_machine(t);
}

/*
 * The first block of the split device is going offline: 15 candidates.
 *   12800k <= 300 (256 + 1920 - 130k)  <=>  51800k <= 652800  <=>  k <= 12.6
 * k = 12: 153600 <= 300 * 616 = 184800; k = 13: 166400 > 300 * 486 = 145800.
 */
static void s_ratio_split_inactive_first(struct tm *t)
{
	split_machine(t);
	t->blocks[t->devices[t->m.ndevices - 1].blocks[0]].state = BLOCK_GOING_OFFLINE;
}

/*
 * A rule sends 16 movable-only blocks to kernel: they go movable instead and
 * the guard (not bypassed: the rule said kernel) leaves the rest offline:
 *   M = 128k, R = 2k, K = 256:  12800k <= 300 (256 - 2k)  <=>  k <= 5.7
 */
static void s_ratio_rule_kernel_movable_only(struct tm *t)
{
	struct rule *r = add_rule(t, "kernel", RM_NODE);

	add_node(t, 1, 256 * MiB, 0, 0, 128 * MiB, true);
	add_dev(t, "PNP0C80:01", DEV_ACPI_DIMM, 1, 16, BLOCK_OFFLINE, VZ_M, MEMMAP_RAM,
		EV_MODULE_PARAM);
	r->node = 1;
	r->zone = ZC_KERNEL;
}

static void s_ratio_none(struct tm *t)
{
	split_machine(t);
	t->cfg.movable_ratio = -1;
}

static void s_ratio_rule_zone(struct tm *t)
{
	struct rule *r = add_rule(t, "all-movable", RM_NODE);

	split_machine(t);
	r->node = 1;
	r->zone = ZC_MOVABLE;
}

/*
 * A rule without a zone does not bypass the guard (the per-type default
 * still obeys it): same 13/3 split.
 */
static void s_ratio_rule_no_zone(struct tm *t)
{
	struct rule *r = add_rule(t, "node1", RM_NODE);

	split_machine(t);
	r->node = 1;
}

/* node 2: no kernel memory, blocks can only be movable -> nothing fits */
static void s_no_kernel_movable_only(struct tm *t)
{
	add_node(t, 2, 0, 0, 0, 0, false);
	add_dev(t, "cxl-mem", DEV_DAX, 2, 4, BLOCK_OFFLINE, VZ_M, MEMMAP_RAM, EV_DAX_ATTR);
}

/*
 * node 2: no kernel memory, 4 blocks that can go either way, ratio 300%:
 * k=2: M=256 R=4 K=256: 25600 <= 75600; k=3: M=384 R=6 K=128: 38400 > 36600.
 */
static void s_no_kernel_split(struct tm *t)
{
	add_node(t, 2, 0, 0, 0, 0, false);
	add_dev(t, "cxl-mem", DEV_DAX, 2, 4, BLOCK_OFFLINE, VZ_NM, MEMMAP_RAM, EV_DAX_ATTR);
}

/* existing movable memory already over the limit: everything to kernel */
static void s_over_already(struct tm *t)
{
	add_node(t, 1, 128 * MiB, 1 * GiB, 0, 0, false);
	add_dev(t, "PNP0C80:01", DEV_ACPI_DIMM, 1, 2, BLOCK_OFFLINE, VZ_NM, MEMMAP_RAM,
		EV_MODULE_PARAM);
}

/* node 1 holds more memmap of movable memory in RAM than kernel memory */
static void s_kernel_below_memmap(struct tm *t)
{
	add_node(t, 1, 0, 8 * GiB, 256 * MiB, 0, false);
	add_dev(t, "PNP0C80:01", DEV_ACPI_DIMM, 1, 1, BLOCK_OFFLINE, VZ_NM, MEMMAP_RAM,
		EV_MODULE_PARAM);
}

static void s_node_missing(struct tm *t)
{
	add_dev(t, "PNP0C80:09", DEV_ACPI_DIMM, 7, 2, BLOCK_OFFLINE, VZ_NM, MEMMAP_RAM,
		EV_MODULE_PARAM);
}

static void s_small_ram(struct tm *t)
{
	small_node(t, MEMMAP_RAM);
}

static void s_small_onmem(struct tm *t)
{
	small_node(t, MEMMAP_ON_MEMORY);
}

static void s_memmap_fixed(struct tm *t)
{
	dimm(t, 8);
	t->cfg.memmap = MC_ON_MEMORY; /* not choosable: ignored */
}

/* s390 standby: deconfigured blocks with the firmware attribute are choosable */
static struct mem_device *s390(struct tm *t, size_t n)
{
	struct mem_device *d = add_dev(t, "standby", DEV_S390_STANDBY, 0, n, BLOCK_OFFLINE, VZ_NM,
				       MEMMAP_UNKNOWN, EV_NONE);

	for (size_t i = 0; i < n; i++) {
		t->blocks[d->blocks[i]].fw_config = 0;
		t->blocks[d->blocks[i]].fw_memmap_on_memory = 0;
	}
	return d;
}

static void s_s390_on_memory(struct tm *t)
{
	s390(t, 4);
	t->cfg.memmap = MC_ON_MEMORY;
}

static void s_s390_configured(struct tm *t)
{
	struct mem_device *d = s390(t, 4);

	t->blocks[d->blocks[2]].fw_config = 1;
	t->cfg.memmap = MC_ON_MEMORY;
}

/* s390 on the small node: choosable memmap changes the split (see small_node) */
static void s_s390_small(struct tm *t, enum memmap_choice mc)
{
	struct mem_device *d;

	add_node(t, 1, 128 * MiB, 0, 0, 64 * MiB, true);
	d = add_dev(t, "standby1", DEV_S390_STANDBY, 1, 3, BLOCK_OFFLINE, VZ_NM, MEMMAP_UNKNOWN,
		    EV_NONE);
	for (size_t i = 0; i < 3; i++) {
		t->blocks[d->blocks[i]].fw_config = 0;
		t->blocks[d->blocks[i]].fw_memmap_on_memory = 1;
		t->blocks[d->blocks[i]].memmap_bytes = 0; /* not known before it is added */
	}
	t->cfg.movable_ratio = 100;
	t->cfg.memmap = mc;
}

static void s_s390_small_ram(struct tm *t)
{
	s_s390_small(t, MC_RAM);
}

static void s_s390_small_onmem(struct tm *t)
{
	s_s390_small(t, MC_ON_MEMORY);
}

/* ---- dax setups: dax0.0 1G at 8G on target node 0 unless said ---------- */

static struct dax_device *dax1g(struct tm *t)
{
	return add_dax(t, "dax0.0", 0, 8 * GiB, 1 * GiB, "device_dax", 0);
}

static void s_dax_devdax(struct tm *t)
{
	dax1g(t);
}

static void s_dax_devdax_unset(struct tm *t)
{
	dax1g(t);
	t->cfg.dax_mode = DAX_MODE_UNSET;
}

static void s_dax_rule_devdax(struct tm *t)
{
	struct rule *r = add_rule(t, "keep", RM_NAME);

	dax1g(t);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
	snprintf(r->dev_name, sizeof(r->dev_name), "dax0.*");
	r->dax_mode = DAX_MODE_DEVDAX;
}

static void s_dax_ignore(struct tm *t)
{
	struct rule *r = add_rule(t, "nope", RM_UUID);

	dax1g(t);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
	snprintf(r->uuid, sizeof(r->uuid), "6f1c9a2e-0b4d-4c1f-9e0a-7b3d2c1e0f00");
	r->action = RA_IGNORE;
}

static struct rule *sysram_rule(struct tm *t, enum memmap_choice mc)
{
	struct rule *r = add_rule(t, "pmem", RM_NAME);

	snprintf(r->dev_name, sizeof(r->dev_name), "dax0.0");
	r->dax_mode = DAX_MODE_SYSTEM_RAM;
	r->memmap = mc;
	return r;
}

static void s_dax_onmem(struct tm *t)
{
	dax1g(t);
	sysram_rule(t, MC_ON_MEMORY);
}

static void s_dax_onmem_unsupported(struct tm *t)
{
	dax1g(t);
	sysram_rule(t, MC_ON_MEMORY);
	t->m.params.memmap_on_memory = MEMMAP_PARAM_OFF;
}

/* the companion series lets dax choose per device whatever the global default */
static void s_dax_onmem_param_off_writable(struct tm *t)
{
	s_dax_onmem_unsupported(t);
	t->m.params.memmap_param_writable = true;
}

static void s_dax_ram(struct tm *t)
{
	dax1g(t);
	sysram_rule(t, MC_RAM);
}

static void s_dax_auto_1g(struct tm *t)
{
	dax1g(t);
	sysram_rule(t, MC_AUTO)->hugepages_1g = true;
}

static void s_dax_auto_unsupported(struct tm *t)
{
	dax1g(t);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
	t->m.params.memmap_on_memory = MEMMAP_PARAM_UNKNOWN;
}

/* 1G -> 16M memmap; 5% of 256M free = 12.8M < 16M -> on-memory */
static void s_dax_auto_above(struct tm *t)
{
	dax1g(t);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
	t->nodes[0].kernel_free_bytes = 256 * MiB;
}

/* 16M memmap vs 5% of 2G = 102.4M -> memmap_auto_default */
static void s_dax_auto_below_ram(struct tm *t)
{
	dax1g(t);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
}

static void s_dax_auto_below_onmem(struct tm *t)
{
	dax1g(t);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
	t->cfg.memmap_auto_default = MC_ON_MEMORY;
}

static void s_dax_auto_unknown_free(struct tm *t)
{
	dax1g(t);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
	t->cfg.memmap_auto_default = MC_ON_MEMORY;
	t->nodes[0].kernel_free_bytes = 0;
	t->nodes[0].kernel_free_known = false;
}

static void s_dax_cfg_unset_memmap(struct tm *t)
{
	dax1g(t);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
	t->cfg.memmap = MC_UNSET; /* = auto */
	t->nodes[0].kernel_free_bytes = 256 * MiB;
}

static void s_dax_no_attr(struct tm *t)
{
	dax1g(t)->memmap_on_memory = -1;
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
	t->cfg.memmap = MC_ON_MEMORY;
}

/* 1088M at an aligned start: 8 blocks, 64M stranded */
static void s_dax_stranded(struct tm *t)
{
	add_dax(t, "dax0.0", 0, 8 * GiB, 1 * GiB + 64 * MiB, "device_dax", 0);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
}

/* 1G starting at 8G+64M: blocks 65..71 are whole (7), 128M stranded */
static void s_dax_unaligned_start(struct tm *t)
{
	add_dax(t, "dax0.0", 0, 8 * GiB + 64 * MiB, 1 * GiB, "", 0);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
}

static void s_dax_tiny(struct tm *t)
{
	add_dax(t, "dax0.0", 0, 8 * GiB, 64 * MiB, "device_dax", 0);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
}

static void s_dax_overflow(struct tm *t)
{
	add_dax(t, "dax0.0", 0, UINT64_MAX - 4095, 1 * GiB, "device_dax", 0);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
}

static void s_dax_no_target(struct tm *t)
{
	add_dax(t, "dax0.0", -1, 8 * GiB, 1 * GiB, "device_dax", 0);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
}

/* dax on node 1 with no kernel memory, split like s_no_kernel_split (all valid) */
static void s_dax_zone_rule_kernel(struct tm *t)
{
	dax1g(t);
	sysram_rule(t, MC_RAM)->zone = ZC_KERNEL;
}

static void s_dax_split(struct tm *t)
{
	add_node(t, 2, 0, 0, 0, 0, false);
	add_dax(t, "dax1.0", 2, 16 * GiB, 512 * MiB, "device_dax", 0);
	t->cfg.dax_mode = DAX_MODE_SYSTEM_RAM;
}

/*
 * The same dax on a node with no kernel memory, ratio 100%, 4 blocks: ram:
 * k=2: M=256 R=4 K=256: 25600 > 25200 -> k=1; on-memory: k=2: 25200 <= 25200 -> k=2.
 */
static void s_dax_split_ram(struct tm *t)
{
	s_dax_split(t);
	t->cfg.movable_ratio = 100;
	t->cfg.memmap = MC_RAM;
}

static void s_dax_split_onmem(struct tm *t)
{
	s_dax_split(t);
	t->cfg.movable_ratio = 100;
	t->cfg.memmap = MC_ON_MEMORY;
}

static void s_dax_kmem(struct tm *t)
{
	struct dax_device *x = add_dax(t, "dax0.0", 0, 32 * BS, 8 * BS, "kmem", 1);
	struct mem_device *d = add_dev(t, "dax0.0", DEV_DAX, 0, 8, BLOCK_OFFLINE, VZ_NM,
				       MEMMAP_ON_MEMORY, EV_DAX_ATTR);

	d->dax = 0;
	x->device = (int)(d - t->devices);
	t->cfg.memmap = MC_RAM; /* fixed: ignored */
}

static void s_dax_kmem_no_device(struct tm *t)
{
	add_dax(t, "dax0.0", 0, 8 * GiB, 1 * GiB, "kmem", 1);
}

static void s_tie(struct tm *t)
{
	struct rule *a = add_rule(t, "a", RM_TYPE);
	struct rule *b = add_rule(t, "b", RM_TYPE);

	dimm(t, 8);
	a->type = b->type = DEV_ACPI_DIMM;
}

static void s_dax_tie(struct tm *t)
{
	struct rule *a = add_rule(t, "a", RM_REGION);
	struct rule *b = add_rule(t, "b", RM_REGION);

	dax1g(t);
	snprintf(a->region, sizeof(a->region), "region0");
	snprintf(b->region, sizeof(b->region), "region0");
}

/* ---- the table -------------------------------------------------------- */

enum target { T_DEV = 0, T_DAX };

struct pcase {
	const char *name;
	void (*setup)(struct tm *t);
	enum target target;
	enum decision_action action;
	size_t n_movable, n_kernel;
	enum memmap_place memmap;
	bool choosable;
	bool config_error;
	bool dax_to_system_ram;
	const char *reason; /* must appear in the reasons */
	const char *reason2; /* optional second one */
	bool evidence; /* reasons must carry the device's memmap evidence text */
};

#define LEAVE DECIDE_LEAVE
#define ONLINE DECIDE_ONLINE
#define RAM MEMMAP_RAM
#define ONM MEMMAP_ON_MEMORY

static const struct pcase cases[] = {
	{ "boot leave", s_boot, T_DEV, LEAVE, 0, 0, RAM, false, false, false,
	  "boot memory is managed by the kernel" },
	{ "ignore rule", s_ignore, T_DEV, LEAVE, 0, 0, RAM, false, false, false,
	  "rule 'quiet' ignores PNP0C80:00", "rule 'quiet' (test.conf:1) matches" },
	{ "online=no", s_online_no, T_DEV, LEAVE, 0, 0, RAM, false, false, false,
	  "online = no in [policy] and no rule onlines PNP0C80:00" },
	{ "online=no, rule action online", s_online_no_rule_online, T_DEV, ONLINE, 8, 0, RAM, false,
	  false, false, "although online = no" },
	{ "all online", s_all_online, T_DEV, LEAVE, 0, 0, RAM, false, false, false,
	  "all 4 blocks of PNP0C80:00 are already online (Normal)" },
	{ "no blocks", s_no_blocks, T_DEV, LEAVE, 0, 0, RAM, false, false, false,
	  "has no memory blocks yet", NULL, true },
	{ "acpi no blocks, writable param", s_acpi_writable_no_blocks, T_DEV, LEAVE, 0, 0, ONM,
	  true, false, false, "memory_hotplug.memmap_on_memory is writable",
	  "memmap = on-memory from [policy]" },
	{ "node link missing", s_node_link, T_DEV, LEAVE, 0, 0, RAM, false, false, false,
	  "waiting for node link of memory34" },
	{ "going-offline block", s_going_offline, T_DEV, ONLINE, 7, 0, RAM, false, false, false,
	  "memory33 is going-offline; leaving it alone" },
	{ "unknown state block", s_unknown_state, T_DEV, ONLINE, 7, 0, RAM, false, false, false,
	  "state of memory39 is unknown" },
	{ "some online keep their zone", s_some_online, T_DEV, ONLINE, 6, 0, RAM, false, false,
	  false, "2 of 8 blocks of PNP0C80:00 are already online" },
	{ "zone from type default", s_zone_type_default, T_DEV, ONLINE, 0, 8, RAM, false, false,
	  false, "zone kernel: the [policy] default for acpi-dimm devices" },
	{ "zone unset in config", s_zone_unset, T_DEV, ONLINE, 8, 0, RAM, false, false, false,
	  "no zone configured for acpi-dimm devices; defaulting to movable" },
	{ "zone from rule", s_zone_rule, T_DEV, ONLINE, 0, 8, RAM, false, false, false,
	  "zone kernel from rule 'dimm-kernel'" },
	{ "movable not valid -> kernel", s_valid_other, T_DEV, ONLINE, 0, 8, RAM, false, false,
	  false,
	  "8 blocks memory32..memory39: movable is not in valid_zones (Normal); onlining to "
	  "kernel instead" },
	{ "kernel not valid -> movable", s_valid_other_kernel, T_DEV, ONLINE, 8, 0, RAM, false,
	  false, false, "kernel is not in valid_zones (Movable); onlining to movable instead" },
	{ "neither kind valid -> leave", s_valid_none, T_DEV, LEAVE, 0, 0, RAM, false, false, false,
	  "valid_zones (Device) has neither a movable nor a kernel zone",
	  "no block of PNP0C80:00 can be onlined" },
	{ "valid_zones per block", s_valid_partly, T_DEV, ONLINE, 6, 1, RAM, false, false, false,
	  "memory32: valid_zones (none) has neither",
	  "memory33: movable is not in valid_zones (Normal)" },
	{ "ratio fits", s_ratio_fits, T_DEV, ONLINE, 8, 0, RAM, false, false, false,
	  "node 0: movable 1G / kernel 4080M (after 16M memmap of movable memory) = 25% <= 300% "
	  "limit with 8 of 8 blocks movable; 0 blocks to kernel" },
	{ "ratio partial split", s_ratio_split, T_DEV, ONLINE, 13, 3, RAM, false, false, false,
	  "node 1: movable 1664M / kernel 614M (after 26M memmap of movable memory) = 271% <= "
	  "300% limit with 13 of 16 blocks movable; 3 blocks to kernel" },
	{ "ratio split, first block inactive", s_ratio_split_inactive_first, T_DEV, ONLINE, 12, 3,
	  RAM, false, false, false, "with 12 of 15 blocks movable; 3 blocks to kernel" },
	{ "rule zone kernel, movable-only blocks", s_ratio_rule_kernel_movable_only, T_DEV, ONLINE,
	  5, 0, RAM, false, false, false,
	  "with 5 of 16 blocks movable; 0 blocks to kernel; 11 left offline",
	  "kernel is not in valid_zones (Movable); onlining to movable instead" },
	{ "ratio none", s_ratio_none, T_DEV, ONLINE, 16, 0, RAM, false, false, false,
	  "movable_ratio = none" },
	{ "rule zone bypasses guard", s_ratio_rule_zone, T_DEV, ONLINE, 16, 0, RAM, false, false,
	  false, "zone movable set by rule 'all-movable' bypasses the 300% movable_ratio guard" },
	{ "rule without zone obeys guard", s_ratio_rule_no_zone, T_DEV, ONLINE, 13, 3, RAM, false,
	  false, false, "13 of 16 blocks movable" },
	{ "no kernel memory, movable only", s_no_kernel_movable_only, T_DEV, LEAVE, 0, 0, RAM,
	  false, false, false,
	  "node 2 has no kernel memory; set movable_ratio = none or a rule zone to override",
	  "4 left offline (no kernel zone in valid_zones)", true },
	{ "no kernel memory, split", s_no_kernel_split, T_DEV, ONLINE, 2, 2, RAM, false, false,
	  false, "node 2 has no kernel memory of its own", "2 of 4 blocks movable" },
	{ "already over the limit", s_over_already, T_DEV, ONLINE, 0, 2, RAM, false, false, false,
	  "node 1: movable 1G / kernel 384M = 266% <= 300% limit with 0 of 2 blocks movable" },
	{ "kernel below memmap in RAM", s_kernel_below_memmap, T_DEV, ONLINE, 0, 1, RAM, false,
	  false, false, "kernel 128M cannot even hold the 256M memmap of movable memory" },
	{ "node missing from model", s_node_missing, T_DEV, ONLINE, 1, 1, RAM, false, false, false,
	  "node 7 is not in the machine model" },
	{ "small node, memmap ram", s_small_ram, T_DEV, ONLINE, 1, 2, RAM, false, false, false,
	  "1 of 3 blocks movable" },
	{ "small node, memmap on-memory", s_small_onmem, T_DEV, ONLINE, 2, 1, ONM, false, false,
	  false, "movable 252M / kernel 254M = 99% <= 100% limit with 2 of 3 blocks movable" },
	{ "memmap fixed", s_memmap_fixed, T_DEV, ONLINE, 8, 0, RAM, false, false, false,
	  "memmap placement is fixed (ram): ", NULL, true },
	{ "s390 choosable on-memory", s_s390_on_memory, T_DEV, ONLINE, 4, 0, ONM, true, false,
	  false, "every block is deconfigured standby memory", "memmap = on-memory from [policy]" },
	{ "s390 partly configured: fixed", s_s390_configured, T_DEV, ONLINE, 4, 0, MEMMAP_UNKNOWN,
	  false, false, false, "memmap placement is fixed (unknown)", NULL, true },
	{ "s390 ram", s_s390_small_ram, T_DEV, ONLINE, 1, 2, RAM, true, false, false,
	  "memmap = ram from [policy]" },
	{ "s390 on-memory", s_s390_small_onmem, T_DEV, ONLINE, 2, 1, ONM, true, false, false,
	  "2 of 3 blocks movable" },
	{ "rule tie", s_tie, T_DEV, LEAVE, 0, 0, RAM, false, true, false,
	  "rules 'a' and 'b' tie for PNP0C80:00; make one more specific" },

	/* dax */
	{ "dax devdax", s_dax_devdax, T_DAX, LEAVE, 0, 0, MEMMAP_UNKNOWN, false, false, false,
	  "dax_mode = devdax in [policy] keeps dax0.0 as devdax" },
	{ "dax devdax by default", s_dax_devdax_unset, T_DAX, LEAVE, 0, 0, MEMMAP_UNKNOWN, false,
	  false, false, "dax_mode = devdax (default) in [policy] keeps dax0.0 as devdax" },
	{ "dax rule devdax", s_dax_rule_devdax, T_DAX, LEAVE, 0, 0, MEMMAP_UNKNOWN, false, false,
	  false, "rule 'keep' keeps dax0.0 as devdax" },
	{ "dax rule ignore", s_dax_ignore, T_DAX, LEAVE, 0, 0, MEMMAP_UNKNOWN, false, false, false,
	  "rule 'nope' ignores dax0.0" },
	{ "dax tie", s_dax_tie, T_DAX, LEAVE, 0, 0, MEMMAP_UNKNOWN, false, true, false,
	  "rules 'a' and 'b' tie for dax0.0" },
	{ "dax on-memory", s_dax_onmem, T_DAX, ONLINE, 8, 0, ONM, true, false, true,
	  "memmap = on-memory from the rule", "rule 'pmem' hands dax0.0 to kmem" },
	{ "dax on-memory unsupported", s_dax_onmem_unsupported, T_DAX, ONLINE, 8, 0, RAM, true,
	  false, true, "memory_hotplug.memmap_on_memory is N so the kernel would refuse it" },
	{ "dax on-memory, param off but runtime-writable", s_dax_onmem_param_off_writable, T_DAX,
	  ONLINE, 8, 0, ONM, true, false, true, "memmap = on-memory from the rule" },
	{ "dax ram", s_dax_ram, T_DAX, ONLINE, 8, 0, RAM, true, false, true,
	  "memmap = ram from the rule" },
	{ "dax auto, 1G pages", s_dax_auto_1g, T_DAX, ONLINE, 8, 0, RAM, true, false, true,
	  "1 GiB pages need whole aligned gigabytes" },
	{ "dax auto, unsupported", s_dax_auto_unsupported, T_DAX, ONLINE, 8, 0, RAM, true, false,
	  true, "(on-memory unsupported)" },
	{ "dax auto, above max percent", s_dax_auto_above, T_DAX, ONLINE, 8, 0, ONM, true, false,
	  true, "on-memory, because the 16M memmap of dax0.0 exceeds 5% of the 256M free" },
	{ "dax auto, below, default ram", s_dax_auto_below_ram, T_DAX, ONLINE, 8, 0, RAM, true,
	  false, true, "is within 5% of the 2G free", "memmap auto: ram (memmap_auto_default)" },
	{ "dax auto, below, default on-memory", s_dax_auto_below_onmem, T_DAX, ONLINE, 8, 0, ONM,
	  true, false, true, "memmap auto: on-memory (memmap_auto_default)" },
	{ "dax auto, free unknown", s_dax_auto_unknown_free, T_DAX, ONLINE, 8, 0, ONM, true, false,
	  true, "free kernel memory of node 0 is unknown",
	  "memmap auto: on-memory (memmap_auto_default)" },
	{ "dax memmap unset = auto", s_dax_cfg_unset_memmap, T_DAX, ONLINE, 8, 0, ONM, true, false,
	  true, "memmap auto: on-memory, because" },
	{ "dax without memmap attribute", s_dax_no_attr, T_DAX, ONLINE, 8, 0, RAM, false, false,
	  true, "memmap placement is fixed: this kernel has no dax memmap_on_memory attribute" },
	{ "dax stranded by alignment", s_dax_stranded, T_DAX, ONLINE, 8, 0, RAM, true, false, true,
	  "dax0.0: 64M of 1088M is not aligned to 128M memory blocks" },
	{ "dax unaligned start", s_dax_unaligned_start, T_DAX, ONLINE, 7, 0, RAM, true, false, true,
	  "128M of 1G is not aligned" },
	{ "dax smaller than a block", s_dax_tiny, T_DAX, LEAVE, 0, 0, MEMMAP_UNKNOWN, false, false,
	  false, "holds no whole memory block" },
	{ "dax range overflows", s_dax_overflow, T_DAX, LEAVE, 0, 0, MEMMAP_UNKNOWN, false, false,
	  false, "overflows; leaving it as devdax" },
	{ "dax target node unknown", s_dax_no_target, T_DAX, LEAVE, 0, 0, MEMMAP_UNKNOWN, false,
	  false, false, "target node of dax0.0 is unknown" },
	{ "dax rule zone kernel", s_dax_zone_rule_kernel, T_DAX, ONLINE, 0, 8, RAM, true, false,
	  true, "zone kernel from rule 'pmem'" },
	{ "dax split ram", s_dax_split_ram, T_DAX, ONLINE, 1, 3, RAM, true, false, true,
	  "node 2 has no kernel memory of its own" },
	{ "dax split on-memory", s_dax_split_onmem, T_DAX, ONLINE, 2, 2, ONM, true, false, true,
	  "2 of 4 blocks movable" },
	{ "dax already kmem", s_dax_kmem, T_DAX, ONLINE, 8, 0, ONM, false, false, false,
	  "memmap placement is fixed (on-memory)", NULL, true },
	{ "dax kmem without device", s_dax_kmem_no_device, T_DAX, LEAVE, 0, 0, MEMMAP_UNKNOWN,
	  false, false, false, "bound to kmem but its memory blocks are not in the machine model" },
};

static void join_reasons(const struct decision *d, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < d->reasons.n && len < size; i++)
		len += snprintf(buf + len, size - len, "  %s\n", d->reasons.v[i]);
}

static void run_case(const struct pcase *c, size_t *counts)
{
	static struct tm t;
	struct decision d;
	char text[8192];
	const struct mem_device *dev;
	size_t mov = 0, ker = 0, unset = 0;
	int r;

	base(&t);
	c->setup(&t);
	t.cfg.rules = t.rules;
	dev = &t.m.devices[t.m.ndevices - 1];
	memset(&d, 0x5a, sizeof(d)); /* policy_decide must initialise it */
	if (c->target == T_DAX)
		r = policy_decide_dax(&t.cfg, &t.m, &t.m.dax[0], &d);
	else
		r = policy_decide(&t.cfg, &t.m, dev, &d);
	join_reasons(&d, text, sizeof(text));
	if (getenv("POLICY_VERBOSE"))
		printf("%s:\n%s", c->name, text);

	CHECK(r == 0, "[%s] returned %d", c->name, r);
	CHECK(d.action == c->action, "[%s] action %d, expected %d\n%s", c->name, d.action,
	      c->action, text);
	CHECK(d.n_movable == c->n_movable && d.n_kernel == c->n_kernel,
	      "[%s] movable/kernel %zu/%zu, expected %zu/%zu\n%s", c->name, d.n_movable, d.n_kernel,
	      c->n_movable, c->n_kernel, text);
	CHECK(d.memmap == c->memmap, "[%s] memmap %s, expected %s\n%s", c->name,
	      memmap_place_name(d.memmap), memmap_place_name(c->memmap), text);
	CHECK(d.memmap_choosable == c->choosable, "[%s] choosable %d\n%s", c->name,
	      d.memmap_choosable, text);
	CHECK(d.config_error == c->config_error, "[%s] config_error %d\n%s", c->name,
	      d.config_error, text);
	CHECK(d.dax_to_system_ram == c->dax_to_system_ram, "[%s] dax_to_system_ram %d\n%s", c->name,
	      d.dax_to_system_ram, text);
	CHECK(strstr(text, c->reason), "[%s] no \"%s\" in reasons:\n%s", c->name, c->reason, text);
	if (c->reason2)
		CHECK(strstr(text, c->reason2), "[%s] no \"%s\" in reasons:\n%s", c->name,
		      c->reason2, text);
	if (c->evidence) {
		const char *ev = memmap_evidence_text(
			c->target == T_DAX && d.nblocks ? t.devices[t.dax[0].device].memmap_evidence
							: dev->memmap_evidence);

		CHECK(strstr(text, ev), "[%s] evidence \"%s\" missing:\n%s", c->name, ev, text);
	}
	/* block_zone agrees with the counts; online means something to do */
	for (size_t i = 0; i < d.nblocks; i++) {
		if (d.block_zone[i] == ZC_MOVABLE)
			mov++;
		else if (d.block_zone[i] == ZC_KERNEL)
			ker++;
		else
			unset++;
	}
	CHECK(mov == d.n_movable && ker == d.n_kernel, "[%s] block_zone disagrees", c->name);
	CHECK((d.action == DECIDE_ONLINE) == (d.n_movable + d.n_kernel > 0),
	      "[%s] action vs counts", c->name);
	/* contiguity: no kernel block above a movable block */
	for (size_t i = 1; i < d.nblocks; i++)
		CHECK(!(d.block_zone[i] == ZC_KERNEL && d.block_zone[i - 1] == ZC_MOVABLE),
		      "[%s] kernel block %zu above a movable block", c->name, i);
	/* nothing already online or not offline gets a zone */
	if (c->target == T_DEV && d.nblocks == dev->nblocks) {
		for (size_t i = 0; i < d.nblocks; i++)
			if (t.m.blocks[dev->blocks[i]].state != BLOCK_OFFLINE)
				CHECK(d.block_zone[i] == ZC_UNSET, "[%s] block %zu not offline",
				      c->name, i);
	}
	if (c->target == T_DAX && d.dax_to_system_ram)
		CHECK(d.nblocks == d.n_movable + d.n_kernel + unset && d.nblocks > 0,
		      "[%s] dax nblocks %zu", c->name, d.nblocks);
	counts[0] = d.n_movable;
	counts[1] = d.n_kernel;
	decision_free(&d);
	CHECK(d.block_zone == NULL && d.reasons.n == 0, "[%s] decision_free", c->name);
}

static const struct pcase *find_case(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (streq(cases[i].name, name))
			return &cases[i];
	return NULL;
}

/* on-memory lets more blocks be movable than ram on the same machine */
static void test_onmem_vs_ram(void)
{
	static const char *const pairs[][2] = {
		{ "small node, memmap ram", "small node, memmap on-memory" },
		{ "s390 ram", "s390 on-memory" },
		{ "dax split ram", "dax split on-memory" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		size_t a[2], b[2];

		run_case(find_case(pairs[i][0]), a);
		run_case(find_case(pairs[i][1]), b);
		CHECK(b[0] > a[0], "[%s] on-memory movable %zu not above ram %zu", pairs[i][1],
		      b[0], a[0]);
	}
}

/* ---- rule matching ---------------------------------------------------- */

struct mcase {
	const char *name;
	unsigned match;
	void (*fill)(struct rule *r);
	bool on_dax; /* match against the kmem dax device, else the DIMM */
	bool want;
};

static void f_type_dimm(struct rule *r)
{
	r->type = DEV_ACPI_DIMM;
}
static void f_type_virtio(struct rule *r)
{
	r->type = DEV_VIRTIO_MEM;
}
static void f_name_glob(struct rule *r)
{
	snprintf(r->dev_name, sizeof(r->dev_name), "PNP0C80:*");
}
static void f_name_other(struct rule *r)
{
	snprintf(r->dev_name, sizeof(r->dev_name), "virtio*");
}
static void f_name_dax(struct rule *r)
{
	snprintf(r->dev_name, sizeof(r->dev_name), "dax1.?");
}
static void f_node0(struct rule *r)
{
	r->node = 0;
}
static void f_node1(struct rule *r)
{
	r->node = 1;
}
static void f_size_1g(struct rule *r)
{
	r->size_min = r->size_max = 1 * GiB;
}
static void f_size_big(struct rule *r)
{
	r->size_min = 2 * GiB;
	r->size_max = UINT64_MAX;
}
static void f_uuid(struct rule *r)
{
	snprintf(r->uuid, sizeof(r->uuid), "6f1c9a2e-0b4d-4c1f-9e0a-7b3d2c1e0f00");
}
static void f_uuid_other(struct rule *r)
{
	snprintf(r->uuid, sizeof(r->uuid), "00000000-0000-0000-0000-000000000000");
}
static void f_region(struct rule *r)
{
	snprintf(r->region, sizeof(r->region), "region0");
}
static void f_region_other(struct rule *r)
{
	snprintf(r->region, sizeof(r->region), "region1");
}
/* the DIMM is memory32..39 = [4G, 5G) */
static void f_range_in(struct rule *r)
{
	r->range_start = 4 * GiB;
	r->range_end = 5 * GiB - 1;
}
static void f_range_short(struct rule *r)
{
	r->range_start = 4 * GiB;
	r->range_end = 5 * GiB - 2;
}
static void f_range_late(struct rule *r)
{
	r->range_start = 4 * GiB + 1;
	r->range_end = 8 * GiB;
}
/* the kmem dax is 1G at 16G, its blocks only 896M of it (from 16G+128M) */
static void f_range_dax(struct rule *r)
{
	r->range_start = 16 * GiB;
	r->range_end = 17 * GiB - 1;
}

/* covers the hot-added blocks but not the stranded head of the dax range */
static void f_range_dax_blocks(struct rule *r)
{
	r->range_start = 16 * GiB + 128 * MiB;
	r->range_end = 17 * GiB - 1;
}

static const struct mcase mcases[] = {
	{ "type matches", RM_TYPE, f_type_dimm, false, true },
	{ "type differs", RM_TYPE, f_type_virtio, false, false },
	{ "name glob matches id", RM_NAME, f_name_glob, false, true },
	{ "name differs", RM_NAME, f_name_other, false, false },
	{ "name matches dax name", RM_NAME, f_name_dax, true, true },
	{ "name dax glob vs dimm", RM_NAME, f_name_dax, false, false },
	{ "node matches", RM_NODE, f_node0, false, true },
	{ "node differs", RM_NODE, f_node1, false, false },
	{ "dax node = target node", RM_NODE, f_node1, true, true },
	{ "dax node not numa node", RM_NODE, f_node0, true, false },
	{ "size matches", RM_SIZE, f_size_1g, false, true },
	{ "size too small", RM_SIZE, f_size_big, false, false },
	{ "dax size is the dax size", RM_SIZE, f_size_1g, true, true },
	{ "uuid case-insensitive", RM_UUID, f_uuid, true, true },
	{ "uuid differs", RM_UUID, f_uuid_other, true, false },
	{ "uuid never on a dimm", RM_UUID, f_uuid, false, false },
	{ "region matches", RM_REGION, f_region, true, true },
	{ "region differs", RM_REGION, f_region_other, true, false },
	{ "region never on a dimm", RM_REGION, f_region, false, false },
	{ "range inside", RM_RANGE, f_range_in, false, true },
	{ "range ends one byte early", RM_RANGE, f_range_short, false, false },
	{ "range starts one byte late", RM_RANGE, f_range_late, false, false },
	{ "dax range is the dax range", RM_RANGE, f_range_dax, true, true },
	{ "dax range uses the dax start", RM_RANGE, f_range_dax_blocks, true, false },
	{ "type and node", RM_TYPE | RM_NODE, f_type_dimm, false, true },
	{ "two keys, one differs", RM_TYPE | RM_SIZE, f_type_virtio, false, false },
	{ "no keys match all", 0, f_type_virtio, false, true },
};

static void match_machine(struct tm *t)
{
	struct dax_device *x;
	struct mem_device *d;

	base(t);
	add_node(t, 1, 0, 0, 0, 0, false);
	dimm(t, 8); /* device 1 */
	/* kmem dax1.0: 1G at 16G, target node 1 but blocks report numa node 0 here */
	x = add_dax(t, "dax1.0", 1, 16 * GiB, 1 * GiB, "kmem", 0);
	d = add_dev(t, "kmem-dax", DEV_DAX, 0, 7, BLOCK_OFFLINE, VZ_NM, MEMMAP_RAM, EV_DAX_ATTR);
	d->dax = 0;
	d->start = 16 * GiB + 128 * MiB;
	d->end = d->start + 7 * BS;
	x->device = 2;
}

static void test_match(void)
{
	static struct tm t;

	for (size_t i = 0; i < ARRAY_SIZE(mcases); i++) {
		const struct mcase *c = &mcases[i];
		const struct rule *got, *tie = (const struct rule *)1;
		struct rule *r;

		match_machine(&t);
		r = add_rule(&t, c->name, c->match);
		c->fill(r);
		got = policy_match_rule(&t.cfg, &t.m, &t.devices[c->on_dax ? 2 : 1], &tie);
		CHECK((got == r) == c->want, "[match: %s] got %s", c->name,
		      got ? got->name : "none");
		CHECK(tie == NULL, "[match: %s] tie set", c->name);
	}

	/* specificity: name beats node, uuid beats name, in either order */
	for (int order = 0; order < 2; order++) {
		const struct rule *got, *tie;
		struct rule *byname, *bynode, *byuuid;

		match_machine(&t);
		if (order) {
			byuuid = add_rule(&t, "uuid", RM_UUID);
			byname = add_rule(&t, "name", RM_NAME);
			bynode = add_rule(&t, "node", RM_NODE | RM_TYPE | RM_SIZE);
		} else {
			bynode = add_rule(&t, "node", RM_NODE | RM_TYPE | RM_SIZE);
			byname = add_rule(&t, "name", RM_NAME);
			byuuid = add_rule(&t, "uuid", RM_UUID);
		}
		bynode->node = 0;
		bynode->type = DEV_ACPI_DIMM;
		bynode->size_min = 0;
		bynode->size_max = UINT64_MAX;
		snprintf(byname->dev_name, sizeof(byname->dev_name), "*");
		f_uuid(byuuid);

		got = policy_match_rule(&t.cfg, &t.m, &t.devices[1], &tie);
		CHECK(got == byname && !tie, "[specificity %d] dimm: name beats node, got %s",
		      order, got ? got->name : "none");
		bynode->node = 1;
		bynode->type = DEV_DAX;
		got = policy_match_rule(&t.cfg, &t.m, &t.devices[2], &tie);
		CHECK(got == byuuid && !tie, "[specificity %d] dax: uuid beats name, got %s", order,
		      got ? got->name : "none");
		/* a third rule of equal rank ties; a more specific one later clears it */
		f_uuid(add_rule(&t, "uuid2", RM_UUID));
		got = policy_match_rule(&t.cfg, &t.m, &t.devices[2], &tie);
		CHECK(got == byuuid && tie && streq(tie->name, "uuid2"), "[specificity %d] tie",
		      order);
		f_uuid(add_rule(&t, "uuid+region", RM_UUID | RM_REGION));
		f_region(&t.rules[t.cfg.nrules - 1]);
		got = policy_match_rule(&t.cfg, &t.m, &t.devices[2], &tie);
		CHECK(got && streq(got->name, "uuid+region") && !tie,
		      "[specificity %d] tie cleared", order);
		/* NULL tie pointer is allowed */
		CHECK(policy_match_rule(&t.cfg, &t.m, &t.devices[2], NULL) == got, "tie NULL");
	}

	/* no rules at all */
	match_machine(&t);
	{
		const struct rule *tie = (const struct rule *)1;

		CHECK(policy_match_rule(&t.cfg, &t.m, &t.devices[1], &tie) == NULL && !tie,
		      "no rules");
	}
}

/* the rule the dax pseudo-device matched is reported, and matched by dax attributes */
static void test_dax_rule(void)
{
	static struct tm t;
	struct decision d;
	struct rule *r;

	base(&t);
	add_dax(&t, "dax0.0", 0, 8 * GiB, 1 * GiB, "device_dax", 0);
	add_dax(&t, "dax0.1", 0, 9 * GiB, 1 * GiB, "device_dax", 0);
	r = add_rule(&t, "range", RM_RANGE | RM_TYPE | RM_SIZE);
	r->type = DEV_DAX;
	r->range_start = 9 * GiB;
	r->range_end = 10 * GiB - 1;
	r->size_min = 1 * GiB;
	r->size_max = 1 * GiB;
	r->dax_mode = DAX_MODE_SYSTEM_RAM;

	CHECK(policy_decide_dax(&t.cfg, &t.m, &t.dax[0], &d) == 0, "dax0.0");
	CHECK(d.rule == NULL && d.action == DECIDE_LEAVE, "dax0.0 not matched");
	decision_free(&d);
	CHECK(policy_decide_dax(&t.cfg, &t.m, &t.dax[1], &d) == 0, "dax0.1");
	CHECK(d.rule == r && d.action == DECIDE_ONLINE && d.dax_to_system_ram, "dax0.1 matched");
	decision_free(&d);

	/* a dax device that is not part of the machine is refused */
	{
		struct dax_device stray = t.dax[0];

		CHECK(policy_decide_dax(&t.cfg, &t.m, &stray, &d) == -EINVAL, "stray dax");
		decision_free(&d);
	}
}

/* a corrupt device (block index outside the machine) is left, not read */
static void test_corrupt(void)
{
	static struct tm t;
	struct decision d;
	struct mem_device *dev;

	base(&t);
	dev = dimm(&t, 4);
	dev->blocks[2] = 4096;
	CHECK(policy_decide(&t.cfg, &t.m, dev, &d) == 0, "corrupt");
	CHECK(d.action == DECIDE_LEAVE, "corrupt leaves");
	decision_free(&d);
}

/* ---- s390 standby (policy_decide_standby) ------------------------------ */

struct scase {
	const char *name;
	void (*setup)(struct tm *t);
	uint64_t size;
	bool choosable;
	enum memmap_place fixed;
	enum decision_action action;
	enum zone_choice zone;
	enum memmap_place memmap;
	const char *reason; /* substring of one reason */
};

static void ss_none(struct tm *t)
{
	(void)t;
}

static void ss_onmem(struct tm *t)
{
	t->cfg.standby.memmap = MC_ON_MEMORY;
}

static void ss_onmem_unsupported(struct tm *t)
{
	t->cfg.standby.memmap = MC_ON_MEMORY;
	t->m.params.memmap_on_memory = MEMMAP_PARAM_OFF;
}

static void ss_ram(struct tm *t)
{
	t->cfg.standby.memmap = MC_RAM;
}

static void ss_zone_kernel(struct tm *t)
{
	t->cfg.standby.zone = ZC_KERNEL;
}

static void ss_type_zone_kernel(struct tm *t)
{
	t->cfg.zone[DEV_S390_STANDBY] = ZC_KERNEL;
}

static void ss_rule(struct tm *t)
{
	struct rule *r = add_rule(t, "lpar", RM_TYPE);

	r->type = DEV_S390_STANDBY;
	r->memmap = MC_RAM;
	r->zone = ZC_KERNEL;
	t->cfg.standby.memmap = MC_ON_MEMORY;
	t->cfg.standby.zone = ZC_MOVABLE;
}

static void ss_rule_range_other(struct tm *t)
{
	struct rule *r = add_rule(t, "elsewhere", RM_RANGE);

	r->range_start = 64 * GiB;
	r->range_end = 128 * GiB - 1;
	r->memmap = MC_RAM;
}

static void ss_rule_ignore(struct tm *t)
{
	struct rule *r = add_rule(t, "hands-off", RM_TYPE);

	r->type = DEV_S390_STANDBY;
	r->action = RA_IGNORE;
}

static void ss_rule_tie(struct tm *t)
{
	struct rule *a = add_rule(t, "a", RM_TYPE), *b = add_rule(t, "b", RM_TYPE);

	a->type = b->type = DEV_S390_STANDBY;
}

static const struct scase scases[] = {
	/* auto: 1G -> 16M memmap, within 5% of 2G free -> memmap_auto_default ram */
	{ "auto small", ss_none, 1 * GiB, true, MEMMAP_UNKNOWN, DECIDE_ONLINE, ZC_MOVABLE,
	  MEMMAP_RAM, "memmap auto: ram (memmap_auto_default)" },
	/* auto: 8G -> 128M memmap > 5% of 2G (102.4M) -> on-memory */
	{ "auto large", ss_none, 8 * GiB, true, MEMMAP_UNKNOWN, DECIDE_ONLINE, ZC_MOVABLE,
	  MEMMAP_ON_MEMORY, "exceeds 5% of the 2G free kernel memory of node 0" },
	{ "[standby] on-memory", ss_onmem, 1 * GiB, true, MEMMAP_UNKNOWN, DECIDE_ONLINE,
	  ZC_MOVABLE, MEMMAP_ON_MEMORY, "memmap = on-memory from [standby]" },
	{ "on-memory unsupported", ss_onmem_unsupported, 1 * GiB, true, MEMMAP_UNKNOWN,
	  DECIDE_ONLINE, ZC_MOVABLE, MEMMAP_RAM, "so the kernel would refuse it; using ram" },
	{ "[standby] ram", ss_ram, 8 * GiB, true, MEMMAP_UNKNOWN, DECIDE_ONLINE, ZC_MOVABLE,
	  MEMMAP_RAM, "memmap = ram from [standby]" },
	{ "fixed (legacy)", ss_onmem, 1 * GiB, false, MEMMAP_ON_MEMORY, DECIDE_ONLINE, ZC_MOVABLE,
	  MEMMAP_ON_MEMORY, "memmap placement is fixed (on-memory)" },
	{ "fixed ram ignores [standby]", ss_onmem, 1 * GiB, false, MEMMAP_RAM, DECIDE_ONLINE,
	  ZC_MOVABLE, MEMMAP_RAM, "memmap placement is fixed (ram)" },
	{ "[standby] zone", ss_zone_kernel, 1 * GiB, true, MEMMAP_UNKNOWN, DECIDE_ONLINE,
	  ZC_KERNEL, MEMMAP_RAM, "zone kernel from [standby]" },
	{ "type zone", ss_type_zone_kernel, 1 * GiB, true, MEMMAP_UNKNOWN, DECIDE_ONLINE,
	  ZC_KERNEL, MEMMAP_RAM, "zone kernel: the [policy] default for s390-standby devices" },
	{ "rule beats [standby]", ss_rule, 8 * GiB, true, MEMMAP_UNKNOWN, DECIDE_ONLINE,
	  ZC_KERNEL, MEMMAP_RAM, "memmap = ram from the rule" },
	{ "rule elsewhere", ss_rule_range_other, 8 * GiB, true, MEMMAP_UNKNOWN, DECIDE_ONLINE,
	  ZC_MOVABLE, MEMMAP_ON_MEMORY, "no rule matches standby 0x100000000-0x2ffffffff" },
	{ "rule ignores", ss_rule_ignore, 1 * GiB, true, MEMMAP_UNKNOWN, DECIDE_LEAVE, ZC_UNSET,
	  MEMMAP_UNKNOWN, "rule 'hands-off' ignores standby" },
	{ "rules tie", ss_rule_tie, 1 * GiB, true, MEMMAP_UNKNOWN, DECIDE_LEAVE, ZC_UNSET,
	  MEMMAP_UNKNOWN, "rules 'a' and 'b' tie" },
};

static void test_standby(void)
{
	static struct tm t;
	char why[4096];

	for (size_t i = 0; i < ARRAY_SIZE(scases); i++) {
		const struct scase *c = &scases[i];
		struct decision d;
		bool found = false;
		int r;

		base(&t);
		t.cfg.standby.memmap = MC_AUTO;
		c->setup(&t);
		/* standby at 4G (after the 4G of boot memory) */
		r = policy_decide_standby(&t.cfg, &t.m, 4 * GiB, c->size, c->choosable, c->fixed,
					  &d);
		join_reasons(&d, why, sizeof(why));
		CHECK_EQ_INT(r, 0);
		CHECK(d.action == c->action, "%s: action %d, expected %d\n%s", c->name, d.action,
		      c->action, why);
		if (c->action == DECIDE_ONLINE) {
			CHECK(d.zone == c->zone, "%s: zone %s\n%s", c->name,
			      zone_choice_name(d.zone), why);
			CHECK(d.memmap == c->memmap, "%s: memmap %s\n%s", c->name,
			      memmap_place_name(d.memmap), why);
			CHECK(d.memmap_choosable == c->choosable, "%s: choosable\n%s", c->name, why);
		}
		for (size_t k = 0; k < d.reasons.n; k++)
			if (strstr(d.reasons.v[k], c->reason))
				found = true;
		CHECK(found, "%s: no reason contains \"%s\"\n%s", c->name, c->reason, why);
		CHECK(c->action != DECIDE_LEAVE || !strstr(why, "tie") || d.config_error,
		      "%s: a tie is a config error", c->name);
		decision_free(&d);
	}

	/* [standby] enabled: policy_decide leaves s390 standby devices to it */
	{
		struct decision d;
		struct mem_device *dev;

		base(&t);
		dev = s390(&t, 4);
		t.cfg.standby.enabled = true;
		CHECK_EQ_INT(policy_decide(&t.cfg, &t.m, dev, &d), 0);
		join_reasons(&d, why, sizeof(why));
		CHECK(d.action == DECIDE_LEAVE && d.n_movable == 0, "standby enabled:\n%s", why);
		CHECK(strstr(why, "standby: s390 standby memory is managed by [standby]") != NULL,
		      "%s", why);
		decision_free(&d);
		t.cfg.standby.enabled = false;
		CHECK_EQ_INT(policy_decide(&t.cfg, &t.m, dev, &d), 0);
		CHECK(d.action == DECIDE_ONLINE && d.n_movable == 4, "standby disabled");
		decision_free(&d);
	}
}

/*
 * machine_account_blocks/machine_recount_device (what ops_online and the
 * daemon's coldplug use per block) must leave every sum exactly as a full
 * machine_recount would: online, offline and unreadable blocks, both
 * memmap placements, two nodes, a block with no node.
 */
static void test_incremental_recount(void)
{
	static struct tm t, want;
	static const enum block_state to[] = { BLOCK_ONLINE, BLOCK_STATE_UNKNOWN };
	size_t sel[12], nsel = 0;

	base(&t);
	add_node(&t, 1, 0, 0, 0, 0, false);
	add_dev(&t, "PNP0C80:00", DEV_ACPI_DIMM, 0, 8, BLOCK_OFFLINE, VZ_NM, MEMMAP_ON_MEMORY,
		EV_KERNEL_ATTR);
	add_dev(&t, "PNP0C80:01", DEV_ACPI_DIMM, 1, 8, BLOCK_ONLINE, VZ_M, MEMMAP_RAM, EV_ZONEINFO);
	t.blocks[t.m.nblocks - 1].node = -1;
	machine_recount(&t.m);

	/* online five blocks of the first DIMM (kernel and movable), offline two of the second */
	for (size_t i = 32; i < 37; i++)
		sel[nsel++] = i;
	sel[nsel++] = 41;
	sel[nsel++] = 47;
	machine_account_blocks(&t.m, sel, nsel, -1);
	for (size_t k = 0; k < nsel; k++) {
		struct mem_block *b = &t.blocks[sel[k]];

		if (b->state == BLOCK_OFFLINE) {
			b->state = k == 4 ? to[1] : to[0];
			b->zone = k % 2 ? ZONE_ID_NORMAL : ZONE_ID_MOVABLE;
		} else {
			b->state = BLOCK_OFFLINE;
			b->zone = ZONE_ID_NONE;
		}
	}
	machine_account_blocks(&t.m, sel, nsel, 1);
	machine_recount_device(&t.m, 1);
	machine_recount_device(&t.m, 2);

	want = t;
	want.m.blocks = want.blocks;
	want.m.devices = want.devices;
	want.m.nodes = want.nodes;
	for (size_t d = 0; d < want.m.ndevices; d++)
		want.devices[d].blocks = want.devblocks[d];
	machine_recount(&want.m);

	CHECK_EQ_U64(t.m.memmap_on_device_bytes, want.m.memmap_on_device_bytes);
	CHECK_EQ_U64(t.m.memmap_in_ram_bytes, want.m.memmap_in_ram_bytes);
	CHECK(t.m.memmap_on_device_bytes == 8 * MM, "on-device %" PRIu64,
	      t.m.memmap_on_device_bytes);
	for (size_t i = 0; i < t.m.nnodes; i++)
		CHECK(memcmp(&t.nodes[i], &want.nodes[i], sizeof(t.nodes[i])) == 0,
		      "node %d: incremental sums differ from a full recount (movable %" PRIu64
		      " vs %" PRIu64 ", kernel %" PRIu64 " vs %" PRIu64 ", offline %" PRIu64
		      " vs %" PRIu64 ")",
		      t.nodes[i].id, t.nodes[i].movable_bytes, want.nodes[i].movable_bytes,
		      t.nodes[i].kernel_bytes, want.nodes[i].kernel_bytes, t.nodes[i].offline_bytes,
		      want.nodes[i].offline_bytes);
	CHECK(t.nodes[0].movable_bytes == 2 * BS && t.nodes[0].kernel_bytes == 4 * GiB + 2 * BS,
	      "node 0: movable %" PRIu64 ", kernel %" PRIu64, t.nodes[0].movable_bytes,
	      t.nodes[0].kernel_bytes);
	for (size_t d = 0; d < t.m.ndevices; d++) {
		CHECK_EQ_U64(t.devices[d].online_blocks, want.devices[d].online_blocks);
		CHECK_EQ_INT(t.devices[d].zone_mixed, want.devices[d].zone_mixed);
		CHECK_EQ_INT(t.devices[d].zone, want.devices[d].zone);
		CHECK_EQ_INT(t.devices[d].memmap, want.devices[d].memmap);
	}
	CHECK_EQ_U64(t.devices[1].online_blocks, 4);
}

int main(void)
{
	size_t counts[2];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i], counts);
	test_onmem_vs_ram();
	test_match();
	test_dax_rule();
	test_corrupt();
	test_standby();
	test_incremental_recount();
	return check_exit();
}
