/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the machine-model files (machine.c, dax.c, devices.c, memmap.c). */
#ifndef MEMHP_MACHINE_INTERNAL_H
#define MEMHP_MACHINE_INTERNAL_H

#include "machine.h"
#include "sysroot.h"

/* Record a per-item scan problem; never fails (drops the record on ENOMEM). */
void machine_add_error(struct machine *m, const char *path, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* dax.c: read /sys/bus/dax/devices into m->dax. */
int machine_scan_dax(struct sysroot *sr, struct machine *m);
/* devices.c: group blocks into devices (needs blocks, iomem, dax). */
int machine_group_devices(struct machine *m);
/*
 * devices.c: whether block b, re-read, still belongs to device b->device by
 * the rules of machine_group_devices(), so that a regroup would not change
 * any device.  False for blocks in runs of unnamed blocks (unknown, s390
 * standby): those depend on their neighbours.
 */
bool machine_block_keeps_device(const struct machine *m, const struct mem_block *b);
/*
 * devices.c: put block bi, new and above every other block (the last in
 * m->blocks), where a regroup would: into the device of its owner, new or
 * not.  1, 0 when only a regroup can place it (a block without a named
 * owner), -ENOMEM.
 */
int machine_device_append(struct machine *m, size_t bi);
/* memmap.c: memmap placement and evidence of every block. */
void machine_infer_memmap(struct machine *m);
/* ... of one block, before the zoneinfo check */
void machine_infer_block(const struct machine *m, struct mem_block *b);
/* an online movable block whose memmap place is a guess zoneinfo may settle */
bool memmap_guessed_movable(const struct mem_block *b);
/* what zoneinfo says of node n's guessed blocks, given the node's sums */
enum memmap_place memmap_node_verdict(const struct machine *m, uint64_t guessed,
				      uint64_t known_pages, const struct numa_node *n);
/* the node's verdict (n->memmap_verdict) on block b, if b is a guess */
void memmap_apply_verdict(const struct machine *m, struct mem_block *b);

#endif
