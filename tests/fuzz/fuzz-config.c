// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Configuration loader (config_load, src/lib/config.c: inih plus our lexer),
 * on real files.  Two runs per input; the first byte picks a split point:
 *
 *   1. the rest of the input as memhpd.conf, with an empty drop-in directory;
 *   2. the rest split at that point into memhpd.conf and
 *      memhpd.conf.d/50-fuzz.conf (so sections, rules and keys continue, or
 *      are overridden, across files).
 *
 * Invariants: the result is 0 exactly when there are no errors; every error
 * names one of our files ("FILE:LINE: ..." or "FILE: ..."); an accepted
 * configuration has a match key in every rule, rule names and files that are
 * NUL-terminated, and config_validate agrees with its own error list.
 */
#include <sys/stat.h>

#include "config.h"
#include "fuzz.h"

static void check(struct config *cfg, int r, const char *dir)
{
	size_t dl = strlen(dir);

	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ENOMEM || r == -EFBIG, "r = %d", r);
	if (r != -ENOMEM)
		FUZZ_ASSERT((r == 0) == (cfg->errors.n == 0), "r = %d with %zu errors", r,
			    cfg->errors.n);
	for (size_t i = 0; i < cfg->errors.n; i++)
		FUZZ_ASSERT(!strncmp(cfg->errors.v[i], dir, dl), "error without a file: \"%s\"",
			    cfg->errors.v[i]);
	if (r < 0)
		return;
	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct rule *rule = &cfg->rules[i];

		FUZZ_ASSERT(rule->match != 0, "rule %zu without a match key", i);
		FUZZ_ASSERT(memchr(rule->name, '\0', sizeof(rule->name)) &&
				    memchr(rule->file, '\0', sizeof(rule->file)) &&
				    memchr(rule->dev_name, '\0', sizeof(rule->dev_name)),
			    "rule %zu: unterminated string", i);
		FUZZ_ASSERT(rule->size_min <= rule->size_max || !(rule->match & RM_SIZE),
			    "rule %s: size %llu > %llu", rule->name,
			    (unsigned long long)rule->size_min, (unsigned long long)rule->size_max);
		FUZZ_ASSERT(rule->range_start <= rule->range_end || !(rule->match & RM_RANGE),
			    "rule %s: range start > end", rule->name);
	}
	FUZZ_ASSERT(cfg->movable_ratio >= -1 && cfg->movable_ratio <= 100000, "movable_ratio %d",
		    cfg->movable_ratio);
	r = config_validate(cfg);
	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ENOMEM, "validate: %d", r);
	if (r != -ENOMEM)
		FUZZ_ASSERT((r == 0) == (cfg->errors.n == 0), "validate %d with %zu errors", r,
			    cfg->errors.n);
	for (size_t i = 0; i < cfg->errors.n; i++)
		FUZZ_ASSERT(!strncmp(cfg->errors.v[i], dir, dl),
			    "validation error without a file: \"%s\"", cfg->errors.v[i]);
}

static void load(const char *main_path, const char *dropins, const char *dir)
{
	struct config cfg;
	int r;

	config_init(&cfg);
	r = config_load(&cfg, main_path, dropins);
	check(&cfg, r, dir);
	config_free(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_tmpdir();
	char main_path[128], dropins[128], dropin[160];
	size_t split;

	if (!size)
		return 0;
	snprintf(main_path, sizeof(main_path), "%s/memhpd.conf", dir);
	snprintf(dropins, sizeof(dropins), "%s/memhpd.conf.d", dir);
	snprintf(dropin, sizeof(dropin), "%s/50-fuzz.conf", dropins);
	if (mkdir(dropins, 0700) < 0 && errno != EEXIST)
		abort();

	/* 1: one file */
	unlink(dropin);
	fuzz_write_file(main_path, data + 1, size - 1);
	load(main_path, dropins, dir);

	/* 2: main file and a drop-in, split where the first byte says */
	split = (size - 1) * data[0] / 255;
	fuzz_write_file(main_path, data + 1, split);
	fuzz_write_file(dropin, data + 1 + split, size - 1 - split);
	load(main_path, dropins, dir);
	return 0;
}
