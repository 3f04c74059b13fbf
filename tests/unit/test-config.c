// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Configuration loader: defaults, every key, drop-in ordering and every error
 * message, exactly, with its file:line.  Error cases put the bad line after
 * comments and blank lines, and several errors in one file, so a wrong line
 * count fails.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>

#include "config.h"
#include "check.h"

static char tmpdir[] = "/tmp/memhp-test-config-XXXXXX";

static const char *tpath(const char *name)
{
	/* rotating buffers: callers that keep a path longer copy it */
	static char bufs[16][512];
	static unsigned next;
	char *b = bufs[next++ % ARRAY_SIZE(bufs)];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tmpdir, name);
	return b;
}

static void write_bytes(const char *name, const char *data, size_t len)
{
	FILE *f = fopen(tpath(name), "we");

	CHECK(f != NULL, "cannot create %s", tpath(name));
	if (!f)
		return;
	CHECK(fwrite(data, 1, len, f) == len);
	CHECK(fclose(f) == 0);
}

static void write_file(const char *name, const char *text)
{
	write_bytes(name, text, strlen(text));
}

/* Replace every "@F" in tmpl by path. */
static char *expand(const char *tmpl, const char *path)
{
	size_t plen = strlen(path), n = 1;
	char *out, *o;

	for (const char *p = tmpl; *p; p++)
		n += (p[0] == '@' && p[1] == 'F') ? plen : 1;
	out = malloc(n);
	if (!out)
		abort();
	for (o = out; *tmpl;) {
		if (tmpl[0] == '@' && tmpl[1] == 'F') {
			memcpy(o, path, plen);
			o += plen;
			tmpl += 2;
		} else {
			*o++ = *tmpl++;
		}
	}
	*o = '\0';
	return out;
}

static void dump_errors(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->errors.n; i++)
		fprintf(stderr, "    got: %s\n", cfg->errors.v[i]);
}

/* Compare cfg->errors to exp (NULL-terminated, "@F" = path) in order. */
static void check_error_list(int line, const struct config *cfg, const char *path,
			     const char *const *exp)
{
	size_t n = 0;
	bool ok = true;

	while (exp[n])
		n++;
	if (cfg->errors.n != n) {
		ok = false;
		CHECK(cfg->errors.n == n, "test at line %d: %zu errors, expected %zu", line,
		      cfg->errors.n, n);
	}
	for (size_t i = 0; i < n && i < cfg->errors.n; i++) {
		char *e = expand(exp[i], path);

		if (strcmp(cfg->errors.v[i], e)) {
			ok = false;
			CHECK(strcmp(cfg->errors.v[i], e) == 0,
			      "test at line %d, error %zu:\n    got:      %s\n    expected: %s",
			      line, i, cfg->errors.v[i], e);
		}
		free(e);
	}
	if (!ok)
		dump_errors(cfg);
}

/* Load text as one file (plus config_validate) and expect exactly these errors. */
static void check_errors(int line, const char *text, const char *const *exp)
{
	struct config cfg;
	const char *path = tpath("t.conf");
	char *files[] = { (char *)path };
	int r, v;

	write_file("t.conf", text);
	config_init(&cfg);
	r = config_load_files(&cfg, files, 1);
	v = config_validate(&cfg);
	check_error_list(line, &cfg, path, exp);
	if (exp[0])
		CHECK(r == -EINVAL || v == -EINVAL, "test at line %d: r=%d v=%d", line, r, v);
	else
		CHECK(r == 0 && v == 0, "test at line %d: r=%d v=%d", line, r, v);
	config_free(&cfg);
}

#define EXPECT_ERRORS(text, ...) \
	check_errors(__LINE__, text, (const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT_OK(text) check_errors(__LINE__, text, (const char *const[]){ NULL })

/* Load text as one file, expect no errors, leave the result in *cfg. */
static void load_text(struct config *cfg, const char *text)
{
	const char *path = tpath("ok.conf");
	char *files[] = { (char *)path };
	int r;

	write_file("ok.conf", text);
	config_init(cfg);
	r = config_load_files(cfg, files, 1);
	CHECK_EQ_INT(r, 0);
	r = config_validate(cfg);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(cfg->errors.n, 0);
	dump_errors(cfg);
}

static void check_is_default(const struct config *c, int line)
{
	struct config d;
	bool same;

	config_init(&d);
	same = c->log_level == d.log_level && c->kernel_auto_online == d.kernel_auto_online &&
	       streq(c->state_file, d.state_file) && streq(c->control_socket, d.control_socket) &&
	       streq(c->metrics_file, d.metrics_file) && c->node_wait_ms == d.node_wait_ms &&
	       c->online_retries == d.online_retries && c->retry_backoff_ms == d.retry_backoff_ms &&
	       c->offline_timeout_ms == d.offline_timeout_ms && c->batch_ms == d.batch_ms &&
	       c->online == d.online && c->movable_ratio == d.movable_ratio &&
	       c->memmap == d.memmap && c->memmap_auto_default == d.memmap_auto_default &&
	       c->memmap_ram_max_percent == d.memmap_ram_max_percent &&
	       !memcmp(c->zone, d.zone, sizeof(c->zone)) && c->dax_mode == d.dax_mode &&
	       c->nrules == 0 && c->standby.enabled == d.standby.enabled &&
	       c->standby.floor == d.standby.floor && c->standby.ceiling == d.standby.ceiling &&
	       c->standby.step == d.standby.step && c->standby.memmap == d.standby.memmap &&
	       c->standby.zone == d.standby.zone &&
	       c->standby.pressure_threshold == d.standby.pressure_threshold &&
	       c->standby.grow_window_ms == d.standby.grow_window_ms &&
	       c->standby.shrink_idle_ms == d.standby.shrink_idle_ms &&
	       c->standby.min_interval_ms == d.standby.min_interval_ms &&
	       c->standby.scan_interval_ms == d.standby.scan_interval_ms;
	CHECK(same, "config from line %d differs from the defaults", line);
	config_free(&d);
}

static void test_defaults(void)
{
	struct config cfg;
	int r;

	config_init(&cfg);
	CHECK_EQ_INT(cfg.log_level, LOG_INFO);
	CHECK_EQ_INT(cfg.kernel_auto_online, KAO_SET_OFFLINE);
	CHECK_STREQ(cfg.state_file, "/run/memhpd/state.json");
	CHECK_STREQ(cfg.control_socket, "/run/memhpd/control");
	CHECK_STREQ(cfg.metrics_file, "");
	CHECK_EQ_INT(cfg.node_wait_ms, 2000);
	CHECK_EQ_INT(cfg.online_retries, 5);
	CHECK_EQ_INT(cfg.retry_backoff_ms, 50);
	CHECK_EQ_INT(cfg.offline_timeout_ms, 30000);
	CHECK_EQ_INT(cfg.batch_ms, 200);
	CHECK(cfg.online);
	CHECK_EQ_INT(cfg.movable_ratio, 301);
	CHECK_EQ_INT(cfg.memmap, MC_AUTO);
	CHECK_EQ_INT(cfg.memmap_auto_default, MC_RAM);
	CHECK_EQ_INT(cfg.memmap_ram_max_percent, 25);
	CHECK_EQ_INT(cfg.zone[DEV_BOOT], ZC_KERNEL);
	CHECK_EQ_INT(cfg.zone[DEV_ACPI_DIMM], ZC_MOVABLE);
	CHECK_EQ_INT(cfg.zone[DEV_VIRTIO_MEM], ZC_KERNEL);
	CHECK_EQ_INT(cfg.zone[DEV_DAX], ZC_MOVABLE);
	CHECK_EQ_INT(cfg.zone[DEV_S390_STANDBY], ZC_MOVABLE);
	CHECK_EQ_INT(cfg.zone[DEV_UNKNOWN], ZC_MOVABLE);
	CHECK_EQ_INT(cfg.dax_mode, DAX_MODE_DEVDAX);
	CHECK_EQ_INT(cfg.nrules, 0);

	/* neither the main file nor the drop-in dir exists: defaults, no error */
	r = config_load(&cfg, tpath("nonexistent.conf"), tpath("nonexistent.d"));
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(cfg.errors.n, 0);
	CHECK_EQ_INT(cfg.files.n, 0);
	check_is_default(&cfg, __LINE__);
	config_free(&cfg);
	CHECK(cfg.rules == NULL && cfg.errors.n == 0 && cfg.files.n == 0);

	/* an empty file and a comments-only file change nothing */
	load_text(&cfg, "");
	check_is_default(&cfg, __LINE__);
	config_free(&cfg);
	load_text(&cfg, "# comment\n; other comment\n\n[daemon]\n[policy]\n");
	check_is_default(&cfg, __LINE__);
	config_free(&cfg);

	CHECK_STREQ(zone_choice_name(ZC_MOVABLE), "movable");
	CHECK_STREQ(zone_choice_name(ZC_KERNEL), "kernel");
	CHECK_STREQ(zone_choice_name(ZC_UNSET), "unset");
	CHECK_STREQ(memmap_choice_name(MC_AUTO), "auto");
	CHECK_STREQ(memmap_choice_name(MC_ON_MEMORY), "on-memory");
	CHECK_STREQ(memmap_choice_name(MC_RAM), "ram");
	CHECK_STREQ(memmap_choice_name(MC_UNSET), "unset");
	CHECK_STREQ(kao_name(KAO_SET_OFFLINE), "set-offline");
	CHECK_STREQ(kao_name(KAO_WARN), "warn");
	CHECK_STREQ(kao_name(KAO_IGNORE), "ignore");
}

static void test_every_key(void)
{
	struct config cfg;
	const struct rule *r;

	load_text(&cfg, "[daemon]\n"
			"log_level = debug\n"
			"kernel_auto_online = warn\n"
			"state_file = /var/lib/memhpd/state.json\n"
			"control_socket = /run/m/ctl\n"
			"metrics_file = /run/m/metrics.prom\n"
			"node_wait = 250ms\n"
			"online_retries = 0\n"
			"retry_backoff = 1s\n"
			"offline_timeout = 2m\n"
			"batch = 0ms\n"
			"[policy]\n"
			"online = no\n"
			"movable_ratio = 150%\n"
			"memmap = on-memory\n"
			"memmap_auto_default = on-memory\n"
			"memmap_ram_max_percent = 100\n"
			"zone.boot = movable\n"
			"zone.acpi-dimm = kernel\n"
			"zone.virtio-mem = movable\n"
			"zone.dax = kernel\n"
			"zone.s390-standby = kernel\n"
			"zone.unknown = kernel\n"
			"dax_mode = system-ram\n"
			"\n"
			"[rule everything]\n"
			"type = dax\n"
			"name = dax*.0\n"
			"node = 3\n"
			"size = 1G-64G\n"
			"uuid = 0E6F3A43-1b2c-4D5E-8f90-AABBCCDDEEFF\n"
			"region = region1\n"
			"range = 0x100000000-0x17fffffff\n"
			"action = online\n"
			"zone = kernel\n"
			"memmap = ram\n"
			"hugepages = 1G\n"
			"dax_mode = system-ram\n");
	CHECK_EQ_INT(cfg.log_level, LOG_DEBUG);
	CHECK_EQ_INT(cfg.kernel_auto_online, KAO_WARN);
	CHECK_STREQ(cfg.state_file, "/var/lib/memhpd/state.json");
	CHECK_STREQ(cfg.control_socket, "/run/m/ctl");
	CHECK_STREQ(cfg.metrics_file, "/run/m/metrics.prom");
	CHECK_EQ_INT(cfg.node_wait_ms, 250);
	CHECK_EQ_INT(cfg.online_retries, 0);
	CHECK_EQ_INT(cfg.retry_backoff_ms, 1000);
	CHECK_EQ_INT(cfg.offline_timeout_ms, 120000);
	CHECK_EQ_INT(cfg.batch_ms, 0);
	CHECK(!cfg.online);
	CHECK_EQ_INT(cfg.movable_ratio, 150);
	CHECK_EQ_INT(cfg.memmap, MC_ON_MEMORY);
	CHECK_EQ_INT(cfg.memmap_auto_default, MC_ON_MEMORY);
	CHECK_EQ_INT(cfg.memmap_ram_max_percent, 100);
	CHECK_EQ_INT(cfg.zone[DEV_BOOT], ZC_MOVABLE);
	CHECK_EQ_INT(cfg.zone[DEV_ACPI_DIMM], ZC_KERNEL);
	CHECK_EQ_INT(cfg.zone[DEV_VIRTIO_MEM], ZC_MOVABLE);
	CHECK_EQ_INT(cfg.zone[DEV_DAX], ZC_KERNEL);
	CHECK_EQ_INT(cfg.zone[DEV_S390_STANDBY], ZC_KERNEL);
	CHECK_EQ_INT(cfg.zone[DEV_UNKNOWN], ZC_KERNEL);
	CHECK_EQ_INT(cfg.dax_mode, DAX_MODE_SYSTEM_RAM);
	CHECK_EQ_INT(cfg.nrules, 1);
	CHECK_EQ_INT(cfg.files.n, 1);
	if (cfg.files.n == 1)
		CHECK_STREQ(cfg.files.v[0], tpath("ok.conf"));
	if (cfg.nrules == 1) {
		r = &cfg.rules[0];
		CHECK_STREQ(r->name, "everything");
		CHECK_STREQ(r->file, tpath("ok.conf"));
		CHECK_EQ_INT(r->line, 26);
		CHECK_EQ_INT(r->match, RM_TYPE | RM_NAME | RM_NODE | RM_SIZE | RM_UUID | RM_REGION |
					       RM_RANGE);
		CHECK_EQ_INT(r->type, DEV_DAX);
		CHECK_STREQ(r->dev_name, "dax*.0");
		CHECK_EQ_INT(r->node, 3);
		CHECK_EQ_U64(r->size_min, GiB);
		CHECK_EQ_U64(r->size_max, 64 * GiB);
		CHECK_STREQ(r->uuid, "0e6f3a43-1b2c-4d5e-8f90-aabbccddeeff");
		CHECK_STREQ(r->region, "region1");
		CHECK_EQ_U64(r->range_start, 0x100000000ULL);
		CHECK_EQ_U64(r->range_end, 0x17fffffffULL);
		CHECK_EQ_INT(r->action, RA_ONLINE);
		CHECK_EQ_INT(r->zone, ZC_KERNEL);
		CHECK_EQ_INT(r->memmap, MC_RAM);
		CHECK(r->hugepages_1g);
		CHECK_EQ_INT(r->dax_mode, DAX_MODE_SYSTEM_RAM);
	}
	config_free(&cfg);

	/* the other spellings of values */
	load_text(&cfg, "[daemon]\n"
			"log_level = emerg\n"
			"kernel_auto_online = ignore\n"
			"metrics_file =\n"
			"[policy]\n"
			"online = yes\n"
			"movable_ratio = none\n"
			"memmap = ram\n"
			"memmap_ram_max_percent = 0%\n"
			"[rule a]\n"
			"size = 16G\n"
			"range = 0x200000000+2G\n"
			"action = ignore\n"
			"memmap = auto\n"
			"hugepages = none\n"
			"dax_mode = devdax\n"
			"zone = movable\n"
			"[rule b]\n"
			"size = 1G-\n"
			"[rule c]\n"
			"size = -64G\n"
			"memmap = on-memory\n"
			"[rule d.e_f-9]\n"
			"node = 0\n"
			"range = 4096-8191\n");
	CHECK_EQ_INT(cfg.log_level, LOG_EMERG);
	CHECK_EQ_INT(cfg.kernel_auto_online, KAO_IGNORE);
	CHECK_STREQ(cfg.metrics_file, "");
	CHECK(cfg.online);
	CHECK_EQ_INT(cfg.movable_ratio, -1);
	CHECK_EQ_INT(cfg.memmap, MC_RAM);
	CHECK_EQ_INT(cfg.memmap_ram_max_percent, 0);
	CHECK_EQ_INT(cfg.nrules, 4);
	if (cfg.nrules == 4) {
		r = &cfg.rules[0];
		CHECK_EQ_INT(r->match, RM_SIZE | RM_RANGE);
		CHECK_EQ_U64(r->size_min, 16 * GiB);
		CHECK_EQ_U64(r->size_max, 16 * GiB);
		CHECK_EQ_U64(r->range_start, 0x200000000ULL);
		CHECK_EQ_U64(r->range_end, 0x27fffffffULL);
		CHECK_EQ_INT(r->action, RA_IGNORE);
		CHECK_EQ_INT(r->memmap, MC_AUTO);
		CHECK(!r->hugepages_1g);
		CHECK_EQ_INT(r->dax_mode, DAX_MODE_DEVDAX);
		CHECK_EQ_INT(r->zone, ZC_MOVABLE);
		CHECK_EQ_INT(r->node, -1);
		r = &cfg.rules[1];
		CHECK_EQ_U64(r->size_min, GiB);
		CHECK_EQ_U64(r->size_max, UINT64_MAX);
		CHECK_EQ_INT(r->action, RA_UNSET);
		CHECK_EQ_INT(r->zone, ZC_UNSET);
		CHECK_EQ_INT(r->memmap, MC_UNSET);
		CHECK_EQ_INT(r->dax_mode, DAX_MODE_UNSET);
		r = &cfg.rules[2];
		CHECK_EQ_U64(r->size_min, 0);
		CHECK_EQ_U64(r->size_max, 64 * GiB);
		CHECK_EQ_INT(r->memmap, MC_ON_MEMORY);
		CHECK_EQ_INT(r->line, 20);
		r = &cfg.rules[3];
		CHECK_STREQ(r->name, "d.e_f-9");
		CHECK_EQ_INT(r->match, RM_NODE | RM_RANGE);
		CHECK_EQ_INT(r->node, 0);
		CHECK_EQ_U64(r->range_start, 4096);
		CHECK_EQ_U64(r->range_end, 8191);
	}
	config_free(&cfg);

	/* log level names map to syslog priorities */
	{
		static const struct {
			const char *name;
			int prio;
		} lv[] = { { "alert", LOG_ALERT },   { "crit", LOG_CRIT },
			   { "err", LOG_ERR },	     { "warning", LOG_WARNING },
			   { "notice", LOG_NOTICE }, { "info", LOG_INFO } };
		char text[64];

		for (size_t i = 0; i < ARRAY_SIZE(lv); i++) {
			snprintf(text, sizeof(text), "[daemon]\nlog_level = %s\n", lv[i].name);
			load_text(&cfg, text);
			CHECK(cfg.log_level == lv[i].prio, "log_level %s", lv[i].name);
			config_free(&cfg);
		}
	}
}

static void test_syntax_tolerance(void)
{
	struct config cfg;

	/* BOM, CRLF, indented keys, blanks around '=', inline ';' comments, [ rule  x ] */
	load_text(&cfg, "\xef\xbb\xbf# memhpd\r\n"
			"[daemon]   ; the daemon\r\n"
			"   log_level=err\r\n"
			"\tbatch   =   1s ; settle\r\n"
			"[ rule  spaced ]\n"
			"    node = 1\n"
			"    name = PNP0C80:00\n");
	CHECK_EQ_INT(cfg.log_level, LOG_ERR);
	CHECK_EQ_INT(cfg.batch_ms, 1000);
	CHECK_EQ_INT(cfg.nrules, 1);
	if (cfg.nrules == 1) {
		CHECK_STREQ(cfg.rules[0].name, "spaced");
		CHECK_STREQ(cfg.rules[0].dev_name, "PNP0C80:00");
		CHECK_EQ_INT(cfg.rules[0].node, 1);
		CHECK_EQ_INT(cfg.rules[0].line, 5);
	}
	config_free(&cfg);

	/* a 199-character line is fine */
	{
		char text[300];

		snprintf(text, sizeof(text), "[daemon]\nstate_file = /%0*d\n", 199 - 14, 0);
		load_text(&cfg, text);
		CHECK_EQ_INT(strlen(cfg.state_file), 199 - 13);
		config_free(&cfg);
	}
}

static void test_dropins(void)
{
	struct config cfg;
	char d[512];
	int r;

	snprintf(d, sizeof(d), "%s", tpath("conf.d"));
	CHECK(mkdir(d, 0755) == 0);
	write_file("main.conf", "[daemon]\n"
				"log_level = debug\n"
				"batch = 1s\n"
				"[policy]\n"
				"movable_ratio = 200\n"
				"[rule cxl]\n"
				"type = dax\n"
				"zone = movable\n"
				"[rule later-match]\n"
				"action = online\n");
	/* lexical (strcmp) order: "10-a" < "9-b" < "a" */
	write_file("conf.d/9-b.conf", "[daemon]\nbatch = 3s\nlog_level = notice\n");
	write_file("conf.d/10-a.conf", "[daemon]\n"
				       "batch = 2s\n"
				       "[policy]\n"
				       "movable_ratio = 250\n"
				       "\n"
				       "[rule cxl]\n"
				       "zone = kernel\n"
				       "node = 1\n"
				       "[rule later-match]\n"
				       "type = acpi-dimm\n");
	write_file("conf.d/a.conf", "[daemon]\nlog_level = warning\n");
	/* not drop-ins: would be errors if read */
	write_file("conf.d/README", "garbage\n");
	write_file("conf.d/x.conf.bak", "garbage\n");
	write_file("conf.d/.hidden.conf", "garbage\n");
	write_file("conf.d/conf", "garbage\n");

	config_init(&cfg);
	r = config_load(&cfg, tpath("main.conf"), d);
	CHECK_EQ_INT(r, 0);
	dump_errors(&cfg);
	CHECK_EQ_INT(cfg.files.n, 4);
	if (cfg.files.n == 4) {
		CHECK_STREQ(cfg.files.v[0], tpath("main.conf"));
		CHECK_STREQ(cfg.files.v[1], tpath("conf.d/10-a.conf"));
		CHECK_STREQ(cfg.files.v[2], tpath("conf.d/9-b.conf"));
		CHECK_STREQ(cfg.files.v[3], tpath("conf.d/a.conf"));
	}
	CHECK_EQ_INT(cfg.batch_ms, 3000);
	CHECK_EQ_INT(cfg.log_level, LOG_WARNING);
	CHECK_EQ_INT(cfg.movable_ratio, 250);
	CHECK_EQ_INT(cfg.nrules, 2);
	if (cfg.nrules == 2) {
		const struct rule *x = &cfg.rules[0], *y = &cfg.rules[1];

		/* overridden per key; still reported where first defined */
		CHECK_STREQ(x->name, "cxl");
		CHECK_STREQ(x->file, tpath("main.conf"));
		CHECK_EQ_INT(x->line, 6);
		CHECK_EQ_INT(x->match, RM_TYPE | RM_NODE);
		CHECK_EQ_INT(x->type, DEV_DAX);
		CHECK_EQ_INT(x->node, 1);
		CHECK_EQ_INT(x->zone, ZC_KERNEL);
		/* a match key added by a drop-in satisfies "needs a match key" */
		CHECK_STREQ(y->name, "later-match");
		CHECK_EQ_INT(y->match, RM_TYPE);
		CHECK_EQ_INT(y->type, DEV_ACPI_DIMM);
		CHECK_EQ_INT(y->action, RA_ONLINE);
	}
	config_free(&cfg);

	/* no main file: drop-ins alone */
	config_init(&cfg);
	r = config_load(&cfg, tpath("missing.conf"), d);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(cfg.files.n, 3);
	CHECK_EQ_INT(cfg.log_level, LOG_WARNING);
	config_free(&cfg);

	/* NULL drop-in dir: main only, where rule later-match has no match key yet */
	config_init(&cfg);
	r = config_load(&cfg, tpath("main.conf"), NULL);
	CHECK_EQ_INT(r, -EINVAL);
	CHECK_EQ_INT(cfg.files.n, 1);
	CHECK_EQ_INT(cfg.batch_ms, 1000);
	CHECK_EQ_INT(cfg.errors.n, 1);
	if (cfg.errors.n == 1) {
		char *e = expand("@F:9: [rule later-match]: no match key (type, name, node, size, "
				 "uuid, region or range)",
				 tpath("main.conf"));

		CHECK_STREQ(cfg.errors.v[0], e);
		free(e);
	}
	config_free(&cfg);

	/* a rule repeated inside one drop-in is a duplicate, named with that file and line */
	write_file("conf.d/b.conf", "# repeat\n[rule cxl]\nnode = 2\n\n[rule cxl]\nnode = 5\n");
	config_init(&cfg);
	r = config_load(&cfg, tpath("main.conf"), d);
	CHECK_EQ_INT(r, -EINVAL);
	{
		char *e = expand("@F:5: duplicate rule 'cxl', first defined at @F:2",
				 tpath("conf.d/b.conf"));

		CHECK_EQ_INT(cfg.errors.n, 1);
		if (cfg.errors.n == 1)
			CHECK_STREQ(cfg.errors.v[0], e);
		free(e);
	}
	/* the rejected section's keys are not applied */
	CHECK(cfg.nrules >= 1 && cfg.rules[0].node == 2);
	config_free(&cfg);
	CHECK(unlink(tpath("conf.d/b.conf")) == 0);

	/* errors in several files keep their own file names and line numbers */
	write_file("conf.d/c.conf", "\n\n[policy]\nonline = maybe\n");
	write_file("main2.conf", "[daemon]\n\nbatch = 5\n");
	config_init(&cfg);
	r = config_load(&cfg, tpath("main2.conf"), d);
	CHECK_EQ_INT(r, -EINVAL);
	CHECK_EQ_INT(cfg.errors.n, 2);
	if (cfg.errors.n == 2) {
		char *e0 = expand("@F:3: [daemon] batch: \"5\" has no unit (write e.g. \"2s\" or "
				  "\"250ms\"; units: ms, s, m)",
				  tpath("main2.conf"));
		char *e1 =
			expand("@F:4: [policy] online: \"maybe\" is not a boolean (use yes or no)",
			       tpath("conf.d/c.conf"));

		CHECK_STREQ(cfg.errors.v[0], e0);
		CHECK_STREQ(cfg.errors.v[1], e1);
		free(e0);
		free(e1);
	}
	config_free(&cfg);
	CHECK(unlink(tpath("conf.d/c.conf")) == 0);

	/* a directory named *.conf in the drop-in dir */
	CHECK(mkdir(tpath("conf.d/dir.conf"), 0755) == 0);
	config_init(&cfg);
	r = config_load(&cfg, NULL, d);
	CHECK_EQ_INT(r, -EISDIR);
	CHECK_EQ_INT(cfg.errors.n, 1);
	if (cfg.errors.n == 1) {
		char *e = expand("@F: is a directory", tpath("conf.d/dir.conf"));

		CHECK_STREQ(cfg.errors.v[0], e);
		free(e);
	}
	/* the other drop-ins were still read */
	CHECK_EQ_INT(cfg.log_level, LOG_WARNING);
	config_free(&cfg);
	CHECK(rmdir(tpath("conf.d/dir.conf")) == 0);

	/* a drop-in "dir" that is a file, a main file below a file: not ENOENT */
	config_init(&cfg);
	r = config_load(&cfg, tpath("main.conf/x"), tpath("main.conf"));
	CHECK_EQ_INT(r, -ENOTDIR);
	CHECK_EQ_INT(cfg.errors.n, 2);
	if (cfg.errors.n == 2) {
		char *e0 = expand("@F/x: cannot open: Not a directory", tpath("main.conf"));
		char *e1 = expand("@F: cannot open directory: Not a directory", tpath("main.conf"));

		CHECK_STREQ(cfg.errors.v[0], e0);
		CHECK_STREQ(cfg.errors.v[1], e1);
		free(e0);
		free(e1);
	}
	config_free(&cfg);

	/* a main path that is a directory */
	config_init(&cfg);
	r = config_load(&cfg, d, NULL);
	CHECK_EQ_INT(r, -EISDIR);
	CHECK_EQ_INT(cfg.errors.n, 1);
	config_free(&cfg);

	/* unreadable file (only meaningful when not root) */
	if (geteuid() != 0) {
		char *files[] = { (char *)tpath("main.conf") };

		CHECK(chmod(tpath("main.conf"), 0) == 0);
		config_init(&cfg);
		r = config_load_files(&cfg, files, 1);
		CHECK_EQ_INT(r, -EACCES);
		CHECK_EQ_INT(cfg.errors.n, 1);
		if (cfg.errors.n == 1) {
			char *e = expand("@F: cannot open: Permission denied", tpath("main.conf"));

			CHECK_STREQ(cfg.errors.v[0], e);
			free(e);
		}
		config_free(&cfg);
		CHECK(chmod(tpath("main.conf"), 0644) == 0);
	}
}

static void test_load_files(void)
{
	struct config cfg;
	char f0[512], f1[512], f2[512];
	char *files[] = { f1, f0, f2 };
	int r;

	snprintf(f0, sizeof(f0), "%s", tpath("lf0.conf"));
	snprintf(f1, sizeof(f1), "%s", tpath("lf1.conf"));
	snprintf(f2, sizeof(f2), "%s", tpath("lf-missing.conf"));
	write_file("lf0.conf", "[policy]\nmovable_ratio = 10\n");
	write_file("lf1.conf", "[policy]\nmovable_ratio = 20\n[rule r]\ntype = dax\n");

	/* exactly these files in this order: the last one given wins */
	config_init(&cfg);
	r = config_load_files(&cfg, files, 2);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(cfg.movable_ratio, 10);
	CHECK_EQ_INT(cfg.files.n, 2);
	config_free(&cfg);

	/* a file named explicitly must exist */
	config_init(&cfg);
	r = config_load_files(&cfg, files, 3);
	CHECK_EQ_INT(r, -ENOENT);
	CHECK_EQ_INT(cfg.errors.n, 1);
	if (cfg.errors.n == 1) {
		char *e = expand("@F: cannot open: No such file or directory",
				 tpath("lf-missing.conf"));

		CHECK_STREQ(cfg.errors.v[0], e);
		free(e);
	}
	CHECK_EQ_INT(cfg.movable_ratio, 10);
	config_free(&cfg);

	/* the same rule in two files given on the command line: override, not duplicate */
	files[1] = files[0];
	config_init(&cfg);
	r = config_load_files(&cfg, files, 2);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(cfg.nrules, 1);
	config_free(&cfg);
}

static void test_errors_structure(void)
{
	/* syntax: every problem is reported, each on its own line */
	EXPECT_ERRORS(
		"# header comment\n"
		"\n"
		"log_level = debug\n"
		"[daemon\n"
		"[daemon] extra\n"
		"just some words\n"
		"= 5\n"
		"bad key = 1\n"
		"key:colon = 1\n"
		"[foo]\n"
		"anything = goes\n"
		"[rule]\n"
		"[rule a/b]\n"
		"type = bogus\n"
		"[Daemon]\n",
		"@F:3: key 'log_level' outside of any section",
		"@F:4: missing ']' in section header",
		"@F:5: unexpected text after ']' in section header",
		"@F:6: expected \"key = value\", \"[section]\" or a comment",
		"@F:7: missing key name before '='", "@F:8: invalid key name \"bad key\"",
		"@F:9: invalid key name \"key:colon\"",
		"@F:10: unknown section [foo] (expected [daemon], [policy], [standby] or [rule NAME])",
		"@F:12: [rule]: missing rule name (write [rule NAME])",
		"@F:13: [rule a/b]: invalid rule name \"a/b\" (use letters, digits, '_', '.', '-')",
		"@F:14: [rule a/b] type: unknown device type \"bogus\" (known: boot, acpi-dimm, "
		"virtio-mem, dax, s390-standby, unknown)",
		"@F:15: unknown section [Daemon] (expected [daemon], [policy], [standby] or [rule NAME])");

	/* unknown keys, with a hint for capitals; duplicates in one file; empty values */
	EXPECT_ERRORS("[daemon]\n"
		      "log_levle = info\n"
		      "[policy]\n"
		      "Online = yes\n"
		      "online = yes\n"
		      "; comment\n"
		      "online = no\n"
		      "movable_ratio =\n"
		      "[daemon]\n"
		      "log_level = info\n"
		      "log_level = debug\n"
		      "state_file =\n"
		      "[rule r]\n"
		      "type = dax\n"
		      "colour = blue\n"
		      "zone =\n"
		      "type = dax\n"
		      "a_very_long_key_name_that_inih_would_truncate_0123456789 = 1\n",
		      "@F:2: [daemon] log_levle: unknown key",
		      "@F:4: [policy] Online: unknown key (keys are lowercase)",
		      "@F:7: [policy] online: already set at line 5 of this file",
		      "@F:8: [policy] movable_ratio: empty value",
		      "@F:11: [daemon] log_level: already set at line 10 of this file",
		      "@F:12: [daemon] state_file: empty value",
		      "@F:15: [rule r] colour: unknown key", "@F:16: [rule r] zone: empty value",
		      "@F:17: [rule r] type: already set at line 14 of this file",
		      "@F:18: [rule r] a_very_long_key_name_that_inih_would_truncate_0123456789: "
		      "unknown key");

	/* rules: duplicate in one file, no match key, name too long */
	EXPECT_ERRORS(
		"[rule a]\n"
		"type = dax\n"
		"\n"
		"[rule b]\n"
		"action = ignore\n"
		"[rule a]\n"
		"node = bad\n"
		"[rule "
		"n1234567890123456789012345678901234567890123456789012345678901234]\n"
		"node = 1\n",
		"@F:6: duplicate rule 'a', first defined at @F:1",
		"@F:7: [rule a] node: \"bad\" is not a NUMA node number (0..65535)",
		"@F:8: [rule n1234567890123456789012345678901234567890123456789012345678901234]: "
		"rule name is too long (at most 63 characters)",
		"@F:4: [rule b]: no match key (type, name, node, size, uuid, region or range)");

	/* an overlong line and a NUL byte do not shift later line numbers */
	{
		char text[512];
		int n;

		n = snprintf(text, sizeof(text), "[daemon]\nstate_file = /%0*d\n", 250, 0);
		n += snprintf(text + n, sizeof(text) - n, "log_level = x\n");
		memcpy(text + n, "batch = 1\0s\nonline_retries = y\n", 31);
		n += 31;
		text[n] = '\0';
		write_bytes("nul.conf", text, (size_t)n);
	}
	{
		struct config cfg;
		char *files[] = { (char *)tpath("nul.conf") };
		static const char *const exp[] = {
			"@F:2: line is too long (more than 199 characters)",
			"@F:3: [daemon] log_level: \"x\" is not one of: emerg, alert, crit, err, "
			"warning, notice, info, debug",
			"@F:4: line contains a NUL byte",
			"@F:5: [daemon] online_retries: \"y\" is not a number",
			NULL,
		};
		int r;

		config_init(&cfg);
		r = config_load_files(&cfg, files, 1);
		CHECK_EQ_INT(r, -EINVAL);
		check_error_list(__LINE__, &cfg, tpath("nul.conf"), exp);
		config_free(&cfg);
	}
}

static void test_errors_values(void)
{
	EXPECT_ERRORS(
		"[daemon]\n"
		"log_level = INFO\n"
		"kernel_auto_online = offline\n"
		"state_file = run/state.json\n"
		"control_socket = /run/"
		"0123456789012345678901234567890123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789\n"
		"metrics_file = metrics\n"
		"node_wait = 2\n"
		"online_retries = 1001\n"
		"retry_backoff = fast\n"
		"offline_timeout = 1441m\n"
		"batch = 2h\n",
		"@F:2: [daemon] log_level: \"INFO\" is not one of: emerg, alert, crit, err, "
		"warning, notice, info, debug",
		"@F:3: [daemon] kernel_auto_online: \"offline\" is not one of: set-offline, warn, "
		"ignore",
		"@F:4: [daemon] state_file: \"run/state.json\" is not an absolute path",
		"@F:5: [daemon] control_socket: path is too long (at most 107 characters)",
		"@F:6: [daemon] metrics_file: \"metrics\" is not an absolute path",
		"@F:7: [daemon] node_wait: \"2\" has no unit (write e.g. \"2s\" or \"250ms\"; "
		"units: ms, s, m)",
		"@F:8: [daemon] online_retries: \"1001\" is out of range (0..1000)",
		"@F:9: [daemon] retry_backoff: \"fast\" is not a duration (e.g. \"250ms\", "
		"\"2s\", \"1m\")",
		"@F:10: [daemon] offline_timeout: \"1441m\" is too long (at most 24 hours)",
		"@F:11: [daemon] batch: \"2h\" is not a duration (e.g. \"250ms\", \"2s\", "
		"\"1m\")");

	EXPECT_ERRORS(
		"[daemon]\n"
		"batch = 1s # settle\n"
		"node_wait = -1s\n"
		"offline_timeout = 99999999999999999999999ms\n"
		"online_retries = -1\n"
		"state_file = /ok\n",
		"@F:2: [daemon] batch: \"1s # settle\" is not a duration (e.g. \"250ms\", "
		"\"2s\", \"1m\")",
		"@F:3: [daemon] node_wait: \"-1s\" is not a duration (e.g. \"250ms\", \"2s\", "
		"\"1m\")",
		"@F:4: [daemon] offline_timeout: \"99999999999999999999999ms\" is too long (at "
		"most 24 hours)",
		"@F:5: [daemon] online_retries: \"-1\" is not a number");

	EXPECT_ERRORS("\n[policy]\n"
		      "online = perhaps\n"
		      "movable_ratio = abc\n"
		      "movable_ratio = 301 %\n"
		      "[policy]\n"
		      "movable_ratio = 100001\n"
		      "memmap = yes\n"
		      "memmap_auto_default = auto\n"
		      "memmap_ram_max_percent = 101\n"
		      "zone.floppy = movable\n"
		      "zone.dax = normal\n"
		      "zone. = kernel\n"
		      "dax_mode = fsdax\n",
		      "@F:3: [policy] online: \"perhaps\" is not a boolean (use yes or no)",
		      "@F:4: [policy] movable_ratio: \"abc\" is not a percentage",
		      "@F:5: [policy] movable_ratio: already set at line 4 of this file",
		      "@F:7: [policy] movable_ratio: already set at line 4 of this file",
		      "@F:8: [policy] memmap: \"yes\" is not one of: auto, on-memory, ram",
		      "@F:9: [policy] memmap_auto_default: \"auto\" is not one of: on-memory, ram",
		      "@F:10: [policy] memmap_ram_max_percent: \"101\" is out of range (0..100%)",
		      "@F:11: [policy] zone.floppy: unknown device type \"floppy\" (known: boot, "
		      "acpi-dimm, virtio-mem, dax, s390-standby, unknown)",
		      "@F:12: [policy] zone.dax: \"normal\" is not one of: movable, kernel",
		      "@F:13: [policy] zone.: unknown device type \"\" (known: boot, acpi-dimm, "
		      "virtio-mem, dax, s390-standby, unknown)",
		      "@F:14: [policy] dax_mode: \"fsdax\" is not one of: devdax, system-ram");

	EXPECT_ERRORS("[policy]\nmovable_ratio = 301 %\n",
		      "@F:2: [policy] movable_ratio: \"301 %\" is not a percentage");
	EXPECT_ERRORS("[policy]\nmovable_ratio = 100001%\n",
		      "@F:2: [policy] movable_ratio: \"100001%\" is out of range (0..100000%)");
	EXPECT_ERRORS("[policy]\nmovable_ratio = -1\n",
		      "@F:2: [policy] movable_ratio: \"-1\" is not a percentage");
	EXPECT_ERRORS("[policy]\nmovable_ratio = %\n",
		      "@F:2: [policy] movable_ratio: \"%\" is not a percentage");
	EXPECT_ERRORS("[policy]\nmemmap_ram_max_percent = 25%%\n",
		      "@F:2: [policy] memmap_ram_max_percent: \"25%%\" is not a percentage");

	/* rule match keys */
	EXPECT_ERRORS(
		"[rule m]\n"
		"type = DAX\n"
		"name = dax 0.0\n"
		"node = -1\n"
		"size = 12Q\n"
		"uuid = 0e6f3a43-1b2c-4d5e-8f90-aabbccddeef\n"
		"region = region 0\n"
		"range = 0x1000\n"
		"[rule m2]\n"
		"name = 0123456789012345678901234567890123456789012345678901234567890123\n"
		"node = 65536\n"
		"size = -\n"
		"uuid = 0e6f3a43-1b2c-4d5e-8f90-aabbccddeeffa\n"
		"region = 0123456789012345678901234567890123456789\n"
		"range = 0x2000-0x1000\n"
		"[rule m3]\n"
		"size = 4G-1G\n"
		"uuid = 0e6f3a43x1b2c-4d5e-8f90-aabbccddeeff\n"
		"range = 0x1000+0\n"
		"[rule m4]\n"
		"size = 1G-x\n"
		"uuid = ge6f3a43-1b2c-4d5e-8f90-aabbccddeeff\n"
		"range = 0xffffffffffffffff+2\n"
		"[rule m5]\n"
		"size = 1G - 2G x\n"
		"range = 0x1000-\n"
		"[rule m6]\n"
		"range = zz+1G\n"
		"size = 1 G\n", /* blanks before the unit are fine: m6 has a match key */
		"@F:2: [rule m] type: unknown device type \"DAX\" (known: boot, acpi-dimm, "
		"virtio-mem, dax, s390-standby, unknown)",
		"@F:3: [rule m] name: \"dax 0.0\" contains whitespace",
		"@F:4: [rule m] node: \"-1\" is not a NUMA node number (0..65535)",
		"@F:5: [rule m] size: \"12Q\" is not a size (e.g. \"16G\", \"128M\")",
		"@F:6: [rule m] uuid: \"0e6f3a43-1b2c-4d5e-8f90-aabbccddeef\" is not a UUID "
		"(8-4-4-4-12 hex digits)",
		"@F:7: [rule m] region: \"region 0\" contains whitespace",
		"@F:8: [rule m] range: \"0x1000\" is not an address range (START-END with "
		"inclusive END, or START+SIZE)",
		"@F:10: [rule m2] name: "
		"\"0123456789012345678901234567890123456789012345678901234567890123\" is too "
		"long (at most 63 characters)",
		"@F:11: [rule m2] node: \"65536\" is not a NUMA node number (0..65535)",
		"@F:12: [rule m2] size: \"-\" is not a size range (SIZE, MIN-MAX, MIN- or -MAX)",
		"@F:13: [rule m2] uuid: \"0e6f3a43-1b2c-4d5e-8f90-aabbccddeeffa\" is not a UUID "
		"(8-4-4-4-12 hex digits)",
		"@F:14: [rule m2] region: \"0123456789012345678901234567890123456789\" is too "
		"long (at most 31 characters)",
		"@F:15: [rule m2] range: \"0x2000-0x1000\": start is above end",
		"@F:17: [rule m3] size: \"4G-1G\": minimum is larger than maximum",
		"@F:18: [rule m3] uuid: \"0e6f3a43x1b2c-4d5e-8f90-aabbccddeeff\" is not a UUID "
		"(8-4-4-4-12 hex digits)",
		"@F:19: [rule m3] range: \"0x1000+0\": size is zero",
		"@F:21: [rule m4] size: \"1G-x\" is not a size range (SIZE, MIN-MAX, MIN- or "
		"-MAX)",
		"@F:22: [rule m4] uuid: \"ge6f3a43-1b2c-4d5e-8f90-aabbccddeeff\" is not a UUID "
		"(8-4-4-4-12 hex digits)",
		"@F:23: [rule m4] range: \"0xffffffffffffffff+2\" extends beyond the 64-bit "
		"address space",
		"@F:25: [rule m5] size: \"1G - 2G x\" is not a size range (SIZE, MIN-MAX, MIN- "
		"or -MAX)",
		"@F:26: [rule m5] range: \"0x1000-\" is not an address range (START-END with "
		"inclusive END, or START+SIZE)",
		"@F:28: [rule m6] range: \"zz+1G\" is not an address range (START-END with "
		"inclusive END, or START+SIZE)",
		/* every rule above lost its only match keys */
		"@F:1: [rule m]: no match key (type, name, node, size, uuid, region or range)",
		"@F:9: [rule m2]: no match key (type, name, node, size, uuid, region or range)",
		"@F:16: [rule m3]: no match key (type, name, node, size, uuid, region or range)",
		"@F:20: [rule m4]: no match key (type, name, node, size, uuid, region or range)",
		"@F:24: [rule m5]: no match key (type, name, node, size, uuid, region or range)");

	/* rule action keys */
	EXPECT_ERRORS("[rule act]\n"
		      "type = acpi-dimm\n"
		      "action = skip\n"
		      "zone = normal\n"
		      "memmap = device\n"
		      "hugepages = 2M\n"
		      "dax_mode = kmem\n",
		      "@F:3: [rule act] action: \"skip\" is not one of: online, ignore",
		      "@F:4: [rule act] zone: \"normal\" is not one of: movable, kernel",
		      "@F:5: [rule act] memmap: \"device\" is not one of: auto, on-memory, ram",
		      "@F:6: [rule act] hugepages: \"2M\" is not one of: 1G, none",
		      "@F:7: [rule act] dax_mode: \"kmem\" is not one of: devdax, system-ram");
	EXPECT_ERRORS("[rule h]\ntype = dax\nhugepages = 1G1\n",
		      "@F:3: [rule h] hugepages: \"1G1\" is not one of: 1G, none");
	/* hugepages accepts other spellings of exactly 1 GiB */
	EXPECT_OK("[rule h]\ntype = dax\nhugepages = 1024M\n");
	EXPECT_OK("[rule h]\ntype = dax\nhugepages = 1GiB\n");
}

static void test_validate(void)
{
	/* identical match sets */
	EXPECT_ERRORS(
		"[rule a]\n"
		"type = dax\n"
		"node = 1\n"
		"zone = movable\n"
		"[rule b]\n"
		"node = 1\n"
		"type = dax\n"
		"zone = kernel\n"
		"[rule c]\n"
		"type = dax\n"
		"node = 2\n"
		"[rule d]\n"
		"type = dax\n"
		"[rule e]\n"
		"uuid = 0E6F3A43-1B2C-4D5E-8F90-AABBCCDDEEFF\n"
		"[rule f]\n"
		"uuid = 0e6f3a43-1b2c-4d5e-8f90-aabbccddeeff\n"
		"[rule g]\n"
		"range = 0x1000-0x1fff\n"
		"[rule h]\n"
		"range = 0x1000+4K\n"
		"[rule i]\n"
		"size = 1G-\n"
		"[rule j]\n"
		"size = 1G-1T\n",
		"@F:5: rules 'a' (@F:1) and 'b' (@F:5) match the same devices; make one more "
		"specific",
		"@F:16: rules 'e' (@F:14) and 'f' (@F:16) match the same devices; make one more "
		"specific",
		"@F:20: rules 'g' (@F:18) and 'h' (@F:20) match the same devices; make one more "
		"specific");

	/* same keys, different values, or different key sets: fine */
	EXPECT_OK("[rule a]\nname = dax0.*\n"
		  "[rule b]\nname = dax1.*\n"
		  "[rule c]\nsize = 1G\n"
		  "[rule d]\nsize = 1G-2G\n"
		  "[rule e]\nregion = region0\n"
		  "[rule f]\nregion = region1\n"
		  "[rule g]\nregion = region1\ntype = dax\n"
		  "[rule h]\ntype = virtio-mem\n");

	EXPECT_ERRORS(
		"[rule big]\n"
		"type = dax\n"
		"hugepages = 1G\n"
		"memmap = on-memory\n"
		"[rule dimm]\n"
		"type = acpi-dimm\n"
		"dax_mode = system-ram\n",
		"@F:1: [rule big]: hugepages = 1G needs the memmap in RAM, but memmap = "
		"on-memory",
		"@F:5: [rule dimm]: dax_mode only applies to dax devices, not type acpi-dimm");

	/* rules overridden from a drop-in are compared after merging */
	{
		struct config cfg;
		char d[512];
		int r;

		snprintf(d, sizeof(d), "%s", tpath("val.d"));
		CHECK(mkdir(d, 0755) == 0);
		write_file("val.conf", "[rule a]\ntype = dax\nnode = 0\n[rule b]\ntype = dax\n");
		write_file("val.d/x.conf", "[rule b]\nnode = 0\n");
		config_init(&cfg);
		r = config_load(&cfg, tpath("val.conf"), d);
		CHECK_EQ_INT(r, 0);
		r = config_validate(&cfg);
		CHECK_EQ_INT(r, -EINVAL);
		CHECK_EQ_INT(cfg.errors.n, 1);
		if (cfg.errors.n == 1) {
			char *e = expand(
				"@F:4: rules 'a' (@F:1) and 'b' (@F:4) match the same devices; "
				"make one more specific",
				tpath("val.conf"));

			CHECK_STREQ(cfg.errors.v[0], e);
			free(e);
		}
		config_free(&cfg);
	}
}

/*
 * Write a copy of the shipped file with "#key = value" lines (and with
 * with_rules also "#[rule ...]" headers and their keys) uncommented, and load it.
 */
static void check_uncommented(const char *src, bool with_rules)
{
	FILE *in = fopen(src, "re"), *out = fopen(tpath("uncommented.conf"), "we");
	char dst[512], line[512];
	char *f2[] = { dst };
	bool in_rule = false;
	unsigned keys = 0, rule_keys = 0;
	struct config cfg;
	int r;

	snprintf(dst, sizeof(dst), "%s", tpath("uncommented.conf"));
	CHECK(in && out);
	if (!in || !out) {
		if (in)
			fclose(in);
		if (out)
			fclose(out);
		return;
	}
	while (fgets(line, sizeof(line), in)) {
		if (line[0] == '[') {
			in_rule = false;
			fputs(line, out);
		} else if (startswith(line, "#[rule ")) {
			in_rule = true;
			if (with_rules)
				fputs(line + 1, out);
		} else if (line[0] == '#' && line[1] != ' ' && line[1] != '#' && line[1] != '\n' &&
			   strchr(line, '=')) {
			if (in_rule) {
				rule_keys++;
				if (with_rules)
					fputs(line + 1, out);
			} else {
				keys++;
				fputs(line + 1, out);
			}
		}
	}
	fclose(in);
	CHECK(fclose(out) == 0);
	/* 10 [daemon] keys + 12 [policy] keys, and some example rule keys */
	CHECK_EQ_INT(keys, 32);
	CHECK(rule_keys >= 4);

	config_init(&cfg);
	r = config_load_files(&cfg, f2, 1);
	CHECK_EQ_INT(r, 0);
	r = config_validate(&cfg);
	CHECK_EQ_INT(r, 0);
	dump_errors(&cfg);
	if (!with_rules) {
		check_is_default(&cfg, __LINE__);
	} else {
		/* the example rules, and nothing else changed */
		CHECK_EQ_INT(cfg.nrules, 2);
		cfg.nrules = 0;
		check_is_default(&cfg, __LINE__);
		cfg.nrules = 2;
	}
	config_free(&cfg);
}

/* Files that are not plain text files must not crash, hang or eat memory. */
static void test_standby(void)
{
	struct config cfg;

	/* defaults: opt-in, 1G steps, 10% pressure, 30s / 10m / 1m / 30s */
	config_init(&cfg);
	CHECK(!cfg.standby.enabled);
	CHECK_EQ_U64(cfg.standby.floor, 0);
	CHECK_EQ_U64(cfg.standby.ceiling, 0);
	CHECK_EQ_U64(cfg.standby.step, 1ULL << 30);
	CHECK_EQ_INT(cfg.standby.memmap, MC_AUTO);
	CHECK_EQ_INT(cfg.standby.zone, ZC_UNSET);
	CHECK_EQ_INT(cfg.standby.pressure_threshold, 1000);
	CHECK_EQ_INT(cfg.standby.grow_window_ms, 30000);
	CHECK_EQ_INT(cfg.standby.shrink_idle_ms, 600000);
	CHECK_EQ_INT(cfg.standby.min_interval_ms, 60000);
	CHECK_EQ_INT(cfg.standby.scan_interval_ms, 30000);
	config_free(&cfg);

	load_text(&cfg, "[standby]\n"
			"enabled = yes\n"
			"floor = 4G\n"
			"ceiling = 12G\n"
			"step = 256M\n"
			"memmap = on-memory\n"
			"zone = movable\n"
			"pressure_threshold = 2.5%\n"
			"grow_window = 10s\n"
			"shrink_idle = 5m\n"
			"min_interval = 30s\n"
			"scan_interval = 2s\n");
	CHECK(cfg.standby.enabled);
	CHECK_EQ_U64(cfg.standby.floor, 4ULL << 30);
	CHECK_EQ_U64(cfg.standby.ceiling, 12ULL << 30);
	CHECK_EQ_U64(cfg.standby.step, 256ULL << 20);
	CHECK_EQ_INT(cfg.standby.memmap, MC_ON_MEMORY);
	CHECK_EQ_INT(cfg.standby.zone, ZC_MOVABLE);
	CHECK_EQ_INT(cfg.standby.pressure_threshold, 250);
	CHECK_EQ_INT(cfg.standby.grow_window_ms, 10000);
	CHECK_EQ_INT(cfg.standby.shrink_idle_ms, 300000);
	CHECK_EQ_INT(cfg.standby.min_interval_ms, 30000);
	CHECK_EQ_INT(cfg.standby.scan_interval_ms, 2000);
	config_free(&cfg);

	load_text(&cfg, "[standby]\nfloor = none\nceiling = none\npressure_threshold = none\n");
	CHECK_EQ_U64(cfg.standby.floor, 0);
	CHECK_EQ_U64(cfg.standby.ceiling, 0);
	CHECK_EQ_INT(cfg.standby.pressure_threshold, 0);
	config_free(&cfg);
	load_text(&cfg, "[standby]\npressure_threshold = 100\nzone = kernel\nmemmap = ram\n");
	CHECK_EQ_INT(cfg.standby.pressure_threshold, 10000);
	CHECK_EQ_INT(cfg.standby.zone, ZC_KERNEL);
	CHECK_EQ_INT(cfg.standby.memmap, MC_RAM);
	config_free(&cfg);

	EXPECT_ERRORS("# s390\n"
		      "[standby]\n"
		      "enabled = maybe\n"
		      "floor = lots\n"
		      "ceiling = 1000K\n"
		      "step = none\n"
		      "memmap = dimm\n"
		      "zone = normal\n"
		      "pressure_threshold = 0\n"
		      "grow_window = 10\n"
		      "shrink_idle = 25h\n"
		      "min_interval = soon\n"
		      "scan_interval = 500ms\n"
		      "Floor = 1G\n"
		      "threshold = 5\n",
		      "@F:3: [standby] enabled: \"maybe\" is not a boolean (use yes or no)",
		      "@F:4: [standby] floor: \"lots\" is not a size (e.g. \"1G\", \"512M\") or none",
		      "@F:5: [standby] ceiling: \"1000K\" must be a non-zero whole number of MiB",
		      "@F:6: [standby] step: \"none\" is not a size (e.g. \"1G\", \"512M\")",
		      "@F:7: [standby] memmap: \"dimm\" is not one of: auto, on-memory, ram",
		      "@F:8: [standby] zone: \"normal\" is not one of: movable, kernel",
		      "@F:9: [standby] pressure_threshold: \"0\" is out of range (above 0, at most "
		      "100%; none = off)",
		      "@F:10: [standby] grow_window: \"10\" has no unit (write e.g. \"2s\" or "
		      "\"250ms\"; units: ms, s, m)",
		      "@F:11: [standby] shrink_idle: \"25h\" is not a duration (e.g. \"250ms\", "
		      "\"2s\", \"1m\")",
		      "@F:12: [standby] min_interval: \"soon\" is not a duration (e.g. \"250ms\", "
		      "\"2s\", \"1m\")",
		      "@F:13: [standby] scan_interval: \"500ms\" is too short (at least 1s)",
		      "@F:14: [standby] Floor: unknown key (keys are lowercase)",
		      "@F:15: [standby] threshold: unknown key");

	EXPECT_ERRORS("[standby]\n"
		      "pressure_threshold = 100.5\n"
		      "pressure_threshold = 1.234\n"
		      "step = 0\n"
		      "floor = 1G 2G\n"
		      "ceiling = -1G\n",
		      "@F:2: [standby] pressure_threshold: \"100.5\" is out of range (above 0, at "
		      "most 100%; none = off)",
		      "@F:3: [standby] pressure_threshold: already set at line 2 of this file",
		      "@F:4: [standby] step: \"0\" must be a non-zero whole number of MiB",
		      "@F:5: [standby] floor: \"1G 2G\" is not a size (e.g. \"1G\", \"512M\") or "
		      "none",
		      "@F:6: [standby] ceiling: \"-1G\" is not a size (e.g. \"1G\", \"512M\") or "
		      "none");
	EXPECT_ERRORS("[standby]\n"
		      "pressure_threshold = 1.234\n",
		      "@F:2: [standby] pressure_threshold: \"1.234\" is not a percentage (e.g. "
		      "\"10\", \"2.5%\") or none");

	/* cross-key validation names the file and the last [standby] line */
	EXPECT_ERRORS("[standby]\n"
		      "ceiling = 4G\n"
		      "floor = 8G\n"
		      "grow_window = 2m\n"
		      "shrink_idle = 1m\n",
		      "@F:5: [standby]: floor 8G is above ceiling 4G",
		      "@F:5: [standby]: shrink_idle (60000ms) must not be shorter than grow_window "
		      "(120000ms): shrinking must wait longer than growing");
	/* without pressure-driven resizing the windows do not matter */
	EXPECT_OK("[standby]\npressure_threshold = none\ngrow_window = 2m\nshrink_idle = 1m\n");
}

static void test_special_files(void)
{
	struct config cfg;
	char d[512];
	int r;

	snprintf(d, sizeof(d), "%s", tpath("special.d"));
	CHECK(mkdir(d, 0755) == 0);
	CHECK(mkfifo(tpath("special.d/fifo.conf"), 0644) == 0);
	CHECK(symlink("/dev/null", tpath("special.d/masked.conf")) == 0);
	CHECK(symlink("/dev/zero", tpath("special.d/zero.conf")) == 0);
	/* no newline at the end of the last line */
	write_file("special.d/nonl.conf", "[policy]\nmovable_ratio = 42");

	config_init(&cfg);
	r = config_load(&cfg, NULL, d);
	CHECK_EQ_INT(r, -EINVAL);
	CHECK_EQ_INT(cfg.movable_ratio, 42);
	CHECK_EQ_INT(cfg.errors.n, 2);
	if (cfg.errors.n == 2) {
		char *e0 = expand("@F/fifo.conf: not a regular file", d);
		char *e1 = expand(
			"@F/zero.conf: larger than 1048576 bytes; not a configuration file", d);

		CHECK_STREQ(cfg.errors.v[0], e0);
		CHECK_STREQ(cfg.errors.v[1], e1);
		free(e0);
		free(e1);
	}
	/* fifo.conf is rejected before reading; masked, nonl and zero were opened */
	CHECK_EQ_INT(cfg.files.n, 3);
	config_free(&cfg);

	/* a very long line is one error and does not shift later line numbers */
	{
		size_t n = 100000;
		char *text = malloc(n + 64);

		CHECK(text != NULL);
		if (!text)
			return;
		strcpy(text, "[daemon]\nstate_file = /");
		memset(text + strlen(text), 'x', n);
		strcpy(text + strlen("[daemon]\nstate_file = /") + n, "\nbatch = 1\n");
		check_errors(
			__LINE__, text,
			(const char *const[]){
				"@F:2: line is too long (more than 199 characters)",
				"@F:3: [daemon] batch: \"1\" has no unit (write e.g. \"2s\" or "
				"\"250ms\"; units: ms, s, m)",
				NULL });
		free(text);
	}
}

/* The shipped example must load cleanly and mean exactly the built-in defaults. */
static void test_shipped_conf(void)
{
	struct config cfg;
	char *files[] = { (char *)TESTS_SRCDIR "/../conf/memhpd.conf" };
	int r;

	config_init(&cfg);
	r = config_load_files(&cfg, files, 1);
	CHECK_EQ_INT(r, 0);
	r = config_validate(&cfg);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(cfg.errors.n, 0);
	dump_errors(&cfg);
	CHECK_EQ_INT(cfg.files.n, 1);
	check_is_default(&cfg, __LINE__);
	config_free(&cfg);

	/*
	 * Uncommenting every "#key = default" line must also give the defaults
	 * (the file documents the real defaults, and every key it lists exists);
	 * uncommenting the example rules too must give valid rules.
	 */
	check_uncommented(files[0], false);
	check_uncommented(files[0], true);
}

static int rm_rf(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", path);
	return system(cmd);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_defaults();
	test_every_key();
	test_syntax_tolerance();
	test_dropins();
	test_load_files();
	test_errors_structure();
	test_errors_values();
	test_validate();
	test_standby();
	test_special_files();
	test_shipped_conf();
	if (!check_failures)
		rm_rf(tmpdir);
	else
		fprintf(stderr, "test files kept in %s\n", tmpdir);
	return check_exit();
}
