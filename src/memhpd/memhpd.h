/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memhpd internals.  One struct daemon holds everything; each file owns one
 * job:
 *   main.c      options, startup, --once
 *   log.c       journal (structured fields) or stderr
 *   events.c    udev monitor, batching of event storms, ENOBUFS rescans
 *   engine.c    coldplug and batch processing: decide + apply per device
 *   dax_mode.c  dax devdax -> system-ram (libdaxctl on the host, sysfs in a sysroot)
 *   state.c     /run/memhpd/state.json: write atomically, reload, reconcile
 *   control.c   control socket server (protocol in src/lib/control.c)
 *   metrics.c   OpenMetrics textfile for node_exporter
 */
#ifndef MEMHPD_H
#define MEMHPD_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>
#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "idxset.h"
#include "machine.h"
#include "policy.h"
#include "standby_policy.h"
#include "sysroot.h"

struct udev;
struct udev_monitor;

/* ---- log.c ---- */
void log_setup(int level, bool force_stderr);
void log_set_level(int level);
/*
 * Log one line.  device/block/decision may be NULL; under systemd they become
 * the journal fields MEMHPD_DEVICE=, MEMHPD_BLOCK=, MEMHPD_DECISION=.
 */
void log_msg(int prio, const char *device, const char *block, const char *decision,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define log_err(...) log_msg(LOG_ERR, NULL, NULL, NULL, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, NULL, NULL, NULL, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, NULL, NULL, NULL, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, NULL, NULL, NULL, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, NULL, NULL, NULL, __VA_ARGS__)

/* ---- state.c: what memhpd knows and did, per device ---- */
struct dev_record {
	char id[DEVICE_ID_MAX];
	enum device_type type;
	char decision[16];        /* "online", "leave", "" = never decided */
	char zone[16];            /* "movable", "kernel", "" */
	char memmap[16];          /* placement at decision time */
	bool memmap_chosen;       /* memhpd chose it (dax / runtime param) */
	struct strv reasons;
	uint64_t decided_at;      /* CLOCK_REALTIME seconds */
	uint64_t applied_at;
	unsigned onlined;         /* blocks memhpd onlined */
	unsigned by_other;        /* blocks found onlined by someone else */
	unsigned failed;          /* blocks that could not be onlined */
	char last_error[160];     /* "memory40: online_movable: Device or resource busy" */
	uint64_t memmap_on_device_bytes, memmap_in_ram_bytes;
	/*
	 * Blocks memhpd has handled: onlined, or found online.  Only blocks
	 * outside this set are onlined automatically, so a block an admin
	 * offlines later stays offline; blocks that disappear leave the set.
	 */
	struct idxset handled;
	bool seen; /* present in the current machine snapshot */
	/*
	 * state.c: looked up (state_record(), state_find()) or changed by
	 * state.c since its JSON was last made.  Only such a record can
	 * differ from its kept JSON, so a write looks at these alone: a
	 * pointer to a record is for changes until the next state_write().
	 */
	bool touched;
	/* state.c: the record's JSON as last written, and the bytes it was made from */
	char *json, *json_key;
	size_t json_len, json_key_len;
};

struct counters {
	uint64_t events, batches, batches_early, rescans, enobufs;
	uint64_t decisions_online, decisions_leave;
	uint64_t blocks_onlined, blocks_offlined, conflicts;
	uint64_t failures_ebusy, failures_einval, failures_other, failures_node_timeout;
	uint64_t dax_reconfigured, reloads, reload_failures;
};

struct state {
	struct dev_record *dev;
	size_t ndev, cap;
	struct counters cnt;
	bool dirty;
};

/*
 * The record of device id, made if there is none (state_record) or NULL
 * (state_find).  The pointer is good until the next state_record() (the
 * array may move) and for changes until the next state_write() (see
 * dev_record.touched): look it up again after either.
 */
struct dev_record *state_record(struct state *st, const char *id, enum device_type type);
struct dev_record *state_find(struct state *st, const char *id);
void state_free(struct state *st);
/*
 * temp file + fsync + rename + fsync(dir); returns 0 or -errno.  Keeps each
 * record's JSON in the record: only records that changed are serialized.
 */
int state_write(struct state *st, const char *path);
/* Parse a state file written by state_write; -ENOENT if absent, -EINVAL (msg) if corrupt. */
int state_read(struct state *st, const char *path, char *msg, size_t msglen);
/*
 * Compare what the state file says with the machine (sysfs wins): log each
 * discrepancy, drop records of devices that are gone, fix counts.  Returns
 * the number of discrepancies.
 */
int state_reconcile(struct state *st, const struct machine *m);
json_object *state_to_json(const struct state *st);
/* Forget handled blocks that no longer exist (hot-removed); returns how many. */
size_t state_forget_missing(struct state *st, const struct machine *m);

/* ---- metrics.c ---- */
/* Write the OpenMetrics/Prometheus textfile atomically; "" path = off (returns 0). */
int metrics_write(const char *path, const struct machine *m, const struct state *st);
/* The text metrics_write writes, with "now" as the update timestamp; NULL on ENOMEM. */
char *metrics_render(const struct machine *m, const struct state *st, uint64_t now);

/* ---- atomic_file.c ---- */
/*
 * Replace path with data: "<path>.tmp.XXXXXX" in the same directory (parents
 * created 0755 if missing), mode 0644, fsync, rename, fsync the directory.
 * Returns 0 or -errno; the temporary file never survives a failure.
 */
int write_file_atomic(const char *path, const char *data, size_t len);

/* ---- the daemon ---- */
struct daemon {
	/* options */
	const char *sysroot_path;
	const char *config_path;
	const char *config_dir;
	bool once;
	bool force_stderr;
	int cli_log_level; /* -1: from config */

	struct sysroot *sr;
	struct config cfg; /* the active (last good) configuration */
	struct machine *m; /* current snapshot */
	struct state st;
	uint64_t state_saved_ms; /* CLOCK_MONOTONIC ms of the last state file write */

	sd_event *ev;
	struct udev *udev;
	struct udev_monitor *mon;
	sd_event_source *mon_src;
	sd_event_source *batch_src;  /* settle timer for batched events */
	sd_event_source *retry_src;  /* node-link waits and EBUSY backoff */
	uint64_t batch_started;      /* CLOCK_MONOTONIC us of the first pending event */
	uint64_t batch_deadline;     /* CLOCK_MONOTONIC us when the settle time is up */
	uint64_t batch_timer_at;     /* CLOCK_MONOTONIC us the batch timer is set to */
	uint64_t batch_ended;        /* CLOCK_MONOTONIC us the last batch was done, 0: none */

	/* pending work collected from events */
	uint64_t *dirty_blocks;      /* block indices added/changed */
	size_t ndirty, dirty_cap;
	struct strv dirty_dax;       /* dax device names */
	bool rescan;                 /* full rescan requested (coldplug, ENOBUFS) */
	bool process_all;            /* handle every device of the current model */

	/* blocks waiting for their node link: index and first-seen time (ms) */
	struct node_wait {
		uint64_t index;
		uint64_t since_ms;
	} *waits;
	size_t nwaits, waits_cap;

	int control_fd;
	sd_event_source *control_src;
	unsigned nclients;

	char status[256]; /* last STATUS= */
	/* for --once: blocks/devices handled and failed since the coldplug began */
	unsigned done_ok, done_failed;
	int exit_code; /* 0 nothing failed, 1 only failures, 64 both */

	/* standby.c: s390 standby memory ([standby] enabled) */
	bool standby_active;
	bool standby_psi_warned;
	struct sp_state standby_sp;
	sd_event_source *standby_timer;   /* scan_interval */
	sd_event_source *standby_psi_src; /* PSI trigger, EPOLLPRI */
	sd_event_source *standby_sig_src; /* SIGUSR1: look now */
	char standby_last[320];           /* last blocking hold reason, logged once */
};

/* engine.c */
/*
 * Coldplug: handle every block and dax device of d->m, which main() has just
 * scanned (after the monitor started); rescans only if that scan failed.
 */
int engine_coldplug(struct daemon *d);
/* Process pending events: update the model for dirty blocks, decide, apply. */
int engine_process(struct daemon *d);
/*
 * Whether the pending batch can be processed before its settle time is up:
 * only memory blocks changed, and they all belong to ACPI DIMMs whose add is
 * over (machine_dimms_complete).  The DIMMs' other blocks, whose uevents
 * are still on their way, join the batch.  Reads sysfs; errors count as
 * "not yet".
 */
bool engine_batch_ready(struct daemon *d);
/* kernel_auto_online handling at start */
void engine_check_auto_online(struct daemon *d);
/* Companion kernel: set the runtime memmap_on_memory for the next ACPI add (start, reload). */
void engine_set_memmap_param(struct daemon *d);
/* Online/offline requests (control socket); fill reply with per-block results. */
int engine_request(struct daemon *d, const char *op, const char *target, const char *zone,
		   unsigned timeout_ms, json_object *reply);
/* Rebuild the model from scratch (coldplug, ENOBUFS, reload). */
int engine_rescan(struct daemon *d);
void engine_update_status(struct daemon *d, const char *what);

/* events.c */
int events_start(struct daemon *d);
void events_stop(struct daemon *d);
/* Note work and arm the settle timer. */
void events_mark_block(struct daemon *d, uint64_t index);
void events_mark_dax(struct daemon *d, const char *name);
void events_mark_rescan(struct daemon *d);

/* dax_mode.c: devdax -> system-ram with the memmap placement chosen */
int dax_to_system_ram(struct sysroot *sr, const char *name, enum memmap_place memmap, char *msg,
		      size_t msglen);

/* control.c */
int control_start(struct daemon *d);
void control_stop(struct daemon *d);

/* standby.c: start after coldplug (enforces floor/ceiling once; timers unless --once) */
int standby_start(struct daemon *d);
void standby_stop(struct daemon *d);
/* Scan, decide, act; trigger names what woke it ("scan", "SIGUSR1", ...). */
int standby_run(struct daemon *d, const char *trigger);

/* main.c */
int daemon_reload(struct daemon *d, char *msg, size_t msglen);

#endif
