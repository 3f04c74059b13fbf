// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Configuration loading: memhpd.conf plus memhpd.conf.d/ *.conf, parsed with
 * inih.  Nothing here logs; every problem becomes "file:line: message" in
 * cfg->errors and loading goes on, so one run reports all of them.
 *
 * Line numbers.  Debian's libinih is built without INI_HANDLER_LINENO, so the
 * handler does not learn the line it is called for.  We therefore feed inih
 * through ini_parse_stream() with our own reader: the reader reads one
 * physical line, counts it, and hands it to inih, which calls the handler for
 * that line before asking the reader for the next one.  So when the handler
 * runs, ctx->lineno is the line being handled.
 *
 * The reader also does the lexical checks itself, for three reasons: inih
 * silently splits lines longer than INI_MAX_LINE (which would shift every
 * later line number), it treats indented lines as continuations of the
 * previous value (surprising; we strip leading blanks instead, so keys may
 * be indented), and it never calls the handler for an empty section or for
 * malformed lines (we want "[rule x]" without keys and "garbage" reported).
 * Section headers are handled entirely in the reader; inih only ever sees a
 * placeholder header, comments, blank lines and well-formed "key = value"
 * lines, whose splitting, stripping and inline ';' comments it does for us.
 */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>

#include <ini.h>

#include "config.h"

#define MAX_DURATION_MS (24u * 60 * 60 * 1000)
#define MAX_RETRIES 1000
#define MAX_MOVABLE_RATIO 100000
#define MAX_NODE 65535
#define MAX_FILE_BYTES (1024 * 1024)
/* inih's name buffer; longer keys would be truncated before the handler sees them */
#define KEY_MAX 49

const char *zone_choice_name(enum zone_choice z)
{
	switch (z) {
	case ZC_MOVABLE:
		return "movable";
	case ZC_KERNEL:
		return "kernel";
	default:
		return "unset";
	}
}

const char *memmap_choice_name(enum memmap_choice m)
{
	switch (m) {
	case MC_AUTO:
		return "auto";
	case MC_ON_MEMORY:
		return "on-memory";
	case MC_RAM:
		return "ram";
	default:
		return "unset";
	}
}

const char *kao_name(enum kernel_auto_online_mode k)
{
	switch (k) {
	case KAO_SET_OFFLINE:
		return "set-offline";
	case KAO_WARN:
		return "warn";
	case KAO_IGNORE:
		return "ignore";
	}
	return "unknown";
}

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = LOG_INFO;
	cfg->kernel_auto_online = KAO_SET_OFFLINE;
	strscpy_safe(cfg->state_file, MEMHPD_STATE_FILE_DEFAULT, sizeof(cfg->state_file));
	strscpy_safe(cfg->control_socket, MEMHPD_CONTROL_SOCKET_DEFAULT, sizeof(cfg->control_socket));
	cfg->metrics_file[0] = '\0';
	cfg->node_wait_ms = 2000;
	cfg->online_retries = 5;
	cfg->retry_backoff_ms = 50;
	cfg->offline_timeout_ms = 30000;
	cfg->batch_ms = 200;

	cfg->online = true;
	cfg->movable_ratio = 301;
	cfg->memmap = MC_AUTO;
	cfg->memmap_auto_default = MC_RAM;
	cfg->memmap_ram_max_percent = 25;
	cfg->zone[DEV_BOOT] = ZC_KERNEL;
	cfg->zone[DEV_ACPI_DIMM] = ZC_MOVABLE;
	cfg->zone[DEV_VIRTIO_MEM] = ZC_KERNEL;
	cfg->zone[DEV_DAX] = ZC_MOVABLE;
	cfg->zone[DEV_S390_STANDBY] = ZC_MOVABLE;
	cfg->zone[DEV_UNKNOWN] = ZC_MOVABLE;
	cfg->dax_mode = DAX_MODE_DEVDAX;

	cfg->standby.enabled = false;
	cfg->standby.step = 1 * GiB;
	cfg->standby.memmap = MC_AUTO;
	cfg->standby.zone = ZC_UNSET;
	cfg->standby.pressure_threshold = 1000; /* 10% */
	cfg->standby.grow_window_ms = 30 * 1000;
	cfg->standby.shrink_idle_ms = 10 * 60 * 1000;
	cfg->standby.min_interval_ms = 60 * 1000;
	cfg->standby.scan_interval_ms = 30 * 1000;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	free(cfg->rules);
	cfg->rules = NULL;
	cfg->nrules = 0;
	strv_clear(&cfg->files);
	strv_clear(&cfg->errors);
}

/* ------------------------------------------------------------------------ */
/* Loader state */

/* Where a rule was last opened during this load, to tell overrides from duplicates. */
struct rule_origin {
	int file_no; /* -1: not seen in this load (rules from an earlier call) */
	int line;
};

struct loader {
	struct config *cfg;
	struct rule_origin *origin; /* parallel to cfg->rules */
	size_t origin_cap;
	int file_no;
	int io_error; /* first -errno */
	bool oom;
};

enum section_kind {
	SEC_NONE = 0, /* before the first header */
	SEC_DAEMON,
	SEC_POLICY,
	SEC_RULE,
	SEC_STANDBY,
	SEC_BAD, /* unknown section: its keys are skipped (the header was reported) */
};

struct seen_key {
	char *id; /* "section\037key" */
	int line;
};

struct file_ctx {
	struct loader *ld;
	FILE *f;
	const char *path;
	int lineno;
	char line[256]; /* the start of the current line; longer lines are errors */
	size_t bytes; /* read so far */
	bool stop;
	int read_error;

	enum section_kind sec;
	char secname[RULE_NAME_MAX + 8]; /* as printed in messages: "policy", "rule x" */
	ssize_t rule_idx; /* index into cfg->rules, -1: scratch */
	struct rule scratch; /* keys of a rejected [rule] are still checked */

	struct seen_key *seen;
	size_t nseen, seen_cap;
};

static void __printf(2, 3) ld_err(struct loader *ld, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (strv_vpushf(&ld->cfg->errors, fmt, ap) < 0)
		ld->oom = true;
	va_end(ap);
}

/* "FILE:LINE: message" */
static void __printf(2, 3) line_err(struct file_ctx *c, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0) {
		msg = NULL;
		c->ld->oom = true;
		return;
	}
	ld_err(c->ld, "%s:%d: %s", c->path, c->lineno, msg);
}

/* "FILE:LINE: [section] key: message" */
static void __printf(3, 4) key_err(struct file_ctx *c, const char *key, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0) {
		msg = NULL;
		c->ld->oom = true;
		return;
	}
	ld_err(c->ld, "%s:%d: [%s] %s: %s", c->path, c->lineno, c->secname, key, msg);
}

static struct rule *cur_rule(struct file_ctx *c)
{
	if (c->rule_idx < 0)
		return &c->scratch;
	return &c->ld->cfg->rules[c->rule_idx];
}

/* ------------------------------------------------------------------------ */
/* Value parsers: return 0 or report an error for KEY and return -EINVAL. */

struct name_value {
	const char *name;
	int value;
};

static int parse_choice(struct file_ctx *c, const char *key, const char *v,
			const struct name_value *tab, size_t n, int *out)
{
	char list[256] = "";

	for (size_t i = 0; i < n; i++) {
		if (streq(v, tab[i].name)) {
			*out = tab[i].value;
			return 0;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, tab[i].name, sizeof(list) - strlen(list) - 1);
	}
	key_err(c, key, "\"%s\" is not one of: %s", v, list);
	return -EINVAL;
}

#define CHOICE(c, key, v, tab, out) parse_choice(c, key, v, tab, ARRAY_SIZE(tab), out)

static const struct name_value log_levels[] = {
	{ "emerg", LOG_EMERG }, { "alert", LOG_ALERT },	    { "crit", LOG_CRIT },
	{ "err", LOG_ERR },	{ "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO },	{ "debug", LOG_DEBUG },
};
static const struct name_value kao_modes[] = {
	{ "set-offline", KAO_SET_OFFLINE },
	{ "warn", KAO_WARN },
	{ "ignore", KAO_IGNORE },
};
static const struct name_value zone_values[] = {
	{ "movable", ZC_MOVABLE },
	{ "kernel", ZC_KERNEL },
};
static const struct name_value memmap_values[] = {
	{ "auto", MC_AUTO },
	{ "on-memory", MC_ON_MEMORY },
	{ "ram", MC_RAM },
};
static const struct name_value memmap_default_values[] = {
	{ "on-memory", MC_ON_MEMORY },
	{ "ram", MC_RAM },
};
static const struct name_value dax_mode_values[] = {
	{ "devdax", DAX_MODE_DEVDAX },
	{ "system-ram", DAX_MODE_SYSTEM_RAM },
};
static const struct name_value action_values[] = {
	{ "online", RA_ONLINE },
	{ "ignore", RA_IGNORE },
};

static int parse_yesno(struct file_ctx *c, const char *key, const char *v, bool *out)
{
	if (parse_bool(v, out) < 0) {
		key_err(c, key, "\"%s\" is not a boolean (use yes or no)", v);
		return -EINVAL;
	}
	return 0;
}

/* "250ms", "2s", "1m": a unit is required so nobody has to guess. */
static int parse_duration(struct file_ctx *c, const char *key, const char *v, unsigned *out)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 } };
	const char *p = v;
	uint64_t n = 0;
	bool overflow = false;

	if (!isdigit((unsigned char)*p))
		goto bad;
	while (isdigit((unsigned char)*p)) {
		if (n > (UINT64_MAX - 9) / 10)
			overflow = true;
		else
			n = n * 10 + (uint64_t)(*p - '0');
		p++;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p) {
		key_err(c, key,
			"\"%s\" has no unit (write e.g. \"2s\" or \"250ms\"; units: ms, s, m)", v);
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (!streq(p, units[i].unit))
			continue;
		if (overflow || n > MAX_DURATION_MS / units[i].ms) {
			key_err(c, key, "\"%s\" is too long (at most 24 hours)", v);
			return -EINVAL;
		}
		*out = (unsigned)(n * units[i].ms);
		return 0;
	}
bad:
	key_err(c, key, "\"%s\" is not a duration (e.g. \"250ms\", \"2s\", \"1m\")", v);
	return -EINVAL;
}

static int parse_count(struct file_ctx *c, const char *key, const char *v, unsigned max,
		       unsigned *out)
{
	uint64_t n;
	int r;

	r = parse_u64(v, 10, &n);
	if (r == -EINVAL) {
		key_err(c, key, "\"%s\" is not a number", v);
		return -EINVAL;
	}
	if (r < 0 || n > max) {
		key_err(c, key, "\"%s\" is out of range (0..%u)", v, max);
		return -EINVAL;
	}
	*out = (unsigned)n;
	return 0;
}

/* "25" or "25%" */
static int parse_percent(struct file_ctx *c, const char *key, const char *v, unsigned max,
			 unsigned *out)
{
	char tmp[32];
	size_t len;
	uint64_t n;
	int r;

	if (strscpy_safe(tmp, v, sizeof(tmp)) < 0)
		goto bad;
	len = strlen(tmp);
	if (len && tmp[len - 1] == '%')
		tmp[len - 1] = '\0';
	/* parse_u64 would accept inner blanks around the number: be strict. */
	if (!isdigit((unsigned char)tmp[0]) || isspace((unsigned char)tmp[strlen(tmp) - 1]))
		goto bad;
	r = parse_u64(tmp, 10, &n);
	if (r == -EINVAL)
		goto bad;
	if (r < 0 || n > max) {
		key_err(c, key, "\"%s\" is out of range (0..%u%%)", v, max);
		return -EINVAL;
	}
	*out = (unsigned)n;
	return 0;
bad:
	key_err(c, key, "\"%s\" is not a percentage", v);
	return -EINVAL;
}

static int parse_path(struct file_ctx *c, const char *key, const char *v, bool empty_ok, char *dst,
		      size_t size)
{
	if (!*v && empty_ok) {
		dst[0] = '\0';
		return 0;
	}
	if (v[0] != '/') {
		key_err(c, key, "\"%s\" is not an absolute path", v);
		return -EINVAL;
	}
	if (strlen(v) >= size) {
		key_err(c, key, "path is too long (at most %zu characters)", size - 1);
		return -EINVAL;
	}
	strscpy_safe(dst, v, size);
	return 0;
}

static int parse_devtype(struct file_ctx *c, const char *key, const char *v, enum device_type *out)
{
	char list[128] = "";

	if (parse_device_type(v, out) == 0 && (unsigned)*out < DEV_TYPE_MAX)
		return 0;
	for (int t = 0; t < DEV_TYPE_MAX; t++) {
		if (t)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, device_type_name((enum device_type)t),
			sizeof(list) - strlen(list) - 1);
	}
	key_err(c, key, "unknown device type \"%s\" (known: %s)", v, list);
	return -EINVAL;
}

static bool has_space(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return true;
	return false;
}

static int parse_one_size(const char *s, uint64_t *out)
{
	/* parse_size tolerates blanks around the number; a range side must not be blank. */
	if (!*s || isspace((unsigned char)s[0]) || isspace((unsigned char)s[strlen(s) - 1]))
		return -EINVAL;
	return parse_size(s, out);
}

/* "16G", "1G-64G", "1G-", "-64G" */
static int parse_size_range(struct file_ctx *c, const char *key, const char *v, uint64_t *min,
			    uint64_t *max)
{
	char tmp[64];
	char *dash;
	uint64_t lo = 0, hi = UINT64_MAX;

	if (strscpy_safe(tmp, v, sizeof(tmp)) < 0)
		goto bad;
	dash = strchr(tmp, '-');
	if (!dash) {
		if (parse_one_size(tmp, &lo) < 0) {
			key_err(c, key, "\"%s\" is not a size (e.g. \"16G\", \"128M\")", v);
			return -EINVAL;
		}
		*min = *max = lo;
		return 0;
	}
	*dash = '\0';
	strstrip(tmp);
	strstrip(dash + 1);
	if (!tmp[0] && !dash[1])
		goto bad;
	if (tmp[0] && parse_one_size(tmp, &lo) < 0)
		goto bad;
	if (dash[1] && parse_one_size(dash + 1, &hi) < 0)
		goto bad;
	if (lo > hi) {
		key_err(c, key, "\"%s\": minimum is larger than maximum", v);
		return -EINVAL;
	}
	*min = lo;
	*max = hi;
	return 0;
bad:
	key_err(c, key, "\"%s\" is not a size range (SIZE, MIN-MAX, MIN- or -MAX)", v);
	return -EINVAL;
}

static int parse_addr(const char *s, uint64_t *out)
{
	if (!*s || isspace((unsigned char)s[0]) || isspace((unsigned char)s[strlen(s) - 1]))
		return -EINVAL;
	return parse_u64(s, 0, out);
}

/* "0x100000000-0x17fffffff" (inclusive) or "0x100000000+2G" */
static int parse_phys_range(struct file_ctx *c, const char *key, const char *v, uint64_t *start,
			    uint64_t *end)
{
	char tmp[96];
	char *sep;
	uint64_t a, b;

	if (strscpy_safe(tmp, v, sizeof(tmp)) < 0)
		goto bad;
	sep = strpbrk(tmp, "-+");
	if (!sep)
		goto bad;
	if (*sep == '+') {
		*sep = '\0';
		strstrip(tmp);
		strstrip(sep + 1);
		if (parse_addr(tmp, &a) < 0 || parse_one_size(sep + 1, &b) < 0)
			goto bad;
		if (b == 0) {
			key_err(c, key, "\"%s\": size is zero", v);
			return -EINVAL;
		}
		if (b - 1 > UINT64_MAX - a) {
			key_err(c, key, "\"%s\" extends beyond the 64-bit address space", v);
			return -EINVAL;
		}
		*start = a;
		*end = a + (b - 1);
		return 0;
	}
	*sep = '\0';
	strstrip(tmp);
	strstrip(sep + 1);
	if (parse_addr(tmp, &a) < 0 || parse_addr(sep + 1, &b) < 0)
		goto bad;
	if (a > b) {
		key_err(c, key, "\"%s\": start is above end", v);
		return -EINVAL;
	}
	*start = a;
	*end = b;
	return 0;
bad:
	key_err(c, key,
		"\"%s\" is not an address range (START-END with inclusive END, or START+SIZE)", v);
	return -EINVAL;
}

/* 8-4-4-4-12 hex digits, stored lowercase */
static int parse_uuid(struct file_ctx *c, const char *key, const char *v, char *dst, size_t size)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };
	const char *p = v;
	char out[40];
	size_t o = 0;

	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		if (g) {
			if (*p != '-')
				goto bad;
			out[o++] = *p++;
		}
		for (int i = 0; i < groups[g]; i++) {
			if (!isxdigit((unsigned char)*p))
				goto bad;
			out[o++] = (char)tolower((unsigned char)*p++);
		}
	}
	if (*p)
		goto bad;
	out[o] = '\0';
	strscpy_safe(dst, out, size);
	return 0;
bad:
	key_err(c, key, "\"%s\" is not a UUID (8-4-4-4-12 hex digits)", v);
	return -EINVAL;
}

static int parse_word(struct file_ctx *c, const char *key, const char *v, char *dst, size_t size)
{
	if (has_space(v)) {
		key_err(c, key, "\"%s\" contains whitespace", v);
		return -EINVAL;
	}
	if (strlen(v) >= size) {
		key_err(c, key, "\"%s\" is too long (at most %zu characters)", v, size - 1);
		return -EINVAL;
	}
	strscpy_safe(dst, v, size);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Keys */

static void unknown_key(struct file_ctx *c, const char *k)
{
	for (const char *p = k; *p; p++) {
		if (isupper((unsigned char)*p)) {
			key_err(c, k, "unknown key (keys are lowercase)");
			return;
		}
	}
	key_err(c, k, "unknown key");
}

static void set_daemon_key(struct file_ctx *c, const char *k, const char *v)
{
	struct config *cfg = c->ld->cfg;
	int i;

	if (streq(k, "log_level")) {
		if (CHOICE(c, k, v, log_levels, &i) == 0)
			cfg->log_level = i;
	} else if (streq(k, "kernel_auto_online")) {
		if (CHOICE(c, k, v, kao_modes, &i) == 0)
			cfg->kernel_auto_online = i;
	} else if (streq(k, "state_file")) {
		parse_path(c, k, v, false, cfg->state_file, sizeof(cfg->state_file));
	} else if (streq(k, "control_socket")) {
		char tmp[sizeof(((struct sockaddr_un *)NULL)->sun_path)];

		if (parse_path(c, k, v, false, tmp, sizeof(tmp)) == 0)
			strscpy_safe(cfg->control_socket, tmp, sizeof(cfg->control_socket));
	} else if (streq(k, "metrics_file")) {
		parse_path(c, k, v, true, cfg->metrics_file, sizeof(cfg->metrics_file));
	} else if (streq(k, "node_wait")) {
		parse_duration(c, k, v, &cfg->node_wait_ms);
	} else if (streq(k, "online_retries")) {
		parse_count(c, k, v, MAX_RETRIES, &cfg->online_retries);
	} else if (streq(k, "retry_backoff")) {
		parse_duration(c, k, v, &cfg->retry_backoff_ms);
	} else if (streq(k, "offline_timeout")) {
		parse_duration(c, k, v, &cfg->offline_timeout_ms);
	} else if (streq(k, "batch")) {
		parse_duration(c, k, v, &cfg->batch_ms);
	} else {
		unknown_key(c, k);
	}
}

static void set_policy_key(struct file_ctx *c, const char *k, const char *v)
{
	struct config *cfg = c->ld->cfg;
	enum device_type t;
	unsigned u;
	int i;

	if (streq(k, "online")) {
		parse_yesno(c, k, v, &cfg->online);
	} else if (streq(k, "movable_ratio")) {
		if (streq(v, "none"))
			cfg->movable_ratio = -1;
		else if (parse_percent(c, k, v, MAX_MOVABLE_RATIO, &u) == 0)
			cfg->movable_ratio = (int)u;
	} else if (streq(k, "memmap")) {
		if (CHOICE(c, k, v, memmap_values, &i) == 0)
			cfg->memmap = i;
	} else if (streq(k, "memmap_auto_default")) {
		if (CHOICE(c, k, v, memmap_default_values, &i) == 0)
			cfg->memmap_auto_default = i;
	} else if (streq(k, "memmap_ram_max_percent")) {
		parse_percent(c, k, v, 100, &cfg->memmap_ram_max_percent);
	} else if (startswith(k, "zone.")) {
		if (parse_devtype(c, k, k + strlen("zone."), &t) == 0 &&
		    CHOICE(c, k, v, zone_values, &i) == 0)
			cfg->zone[t] = i;
	} else if (streq(k, "dax_mode")) {
		if (CHOICE(c, k, v, dax_mode_values, &i) == 0)
			cfg->dax_mode = i;
	} else {
		unknown_key(c, k);
	}
}

static void set_rule_key(struct file_ctx *c, const char *k, const char *v)
{
	struct rule *r = cur_rule(c);
	uint64_t a, b;
	enum device_type t;
	int i;

	if (streq(k, "type")) {
		if (parse_devtype(c, k, v, &t) == 0) {
			r->type = t;
			r->match |= RM_TYPE;
		}
	} else if (streq(k, "name")) {
		if (parse_word(c, k, v, r->dev_name, sizeof(r->dev_name)) == 0)
			r->match |= RM_NAME;
	} else if (streq(k, "node")) {
		if (parse_u64(v, 10, &a) < 0 || a > MAX_NODE) {
			key_err(c, k, "\"%s\" is not a NUMA node number (0..%d)", v, MAX_NODE);
		} else {
			r->node = (int)a;
			r->match |= RM_NODE;
		}
	} else if (streq(k, "size")) {
		if (parse_size_range(c, k, v, &a, &b) == 0) {
			r->size_min = a;
			r->size_max = b;
			r->match |= RM_SIZE;
		}
	} else if (streq(k, "uuid")) {
		if (parse_uuid(c, k, v, r->uuid, sizeof(r->uuid)) == 0)
			r->match |= RM_UUID;
	} else if (streq(k, "region")) {
		if (parse_word(c, k, v, r->region, sizeof(r->region)) == 0)
			r->match |= RM_REGION;
	} else if (streq(k, "range")) {
		if (parse_phys_range(c, k, v, &a, &b) == 0) {
			r->range_start = a;
			r->range_end = b;
			r->match |= RM_RANGE;
		}
	} else if (streq(k, "action")) {
		if (CHOICE(c, k, v, action_values, &i) == 0)
			r->action = i;
	} else if (streq(k, "zone")) {
		if (CHOICE(c, k, v, zone_values, &i) == 0)
			r->zone = i;
	} else if (streq(k, "memmap")) {
		if (CHOICE(c, k, v, memmap_values, &i) == 0)
			r->memmap = i;
	} else if (streq(k, "hugepages")) {
		if (streq(v, "none"))
			r->hugepages_1g = false;
		else if (parse_size(v, &a) == 0 && a == GiB)
			r->hugepages_1g = true;
		else
			key_err(c, k, "\"%s\" is not one of: 1G, none", v);
	} else if (streq(k, "dax_mode")) {
		if (CHOICE(c, k, v, dax_mode_values, &i) == 0)
			r->dax_mode = i;
	} else {
		unknown_key(c, k);
	}
}

/* "none" or a size; 0 means none.  Sizes must be whole MiB and non-zero. */
static int parse_standby_size(struct file_ctx *c, const char *key, const char *v, bool none_ok,
			      uint64_t *out)
{
	uint64_t n;

	if (none_ok && streq(v, "none")) {
		*out = 0;
		return 0;
	}
	if (has_space(v) || parse_size(v, &n) < 0) {
		key_err(c, key, "\"%s\" is not a size (e.g. \"1G\", \"512M\")%s", v,
			none_ok ? " or none" : "");
		return -EINVAL;
	}
	if (n == 0 || n % MiB) {
		key_err(c, key, "\"%s\" must be a non-zero whole number of MiB", v);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

/* PSI avg10 percentage: "10", "10%", "2.5", "none"; stored in hundredths. */
static int parse_psi_percent(struct file_ctx *c, const char *key, const char *v, unsigned *out)
{
	unsigned whole = 0, frac = 0, digits = 0;
	const char *p = v;

	if (streq(v, "none")) {
		*out = 0;
		return 0;
	}
	if (!isdigit((unsigned char)*p))
		goto bad;
	while (isdigit((unsigned char)*p)) {
		whole = whole * 10 + (unsigned)(*p++ - '0');
		if (whole > 100)
			goto range;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p)) {
			if (++digits > 2)
				goto bad;
			frac = frac * 10 + (unsigned)(*p++ - '0');
		}
		if (digits == 1)
			frac *= 10;
	}
	if (*p == '%')
		p++;
	if (*p)
		goto bad;
	if (whole * 100 + frac == 0 || whole * 100 + frac > 10000)
		goto range;
	*out = whole * 100 + frac;
	return 0;
range:
	key_err(c, key, "\"%s\" is out of range (above 0, at most 100%%; none = off)", v);
	return -EINVAL;
bad:
	key_err(c, key, "\"%s\" is not a percentage (e.g. \"10\", \"2.5%%\") or none", v);
	return -EINVAL;
}

static void set_standby_key(struct file_ctx *c, const char *k, const char *v)
{
	struct standby_config *sb = &c->ld->cfg->standby;
	uint64_t n;
	int i;

	strscpy_safe(sb->file, c->path, sizeof(sb->file));
	sb->line = c->lineno;
	if (streq(k, "enabled")) {
		parse_yesno(c, k, v, &sb->enabled);
	} else if (streq(k, "floor")) {
		if (parse_standby_size(c, k, v, true, &n) == 0)
			sb->floor = n;
	} else if (streq(k, "ceiling")) {
		if (parse_standby_size(c, k, v, true, &n) == 0)
			sb->ceiling = n;
	} else if (streq(k, "step")) {
		if (parse_standby_size(c, k, v, false, &n) == 0)
			sb->step = n;
	} else if (streq(k, "memmap")) {
		if (CHOICE(c, k, v, memmap_values, &i) == 0)
			sb->memmap = i;
	} else if (streq(k, "zone")) {
		if (CHOICE(c, k, v, zone_values, &i) == 0)
			sb->zone = i;
	} else if (streq(k, "pressure_threshold")) {
		parse_psi_percent(c, k, v, &sb->pressure_threshold);
	} else if (streq(k, "grow_window")) {
		parse_duration(c, k, v, &sb->grow_window_ms);
	} else if (streq(k, "shrink_idle")) {
		parse_duration(c, k, v, &sb->shrink_idle_ms);
	} else if (streq(k, "min_interval")) {
		parse_duration(c, k, v, &sb->min_interval_ms);
	} else if (streq(k, "scan_interval")) {
		unsigned ms;

		if (parse_duration(c, k, v, &ms) == 0) {
			if (ms < 1000)
				key_err(c, k, "\"%s\" is too short (at least 1s)", v);
			else
				sb->scan_interval_ms = ms;
		}
	} else {
		unknown_key(c, k);
	}
}

static bool is_rule_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

static bool is_key_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '.' || ch == '-';
}

/* Returns the line the key was first set at in this file and section, or 0 (and records it). */
static int seen_key(struct file_ctx *c, const char *key)
{
	_cleanup_free_ char *id = NULL;

	if (asprintf(&id, "%s\037%s", c->secname, key) < 0) {
		id = NULL;
		c->ld->oom = true;
		return 0;
	}
	for (size_t i = 0; i < c->nseen; i++)
		if (streq(c->seen[i].id, id))
			return c->seen[i].line;
	if (grow_array((void **)&c->seen, &c->seen_cap, c->nseen + 1, sizeof(*c->seen)) < 0) {
		c->ld->oom = true;
		return 0;
	}
	c->seen[c->nseen].id = TAKE_PTR(id);
	c->seen[c->nseen].line = c->lineno;
	c->nseen++;
	return 0;
}

static int ini_handler_cb(void *user, const char *section, const char *name, const char *value)
{
	struct file_ctx *c = user;
	int first;

	switch (c->sec) {
	case SEC_NONE:
		line_err(c, "key '%s' outside of any section", name);
		return 1;
	case SEC_BAD:
		return 1;
	default:
		break;
	}

	/* A rule rejected as a duplicate is only checked for bad values. */
	if (!(c->sec == SEC_RULE && c->rule_idx < 0)) {
		first = seen_key(c, name);
		if (first) {
			key_err(c, name, "already set at line %d of this file", first);
			return 1;
		}
	}
	if (!*value && !(c->sec == SEC_DAEMON && streq(name, "metrics_file"))) {
		key_err(c, name, "empty value");
		return 1;
	}

	switch (c->sec) {
	case SEC_DAEMON:
		set_daemon_key(c, name, value);
		break;
	case SEC_POLICY:
		set_policy_key(c, name, value);
		break;
	case SEC_RULE:
		set_rule_key(c, name, value);
		break;
	case SEC_STANDBY:
		set_standby_key(c, name, value);
		break;
	default:
		break;
	}
	return 1;
}

static void rule_defaults(struct rule *r, const char *name, const char *file, int line)
{
	memset(r, 0, sizeof(*r));
	strscpy_safe(r->name, name, sizeof(r->name));
	strscpy_safe(r->file, file, sizeof(r->file));
	r->line = line;
	r->node = -1;
}

static void open_rule(struct file_ctx *c, const char *name)
{
	struct loader *ld = c->ld;
	struct config *cfg = ld->cfg;
	struct rule *rules;

	c->sec = SEC_RULE;
	c->rule_idx = -1;
	rule_defaults(&c->scratch, name, c->path, c->lineno);

	if (!is_rule_name(name)) {
		line_err(c, "[%s]: invalid rule name \"%s\" (use letters, digits, '_', '.', '-')",
			 c->secname, name);
		return;
	}
	if (strlen(name) >= RULE_NAME_MAX) {
		line_err(c, "[%s]: rule name is too long (at most %d characters)", c->secname,
			 RULE_NAME_MAX - 1);
		return;
	}
	for (size_t i = 0; i < cfg->nrules; i++) {
		if (!streq(cfg->rules[i].name, name))
			continue;
		if (ld->origin[i].file_no == ld->file_no) {
			line_err(c, "duplicate rule '%s', first defined at %s:%d", name, c->path,
				 ld->origin[i].line);
			return;
		}
		/* A later file repeating a rule overrides the keys it sets. */
		ld->origin[i].file_no = ld->file_no;
		ld->origin[i].line = c->lineno;
		c->rule_idx = (ssize_t)i;
		return;
	}

	rules = realloc(cfg->rules, (cfg->nrules + 1) * sizeof(*rules));
	if (!rules) {
		ld->oom = true;
		return;
	}
	cfg->rules = rules;
	if (grow_array((void **)&ld->origin, &ld->origin_cap, cfg->nrules + 1,
		       sizeof(*ld->origin)) < 0) {
		ld->oom = true;
		return;
	}
	rule_defaults(&rules[cfg->nrules], name, c->path, c->lineno);
	ld->origin[cfg->nrules].file_no = ld->file_no;
	ld->origin[cfg->nrules].line = c->lineno;
	c->rule_idx = (ssize_t)cfg->nrules;
	cfg->nrules++;
}

/* s is the text between '[' and ']', not yet stripped. */
static void open_section(struct file_ctx *c, char *s)
{
	strstrip(s);
	strscpy_safe(c->secname, s, sizeof(c->secname));
	c->rule_idx = -1;

	if (streq(s, "daemon")) {
		c->sec = SEC_DAEMON;
	} else if (streq(s, "policy")) {
		c->sec = SEC_POLICY;
	} else if (streq(s, "standby")) {
		c->sec = SEC_STANDBY;
	} else if (streq(s, "rule")) {
		c->sec = SEC_BAD;
		line_err(c, "[rule]: missing rule name (write [rule NAME])");
	} else if (startswith(s, "rule ") || startswith(s, "rule\t")) {
		char *name = s + strlen("rule");

		while (isspace((unsigned char)*name))
			name++;
		/* secname is used in messages: normalize to exactly one blank */
		snprintf(c->secname, sizeof(c->secname), "rule %s", name);
		open_rule(c, name);
	} else {
		c->sec = SEC_BAD;
		line_err(c, "unknown section [%s] (expected [daemon], [policy], [standby] or [rule NAME])", s);
	}
}

/*
 * Lex one physical line.  Returns the text inih should see: the line without
 * leading blanks, or "" for lines we handled or rejected ourselves.
 */
static const char *lex_line(struct file_ctx *c, char *line)
{
	char *p, *end, *eq;

	p = line;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#' || *p == ';')
		return "";

	if (*p == '[') {
		end = strchr(p, ']');
		if (!end) {
			line_err(c, "missing ']' in section header");
			c->sec = SEC_BAD;
			return "";
		}
		*end = '\0';
		for (char *q = end + 1; *q; q++) {
			if (*q == '#' || *q == ';')
				break;
			if (!isspace((unsigned char)*q)) {
				line_err(c, "unexpected text after ']' in section header");
				break;
			}
		}
		open_section(c, p + 1);
		/* inih only needs to know a section started */
		return "[s]";
	}

	eq = strchr(p, '=');
	if (!eq) {
		line_err(c, "expected \"key = value\", \"[section]\" or a comment");
		return "";
	}
	end = eq;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (end == p) {
		line_err(c, "missing key name before '='");
		return "";
	}
	for (char *q = p; q < end; q++) {
		if (!is_key_char(*q)) {
			line_err(c, "invalid key name \"%.*s\"", (int)(end - p), p);
			return "";
		}
	}
	if (end - p > KEY_MAX) {
		/* inih would truncate it; no real key is that long */
		if (c->sec == SEC_NONE)
			line_err(c, "key '%.*s' outside of any section", (int)(end - p), p);
		else if (c->sec != SEC_BAD)
			ld_err(c->ld, "%s:%d: [%s] %.*s: unknown key", c->path, c->lineno,
			       c->secname, (int)(end - p), p);
		return "";
	}
	return p;
}

/* ini_reader: one physical line per call, see the comment at the top. */
static char *ini_reader_cb(char *str, int num, void *stream)
{
	struct file_ctx *c = stream;
	size_t len = 0, total = 0, max;
	bool nul = false;
	int ch = EOF;

	if (num < 2 || c->stop)
		return NULL;
	errno = 0;
	/* bounded: a line may be arbitrarily long (or /dev/zero), we keep only its start */
	while ((ch = getc(c->f)) != EOF) {
		if (++c->bytes > MAX_FILE_BYTES) {
			c->stop = true;
			c->read_error = -EFBIG;
			return NULL;
		}
		if (ch == '\n')
			break;
		if (ch == '\0')
			nul = true;
		if (len < sizeof(c->line) - 1)
			c->line[len++] = (char)ch;
		total++;
	}
	if (ch == EOF) {
		if (ferror(c->f)) {
			c->lineno++;
			c->read_error = errno ? -errno : -EIO;
			return NULL;
		}
		if (!total)
			return NULL;
	}
	c->line[len] = '\0';
	c->lineno++;
	if (total == len && len && c->line[len - 1] == '\r') {
		c->line[--len] = '\0';
		total--;
	}
	str[0] = '\0';
	if (nul) {
		line_err(c, "line contains a NUL byte");
		return str;
	}
	if (c->lineno == 1 && startswith(c->line, "\xef\xbb\xbf")) {
		/* UTF-8 byte order mark */
		memmove(c->line, c->line + 3, len - 2);
		len -= 3;
		total -= 3;
	}
	/* what we hand to inih must fit its line buffer (INI_MAX_LINE) and ours */
	max = (size_t)num - 1 < sizeof(c->line) - 1 ? (size_t)num - 1 : sizeof(c->line) - 1;
	if (total > max) {
		line_err(c, "line is too long (more than %zu characters)", max);
		return str;
	}
	strscpy_safe(str, lex_line(c, c->line), (size_t)num);
	return str;
}

static int load_one(struct loader *ld, const char *path, bool missing_ok)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_close_ int fd = -1;
	struct file_ctx c = { .ld = ld, .path = path, .rule_idx = -1 };
	struct stat st;
	int r;

	/* O_NONBLOCK: a FIFO must not hang us; it is rejected below */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT && missing_ok)
			return 0;
		ld_err(ld, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		ld_err(ld, "%s: cannot stat: %s", path, strerror(-r));
		return r;
	}
	if (S_ISDIR(st.st_mode)) {
		ld_err(ld, "%s: is a directory", path);
		return -EISDIR;
	}
	/* character devices: a drop-in linked to /dev/null is an empty file */
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
		ld_err(ld, "%s: not a regular file", path);
		return -EINVAL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		r = -errno;
		ld_err(ld, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	TAKE_FD(fd);
	if (strv_push(&ld->cfg->files, path) < 0)
		ld->oom = true;

	c.f = f;
	ld->file_no++;
	r = ini_parse_stream(ini_reader_cb, &c, ini_handler_cb, &c);
	if (r > 0 && ld->cfg->errors.n == 0) {
		/* The lexer should have caught everything inih objects to. */
		ld_err(ld, "%s:%d: syntax error", path, r);
	}
	for (size_t i = 0; i < c.nseen; i++)
		free(c.seen[i].id);
	free(c.seen);
	if (c.read_error == -EFBIG) {
		ld_err(ld, "%s: larger than %d bytes; not a configuration file", path,
		       MAX_FILE_BYTES);
		return c.read_error;
	}
	if (c.read_error) {
		ld_err(ld, "%s:%d: read error: %s", path, c.lineno, strerror(-c.read_error));
		return c.read_error;
	}
	if (r == -2)
		ld->oom = true;
	return 0;
}

static int loader_start(struct loader *ld, struct config *cfg)
{
	memset(ld, 0, sizeof(*ld));
	ld->cfg = cfg;
	if (cfg->nrules) {
		if (grow_array((void **)&ld->origin, &ld->origin_cap, cfg->nrules,
			       sizeof(*ld->origin)) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < cfg->nrules; i++)
			ld->origin[i].file_no = -1;
	}
	return 0;
}

static void note_io(struct loader *ld, int r)
{
	if (r < 0 && r != -ENOMEM && !ld->io_error)
		ld->io_error = r;
	if (r == -ENOMEM)
		ld->oom = true;
}

/* Checks on merged rules (a drop-in may add the match keys of an earlier rule). */
static int loader_finish(struct loader *ld)
{
	struct config *cfg = ld->cfg;

	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct rule *r = &cfg->rules[i];

		if (ld->origin[i].file_no >= 0 && !r->match)
			ld_err(ld,
			       "%s:%d: [rule %s]: no match key (type, name, node, size, uuid, region "
			       "or range)",
			       r->file, r->line, r->name);
	}
	free(ld->origin);
	if (ld->oom)
		return -ENOMEM;
	if (ld->io_error)
		return ld->io_error;
	return cfg->errors.n ? -EINVAL : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dropin_name(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && len > strlen(".conf") && streq(n + len - strlen(".conf"), ".conf");
}

static int load_dropins(struct loader *ld, const char *dir)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct strv names = {};
	struct dirent *de;
	int r = 0;

	d = opendir(dir);
	if (!d) {
		r = -errno;
		if (r == -ENOENT)
			return 0;
		ld_err(ld, "%s: cannot open directory: %s", dir, strerror(-r));
		return r;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno) {
				r = -errno;
				ld_err(ld, "%s: cannot read directory: %s", dir, strerror(-r));
			}
			break;
		}
		if (!is_dropin_name(de->d_name))
			continue;
		if (strv_push(&names, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
	}
	if (names.n)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (size_t i = 0; i < names.n && r != -ENOMEM; i++) {
		_cleanup_free_ char *path = NULL;

		if (asprintf(&path, "%s/%s", dir, names.v[i]) < 0) {
			path = NULL;
			r = -ENOMEM;
			break;
		}
		/* a drop-in removed since readdir() is simply gone */
		note_io(ld, load_one(ld, path, true));
	}
	strv_clear(&names);
	return r;
}

int config_load(struct config *cfg, const char *main_path, const char *dropin_dir)
{
	struct loader ld;

	if (loader_start(&ld, cfg) < 0)
		return -ENOMEM;
	if (main_path)
		note_io(&ld, load_one(&ld, main_path, true));
	if (dropin_dir)
		note_io(&ld, load_dropins(&ld, dropin_dir));
	return loader_finish(&ld);
}

int config_load_files(struct config *cfg, char *const *files, size_t nfiles)
{
	struct loader ld;

	if (loader_start(&ld, cfg) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < nfiles; i++)
		note_io(&ld, load_one(&ld, files[i], false));
	return loader_finish(&ld);
}

/* ------------------------------------------------------------------------ */
/* Validation */

static bool same_match(const struct rule *a, const struct rule *b)
{
	if (a->match != b->match)
		return false;
	if ((a->match & RM_TYPE) && a->type != b->type)
		return false;
	if ((a->match & RM_NAME) && !streq(a->dev_name, b->dev_name))
		return false;
	if ((a->match & RM_NODE) && a->node != b->node)
		return false;
	if ((a->match & RM_SIZE) && (a->size_min != b->size_min || a->size_max != b->size_max))
		return false;
	if ((a->match & RM_UUID) && !streq(a->uuid, b->uuid))
		return false;
	if ((a->match & RM_REGION) && !streq(a->region, b->region))
		return false;
	if ((a->match & RM_RANGE) &&
	    (a->range_start != b->range_start || a->range_end != b->range_end))
		return false;
	return true;
}

int config_validate(struct config *cfg)
{
	size_t before = cfg->errors.n;
	bool oom = false;

#define VERR(...)                                              \
	do {                                                   \
		if (strv_pushf(&cfg->errors, __VA_ARGS__) < 0) \
			oom = true;                            \
	} while (0)

	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct rule *r = &cfg->rules[i];

		if (r->hugepages_1g && r->memmap == MC_ON_MEMORY)
			VERR("%s:%d: [rule %s]: hugepages = 1G needs the memmap in RAM, but memmap = "
			     "on-memory",
			     r->file, r->line, r->name);
		if (r->dax_mode && (r->match & RM_TYPE) && r->type != DEV_DAX)
			VERR("%s:%d: [rule %s]: dax_mode only applies to dax devices, not type %s",
			     r->file, r->line, r->name, device_type_name(r->type));

		for (size_t j = 0; j < i; j++) {
			const struct rule *a = &cfg->rules[j];

			if (!a->match || !same_match(a, r))
				continue;
			VERR("%s:%d: rules '%s' (%s:%d) and '%s' (%s:%d) match the same devices; "
			     "make one more specific",
			     r->file, r->line, a->name, a->file, a->line, r->name, r->file,
			     r->line);
		}
	}
	{
		const struct standby_config *sb = &cfg->standby;
		char f[32], c2[32];

		if (sb->floor && sb->ceiling && sb->floor > sb->ceiling)
			VERR("%s:%d: [standby]: floor %s is above ceiling %s", sb->file, sb->line,
			     format_size(sb->floor, f, sizeof(f)),
			     format_size(sb->ceiling, c2, sizeof(c2)));
		if (sb->pressure_threshold && sb->shrink_idle_ms < sb->grow_window_ms)
			VERR("%s:%d: [standby]: shrink_idle (%ums) must not be shorter than "
			     "grow_window (%ums): shrinking must wait longer than growing",
			     sb->file, sb->line, sb->shrink_idle_ms, sb->grow_window_ms);
	}
#undef VERR
	if (oom)
		return -ENOMEM;
	return cfg->errors.n > before ? -EINVAL : 0;
}

static bool is_host_root(const char *sysroot)
{
	return !sysroot || !*sysroot || streq(sysroot, "/");
}

void config_default_paths(const char *sysroot, char *file, size_t fsize, char *dir, size_t dsize)
{
	if (is_host_root(sysroot)) {
		snprintf(file, fsize, "%s", MEMHPD_CONF_DEFAULT);
		snprintf(dir, dsize, "%s", MEMHPD_CONF_DIR_DEFAULT);
		return;
	}
	snprintf(file, fsize, "%s%s", sysroot, MEMHPD_CONF_DEFAULT);
	snprintf(dir, dsize, "%s%s", sysroot, MEMHPD_CONF_DIR_DEFAULT);
}

static int rebase(struct config *cfg, char *path, size_t size, const char *def,
		  const char *sysroot, const char *key)
{
	char buf[512];
	int w;

	if (!streq(path, def))
		return 0;
	w = snprintf(buf, sizeof(buf), "%s%s", sysroot, def);
	if (w < 0 || (size_t)w >= size) {
		strv_pushf(&cfg->errors, "[daemon] %s: %s below sysroot %s is too long; set it "
			   "explicitly", key, def, sysroot);
		return -ENAMETOOLONG;
	}
	memcpy(path, buf, (size_t)w + 1);
	return 0;
}

int config_rebase_defaults(struct config *cfg, const char *sysroot)
{
	int r;

	if (is_host_root(sysroot))
		return 0;
	r = rebase(cfg, cfg->state_file, sizeof(cfg->state_file), MEMHPD_STATE_FILE_DEFAULT,
		   sysroot, "state_file");
	if (r < 0)
		return r;
	/* sockaddr_un holds 108 bytes */
	return rebase(cfg, cfg->control_socket, 108, MEMHPD_CONTROL_SOCKET_DEFAULT, sysroot,
		      "control_socket");
}
