/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Configuration: /etc/memhpd/memhpd.conf plus memhpd.conf.d/ *.conf in
 * lexical order, parsed with inih.  Later files win per key.  Every problem is
 * reported as "file:line: message" in cfg->errors; a config with errors must
 * not be used.
 */
#ifndef MEMHP_CONFIG_H
#define MEMHP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "machine.h"
#include "util.h"

#define MEMHPD_CONF_DEFAULT "/etc/memhpd/memhpd.conf"
#define MEMHPD_CONF_DIR_DEFAULT "/etc/memhpd/memhpd.conf.d"
#define MEMHPD_STATE_FILE_DEFAULT "/run/memhpd/state.json"
#define MEMHPD_CONTROL_SOCKET_DEFAULT "/run/memhpd/control"
#define RULE_NAME_MAX 64

enum zone_choice {
	ZC_UNSET = 0,
	ZC_MOVABLE,
	ZC_KERNEL,
};
const char *zone_choice_name(enum zone_choice z); /* "movable", "kernel", "unset" */

enum memmap_choice {
	MC_UNSET = 0,
	MC_AUTO,
	MC_ON_MEMORY,
	MC_RAM,
};
const char *memmap_choice_name(enum memmap_choice m); /* "auto", "on-memory", "ram" */

enum kernel_auto_online_mode {
	KAO_SET_OFFLINE = 0,
	KAO_WARN,
	KAO_IGNORE,
};
const char *kao_name(enum kernel_auto_online_mode k);

enum rule_action {
	RA_UNSET = 0,
	RA_ONLINE,
	RA_IGNORE,
};

enum dax_mode {
	DAX_MODE_UNSET = 0,
	DAX_MODE_DEVDAX, /* leave as a character device */
	DAX_MODE_SYSTEM_RAM, /* hand to kmem and online */
};

/* Match keys; the value is also the key's weight in specificity. */
enum rule_match {
	RM_TYPE = 1u << 0,
	RM_NODE = 1u << 1,
	RM_SIZE = 1u << 2,
	RM_REGION = 1u << 3,
	RM_RANGE = 1u << 4,
	RM_NAME = 1u << 5,
	RM_UUID = 1u << 6,
};

struct rule {
	char name[RULE_NAME_MAX];
	char file[256];
	int line;
	unsigned match; /* RM_* mask: its numeric value is the rule's specificity */
	enum device_type type;
	char dev_name[64]; /* device id or dax name; glob allowed (fnmatch) */
	int node;
	uint64_t size_min, size_max; /* inclusive */
	char uuid[40];
	char region[32];
	uint64_t range_start, range_end; /* inclusive physical range the device must lie in */

	enum rule_action action;
	enum zone_choice zone;
	enum memmap_choice memmap;
	bool hugepages_1g;
	enum dax_mode dax_mode;
};

/* [standby]: s390 standby memory (see standby.h, standby_policy.h) */
struct standby_config {
	bool enabled; /* opt-in */
	uint64_t floor; /* bytes of online memory to keep at least, 0 = none */
	uint64_t ceiling; /* bytes of online memory never to exceed, 0 = none */
	uint64_t step; /* bytes per grow/shrink action */
	enum memmap_choice memmap; /* for increments memhpd configures */
	enum zone_choice zone; /* ZC_UNSET: [policy] zone.s390-standby */
	unsigned
		pressure_threshold; /* PSI memory "some" avg10 in hundredths of a percent, 0 = off */
	unsigned grow_window_ms; /* pressure above threshold this long: grow */
	unsigned shrink_idle_ms; /* pressure below threshold / 2 this long: shrink */
	unsigned min_interval_ms; /* at most one action per interval */
	unsigned scan_interval_ms; /* the firmware kobjects emit no uevents: rescan */
	char file[256]; /* where [standby] was last set, for validation messages */
	int line;
};

struct config {
	/* [daemon] */
	int log_level; /* syslog priority, LOG_INFO default */
	enum kernel_auto_online_mode kernel_auto_online;
	char state_file[256];
	char control_socket[256];
	char metrics_file[256]; /* "" = off */
	unsigned node_wait_ms; /* how long to wait for a block's node link */
	unsigned online_retries; /* EBUSY/EAGAIN retries per block */
	unsigned retry_backoff_ms; /* first backoff, doubled each retry */
	unsigned offline_timeout_ms;
	unsigned batch_ms; /* settle time to group an event storm */

	/* [policy] */
	bool online; /* online hot-added memory at all */
	int movable_ratio; /* percent MOVABLE:KERNEL per node; -1 = no guard */
	enum memmap_choice memmap; /* default for devices without a rule */
	enum memmap_choice memmap_auto_default; /* what auto picks when nothing forces it */
	unsigned memmap_ram_max_percent;
	enum zone_choice zone[DEV_TYPE_MAX]; /* per device type */
	enum dax_mode dax_mode; /* default for dax devices without a rule */

	struct rule *rules;
	size_t nrules;

	/* files that were read, in order */
	struct strv files;
	/* "file:line: message" for every problem; non-empty means invalid */
	struct strv errors;

	struct standby_config standby; /* [standby] */
};

/* Fill defaults (what memhpd does with no config file at all). */
void config_init(struct config *cfg);
void config_free(struct config *cfg);

/*
 * Load main_path (a missing main file is not an error: defaults apply) and
 * every *.conf in dropin_dir (NULL to skip) in lexical order.  Returns 0, or
 * -EINVAL when cfg->errors is non-empty, or -errno on I/O failure (also
 * reported in cfg->errors).
 */
int config_load(struct config *cfg, const char *main_path, const char *dropin_dir);

/* Load exactly these files in order (check-config FILE...). */
int config_load_files(struct config *cfg, char *const *files, size_t nfiles);

/*
 * The default configuration file and drop-in directory for a sysroot: with
 * one other than "/" (NULL) the whole "/" is that directory, as for lsmem.
 */
void config_default_paths(const char *sysroot, char *file, size_t fsize, char *dir, size_t dsize);

/*
 * Likewise for the runtime paths: a state file or control socket left at its
 * default moves below the sysroot, so a test or a demo never touches the
 * host's /run/memhpd.  Explicitly configured paths stay as they are.
 * Returns 0 or -ENAMETOOLONG (also reported in cfg->errors).
 */
int config_rebase_defaults(struct config *cfg, const char *sysroot);

/* Static cross-checks after loading (duplicate match sets, ...); appends to errors. */
int config_validate(struct config *cfg);

#endif
