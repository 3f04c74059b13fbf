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
	test_offline(sr);
	test_errors(sr);
	test_auto_online(sr);
	test_dax(sr);
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
