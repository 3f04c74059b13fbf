// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Actions against the fake kernel (libmemhp-fakekernel.so).
 *
 * Run without MEMHP_FAKE_ROOT, this driver makes a temporary directory and
 * runs itself three times with LD_PRELOAD set to the shim:
 *   1. MEMHP_FAKE_ROOT=<tmp>/root: the action and fake-kernel tests;
 *   2. MEMHP_FAKE_ROOT unset, and 3. MEMHP_FAKE_ROOT=/: "--passthrough",
 *      proving the shim then writes through unchanged.
 * Fixtures are written with stdio, which the shim does not see (glibc calls
 * its internal open/write), so only the code under test goes through it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions.h"
#include "sysroot.h"
#include "util.h"
#include "../unit/check.h"

#define MEM "sys/devices/system/memory/"

static const char *root;

static void mkdirs(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	}
}

/* Write a fixture file (relative to base) with stdio. */
static void put_in(const char *base, const char *rel, const char *content)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	mkdirs(path);
	f = fopen(path, "w");
	if (!f || fputs(content, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "cannot write fixture %s: %m\n", path);
		exit(2);
	}
}

static void put(const char *rel, const char *content)
{
	put_in(root, rel, content);
}

/* Whole content of a file (relative to base), "<missing>" if absent. */
static const char *get_in(const char *base, const char *rel)
{
	static char buf[4][8192];
	static int slot;
	char path[PATH_MAX], *b = buf[slot++ % 4];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	f = fopen(path, "r");
	if (!f)
		return "<missing>";
	n = fread(b, 1, sizeof(buf[0]) - 1, f);
	fclose(f);
	b[n] = '\0';
	return b;
}

static const char *get(const char *rel)
{
	return get_in(root, rel);
}

static void log_reset(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/.fake-kernel.log", root);
	unlink(path);
}

static const char *log_get(void)
{
	const char *s = get(".fake-kernel.log");

	return streq(s, "<missing>") ? "" : s;
}

static void block(const char *name, const char *state, const char *zones)
{
	char rel[128];

	snprintf(rel, sizeof(rel), MEM "%s/state", name);
	put(rel, state);
	snprintf(rel, sizeof(rel), MEM "%s/valid_zones", name);
	put(rel, zones);
	log_reset();
}

static void block_file(const char *name, const char *file, const char *content)
{
	char rel[128];

	snprintf(rel, sizeof(rel), MEM "%s/%s", name, file);
	put(rel, content);
}

static const char *block_get(const char *name, const char *file)
{
	char rel[128];

	snprintf(rel, sizeof(rel), MEM "%s/%s", name, file);
	return get(rel);
}

static struct mem_block mkblock(const char *name)
{
	struct mem_block b = { .node = -1, .device = -1 };

	snprintf(b.name, sizeof(b.name), "%s", name);
	return b;
}

static const struct action_opts fast = { .retries = 5, .backoff_ms = 1 };

/* Is write() in this process the shim's?  Otherwise the tests prove nothing. */
static bool shim_loaded(void)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *w = dlsym(RTLD_DEFAULT, "write");

	return libc && w && w != dlsym(libc, "write");
}

static void test_online(struct sysroot *sr)
{
	struct action_result res;
	struct mem_block b;

	/* online_movable, verified */
	block("memory1", "offline\n", "Normal Movable\n");
	block_file("memory1", "online", "0\n");
	b = mkblock("memory1");
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_DONE);
	CHECK_EQ_INT(res.err, 0);
	CHECK_EQ_INT(res.attempts, 1);
	CHECK_EQ_INT(res.zone, ZONE_ID_MOVABLE);
	CHECK_EQ_INT(b.state, BLOCK_ONLINE);
	CHECK_EQ_INT(b.zone, ZONE_ID_MOVABLE);
	CHECK_EQ_INT(b.valid_zones, ZONE_BIT(ZONE_ID_MOVABLE));
	CHECK_STREQ(block_get("memory1", "state"), "online\n");
	CHECK_STREQ(block_get("memory1", "valid_zones"), "Movable\n");
	CHECK_STREQ(block_get("memory1", "online"), "1\n");
	CHECK_STREQ(log_get(), MEM "memory1/state online_movable OK\n");

	/* Movable not in valid_zones: the kernel says EINVAL, block stays offline */
	block("memory2", "offline\n", "Normal\n");
	b = mkblock("memory2");
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_FAILED);
	CHECK_EQ_INT(res.err, -EINVAL);
	CHECK_EQ_INT(res.attempts, 1);
	CHECK_STREQ(res.msg, "online_movable: Invalid argument");
	CHECK_EQ_INT(b.state, BLOCK_OFFLINE);
	CHECK_STREQ(block_get("memory2", "state"), "offline\n");
	CHECK_STREQ(log_get(), MEM "memory2/state online_movable EINVAL\n");

	/* already online: nothing written, zone reported */
	block("memory3", "online\n", "Normal\n");
	b = mkblock("memory3");
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_ALREADY);
	CHECK_EQ_INT(res.attempts, 0);
	CHECK_EQ_INT(res.zone, ZONE_ID_NORMAL);
	CHECK_EQ_INT(b.zone, ZONE_ID_NORMAL);
	CHECK_STREQ(log_get(), "");

	/* online_kernel picks the kernel zone even when Movable is listed first */
	block("memory7", "offline\n", "Movable Normal\n");
	b = mkblock("memory7");
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_KERNEL, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_DONE);
	CHECK_EQ_INT(res.zone, ZONE_ID_NORMAL);
	CHECK_STREQ(log_get(), MEM "memory7/state online_kernel OK\n");

	/* plain online: the kernel's default (first listed) zone */
	block("memory8", "offline\n", "Normal Movable\n");
	b = mkblock("memory8");
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_UNSET, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_DONE);
	CHECK_EQ_INT(res.zone, ZONE_ID_NORMAL);
	CHECK_STREQ(block_get("memory8", "valid_zones"), "Normal\n");
	CHECK_STREQ(log_get(), MEM "memory8/state online OK\n");

	/* the kernel onlined it, but into the wrong zone: verification catches it */
	block("memory9", "offline\n", "Normal Movable\n");
	block_file("memory9", ".fake_online_zone", "Normal\n");
	b = mkblock("memory9");
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_MISMATCH);
	CHECK_EQ_INT(res.zone, ZONE_ID_NORMAL);
	CHECK_STREQ(res.msg, "online_movable: online, but in zone Normal");
	/* ... and ZC_KERNEL with a Movable result */
	block("memory19", "offline\n", "Normal Movable\n");
	block_file("memory19", ".fake_online_zone", "Movable\n");
	b = mkblock("memory19");
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_KERNEL, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_MISMATCH);
	CHECK_EQ_INT(res.zone, ZONE_ID_MOVABLE);
}

static void test_online_retries(struct sysroot *sr)
{
	struct action_opts o = { .retries = 3, .backoff_ms = 1 };
	struct action_result res;
	struct mem_block b;
	uint64_t t0, spent;

	/* EBUSY twice, then the kernel accepts */
	block("memory4", "offline\n", "Normal Movable\n");
	block_file("memory4", ".fake_busy", "online:2\n");
	b = mkblock("memory4");
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_DONE);
	CHECK_EQ_INT(res.attempts, 3);
	CHECK_EQ_INT(res.err, 0);
	CHECK_STREQ(log_get(), MEM "memory4/state online_movable EBUSY\n" MEM
				   "memory4/state online_movable EBUSY\n" MEM
				   "memory4/state online_movable OK\n");
	CHECK_STREQ(block_get("memory4", ".fake_busy"), "online:0\n");

	/* always EBUSY: retries + 1 attempts, then FAILED */
	block("memory5", "offline\n", "Normal Movable\n");
	block_file("memory5", ".fake_busy", "online:always\n");
	b = mkblock("memory5");
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &o, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_FAILED);
	CHECK_EQ_INT(res.err, -EBUSY);
	CHECK_EQ_INT(res.attempts, 4);
	CHECK_STREQ(res.msg, "online_movable: Device or resource busy after 4 attempts");
	CHECK_STREQ(block_get("memory5", "state"), "offline\n");
	CHECK_STREQ(log_get(), MEM "memory5/state online_movable EBUSY\n" MEM
				   "memory5/state online_movable EBUSY\n" MEM
				   "memory5/state online_movable EBUSY\n" MEM
				   "memory5/state online_movable EBUSY\n");

	/* always EBUSY with many retries: the timeout ends it */
	block("memory6", "offline\n", "Normal Movable\n");
	block_file("memory6", ".fake_busy", "online:always\n");
	b = mkblock("memory6");
	o = (struct action_opts){ .retries = 1000, .backoff_ms = 20, .timeout_ms = 150 };
	t0 = now_ms();
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &o, &res), 0);
	spent = now_ms() - t0;
	CHECK_EQ_INT(res.outcome, OUTCOME_FAILED);
	CHECK_EQ_INT(res.err, -EBUSY);
	CHECK(res.attempts >= 3 && res.attempts <= 10, "attempts %u", res.attempts);
	CHECK(spent >= 140 && spent < 1000, "spent %llu ms", (unsigned long long)spent);
}

static const char *race_block;

/* Fault hook used to simulate another agent changing the block under us. */
static int race_fault(void *data, enum sysroot_op op, const char *path)
{
	char rel[128];

	snprintf(rel, sizeof(rel), MEM "%s/state", race_block);
	if (op == SYSROOT_OP_WRITE && streq(path, rel)) {
		const char *state = data;

		block_file(race_block, "state", state);
		block_file(race_block, "valid_zones",
			   streq(state, "online\n") ? "Movable\n" : "Normal Movable\n");
	}
	return 0;
}

static void test_race(struct sysroot *sr)
{
	struct action_result res;
	struct mem_block b;

	/* someone onlines it between our read and our write: EINVAL, BY_OTHER */
	block("memory15", "offline\n", "Normal Movable\n");
	race_block = "memory15";
	sysroot_set_fault(sr, race_fault, "online\n");
	b = mkblock("memory15");
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_KERNEL, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_BY_OTHER);
	CHECK_EQ_INT(res.zone, ZONE_ID_MOVABLE);
	CHECK_EQ_INT(b.state, BLOCK_ONLINE);
	CHECK_STREQ(log_get(), MEM "memory15/state online_kernel EINVAL\n");

	/* and the same for offline */
	block("memory16", "online\n", "Movable\n");
	race_block = "memory16";
	sysroot_set_fault(sr, race_fault, "offline\n");
	b = mkblock("memory16");
	CHECK_EQ_INT(action_offline_block(sr, &b, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_BY_OTHER);
	CHECK_EQ_INT(b.state, BLOCK_OFFLINE);
	CHECK_STREQ(log_get(), MEM "memory16/state offline EINVAL\n");
	sysroot_set_fault(sr, NULL, NULL);
}

static unsigned reads_before_write, writes_seen;

/* Counts the reads of memory17 that come before its first write. */
static int count_fault(void *data, enum sysroot_op op, const char *path)
{
	(void)data;
	if (!startswith(path, MEM "memory17/"))
		return 0;
	if (op == SYSROOT_OP_WRITE)
		writes_seen++;
	else if (op == SYSROOT_OP_READ && !writes_seen)
		reads_before_write++;
	return 0;
}

/*
 * The caller's model says offline: written without a read first (a third of
 * the calls per block in a hot-add), and a stale model still ends honestly.
 */
static void test_model_offline(struct sysroot *sr)
{
	struct action_result res;
	struct mem_block b;

	block("memory17", "offline\n", "Normal Movable\n");
	sysroot_set_fault(sr, count_fault, NULL);
	b = mkblock("memory17");
	b.state = BLOCK_OFFLINE;
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_DONE);
	CHECK_EQ_INT(res.zone, ZONE_ID_MOVABLE);
	CHECK_EQ_INT(writes_seen, 1);
	CHECK_EQ_INT(reads_before_write, 0);
	CHECK_STREQ(log_get(), MEM "memory17/state online_movable OK\n");

	/* the model is stale: the block is online already, the kernel says EINVAL */
	log_reset();
	b.state = BLOCK_OFFLINE;
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_BY_OTHER);
	CHECK_EQ_INT(res.zone, ZONE_ID_MOVABLE);
	CHECK_EQ_INT(b.state, BLOCK_ONLINE);
	CHECK_STREQ(log_get(), MEM "memory17/state online_movable EINVAL\n");

	/* the model says online: looked at, not written */
	log_reset();
	writes_seen = 0;
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_ALREADY);
	CHECK_EQ_INT(writes_seen, 0);
	CHECK_STREQ(log_get(), "");
	sysroot_set_fault(sr, NULL, NULL);
}

static void test_offline(struct sysroot *sr)
{
	struct action_result res;
	struct mem_block b;

	/* kernel zone with unmovable pages: EBUSY on every attempt */
	block("memory10", "online\n", "Normal\n");
	block_file("memory10", ".fake_unmovable", "");
	b = mkblock("memory10");
	CHECK_EQ_INT(action_offline_block(sr, &b, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_FAILED);
	CHECK_EQ_INT(res.err, -EBUSY);
	CHECK_EQ_INT(res.attempts, fast.retries + 1);
	CHECK_EQ_INT(res.zone, ZONE_ID_NORMAL);
	CHECK_STREQ(res.msg, "offline: Device or resource busy after 6 attempts");
	CHECK_STREQ(block_get("memory10", "state"), "online\n");

	/* .fake_unmovable only matters for kernel zones */
	block("memory11", "online\n", "Movable\n");
	block_file("memory11", ".fake_unmovable", "");
	b = mkblock("memory11");
	CHECK_EQ_INT(action_offline_block(sr, &b, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_DONE);
	CHECK_EQ_INT(res.attempts, 1);
	CHECK_EQ_INT(res.zone, ZONE_ID_NONE);
	CHECK_EQ_INT(b.state, BLOCK_OFFLINE);
	CHECK_EQ_INT(b.zone, ZONE_ID_NONE);
	CHECK_EQ_INT(b.valid_zones, ZONE_BIT(ZONE_ID_NORMAL) | ZONE_BIT(ZONE_ID_MOVABLE));
	CHECK_STREQ(block_get("memory11", "state"), "offline\n");
	CHECK_STREQ(block_get("memory11", "valid_zones"), "Normal Movable\n");
	CHECK_STREQ(log_get(), MEM "memory11/state offline OK\n");

	/* busy twice, then offline; offline zones from .fake_offline_zones */
	block("memory12", "online\n", "Movable\n");
	block_file("memory12", ".fake_busy", "2\n");
	block_file("memory12", ".fake_offline_zones", "Movable\n");
	block_file("memory12", "online", "1\n");
	b = mkblock("memory12");
	CHECK_EQ_INT(action_offline_block(sr, &b, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_DONE);
	CHECK_EQ_INT(res.attempts, 3);
	CHECK_EQ_INT(b.valid_zones, ZONE_BIT(ZONE_ID_MOVABLE));
	CHECK_STREQ(block_get("memory12", "online"), "0\n");
	CHECK_STREQ(log_get(),
		    MEM "memory12/state offline EBUSY\n" MEM "memory12/state offline EBUSY\n" MEM
			"memory12/state offline OK\n");

	/* "online:N" in .fake_busy does not affect offline */
	block("memory17", "online\n", "Movable\n");
	block_file("memory17", ".fake_busy", "online:always\n");
	b = mkblock("memory17");
	CHECK_EQ_INT(action_offline_block(sr, &b, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_DONE);

	/* already offline */
	block("memory13", "offline\n", "Normal Movable\n");
	b = mkblock("memory13");
	CHECK_EQ_INT(action_offline_block(sr, &b, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_ALREADY);
	CHECK_EQ_INT(res.attempts, 0);
	CHECK_STREQ(log_get(), "");
}

static void test_errors(struct sysroot *sr)
{
	struct action_result res;
	struct mem_block b;

	/* the block does not exist */
	log_reset();
	b = mkblock("memory99");
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_FAILED);
	CHECK_EQ_INT(res.err, -ENOENT);
	CHECK(strstr(res.msg, "memory99/state") != NULL, "msg: %s", res.msg);
	CHECK_EQ_INT(action_offline_block(sr, &b, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_FAILED);
	CHECK_EQ_INT(res.err, -ENOENT);

	/* garbage in state: named, nothing written */
	block("memory14", "bogus\n", "Normal\n");
	b = mkblock("memory14");
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_FAILED);
	CHECK_EQ_INT(res.err, -EINVAL);
	CHECK_STREQ(res.msg, "memory14/state: unexpected value \"bogus\"");

	/* garbage in valid_zones */
	block("memory18", "online\n", "Normal Bogus\n");
	b = mkblock("memory18");
	CHECK_EQ_INT(action_offline_block(sr, &b, &fast, &res), 0);
	CHECK_EQ_INT(res.outcome, OUTCOME_FAILED);
	CHECK_STREQ(res.msg, "memory18/valid_zones: unexpected value \"Normal Bogus\"");
	CHECK_STREQ(log_get(), "");

	/* programming errors: no outcome, -EINVAL */
	b = mkblock("memory1");
	CHECK_EQ_INT(action_online_block(NULL, &b, ZC_MOVABLE, &fast, &res), -EINVAL);
	CHECK_EQ_INT(action_online_block(sr, NULL, ZC_MOVABLE, &fast, &res), -EINVAL);
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, NULL, &res), -EINVAL);
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &fast, NULL), -EINVAL);
	CHECK_EQ_INT(action_online_block(sr, &b, (enum zone_choice)9, &fast, &res), -EINVAL);
	CHECK_EQ_INT(action_offline_block(sr, &b, NULL, &res), -EINVAL);
	b = mkblock("../memory1");
	CHECK_EQ_INT(action_online_block(sr, &b, ZC_MOVABLE, &fast, &res), -EINVAL);
	b = mkblock("");
	CHECK_EQ_INT(action_offline_block(sr, &b, &fast, &res), -EINVAL);
	CHECK_STREQ(log_get(), "");

	CHECK_STREQ(action_outcome_name(OUTCOME_DONE), "done");
	CHECK_STREQ(action_outcome_name(OUTCOME_ALREADY), "already");
	CHECK_STREQ(action_outcome_name(OUTCOME_BY_OTHER), "by-other");
	CHECK_STREQ(action_outcome_name(OUTCOME_FAILED), "failed");
	CHECK_STREQ(action_outcome_name(OUTCOME_MISMATCH), "mismatch");
	CHECK_STREQ(action_outcome_name((enum action_outcome)42), "unknown");
}

static void test_auto_online(struct sysroot *sr)
{
	put(MEM "auto_online_blocks", "online\n");
	log_reset();
	CHECK_EQ_INT(action_set_auto_online(sr, "offline"), 0);
	CHECK_STREQ(get(MEM "auto_online_blocks"), "offline\n");
	CHECK_EQ_INT(action_set_auto_online(sr, "online_movable"), 0);
	CHECK_STREQ(get(MEM "auto_online_blocks"), "online_movable\n");
	/* unknown values are refused before anything is written */
	CHECK_EQ_INT(action_set_auto_online(sr, "sometimes"), -EINVAL);
	CHECK_EQ_INT(action_set_auto_online(sr, NULL), -EINVAL);
	CHECK_STREQ(log_get(), MEM "auto_online_blocks offline OK\n" MEM
				   "auto_online_blocks online_movable OK\n");
	/* the fake kernel refuses them too */
	log_reset();
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "auto_online_blocks", "sometimes"), -EINVAL);
	CHECK_STREQ(get(MEM "auto_online_blocks"), "online_movable\n");
	CHECK_STREQ(log_get(), MEM "auto_online_blocks sometimes EINVAL\n");
}

static void test_dax(struct sysroot *sr)
{
	char path[PATH_MAX];

	put("sys/module/memory_hotplug/parameters/memmap_on_memory", "Y\n");
	put("sys/bus/dax/devices/dax0.0/memmap_on_memory", "0\n");
	snprintf(path, sizeof(path), "%s/sys/bus/dax/devices/dax0.0/driver", root);
	CHECK_EQ_INT(symlink("../../../../bus/dax/drivers/kmem", path), 0);
	put("sys/bus/dax/devices/dax1.0/memmap_on_memory", "0\n");
	snprintf(path, sizeof(path), "%s/sys/bus/dax/devices/dax1.0/driver", root);
	CHECK_EQ_INT(symlink("../../../../bus/dax/drivers/device_dax", path), 0);
	log_reset();

	/* bound to kmem: changing it is EBUSY, writing the same value is fine */
	CHECK_EQ_INT(sysroot_write_attr(sr, "sys/bus/dax/devices/dax0.0/memmap_on_memory", "1"),
		     -EBUSY);
	CHECK_STREQ(get("sys/bus/dax/devices/dax0.0/memmap_on_memory"), "0\n");
	CHECK_EQ_INT(sysroot_write_attr(sr, "sys/bus/dax/devices/dax0.0/memmap_on_memory", "0"), 0);
	/* device_dax: stored */
	CHECK_EQ_INT(sysroot_write_attr(sr, "sys/bus/dax/devices/dax1.0/memmap_on_memory", "y\n"),
		     0);
	CHECK_STREQ(get("sys/bus/dax/devices/dax1.0/memmap_on_memory"), "1\n");
	CHECK_EQ_INT(sysroot_write_attr(sr, "sys/bus/dax/devices/dax1.0/memmap_on_memory", "x"),
		     -EINVAL);
	/* module parameter off: enabling is EOPNOTSUPP, disabling works */
	put("sys/module/memory_hotplug/parameters/memmap_on_memory", "N\n");
	CHECK_EQ_INT(sysroot_write_attr(sr, "sys/bus/dax/devices/dax1.0/memmap_on_memory", "1"),
		     -EOPNOTSUPP);
	CHECK_EQ_INT(sysroot_write_attr(sr, "sys/bus/dax/devices/dax1.0/memmap_on_memory", "0"), 0);
	CHECK_STREQ(get("sys/bus/dax/devices/dax1.0/memmap_on_memory"), "0\n");
	CHECK_STREQ(log_get(), "sys/bus/dax/devices/dax0.0/memmap_on_memory 1 EBUSY\n"
			       "sys/bus/dax/devices/dax0.0/memmap_on_memory 0 OK\n"
			       "sys/bus/dax/devices/dax1.0/memmap_on_memory y\\n OK\n"
			       "sys/bus/dax/devices/dax1.0/memmap_on_memory x EINVAL\n"
			       "sys/bus/dax/devices/dax1.0/memmap_on_memory 1 EOPNOTSUPP\n"
			       "sys/bus/dax/devices/dax1.0/memmap_on_memory 0 OK\n");
}

#define DAX "sys/bus/dax/"
#define HMEM "sys/devices/platform/hmem.2/"

static void mklink(const char *rel, const char *target)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkdirs(path);
	unlink(path);
	if (symlink(target, path) != 0) {
		fprintf(stderr, "cannot make link %s: %m\n", path);
		exit(2);
	}
}

/* Link target as text, "<none>" if it is not a link. */
static const char *link_get(const char *rel)
{
	static char buf[2][PATH_MAX];
	static int slot;
	char path[PATH_MAX], *b = buf[slot++ % 2];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	n = readlink(path, b, PATH_MAX - 1);
	if (n < 0)
		return "<none>";
	b[n] = '\0';
	return b;
}

static bool exists(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return access(path, F_OK) == 0;
}

/* A dax device the way mkfixture.py lays it out: real dir plus bus link. */
static void dax_dev(const char *name, const char *resource, const char *size, const char *node,
		    const char *memmap)
{
	char rel[PATH_MAX], target[PATH_MAX];

	snprintf(rel, sizeof(rel), HMEM "%s/target_node", name);
	put(rel, node);
	snprintf(rel, sizeof(rel), HMEM "%s/resource", name);
	put(rel, resource);
	snprintf(rel, sizeof(rel), HMEM "%s/size", name);
	put(rel, size);
	if (memmap) {
		snprintf(rel, sizeof(rel), HMEM "%s/memmap_on_memory", name);
		put(rel, memmap);
	}
	snprintf(rel, sizeof(rel), DAX "devices/%s", name);
	snprintf(target, sizeof(target), "../../../devices/platform/hmem.2/%s", name);
	mklink(rel, target);
}

static void test_dax_bus(struct sysroot *sr)
{
	for (int i = 0; i < 2; i++) {
		const char *drv = i ? "device_dax" : "kmem";
		char rel[128];

		snprintf(rel, sizeof(rel), DAX "drivers/%s/bind", drv);
		put(rel, "");
		snprintf(rel, sizeof(rel), DAX "drivers/%s/unbind", drv);
		put(rel, "");
		snprintf(rel, sizeof(rel), DAX "drivers/%s/new_id", drv);
		put(rel, "");
		snprintf(rel, sizeof(rel), DAX "drivers/%s/remove_id", drv);
		put(rel, "");
	}
	put("sys/module/memory_hotplug/parameters/memmap_on_memory", "Y\n");
	put(MEM "auto_online_blocks", "offline\n");
	put("sys/devices/system/node/node0/meminfo", "Node 0 MemTotal: 0 kB\n");
	put("proc/iomem", "00000000-00000fff : Reserved\n"
			  "00001000-0009fbff : System RAM\n"
			  "640000000-65fffffff : Soft Reserved\n"
			  "700000000-7ffffffff : System RAM\n");
	put("proc/zoneinfo", "Node 0, zone   Normal\n  pages free     7\n"
			     "        spanned  9\n        present  9\n        managed  8\n"
			     "      nr_free_pages 7\n"
			     "Node 0, zone  Movable\n  pages free     0\n"
			     "        spanned  0\n        present  0\n        managed  0\n");
	/* blocks 201 and 202 lie wholly inside [resource, resource + size) */
	dax_dev("dax2.0", "0x640200000\n", "402653184\n", "1\n", "1\n");
	dax_dev("dax2.1", "0x660000000\n", "134217728\n", "-1\n", "0\n");
	dax_dev("dax2.2", "0x668000000\n", "100000\n", "0\n", NULL);
	log_reset();

	/* new_id wants exactly dax<region>.<id> */
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/new_id", "dax2"), -EINVAL);
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/new_id", "dax2.0x"), -EINVAL);
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/new_id", "dax2.0\n\n"), -EINVAL);
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/new_id", "dax.0"), -EINVAL);
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/remove_id", "x"), -EINVAL);
	CHECK(!exists(DAX "drivers/kmem/.fake_ids"), "bad ids reached the list");

	/* bind: no such device, or kmem without the id, is ENODEV */
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/bind", "dax9.9"), -ENODEV);
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/bind", "dax2.0"), -ENODEV);
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/device_dax/bind", "dax9.9"), -ENODEV);
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/device_dax/unbind", "dax2.0"), -ENODEV);

	/* device_dax matches anything: links and its iomem resource */
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/device_dax/bind", "dax2.0"), 0);
	CHECK_STREQ(link_get(HMEM "dax2.0/driver"), "../../../../bus/dax/drivers/device_dax");
	CHECK_STREQ(link_get(DAX "drivers/device_dax/dax2.0"),
		    "../../../../devices/platform/hmem.2/dax2.0");
	CHECK_STREQ(get("proc/iomem"), "00000000-00000fff : Reserved\n"
				       "00001000-0009fbff : System RAM\n"
				       "640000000-65fffffff : Soft Reserved\n"
				       "  640200000-6581fffff : dax2.0\n"
				       "700000000-7ffffffff : System RAM\n");
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/device_dax/bind", "dax2.0"), -EBUSY);
	/* new_id on a bound device only adds the id */
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/new_id", "dax2.0\n"), 0);
	CHECK_STREQ(get(DAX "drivers/kmem/.fake_ids"), "dax2.0\n");
	CHECK_STREQ(link_get(HMEM "dax2.0/driver"), "../../../../bus/dax/drivers/device_dax");
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/bind", "dax2.0"), -EBUSY);
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/unbind", "dax2.0"), -ENODEV);
	/* a changed memmap_on_memory is fine while device_dax holds it; named by bus path */
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "devices/dax2.0/memmap_on_memory", "0"), 0);
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "devices/dax2.0/memmap_on_memory", "1"), 0);
	CHECK_STREQ(get(HMEM "dax2.0/memmap_on_memory"), "1\n");

	/* unbind from device_dax: links and resource go */
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/device_dax/unbind", "dax2.0"), 0);
	CHECK_STREQ(link_get(HMEM "dax2.0/driver"), "<none>");
	CHECK(!exists(DAX "drivers/device_dax/dax2.0"), "device_dax link left behind");
	CHECK(strstr(get("proc/iomem"), "dax2.0") == NULL, "iomem: %s", get("proc/iomem"));
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/device_dax/unbind", "dax2.0"), -ENODEV);

	/* remove_id and new_id again: new_id now binds the unbound device to kmem */
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/remove_id", "dax2.0"), 0);
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/remove_id", "dax2.0"), 0);
	CHECK_STREQ(get(DAX "drivers/kmem/.fake_ids"), "");
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/bind", "dax2.0"), -ENODEV);
	CHECK(!exists("sys/devices/system/node/node1"), "node1 exists before the test");
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/new_id", "dax2.0"), 0);
	CHECK_STREQ(link_get(HMEM "dax2.0/driver"), "../../../../bus/dax/drivers/kmem");
	CHECK_STREQ(link_get(DAX "drivers/kmem/dax2.0"),
		    "../../../../devices/platform/hmem.2/dax2.0");
	CHECK(!exists(MEM "memory200"), "memory200: only whole blocks are added");
	CHECK(!exists(MEM "memory203"), "memory203: only whole blocks are added");
	for (int i = 201; i <= 202; i++) {
		char name[32], rel[128], want[64];

		snprintf(name, sizeof(name), "memory%d", i);
		CHECK_STREQ(block_get(name, "state"), "offline\n");
		CHECK_STREQ(block_get(name, "online"), "0\n");
		CHECK_STREQ(block_get(name, "valid_zones"), "Normal Movable\n");
		CHECK_STREQ(block_get(name, "removable"), "1\n");
		CHECK_STREQ(block_get(name, ".fake_vmemmap_pages"), "512\n");
		snprintf(rel, sizeof(rel), MEM "%s/node1", name);
		CHECK_STREQ(link_get(rel), "../../node/node1");
		snprintf(rel, sizeof(rel), "sys/devices/system/node/node1/%s", name);
		snprintf(want, sizeof(want), "../../memory/%s", name);
		CHECK_STREQ(link_get(rel), want);
	}
	CHECK_STREQ(block_get("memory201", "phys_index"), "000000c9\n");
	CHECK_STREQ(get("sys/devices/system/node/node1/meminfo"),
		    "Node 1 MemTotal:              0 kB\nNode 1 MemFree:               0 kB\n"
		    "Node 1 MemUsed:               0 kB\n");
	CHECK_STREQ(get("proc/iomem"), "00000000-00000fff : Reserved\n"
				       "00001000-0009fbff : System RAM\n"
				       "640000000-65fffffff : Soft Reserved\n"
				       "  648000000-657ffffff : dax2.0\n"
				       "    648000000-657ffffff : System RAM (kmem)\n"
				       "700000000-7ffffffff : System RAM\n");
	/* kmem holds it: a different memmap_on_memory is refused */
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "devices/dax2.0/memmap_on_memory", "0"), -EBUSY);

	/* the new blocks online with the zoneinfo bookkeeping (node 1 gets a section) */
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "memory201/state", "online_movable"), 0);
	CHECK_STREQ(strstr(get("proc/zoneinfo"), "Node 1"),
		    "Node 1, zone  Movable\n  pages free     32256\n"
		    "        spanned  32768\n        present  32768\n"
		    "        managed  32256\n");

	/* kmem errors: no node, nothing left after alignment, blocks already there */
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/new_id", "dax2.1"), 0);
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/bind", "dax2.1"), -EINVAL);
	CHECK_STREQ(link_get(HMEM "dax2.1/driver"), "<none>");
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/new_id", "dax2.2"), 0);
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/bind", "dax2.2"), -EINVAL);
	CHECK_STREQ(get(DAX "drivers/kmem/.fake_ids"), "dax2.0\ndax2.1\ndax2.2\n");
	dax_dev("dax2.3", "0x648000000\n", "134217728\n", "0\n", "0\n");
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/new_id", "dax2.3"), 0);
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/bind", "dax2.3"), -EBUSY);
	CHECK_STREQ(link_get(HMEM "dax2.3/driver"), "<none>");

	/* a probe failure on request */
	put(HMEM "dax2.1/.fake_kmem_error", "ENOMEM\n");
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/bind", "dax2.1"), -ENOMEM);
	put(HMEM "dax2.1/.fake_kmem_error", "EWHATEVER\n");
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/bind", "dax2.1"), -EIO);
	CHECK_STREQ(link_get(HMEM "dax2.1/driver"), "<none>");

	/* unbind from kmem: only the links (its memory cannot go while online) */
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/unbind", "dax2.0"), 0);
	CHECK_STREQ(link_get(HMEM "dax2.0/driver"), "<none>");
	CHECK(!exists(DAX "drivers/kmem/dax2.0"), "kmem link left behind");
	CHECK(exists(MEM "memory201/state"), "memory201 removed");

	CHECK_STREQ(
		log_get(), DAX
		"drivers/kmem/new_id dax2 EINVAL\n" DAX "drivers/kmem/new_id dax2.0x EINVAL\n" DAX
		"drivers/kmem/new_id dax2.0\\n\\n EINVAL\n" DAX
		"drivers/kmem/new_id dax.0 EINVAL\n" DAX "drivers/kmem/remove_id x EINVAL\n" DAX
		"drivers/kmem/bind dax9.9 ENODEV\n" DAX "drivers/kmem/bind dax2.0 ENODEV\n" DAX
		"drivers/device_dax/bind dax9.9 ENODEV\n" DAX
		"drivers/device_dax/unbind dax2.0 ENODEV\n" DAX
		"drivers/device_dax/bind dax2.0 OK\n" DAX
		"drivers/device_dax/bind dax2.0 EBUSY\n" DAX
		"drivers/kmem/new_id dax2.0\\n OK\n" DAX "drivers/kmem/bind dax2.0 EBUSY\n" DAX
		"drivers/kmem/unbind dax2.0 ENODEV\n" DAX
		"devices/dax2.0/memmap_on_memory 0 OK\n" DAX
		"devices/dax2.0/memmap_on_memory 1 OK\n" DAX
		"drivers/device_dax/unbind dax2.0 OK\n" DAX
		"drivers/device_dax/unbind dax2.0 ENODEV\n" DAX
		"drivers/kmem/remove_id dax2.0 OK\n" DAX "drivers/kmem/remove_id dax2.0 OK\n" DAX
		"drivers/kmem/bind dax2.0 ENODEV\n" DAX "drivers/kmem/new_id dax2.0 OK\n" DAX
		"devices/dax2.0/memmap_on_memory 0 EBUSY\n" MEM
		"memory201/state online_movable OK\n" DAX "drivers/kmem/new_id dax2.1 OK\n" DAX
		"drivers/kmem/bind dax2.1 EINVAL\n" DAX "drivers/kmem/new_id dax2.2 OK\n" DAX
		"drivers/kmem/bind dax2.2 EINVAL\n" DAX "drivers/kmem/new_id dax2.3 OK\n" DAX
		"drivers/kmem/bind dax2.3 EBUSY\n" DAX "drivers/kmem/bind dax2.1 ENOMEM\n" DAX
		"drivers/kmem/bind dax2.1 EIO\n" DAX "drivers/kmem/unbind dax2.0 OK\n");
}

#define ZI_NORMAL(free, span, present, managed)                                                   \
	"Node 0, zone   Normal\n  pages free     " free "\n        spanned  " span                \
	"\n        present  " present "\n        managed  " managed "\n      nr_free_pages " free \
	"\n        protection: (0, 0)\n"
#define ZI_MOVABLE(free, present, managed)                                            \
	"Node 0, zone  Movable\n  pages free     " free "\n        spanned  " present \
	"\n        present  " present "\n        managed  " managed "\n"

static void test_zoneinfo(struct sysroot *sr)
{
	put("proc/zoneinfo", ZI_NORMAL("7", "9", "9", "8") ZI_MOVABLE("0", "0", "0"));
	/* the kernel's attribute gives the vmemmap pages when there is no sidecar */
	block("memory30", "offline\n", "Normal Movable\n");
	block_file("memory30", "memmap_on_memory", "512\n");
	mklink(MEM "memory30/node0", "../../node/node0");
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "memory30/state", "online_movable"), 0);
	CHECK_STREQ(get("proc/zoneinfo"),
		    ZI_NORMAL("7", "9", "9", "8") ZI_MOVABLE("32256", "32768", "32256"));
	/* the sidecar wins over the attribute */
	block("memory31", "offline\n", "Normal Movable\n");
	block_file("memory31", "memmap_on_memory", "512\n");
	block_file("memory31", ".fake_vmemmap_pages", "0\n");
	mklink(MEM "memory31/node0", "../../node/node0");
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "memory31/state", "online_movable"), 0);
	CHECK_STREQ(get("proc/zoneinfo"),
		    ZI_NORMAL("7", "9", "9", "8") ZI_MOVABLE("65024", "65536", "65024"));
	/* offline gives it back */
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "memory30/state", "offline"), 0);
	CHECK_STREQ(get("proc/zoneinfo"),
		    ZI_NORMAL("7", "9", "9", "8") ZI_MOVABLE("32768", "32768", "32768"));
	/* a kernel zone, with the zone the kernel really picked (.fake_online_zone) */
	block_file("memory30", ".fake_vmemmap_pages", "0\n");
	block_file("memory30", ".fake_online_zone", "Normal\n");
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "memory30/state", "online_movable"), 0);
	CHECK_STREQ(get("proc/zoneinfo"), ZI_NORMAL("32775", "32777", "32777", "32776")
						  ZI_MOVABLE("32768", "32768", "32768"));
	/* failed writes and blocks without a node link change nothing */
	block("memory32", "offline\n", "Normal\n");
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "memory32/state", "online_movable"), -EINVAL);
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "memory32/state", "online"), 0);
	CHECK_STREQ(get("proc/zoneinfo"), ZI_NORMAL("32775", "32777", "32777", "32776")
						  ZI_MOVABLE("32768", "32768", "32768"));

	/* kmem with auto_online_blocks = online_movable: online on arrival, accounted */
	put(MEM "auto_online_blocks", "online_movable\n");
	put("proc/zoneinfo", ZI_MOVABLE("0", "0", "0"));
	dax_dev("dax3.0", "0x680000000\n", "268435456\n", "0\n", "1\n");
	log_reset();
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/new_id", "dax3.0"), 0);
	CHECK_STREQ(block_get("memory208", "state"), "online\n");
	CHECK_STREQ(block_get("memory209", "valid_zones"), "Movable\n");
	CHECK_STREQ(block_get("memory209", "online"), "1\n");
	CHECK_STREQ(get("proc/zoneinfo"), ZI_MOVABLE("64512", "65536", "64512"));
	/* with the module parameter off the memmap cannot go on the memory */
	put(MEM "auto_online_blocks", "offline\n");
	put("sys/module/memory_hotplug/parameters/memmap_on_memory", "N\n");
	dax_dev("dax3.1", "0x690000000\n", "134217728\n", "0\n", "1\n");
	CHECK_EQ_INT(sysroot_write_attr(sr, DAX "drivers/kmem/new_id", "dax3.1"), 0);
	CHECK_STREQ(block_get("memory210", ".fake_vmemmap_pages"), "0\n");
	CHECK_STREQ(block_get("memory210", "state"), "offline\n");
	CHECK_STREQ(log_get(),
		    DAX "drivers/kmem/new_id dax3.0 OK\n" DAX "drivers/kmem/new_id dax3.1 OK\n");
}

static void test_plain_files(struct sysroot *sr)
{
	put("sys/devices/system/node/node0/some_attr", "a much longer old value\n");
	/* a memory-like name that is not a block must not get block rules */
	put(MEM "memoryX/state", "offline\n");
	log_reset();
	CHECK_EQ_INT(sysroot_write_attr(sr, "sys/devices/system/node/node0/some_attr", "a b\\"), 0);
	CHECK_STREQ(get("sys/devices/system/node/node0/some_attr"), "a b\\");
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "memoryX/state", "offline"), 0);
	CHECK_STREQ(get(MEM "memoryX/state"), "offline");
	/* a missing file stays missing, as in sysfs */
	CHECK_EQ_INT(sysroot_write_attr(sr, "sys/devices/system/node/node0/nope", "1"), -ENOENT);
	CHECK_STREQ(get("sys/devices/system/node/node0/nope"), "<missing>");
	CHECK_STREQ(log_get(), "sys/devices/system/node/node0/some_attr a\\x20b\\\\ OK\n" MEM
			       "memoryX/state offline OK\n");
}

static int run_fake(void)
{
	_cleanup_sysroot_ struct sysroot *sr = NULL;
	int r;

	CHECK(shim_loaded(), "the fake kernel is not preloaded");
	put(MEM "block_size_bytes", "8000000\n");
	r = sysroot_open(root, &sr);
	CHECK_EQ_INT(r, 0);
	if (r < 0)
		return check_exit();
	test_online(sr);
	test_online_retries(sr);
	test_race(sr);
	test_model_offline(sr);
	test_offline(sr);
	test_errors(sr);
	test_auto_online(sr);
	test_dax(sr);
	test_dax_bus(sr);
	test_zoneinfo(sr);
	test_plain_files(sr);
	return check_exit();
}

/* The shim is loaded but not active: writes must reach the file as written. */
static int run_passthrough(const char *dir)
{
	_cleanup_sysroot_ struct sysroot *sr = NULL;
	char path[PATH_MAX];
	bool had_root_log = access("/.fake-kernel.log", F_OK) == 0;
	int fd;

	CHECK(shim_loaded(), "the fake kernel is not preloaded");
	put_in(dir, MEM "memory0/state", "offline\n");
	put_in(dir, MEM "memory0/valid_zones", "Normal\n");
	put_in(dir, MEM "memory1/state", "online\n");

	/* through the library (openat2) */
	CHECK_EQ_INT(sysroot_open(dir, &sr), 0);
	if (sr)
		CHECK_EQ_INT(sysroot_write_attr(sr, MEM "memory0/state", "online_movable"), 0);
	CHECK_STREQ(get_in(dir, MEM "memory0/state"), "online_movable");
	CHECK_STREQ(get_in(dir, MEM "memory0/valid_zones"), "Normal\n");

	/* through plain open() + write() */
	snprintf(path, sizeof(path), "%s/" MEM "memory1/state", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %m", path);
	CHECK_EQ_INT(write(fd, "online", 6), 6);
	close(fd);
	CHECK_STREQ(get_in(dir, MEM "memory1/state"), "online\n");

	CHECK_STREQ(get_in(dir, ".fake-kernel.log"), "<missing>");
	if (!had_root_log)
		CHECK(access("/.fake-kernel.log", F_OK) != 0, "shim wrote /.fake-kernel.log");
	return check_exit();
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* Run this program again with the shim; fake_root NULL leaves it unset. */
static int run_child(const char *self, const char *fake_root, const char *arg, const char *dir)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 2;
	if (pid == 0) {
		if (fake_root)
			setenv("MEMHP_FAKE_ROOT", fake_root, 1);
		else
			unsetenv("MEMHP_FAKE_ROOT");
		setenv("MEMHP_FAKE_CHILD", "1", 1);
		setenv("LD_PRELOAD", FAKEKERNEL_SO, 1);
		execl(self, self, arg, dir, (char *)NULL);
		fprintf(stderr, "exec %s: %m\n", self);
		_exit(2);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 2;
	if (!WIFEXITED(status)) {
		fprintf(stderr, "child (%s) died\n", arg ? arg : "fake");
		return 2;
	}
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	char tmpl[PATH_MAX], self[PATH_MAX], sub[PATH_MAX + 16];
	const char *tmpdir = getenv("TMPDIR");
	ssize_t n;
	int rc = 0, r;

	if (getenv("MEMHP_FAKE_CHILD")) {
		if (argc == 3 && streq(argv[1], "--passthrough"))
			return run_passthrough(argv[2]);
		root = getenv("MEMHP_FAKE_ROOT");
		if (!root) {
			fprintf(stderr, "MEMHP_FAKE_ROOT not set in the child\n");
			return 2;
		}
		return run_fake();
	}

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		perror("readlink /proc/self/exe");
		return 2;
	}
	self[n] = '\0';
	snprintf(tmpl, sizeof(tmpl), "%s/memhp-fakekernel-XXXXXX",
		 tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 2;
	}

	snprintf(sub, sizeof(sub), "%s/root", tmpl);
	mkdir(sub, 0755);
	r = run_child(self, sub, NULL, NULL);
	printf("fake kernel: %s\n", r ? "FAIL" : "ok");
	rc |= r;

	snprintf(sub, sizeof(sub), "%s/unset", tmpl);
	r = run_child(self, NULL, "--passthrough", sub);
	printf("passthrough, MEMHP_FAKE_ROOT unset: %s\n", r ? "FAIL" : "ok");
	rc |= r;

	snprintf(sub, sizeof(sub), "%s/slash", tmpl);
	r = run_child(self, "/", "--passthrough", sub);
	printf("passthrough, MEMHP_FAKE_ROOT=/: %s\n", r ? "FAIL" : "ok");
	rc |= r;

	nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc ? 1 : 0;
}
