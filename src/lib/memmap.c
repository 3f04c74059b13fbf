// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Where does each block's memmap (its struct pages) live?
 *
 * "on-memory": the kernel's vmemmap altmap put it at the start of the
 * hot-added range itself (memory_hotplug.memmap_on_memory; for a 128 MiB
 * block on x86-64 that is its first 512 pages).  "ram": it was allocated
 * from memory that was already there.  The kernel only says so directly with
 * the companion series (memoryN/memmap_on_memory); otherwise we infer it and
 * label the evidence, strongest first:
 *
 *   kernel-attr    memoryN/memmap_on_memory pages (exact)
 *   dax-attr       daxX.Y/memmap_on_memory of the kmem device that added it
 *   firmware-attr  s390 /sys/firmware/memory/memoryN/memmap_on_memory
 *   boot           boot memory: memmap allocated during early boot
 *   driver         virtio-mem never asks for it (up to at least 6.12);
 *                  kmem before 6.8 had no such option
 *   module-param   memory_hotplug.memmap_on_memory, read-only since boot on
 *                  stock kernels, so its value now is its value at add time
 *   zoneinfo       ZONE_MOVABLE present-managed pages equal the vmemmap pages
 *                  of the node's online movable blocks (confirms or corrects
 *                  module-param inferences; vmemmap pages are present but
 *                  never managed)
 */
#include "machine-internal.h"

static const char *const evidence_names[EV_MAX] = {
	[EV_NONE] = "none",
	[EV_KERNEL_ATTR] = "kernel-attr",
	[EV_DAX_ATTR] = "dax-attr",
	[EV_FIRMWARE_ATTR] = "firmware-attr",
	[EV_BOOT] = "boot",
	[EV_DRIVER] = "driver",
	[EV_MODULE_PARAM] = "module-param",
	[EV_ZONEINFO] = "zoneinfo",
	[EV_STATE] = "state",
};

static const char *const evidence_texts[EV_MAX] = {
	[EV_NONE] = "no evidence available",
	[EV_KERNEL_ATTR] = "the kernel reports it in memoryN/memmap_on_memory",
	[EV_DAX_ATTR] = "the dax device's memmap_on_memory attribute when kmem added it",
	[EV_FIRMWARE_ATTR] = "the s390 firmware memmap_on_memory attribute",
	[EV_BOOT] = "boot memory: the memmap was allocated at boot",
	[EV_DRIVER] = "the driver that added it never places the memmap on the memory",
	[EV_MODULE_PARAM] = "memory_hotplug.memmap_on_memory (fixed since boot) at add time",
	[EV_ZONEINFO] = "ZONE_MOVABLE present-managed pages in /proc/zoneinfo",
	[EV_STATE] = "recorded by memhpd when it chose the placement",
};

const char *memmap_evidence_name(enum memmap_evidence e)
{
	return (unsigned)e < EV_MAX ? evidence_names[e] : "invalid";
}

const char *memmap_evidence_text(enum memmap_evidence e)
{
	return (unsigned)e < EV_MAX ? evidence_texts[e] : "invalid";
}

const char *memmap_place_name(enum memmap_place p)
{
	switch (p) {
	case MEMMAP_ON_MEMORY:
		return "on-memory";
	case MEMMAP_RAM:
		return "ram";
	case MEMMAP_MIXED:
		return "mixed";
	default:
		return "unknown";
	}
}

static void set(struct mem_block *b, enum memmap_place p, enum memmap_evidence e)
{
	b->memmap = p;
	b->memmap_evidence = e;
}

static void from_param(const struct machine *m, struct mem_block *b)
{
	switch (m->params.memmap_on_memory) {
	case MEMMAP_PARAM_ON:
	case MEMMAP_PARAM_FORCE:
		set(b, MEMMAP_ON_MEMORY, EV_MODULE_PARAM);
		break;
	case MEMMAP_PARAM_OFF:
		set(b, MEMMAP_RAM, EV_MODULE_PARAM);
		break;
	default:
		set(b, MEMMAP_UNKNOWN, EV_NONE);
	}
}

static void infer_block(const struct machine *m, struct mem_block *b)
{
	const struct mem_device *d = b->device >= 0 ? &m->devices[b->device] : NULL;

	if (b->kernel_memmap_pages >= 0) {
		set(b, b->kernel_memmap_pages ? MEMMAP_ON_MEMORY : MEMMAP_RAM, EV_KERNEL_ATTR);
		return;
	}
	if (!d) {
		set(b, MEMMAP_UNKNOWN, EV_NONE);
		return;
	}
	switch (d->type) {
	case DEV_BOOT:
		set(b, MEMMAP_RAM, EV_BOOT);
		break;
	case DEV_VIRTIO_MEM:
		set(b, MEMMAP_RAM, EV_DRIVER);
		break;
	case DEV_DAX:
		if (d->dax >= 0 && m->dax[d->dax].memmap_on_memory >= 0)
			set(b, m->dax[d->dax].memmap_on_memory ? MEMMAP_ON_MEMORY : MEMMAP_RAM,
			    EV_DAX_ATTR);
		else if (d->dax >= 0)
			set(b, MEMMAP_RAM, EV_DRIVER);
		else
			set(b, MEMMAP_UNKNOWN, EV_NONE);
		break;
	case DEV_S390_STANDBY:
		if (b->fw_memmap_on_memory >= 0)
			set(b, b->fw_memmap_on_memory ? MEMMAP_ON_MEMORY : MEMMAP_RAM,
			    EV_FIRMWARE_ATTR);
		else
			from_param(m, b);
		break;
	default:
		from_param(m, b);
	}
}

/*
 * Cross-check module-param inferences of online movable blocks against
 * zoneinfo, per node.  Only an exact match of "all on-memory" or "none" is
 * conclusive; anything in between leaves the inference alone.
 */
/* Index of the block's node in m->nodes, or -1. */
static int node_pos(const struct machine *m, const struct mem_block *b)
{
	const struct numa_node *n = machine_node(m, b->node);

	return n ? (int)(n - m->nodes) : -1;
}

static bool weak_movable(const struct mem_block *b)
{
	return b->state == BLOCK_ONLINE && b->zone == ZONE_ID_MOVABLE &&
	       (b->memmap_evidence == EV_MODULE_PARAM || b->memmap_evidence == EV_NONE);
}

/* One pass over the blocks for all nodes: this runs on every event batch. */
static void zoneinfo_check(struct machine *m)
{
	uint64_t per_block = m->page_size ? machine_block_memmap_bytes(m) / m->page_size : 0;
	_cleanup_free_ uint64_t *strong = NULL, *weak = NULL;
	_cleanup_free_ enum memmap_place *verdict = NULL;
	bool any = false;

	if (!m->nnodes)
		return;
	strong = calloc(m->nnodes, sizeof(*strong));
	weak = calloc(m->nnodes, sizeof(*weak));
	verdict = calloc(m->nnodes, sizeof(*verdict));
	if (!strong || !weak || !verdict)
		return; /* an inference left alone, like an inconclusive one */
	for (size_t j = 0; j < m->nblocks; j++) {
		const struct mem_block *b = &m->blocks[j];
		int n;

		if (b->state != BLOCK_ONLINE || b->zone != ZONE_ID_MOVABLE)
			continue;
		n = node_pos(m, b);
		if (n < 0)
			continue;
		if (weak_movable(b))
			weak[n]++;
		else if (b->memmap == MEMMAP_ON_MEMORY)
			strong[n] += per_block;
	}
	for (size_t i = 0; i < m->nnodes; i++) {
		const struct numa_node *n = &m->nodes[i];

		verdict[i] = MEMMAP_UNKNOWN;
		if (!n->zoneinfo_known || !weak[i] || n->movable_present_minus_managed < strong[i])
			continue;
		if (n->movable_present_minus_managed - strong[i] == weak[i] * per_block)
			verdict[i] = MEMMAP_ON_MEMORY;
		else if (n->movable_present_minus_managed == strong[i])
			verdict[i] = MEMMAP_RAM;
		any |= verdict[i] != MEMMAP_UNKNOWN;
	}
	for (size_t j = 0; any && j < m->nblocks; j++) {
		struct mem_block *b = &m->blocks[j];
		int n;

		if (!weak_movable(b))
			continue;
		n = node_pos(m, b);
		if (n >= 0 && verdict[n] != MEMMAP_UNKNOWN)
			set(b, verdict[n], EV_ZONEINFO);
	}
}

void machine_infer_memmap(struct machine *m)
{
	for (size_t i = 0; i < m->nblocks; i++)
		infer_block(m, &m->blocks[i]);
	zoneinfo_check(m);
}
