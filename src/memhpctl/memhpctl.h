/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memhpctl internals: global options and helpers shared by the subcommands. */
#ifndef MEMHPCTL_H
#define MEMHPCTL_H

#include <stdbool.h>
#include <json-c/json.h>

#include "config.h"
#include "machine.h"
#include "sysroot.h"

/* chmem's convention */
#define EXIT_PARTIAL 64

struct ctl {
	const char *sysroot;
	const char *config;     /* NULL: default path */
	const char *config_dir; /* NULL: default drop-in dir */
	const char *socket;     /* status/reload: NULL = config's control_socket */
	bool json;
	int verbose;
	/* list */
	unsigned what; /* RENDER_* mask, 0 = default */
	/* online/offline */
	const char *zone;      /* NULL: the policy's choice */
	unsigned timeout_ms;   /* per block */
	/* standby configure */
	const char *memmap;    /* --memmap: NULL = the policy's choice */
	bool no_online;        /* --no-online */
	/* positional arguments after the command */
	int argc;
	char **argv;
};

/* Print an error message prefixed with "memhpctl: ". */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Open the sysroot and scan; prints scan problems with -v; returns 0 or an exit code. */
int ctl_scan(const struct ctl *c, struct sysroot **sr, struct machine **m);
/*
 * Load and validate the configuration the daemon would use (below --sysroot
 * unless --config is given); 0 or -errno, errors in cfg->errors.
 */
int ctl_config_load(const struct ctl *c, struct config *cfg);
/* Load the configuration (defaults when no file); prints errors; returns 0 or exit code. */
int ctl_config(const struct ctl *c, struct config *cfg);
#define CTL_JSON_FLAGS \
	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
void ctl_print_json(json_object *o);

int cmd_list(struct ctl *c);
int cmd_explain(struct ctl *c);
int cmd_online(struct ctl *c);
int cmd_offline(struct ctl *c);
int cmd_check_config(struct ctl *c);
int cmd_status(struct ctl *c);
int cmd_reload(struct ctl *c);
int cmd_standby(struct ctl *c);

/* A plain text table: columns sized to their widest cell. */
struct table;
struct table *table_new(unsigned ncols, const char *const *headers);
void table_add(struct table *t, ...); /* ncols strings */
void table_print(struct table *t, FILE *f);
void table_free(struct table *t);

#endif
