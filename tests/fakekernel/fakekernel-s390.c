// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * s390 standby memory for the fake kernel (drivers/s390/char/sclp_mem.c of
 * Linux 6.19), #included by fakekernel.c after its helpers; everything here
 * is static and named s390_*.
 *
 * sys/firmware/memory/memoryN/memmap_on_memory:
 *   EINVAL unless a kstrtobool value; EBUSY while memoryN/config is 1 (only
 *   writable while deconfigured); EOPNOTSUPP for true when the module
 *   parameter memory_hotplug.memmap_on_memory reads N; else stores "0"/"1".
 * sys/firmware/memory/memoryN/config:
 *   EINVAL unless a kstrtobool value; writing the current value is a no-op;
 *   EIO when memoryN/.fake_sclp_error exists (the firmware refused);
 *   1: creates sys/devices/system/memory/memoryN as add_memory() leaves it
 *      (offline, "Normal Movable", node 0, vmemmap pages when memmap_on_memory
 *      is 1 and the parameter is not N), onlines it when auto_online_blocks
 *      says so, adds "S-E : System RAM" to proc/iomem, stores "1";
 *   0: EBUSY unless the memory block is offline; removes the block directory,
 *      its node and bus links and its proc/iomem resource, stores "0".
 */
#define S390_FWDIR "sys/firmware/memory"

/* "sys/firmware/memory/memoryN" -> N */
static bool s390_index(const char *dir, uint64_t *idx)
{
	const char *p = dir + strlen(S390_FWDIR "/");

	return !strncmp(p, "memory", 6) && p[6] && parse_u64(p + 6, 10, idx);
}

static bool s390_param_off(void)
{
	char buf[16];

	return fk_read(SYSFS_HOTPLUG_PARAM, buf, sizeof(buf)) >= 0 &&
	       (!strcmp(buf, "N") || !strcmp(buf, "n") || !strcmp(buf, "0"));
}

static int s390_rule_memmap(const char *dir, const char *v)
{
	char cur[16];
	bool val;

	if (kstrtobool(v, &val) < 0)
		return EINVAL;
	if (fk_readf(dir, "config", cur, sizeof(cur)) >= 0 && !strcmp(cur, "1"))
		return EBUSY;
	if (val && s390_param_off())
		return EOPNOTSUPP;
	fk_storef(dir, "memmap_on_memory", val ? "1" : "0");
	return 0;
}

/* rm -r of one directory level plus one below (memoryN and memoryN/power). */
static void s390_rmtree(const char *rel)
{
	char path[PATH_MAX], sub[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;

	if (fk_path(path, sizeof(path), rel) < 0 || !(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
			char subrel[PATH_MAX];

			snprintf(subrel, sizeof(subrel), "%s/%s", rel, de->d_name);
			s390_rmtree(subrel);
		} else {
			unlink(sub);
		}
	}
	closedir(d);
	rmdir(path);
}

static int s390_configure(uint64_t idx, const char *dir)
{
	char blk[64], mm[16], autoon[32], zone[32];
	uint64_t bs = block_size();
	int64_t vmemmap = 0;

	if (!bs)
		return EIO;
	snprintf(blk, sizeof(blk), MEMDIR "/memory%" PRIu64, idx);
	if (fk_exists(blk))
		return EBUSY;
	if (fk_readf(dir, "memmap_on_memory", mm, sizeof(mm)) >= 0 && !strcmp(mm, "1") &&
	    !s390_param_off())
		vmemmap = (int64_t)(bs / 4096 * 64 / 4096);
	ensure_node(0);
	if (add_block(idx, 0, vmemmap))
		return EIO;
	if (fk_read(MEMDIR "/auto_online_blocks", autoon, sizeof(autoon)) >= 0 &&
	    strcmp(autoon, "offline") != 0 &&
	    pick_zone(autoon, "Normal Movable", zone, sizeof(zone)))
		set_online(blk, zone);
	iomem_insert(idx * bs, (idx + 1) * bs - 1, "System RAM", NULL);
	fk_storef(dir, "config", "1");
	return 0;
}

static int s390_deconfigure(uint64_t idx, const char *dir)
{
	char blk[64], rel[128], state[32];
	uint64_t bs = block_size();
	int node;

	snprintf(blk, sizeof(blk), MEMDIR "/memory%" PRIu64, idx);
	if (fk_readf(blk, "state", state, sizeof(state)) >= 0 && strcmp(state, "offline") != 0)
		return EBUSY;
	node = block_node(blk);
	if (node >= 0) {
		snprintf(rel, sizeof(rel), NODEDIR "/node%d/memory%" PRIu64, node, idx);
		fk_unlink(rel);
	}
	snprintf(rel, sizeof(rel), "sys/bus/memory/devices/memory%" PRIu64, idx);
	fk_unlink(rel);
	s390_rmtree(blk);
	if (bs)
		iomem_remove(idx * bs, (idx + 1) * bs - 1, "System RAM");
	fk_storef(dir, "config", "0");
	return 0;
}

static int s390_rule_config(const char *dir, const char *v)
{
	char cur[16];
	uint64_t idx;
	bool val;

	if (kstrtobool(v, &val) < 0 || !s390_index(dir, &idx))
		return EINVAL;
	if (fk_readf(dir, "config", cur, sizeof(cur)) < 0)
		return EIO;
	if (!strcmp(cur, val ? "1" : "0"))
		return 0;
	if (fk_existsf(dir, ".fake_sclp_error"))
		return EIO;
	return val ? s390_configure(idx, dir) : s390_deconfigure(idx, dir);
}

/* -1: not an s390 firmware attribute; else 0 or errno. */
static int s390_apply_rules(const char *rel, const char *v)
{
	char dir[PATH_MAX];

	if (match(rel, S390_FWDIR "/", "config", dir, sizeof(dir)))
		return s390_rule_config(dir, v);
	if (match(rel, S390_FWDIR "/", "memmap_on_memory", dir, sizeof(dir)))
		return s390_rule_memmap(dir, v);
	return -1;
}
