/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * s390 standby memory: the increments an LPAR may assign (configure) and
 * unassign (deconfigure) at run time.  Which kernel interface applies is
 * detected from what sysfs shows, never from the kernel version:
 *
 *   firmware (Linux 6.19+)  sys/firmware/memory/memoryN/config (0/1) and
 *       memmap_on_memory (0/1, writable only while deconfigured: EBUSY once
 *       configured, EOPNOTSUPP when the kernel cannot place the memmap on the
 *       memory).  config=1 adds the memory block (it may be auto-onlined per
 *       auto_online_blocks); config=0 removes it and needs it offline first.
 *       A deconfigured increment has no sys/devices/system/memory/memoryN.
 *   legacy (before 6.19)  standby increments are the offline blocks above the
 *       assigned storage; onlining assigns the storage, offlining unassigns
 *       it; the memmap placement was fixed at boot.
 *
 * Sizes, ranges and block ranges follow util-linux chmem: SIZE without a unit
 * is MiB and must be a multiple of the block size; RANGE is 0xSTART-0xEND
 * (END inclusive) aligned to blocks; --blocks takes A-B or A.  A SIZE walks
 * increments upwards when configuring and downwards when deconfiguring,
 * skipping ones already in the requested state; a RANGE counts those as done.
 * Unlike chmem -c, configure also onlines (unless no_online), so a SIZE also
 * picks configured increments that are still offline; a SIZE deconfigure
 * never touches memory online in a kernel zone (boot memory).
 * Nothing here prints: every step is reported to a callback.
 */
#ifndef MEMHP_STANDBY_H
#define MEMHP_STANDBY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "machine.h"

struct sysroot;

enum standby_iface {
	STANDBY_IFACE_NONE = 0, /* not s390, or nothing that looks like standby memory */
	STANDBY_IFACE_LEGACY, /* before 6.19: standby = offline blocks */
	STANDBY_IFACE_FIRMWARE, /* 6.19+: sys/firmware/memory */
};
/* "none", "legacy", "firmware" */
const char *standby_iface_name(enum standby_iface i);

struct standby_incr {
	char name[BLOCK_NAME_MAX]; /* "memory12" */
	uint64_t index, start, size;
	bool configured; /* firmware: config=1; legacy: online */
	int fw_memmap_on_memory; /* firmware attribute, -1 absent */
	enum memmap_place
		memmap; /* configured: where it is; deconfigured: what config=1 would use */
	int block; /* index into machine.blocks, -1 when no memoryN exists */
	enum block_state state; /* BLOCK_STATE_UNKNOWN without a memory block */
	enum zone_id zone; /* when online */
	unsigned valid_zones;
	int removable; /* -1 unknown */
};

struct standby {
	enum standby_iface iface;
	uint64_t block_size;
	struct standby_incr *incr; /* ascending index */
	size_t n;
	/* totals in bytes */
	uint64_t configured, deconfigured, online, offline;
	uint64_t memmap_on_memory; /* configured increments whose memmap is on the memory */
	struct strv errors; /* "path: message", scan problems of single increments */
};

/*
 * Build the standby view from the machine snapshot (blocks) and, on the
 * firmware interface, sys/firmware/memory.  Returns 0 (also for
 * STANDBY_IFACE_NONE) or -ENOMEM; unreadable increments land in sb->errors.
 */
int standby_scan(struct sysroot *sr, const struct machine *m, struct standby *sb);
void standby_free(struct standby *sb);
struct standby_incr *standby_find(const struct standby *sb, uint64_t index);

/*
 * May a policy give this increment back: configured, online in ZONE_MOVABLE
 * and not marked unremovable (so offlining it can succeed and shrinks online
 * memory)?
 */
bool standby_incr_shrinkable(const struct standby_incr *in);

struct standby_sel {
	bool is_size;
	uint64_t count; /* is_size: blocks wanted */
	uint64_t first, last; /* else: block indices, inclusive */
};

/*
 * Parse SIZE | 0xSTART-0xEND | (blocks) A-B | A the way chmem does.  Returns 0
 * or -EINVAL with msg saying why.
 */
int standby_parse_sel(const char *arg, bool blocks, uint64_t block_size, struct standby_sel *sel,
		      char *msg, size_t msglen);

struct standby_opts {
	enum memmap_choice memmap; /* configure: MC_UNSET = the policy decides */
	enum zone_choice zone; /* configure: ZC_UNSET = the policy decides */
	bool no_online; /* configure only (chmem -c); firmware interface only */
	bool shrinkable_only; /* deconfigure: skip what standby_incr_shrinkable refuses */
	unsigned timeout_ms; /* per block, online and offline */
};

/*
 * One step on one increment.  op: "memmap", "configure", "online", "offline",
 * "deconfigure", "skip".  err: 0 or the -errno; msg: a sentence.
 */
typedef void (*standby_report_fn)(void *data, const struct standby_incr *in, const char *op,
				  int err, const char *msg);

struct standby_tally {
	uint64_t requested; /* increments asked for */
	uint64_t done; /* ended in the requested state */
	uint64_t failed; /* tried and failed */
	struct strv reasons; /* policy reasons for the memmap / zone chosen */
};

/*
 * Configure (and online, unless no_online) / offline and deconfigure the
 * selected increments.  m is updated in place (blocks appear and vanish), sb
 * is rescanned at the end.  Returns 0 (results in the tally: exit code with
 * standby_exit_code) or -errno when nothing was tried (-ENODEV: no standby
 * interface, -EOPNOTSUPP: the request needs the firmware interface; msg set).
 */
int standby_configure(struct sysroot *sr, const struct config *cfg, struct machine *m,
		      struct standby *sb, const struct standby_sel *sel,
		      const struct standby_opts *o, standby_report_fn report, void *data,
		      struct standby_tally *t, char *msg, size_t msglen);
int standby_deconfigure(struct sysroot *sr, const struct config *cfg, struct machine *m,
			struct standby *sb, const struct standby_sel *sel,
			const struct standby_opts *o, standby_report_fn report, void *data,
			struct standby_tally *t, char *msg, size_t msglen);
void standby_tally_free(struct standby_tally *t);

/* 0 all done, 64 some, 1 none (chmem). */
int standby_exit_code(const struct standby_tally *t);

#endif
