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

void machine_infer_block(const struct machine *m, struct mem_block *b)
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

bool memmap_guessed_movable(const struct mem_block *b)
{
	return b->state == BLOCK_ONLINE && b->zone == ZONE_ID_MOVABLE &&
	       (b->memmap_evidence == EV_MODULE_PARAM || b->memmap_evidence == EV_NONE ||
		b->memmap_evidence == EV_ZONEINFO);
}

enum memmap_place memmap_node_verdict(const struct machine *m, uint64_t guessed,
				      uint64_t known_pages, const struct numa_node *n)
{
	uint64_t per_block = m->page_size ? machine_block_memmap_bytes(m) / m->page_size : 0;

	if (!n->zoneinfo_known || !guessed || n->movable_present_minus_managed < known_pages)
		return MEMMAP_UNKNOWN;
	if (n->movable_present_minus_managed - known_pages == guessed * per_block)
		return MEMMAP_ON_MEMORY;
	if (n->movable_present_minus_managed == known_pages)
		return MEMMAP_RAM;
	return MEMMAP_UNKNOWN;
}

void memmap_apply_verdict(const struct machine *m, struct mem_block *b)
{
	const struct numa_node *n = machine_node(m, b->node);

	if (n && n->memmap_verdict != MEMMAP_UNKNOWN && memmap_guessed_movable(b))
		set(b, n->memmap_verdict, EV_ZONEINFO);
}

/*
 * One pass over the blocks for all nodes.  The per-node figures are the
 * ones account_block() keeps in the node sums as well (the daemon's batches
 * use those); here the sums are not made yet.
 */
static void zoneinfo_check(struct machine *m)
{
	uint64_t per_block = m->page_size ? machine_block_memmap_bytes(m) / m->page_size : 0;
	_cleanup_free_ uint64_t *strong = NULL, *weak = NULL;
	bool any = false;

	for (size_t i = 0; i < m->nnodes; i++)
		m->nodes[i].memmap_verdict = MEMMAP_UNKNOWN;
	if (!m->nnodes)
		return;
	strong = calloc(m->nnodes, sizeof(*strong));
	weak = calloc(m->nnodes, sizeof(*weak));
	if (!strong || !weak)
		return; /* an inference left alone, like an inconclusive one */
	for (size_t j = 0; j < m->nblocks; j++) {
		const struct mem_block *b = &m->blocks[j];
		int n;

		if (b->state != BLOCK_ONLINE || b->zone != ZONE_ID_MOVABLE)
			continue;
		n = node_pos(m, b);
		if (n < 0)
			continue;
		if (memmap_guessed_movable(b))
			weak[n]++;
		else if (b->memmap == MEMMAP_ON_MEMORY)
			strong[n] += per_block;
	}
	for (size_t i = 0; i < m->nnodes; i++) {
		struct numa_node *n = &m->nodes[i];

		n->memmap_verdict = memmap_node_verdict(m, weak[i], strong[i], n);
		any |= n->memmap_verdict != MEMMAP_UNKNOWN;
	}
	for (size_t j = 0; any && j < m->nblocks; j++)
		memmap_apply_verdict(m, &m->blocks[j]);
}

void machine_infer_memmap(struct machine *m)
{
	for (size_t i = 0; i < m->nblocks; i++)
		machine_infer_block(m, &m->blocks[i]);
	zoneinfo_check(m);
}
