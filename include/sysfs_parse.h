/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure parsers for the values the kernel prints in sysfs and procfs.  They
 * take a string (already read, newline stripped) and return >= 0 or -EINVAL /
 * -ERANGE.  No I/O; fuzzed and table-tested.
 */
#ifndef MEMHP_SYSFS_PARSE_H
#define MEMHP_SYSFS_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

enum block_state {
	BLOCK_STATE_UNKNOWN = 0,
	BLOCK_ONLINE,
	BLOCK_OFFLINE,
	BLOCK_GOING_OFFLINE,
};

/* Kernel zones as named in valid_zones / zoneinfo. */
enum zone_id {
	ZONE_ID_NONE = 0,
	ZONE_ID_DMA,
	ZONE_ID_DMA32,
	ZONE_ID_NORMAL,
	ZONE_ID_HIGHMEM,
	ZONE_ID_MOVABLE,
	ZONE_ID_DEVICE,
	ZONE_ID_MAX,
};
#define ZONE_BIT(z) (1u << (z))
/* ZONE_DMA, DMA32, Normal, HighMem: everything the kernel may allocate unmovable data from */
#define ZONE_MASK_KERNEL                                                              \
	(ZONE_BIT(ZONE_ID_DMA) | ZONE_BIT(ZONE_ID_DMA32) | ZONE_BIT(ZONE_ID_NORMAL) | \
	 ZONE_BIT(ZONE_ID_HIGHMEM))

const char *block_state_name(enum block_state s);
/* Kernel spelling: "DMA", "DMA32", "Normal", "HighMem", "Movable", "Device", "none". */
const char *zone_name(enum zone_id z);
static inline bool zone_is_kernel(enum zone_id z)
{
	return (ZONE_BIT(z) & ZONE_MASK_KERNEL) != 0;
}

/* "online" / "offline" / "going-offline" */
int parse_block_state(const char *s, enum block_state *out);
/* One zone name, case as the kernel prints it. */
int parse_zone_name(const char *s, enum zone_id *out);
/*
 * valid_zones: space separated zone names, or "none".  The first listed zone
 * is the kernel's default for a plain "online".  *mask gets every zone,
 * *first the default (ZONE_ID_NONE for "none").
 */
int parse_valid_zones(const char *s, unsigned *mask, enum zone_id *first);
/* block_size_bytes: hex without 0x ("8000000"); must be a power of two >= 1 MiB. */
int parse_block_size(const char *s, uint64_t *out);
/* phys_index: hex without 0x. */
int parse_phys_index(const char *s, uint64_t *out);
/*
 * Blocks are at least 1 MiB (parse_block_size) of a 64-bit address space:
 * no kernel names a block above this.
 */
#define BLOCK_INDEX_MAX (UINT64_MAX >> 20)
/* "memory123" -> 123; anything else (and an index above BLOCK_INDEX_MAX) -EINVAL. */
int parse_block_name(const char *name, uint64_t *index);
/* "node3" -> 3; anything else -EINVAL. */
int parse_node_name(const char *name, int *node);
/* dax "resource"/"start"/"end": hex with 0x; "size": decimal. */
int parse_hex_addr(const char *s, uint64_t *out);

/* auto_online_blocks: "offline", "online", "online_kernel", "online_movable". */
enum auto_online {
	AUTO_ONLINE_UNKNOWN = 0,
	AUTO_ONLINE_OFFLINE,
	AUTO_ONLINE_ONLINE,
	AUTO_ONLINE_KERNEL,
	AUTO_ONLINE_MOVABLE,
};
int parse_auto_online(const char *s, enum auto_online *out);
const char *auto_online_name(enum auto_online a);

/* memory_hotplug.memmap_on_memory: "Y", "N", "force" (also 1/0). */
enum memmap_param {
	MEMMAP_PARAM_UNKNOWN = 0,
	MEMMAP_PARAM_OFF,
	MEMMAP_PARAM_ON,
	MEMMAP_PARAM_FORCE,
};
int parse_memmap_param(const char *s, enum memmap_param *out);
const char *memmap_param_name(enum memmap_param p);

/*
 * Node meminfo line: "Node 0 MemTotal:       16318060 kB".  Fills the value
 * in bytes for MemTotal and MemFree; other keys return 0 without touching
 * the outputs, garbage returns -EINVAL.
 */
struct node_meminfo {
	uint64_t total;
	uint64_t free;
	bool has_total, has_free;
};
int parse_node_meminfo(const char *text, int node, struct node_meminfo *out);

/*
 * /proc/zoneinfo: per node and zone the free, spanned, present and managed
 * page counts.  Unknown zone names are skipped; garbage numbers are -EINVAL.
 */
struct zoneinfo_zone {
	int node;
	enum zone_id zone;
	uint64_t free, spanned, present, managed;
};
struct zoneinfo {
	struct zoneinfo_zone *zones;
	size_t nzones;
};
int parse_zoneinfo(const char *text, struct zoneinfo *out);
void zoneinfo_free(struct zoneinfo *zi);

#endif
