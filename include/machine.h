/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine model: a snapshot of memory blocks, the devices they belong to,
 * dax devices, NUMA nodes and where every memmap lives, read through a
 * sysroot.  Scanning never aborts on one bad block: per-item problems are
 * collected in machine.errors with the path named.
 */
#ifndef MEMHP_MACHINE_H
#define MEMHP_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iomem.h"
#include "sysfs_parse.h"
#include "util.h"

struct sysroot;

/* "memory" and at most 14 digits (BLOCK_INDEX_MAX), with room to spare */
#define BLOCK_NAME_MAX 24
/*
 * Basename of a block's firmware_node link: an ACPI device name, the HID
 * (at most 8) and ':' and the instance in hex ("PNP0C80:00"); longer is
 * an error (read_block).
 */
#define FIRMWARE_NODE_MAX 24
#define DEVICE_ID_MAX 64

enum device_type {
	DEV_BOOT = 0,
	DEV_ACPI_DIMM,
	DEV_VIRTIO_MEM,
	DEV_DAX,
	DEV_S390_STANDBY,
	DEV_UNKNOWN,
	DEV_TYPE_MAX,
};
/* "boot", "acpi-dimm", "virtio-mem", "dax", "s390-standby", "unknown" */
const char *device_type_name(enum device_type t);
int parse_device_type(const char *s, enum device_type *out);

enum memmap_place {
	MEMMAP_UNKNOWN = 0,
	MEMMAP_ON_MEMORY,
	MEMMAP_RAM,
	MEMMAP_MIXED, /* devices/nodes only: blocks disagree */
};
/* "unknown", "on-memory", "ram", "mixed" */
const char *memmap_place_name(enum memmap_place p);

/* What told us where a block's memmap lives, strongest first. */
enum memmap_evidence {
	EV_NONE = 0,
	EV_KERNEL_ATTR, /* memoryN/memmap_on_memory (companion kernel series) */
	EV_DAX_ATTR, /* daxX.Y/memmap_on_memory of the owning kmem device */
	EV_FIRMWARE_ATTR, /* s390 /sys/firmware/memory/memoryN/memmap_on_memory */
	EV_BOOT, /* boot memory: memmap allocated at boot */
	EV_DRIVER, /* the adding driver never uses it (virtio-mem) */
	EV_MODULE_PARAM, /* memory_hotplug.memmap_on_memory, read-only since boot */
	EV_ZONEINFO, /* zone present-managed pages match the vmemmap count */
	EV_STATE, /* recorded by memhpd when it chose the placement */
	EV_MAX,
};
/* Short machine-readable name ("kernel-attr", ...) and a human sentence. */
const char *memmap_evidence_name(enum memmap_evidence e);
const char *memmap_evidence_text(enum memmap_evidence e);

/*
 * One per memory block: 65,536 of them on an 8 TiB machine, so no field is
 * kept that the name or the machine already tells (phys_index is checked
 * against the name when read, not stored), and the layout has no holes.
 */
struct mem_block {
	char name[BLOCK_NAME_MAX]; /* "memory32" */
	uint64_t index; /* 32 */
	uint64_t start, size; /* bytes */
	long kernel_memmap_pages; /* memoryN/memmap_on_memory, -1 absent */
	uint64_t memmap_bytes; /* size of this block's memmap wherever it lives */

	enum block_state state;
	unsigned valid_zones; /* ZONE_BIT mask */
	enum zone_id zone_default; /* first of valid_zones */
	enum zone_id zone; /* zone when online, else ZONE_ID_NONE */
	int node; /* -1: no node link (yet) */
	int removable; /* -1 absent */
	int fw_config; /* s390 firmware config, -1 absent */
	int fw_memmap_on_memory; /* s390 firmware memmap_on_memory, -1 absent */
	enum memmap_place memmap;
	enum memmap_evidence memmap_evidence;
	int device; /* index into machine.devices, -1 none */
	int error; /* -errno of the first problem reading this block, 0 if fine */

	char firmware_node[FIRMWARE_NODE_MAX]; /* basename of firmware_node link, "" if none */
};

struct dax_mapping {
	uint64_t start, end, page_offset;
};

struct dax_device {
	char name[32]; /* "dax0.0" */
	char region[32]; /* "region0" (nvdimm) / "dax_region" id, "" unknown */
	char kind[16]; /* "pmem", "hmem", "cxl", "unknown" */
	char uuid[40]; /* nvdimm namespace uuid, "" none */
	char driver[32]; /* "kmem", "device_dax", "" unbound */
	int target_node; /* -1 unknown */
	int numa_node; /* -1 unknown */
	uint64_t size;
	uint64_t start; /* "resource"; 0 if unknown */
	uint64_t align;
	int memmap_on_memory; /* -1: attribute absent (kernel < 6.8) */
	struct dax_mapping *mappings;
	size_t nmappings;
	int device; /* index into machine.devices when its memory is hot-added, else -1 */
	int error;
};

struct mem_device {
	char id[DEVICE_ID_MAX]; /* "PNP0C80:00", "virtio0", "dax0.0", "boot-node0", "memory40-memory47" */
	enum device_type type;
	int node; /* -1 if blocks span several nodes or none known */
	uint64_t start, end; /* physical range of its blocks, end exclusive */
	uint64_t size; /* bytes in blocks */
	size_t *blocks; /* indices into machine.blocks, ascending address */
	size_t nblocks;
	size_t online_blocks;
	enum zone_id zone; /* the zone if all online blocks agree, else ZONE_ID_NONE */
	bool zone_mixed;
	enum memmap_place memmap;
	enum memmap_evidence memmap_evidence; /* weakest evidence among its blocks */
	uint64_t memmap_on_device_bytes;
	uint64_t memmap_in_ram_bytes;
	int dax; /* index into machine.dax, -1 */
};

struct numa_node {
	int id;
	struct node_meminfo meminfo;
	uint64_t kernel_bytes; /* online blocks in kernel zones */
	uint64_t movable_bytes; /* online blocks in ZONE_MOVABLE */
	uint64_t offline_bytes;
	/* usable bytes: minus memmap held on the memory itself */
	uint64_t kernel_usable_bytes, movable_usable_bytes;
	/* memmap of movable blocks that lives in RAM (kernel zones pay for it) */
	uint64_t movable_memmap_in_ram_bytes;
	uint64_t kernel_free_bytes; /* free pages in kernel zones (zoneinfo), 0 unknown */
	bool kernel_free_known;
	uint64_t memmap_on_device_bytes, memmap_in_ram_bytes;
	/* zoneinfo: present-managed pages of ZONE_MOVABLE vs. vmemmap pages we expect there */
	uint64_t movable_present_minus_managed;
	bool zoneinfo_known;
	/*
	 * Online movable blocks whose memmap place is only guessed (module
	 * parameter, or confirmed by zoneinfo alone), and the vmemmap pages
	 * of the others that hold it on the memory: the sums zoneinfo is
	 * checked against, and what it said (memmap.c).
	 */
	uint64_t movable_guessed_blocks, movable_known_memmap_pages;
	enum memmap_place memmap_verdict;
};

struct scan_error {
	char path[160];
	int err; /* -errno */
	char msg[160];
};

struct hotplug_params {
	enum memmap_param memmap_on_memory;
	bool memmap_param_writable; /* companion series makes it runtime-writable */
	char online_policy[32]; /* "contig-zones", "auto-movable", "" */
	int auto_movable_ratio; /* -1 unknown */
	enum auto_online auto_online_blocks;
};

struct machine {
	uint64_t block_size;
	uint64_t page_size;
	uint64_t struct_page_size; /* 64 on every 64-bit arch memhpd supports */
	struct hotplug_params params;
	bool has_kernel_memmap_attr; /* any memoryN/memmap_on_memory seen */
	bool memmap_attr_listed;     /* the scan's first block listed memmap_on_memory */
	bool has_fw_memory; /* /sys/firmware/memory exists (s390, 6.19+) */
	bool is_s390;
	bool is_numa; /* /sys/devices/system/node exists: blocks get node links */

	struct mem_block *blocks; /* ascending index */
	size_t nblocks, blocks_cap;
	struct mem_device *devices;
	size_t ndevices;
	struct dax_device *dax;
	size_t ndax;
	struct numa_node *nodes; /* ascending id */
	size_t nnodes;
	struct iomem iomem;
	/* the /proc/iomem text iomem was parsed from, and its malformed lines */
	char *iomem_text;
	unsigned iomem_bad, iomem_first_bad;

	uint64_t memmap_on_device_bytes, memmap_in_ram_bytes;

	struct scan_error *errors;
	size_t nerrors;
};

/*
 * Scan everything under the sysroot.  Returns 0 (with per-item errors in
 * m->errors) or -errno when nothing usable could be read (no memory sysfs).
 */
int machine_scan(struct sysroot *sr, struct machine **out);
void machine_free(struct machine *m);
static inline void machine_freep(struct machine **m)
{
	if (*m)
		machine_free(*m);
}
#define _cleanup_machine_ __attribute__((cleanup(machine_freep)))

/* Re-read one block's attributes in place (daemon, after an event or an action). */
int machine_refresh_block(struct sysroot *sr, struct machine *m, struct mem_block *b);
/*
 * Incremental update for the daemon: re-read only the listed blocks (adding
 * new ones, dropping vanished ones), then refresh the small machine-wide
 * inputs (nodes, zoneinfo, iomem, dax) and regroup devices in memory.  I/O
 * is proportional to the blocks named, not to the size of the tree.  When
 * the blocks are all known, the machine-wide inputs read as before and no
 * block changed its owner, the devices are kept and only the sums of the
 * blocks named change: 1.  0 after a regroup; -errno.  Either way m equals
 * what machine_scan() would read now (tests/sysroot/test-update.c).
 */
int machine_update(struct sysroot *sr, struct machine *m, const uint64_t *idx, size_t n);
/* Recompute device/node sums after blocks changed. */
void machine_recount(struct machine *m);
/*
 * The same, incrementally, when only some blocks change (one device's, in a
 * coldplug of thousands): take their share out of the sums first
 * (sign -1), change them, put it back (sign 1), then recount the devices
 * they belong to.  O(blocks changed) instead of O(all blocks).
 */
void machine_account_blocks(struct machine *m, const size_t *blocks, size_t n, int sign);
void machine_recount_device(struct machine *m, size_t di);

/*
 * Whether the hot-added blocks idx[] all belong to ACPI DIMMs whose add is
 * over: each block has its node link and its firmware_node, and so does
 * every other block of the "System RAM" range of /proc/iomem holding it.
 * Those other blocks, unless m has them, are returned in *also (malloc'd,
 * *nalso of them): udev has not passed on their events yet, and they join
 * the batch.  The daemon then decides at once instead of waiting out its
 * settle time.  Returns 1, 0 (*also NULL), or -errno.
 */
int machine_dimms_complete(struct sysroot *sr, const struct machine *m, const uint64_t *idx,
			   size_t n, uint64_t **also, size_t *nalso);

struct mem_block *machine_find_block(const struct machine *m, const char *name);
struct mem_block *machine_block_by_index(const struct machine *m, uint64_t index);
struct mem_device *machine_find_device(const struct machine *m, const char *id);
struct dax_device *machine_find_dax(const struct machine *m, const char *name);
struct numa_node *machine_node(const struct machine *m, int id);

/* Memmap bytes of one block of this machine (block_size / page_size * struct_page_size). */
uint64_t machine_block_memmap_bytes(const struct machine *m);

#endif
