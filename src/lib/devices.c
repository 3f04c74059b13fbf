// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Group memory blocks into the devices that added them.  The kernel keeps no
 * such link in one place, so we combine what it does show, strongest first:
 *
 *   acpi-dimm     memoryN/firmware_node -> .../PNP0C80:XX (ACPI memory device)
 *   dax           /proc/iomem "System RAM (kmem)" under a "daxX.Y" resource,
 *                 or (iomem addresses hidden) a kmem-bound dax device's range
 *   virtio-mem    /proc/iomem "System RAM (virtio_mem)" under "virtioN"
 *   s390-standby  /sys/firmware/memory/memoryN exists and the block has a
 *                 "System RAM" resource of its own (Linux 6.19+); before
 *                 6.19, on s390, blocks from the first non-online one upwards
 *                 (standby storage sits above the assigned storage)
 *   boot          any other block that is online: one device per node
 *   unknown       any other offline block: contiguous, same-node runs
 *
 * "boot" vs "unknown" is a heuristic: sysfs does not say whether an online
 * block without a driver came from firmware at boot.  The daemon's state
 * file remembers devices it saw being added.
 */
#include <inttypes.h>

#include "machine-internal.h"

struct owner {
	enum device_type type;
	char id[DEVICE_ID_MAX];
	int dax; /* index into m->dax or -1 */
};

static int dax_index_by_name(const struct machine *m, const char *name)
{
	for (size_t i = 0; i < m->ndax; i++)
		if (streq(m->dax[i].name, name))
			return (int)i;
	return -1;
}

/* Parent resource name of the deepest iomem resource named `name` covering the block. */
static bool iomem_owner(const struct machine *m, const struct mem_block *b, const char *name,
			char *parent, size_t size)
{
	int i, p;

	if (m->iomem.addresses_hidden || !m->iomem.nres)
		return false;
	i = iomem_find_containing(&m->iomem, b->start, b->start + b->size - 1, name);
	if (i < 0)
		return false;
	p = iomem_parent(&m->iomem, i);
	if (p < 0)
		return false;
	strscpy_safe(parent, m->iomem.res[p].name, size);
	return true;
}

static bool dax_range_owner(const struct machine *m, const struct mem_block *b, int *dax)
{
	for (size_t i = 0; i < m->ndax; i++) {
		const struct dax_device *d = &m->dax[i];

		if (!streq(d->driver, "kmem") || !d->size)
			continue;
		if (d->nmappings) {
			for (size_t j = 0; j < d->nmappings; j++)
				if (b->start >= d->mappings[j].start &&
				    b->start + b->size - 1 <= d->mappings[j].end)
					goto found;
			continue;
		}
		if (b->start >= d->start && b->start + b->size <= d->start + d->size)
			goto found;
		continue;
	found:
		*dax = (int)i;
		return true;
	}
	return false;
}

/*
 * On Linux 6.19+ every s390 increment, boot memory included, has an entry in
 * /sys/firmware/memory.  Standby increments are added one block at a time
 * and keep a "System RAM" resource of exactly their size; boot memory is one
 * merged resource.  Without usable iomem, trust the firmware entry.
 */
static bool own_ram_resource(const struct machine *m, const struct mem_block *b)
{
	int i;

	if (m->iomem.addresses_hidden || !m->iomem.nres)
		return true;
	i = iomem_find_containing(&m->iomem, b->start, b->start + b->size - 1, "System RAM");
	if (i < 0)
		return true;
	return m->iomem.res[i].start == b->start && m->iomem.res[i].end == b->start + b->size - 1;
}

static void classify(const struct machine *m, const struct mem_block *b, uint64_t standby_from,
		     struct owner *o)
{
	char parent[IOMEM_NAME_MAX];

	o->dax = -1;
	o->id[0] = '\0';
	if (startswith(b->firmware_node, "PNP0C80")) {
		o->type = DEV_ACPI_DIMM;
		strscpy_safe(o->id, b->firmware_node, sizeof(o->id));
		return;
	}
	if (iomem_owner(m, b, "System RAM (kmem)", parent, sizeof(parent))) {
		o->type = DEV_DAX;
		strscpy_safe(o->id, parent, sizeof(o->id));
		o->dax = dax_index_by_name(m, parent);
		return;
	}
	if (m->iomem.addresses_hidden && dax_range_owner(m, b, &o->dax)) {
		o->type = DEV_DAX;
		strscpy_safe(o->id, m->dax[o->dax].name, sizeof(o->id));
		return;
	}
	if (iomem_owner(m, b, "System RAM (virtio_mem)", parent, sizeof(parent))) {
		o->type = DEV_VIRTIO_MEM;
		strscpy_safe(o->id, parent, sizeof(o->id));
		return;
	}
	if ((m->has_fw_memory && b->fw_config >= 0 && own_ram_resource(m, b)) ||
	    (m->is_s390 && !m->has_fw_memory && b->index >= standby_from)) {
		o->type = DEV_S390_STANDBY;
		return; /* id: the contiguous run, set by the caller */
	}
	if (b->state == BLOCK_ONLINE) {
		o->type = DEV_BOOT;
		if (b->node >= 0)
			snprintf(o->id, sizeof(o->id), "boot-node%d", b->node);
		else
			snprintf(o->id, sizeof(o->id), "boot");
		return;
	}
	o->type = DEV_UNKNOWN;
}

/*
 * *last remembers the device of the previous block: blocks come in address
 * order and a device's blocks are contiguous, so this spares the linear
 * search for nearly every block (it was 60% of a batch at 65k blocks).
 */
static struct mem_device *device_get(struct machine *m, const struct owner *o, size_t *cap,
				     size_t *last)
{
	struct mem_device *d;

	if (o->id[0]) {
		if (*last < m->ndevices && streq(m->devices[*last].id, o->id))
			return &m->devices[*last];
		d = machine_find_device(m, o->id);
		if (d) {
			*last = (size_t)(d - m->devices);
			return d;
		}
	}
	if (grow_array((void **)&m->devices, cap, m->ndevices + 1, sizeof(*m->devices)) < 0)
		return NULL;
	*last = m->ndevices;
	d = &m->devices[m->ndevices++];
	memset(d, 0, sizeof(*d));
	d->type = o->type;
	d->dax = o->dax;
	d->node = -2; /* not set yet */
	strscpy_safe(d->id, o->id, sizeof(d->id));
	return d;
}

static int device_add_block(struct machine *m, struct mem_device *d, size_t bi)
{
	struct mem_block *b = &m->blocks[bi];
	size_t *nb;

	/*
	 * The array's capacity is implied: 4, then the next power of two.  It
	 * grows when nblocks reaches it, not by one per block: this runs for
	 * every block on every event batch.
	 */
	if (d->nblocks == 0 || (d->nblocks >= 4 && !(d->nblocks & (d->nblocks - 1)))) {
		size_t want = d->nblocks ? 2 * d->nblocks : 4;

		nb = realloc(d->blocks, want * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		d->blocks = nb;
	}
	d->blocks[d->nblocks++] = bi;
	if (d->nblocks == 1 || b->start < d->start)
		d->start = b->start;
	if (b->start + b->size > d->end)
		d->end = b->start + b->size;
	d->size += b->size;
	/* -2: not set yet; -1: several nodes.  Blocks without a node link don't count. */
	if (b->node >= 0 && d->node == -2)
		d->node = b->node;
	else if (b->node >= 0 && d->node != b->node)
		d->node = -1;
	b->device = (int)(d - m->devices);
	return 0;
}

static int cmp_device(const void *a, const void *b)
{
	const struct mem_device *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Runs without a driver-given name are named after their first and last block. */
static bool joins_run(const struct machine *m, const struct mem_device *run,
		      const struct mem_block *b, enum device_type type)
{
	const struct mem_block *last;

	if (!run || run->type != type || !run->nblocks)
		return false;
	last = &m->blocks[run->blocks[run->nblocks - 1]];
	return last->index + 1 == b->index && last->node == b->node;
}

int machine_group_devices(struct machine *m)
{
	uint64_t standby_from = UINT64_MAX;
	struct mem_device *run = NULL;
	size_t cap = 0, run_idx = 0, last = SIZE_MAX;
	bool have_run = false;
	int r;

	if (m->is_s390 && !m->has_fw_memory)
		for (size_t i = 0; i < m->nblocks; i++)
			if (m->blocks[i].state != BLOCK_ONLINE) {
				standby_from = m->blocks[i].index;
				break;
			}

	for (size_t i = 0; i < m->nblocks; i++) {
		struct mem_block *b = &m->blocks[i];
		struct mem_device *d;
		struct owner o;

		classify(m, b, standby_from, &o);
		if (o.id[0]) {
			d = device_get(m, &o, &cap, &last);
			if (!d)
				return -ENOMEM;
			have_run = false;
		} else {
			run = have_run ? &m->devices[run_idx] : NULL;
			if (joins_run(m, run, b, o.type)) {
				d = run;
			} else {
				d = device_get(m, &o, &cap, &last);
				if (!d)
					return -ENOMEM;
				snprintf(d->id, sizeof(d->id), "%s", b->name);
			}
			run_idx = d - m->devices;
			have_run = true;
		}
		r = device_add_block(m, d, i);
		if (r < 0)
			return r;
	}

	/* name runs "memoryA-memoryB" now that their extent is known */
	for (size_t i = 0; i < m->ndevices; i++) {
		struct mem_device *d = &m->devices[i];

		if (d->node == -2)
			d->node = -1;
		if ((d->type == DEV_UNKNOWN || d->type == DEV_S390_STANDBY) && d->nblocks > 1)
			snprintf(d->id, sizeof(d->id), "%s-%s", m->blocks[d->blocks[0]].name,
				 m->blocks[d->blocks[d->nblocks - 1]].name);
	}

	qsort(m->devices, m->ndevices, sizeof(*m->devices), cmp_device);
	/* sorting moved devices: re-point blocks and dax devices at them */
	for (size_t i = 0; i < m->ndevices; i++) {
		struct mem_device *d = &m->devices[i];

		for (size_t j = 0; j < d->nblocks; j++)
			m->blocks[d->blocks[j]].device = (int)i;
		if (d->dax >= 0)
			m->dax[d->dax].device = (int)i;
	}
	return 0;
}

bool machine_block_keeps_device(const struct machine *m, const struct mem_block *b)
{
	const struct mem_device *d;
	struct owner o;

	/* s390 before 6.19: standby starts at the first block not online, any block may move it */
	if (m->is_s390 && !m->has_fw_memory)
		return false;
	if (b->device < 0 || (size_t)b->device >= m->ndevices)
		return false;
	d = &m->devices[b->device];
	classify(m, b, UINT64_MAX, &o);
	/* runs of blocks without an owner's name depend on their neighbours */
	if (!o.id[0] || o.type != d->type || o.dax != d->dax)
		return false;
	return streq(o.id, d->id);
}

/* -2 while no block with a node link was seen, -1 for several nodes or none. */
static void device_set_node(const struct machine *m, struct mem_device *d)
{
	d->node = -2;
	for (size_t j = 0; j < d->nblocks; j++) {
		int node = m->blocks[d->blocks[j]].node;

		if (node >= 0 && d->node == -2)
			d->node = node;
		else if (node >= 0 && d->node != node)
			d->node = -1;
	}
	if (d->node == -2)
		d->node = -1;
}

int machine_device_append(struct machine *m, size_t bi)
{
	const struct mem_block *b = &m->blocks[bi];
	size_t cap = m->ndevices, last = SIZE_MAX;
	struct mem_device *d;
	struct owner o;
	int r;

	if (m->is_s390 && !m->has_fw_memory)
		return 0;
	/* above every block, so above every device: last in start order, or at the end of one */
	classify(m, b, UINT64_MAX, &o);
	if (!o.id[0])
		return 0; /* a run of unnamed blocks: named after its neighbours */
	d = device_get(m, &o, &cap, &last);
	if (!d)
		return -ENOMEM;
	r = device_add_block(m, d, bi);
	if (r < 0)
		return r;
	device_set_node(m, d);
	if (d->dax >= 0)
		m->dax[d->dax].device = (int)(d - m->devices);
	return 1;
}
