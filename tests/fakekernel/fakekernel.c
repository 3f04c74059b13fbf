// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libmemhp-fakekernel.so: an LD_PRELOAD shim that plays the kernel for the
 * sysroot tests, so production code needs no test hooks.
 *
 * Active only when MEMHP_FAKE_ROOT names an existing absolute directory other
 * than "/" (after realpath()).  Otherwise every call passes straight through.
 *
 * It interposes open/open64/openat/openat64 (and their _2 fortify variants),
 * syscall(SYS_openat2, ...) (everything else is forwarded), write and close.
 * A file opened for writing whose resolved path (/proc/self/fd/N) lies inside
 * the root is remembered by fd; write() on such an fd does not write to the fd
 * but applies the rules below to the file by path, replacing its whole content
 * as sysfs would, and returns the byte count or -1 with errno like the kernel.
 * Open flags are not changed: callers open attributes O_WRONLY without
 * O_TRUNC, as sysfs wants.  Values match with one trailing newline ignored.
 *
 * memoryN/state ("sys/devices/system/memory/memoryN/state"):
 *   online, online_movable, online_kernel:
 *     EINVAL if state is already "online";
 *     EBUSY  if memoryN/.fake_busy holds "online:always", or "online:N" with
 *            N > 0 (then rewritten to N-1: fail N times, then succeed);
 *     zone:  online_movable needs "Movable" in valid_zones, online_kernel the
 *            first of Normal/DMA32/DMA/HighMem listed, online the first listed
 *            zone; none available -> EINVAL;
 *     memoryN/.fake_online_zone, if present, overrides the zone picked (a
 *            kernel that disobeys, to test verification);
 *     success: state "online", valid_zones the zone, "online" file "1" if
 *            present.
 *   offline:
 *     EINVAL if state is already "offline";
 *     EBUSY  if .fake_busy holds "always", or a number N > 0 (rewritten N-1);
 *     EBUSY  if the block is in a kernel zone and memoryN/.fake_unmovable
 *            exists;
 *     success: state "offline", valid_zones from memoryN/.fake_offline_zones
 *            or "Normal Movable", "online" file "0" if present.
 *   anything else: EINVAL.
 * sys/bus/dax/devices/<dev>/memmap_on_memory (as the kernel's store does):
 *   EINVAL unless a kstrtobool value; EOPNOTSUPP for true when
 *   sys/module/memory_hotplug/parameters/memmap_on_memory reads "N"; EBUSY
 *   when the value changes while the device's driver link ends in "kmem";
 *   else stores "0"/"1".
 * sys/devices/system/memory/auto_online_blocks: offline, online,
 *   online_kernel, online_movable are stored, anything else is EINVAL.
 * sys/bus/dax/drivers/{kmem,device_dax}/ (dax bus, drivers/dax/bus.c):
 *   new_id:    EINVAL unless "dax%u.%u"; adds the name to the driver's id
 *              list (sidecar .fake_ids in the driver dir); if the device
 *              exists and is unbound, binds it (success even if that fails);
 *   remove_id: EINVAL unless "dax%u.%u"; removes it (success if absent);
 *   bind:      ENODEV if the device does not exist or the driver does not
 *              match it (kmem only matches names in its id list, device_dax
 *              matches everything); EBUSY if it is bound; then the probe;
 *   unbind:    ENODEV unless bound to this driver; removes the links (and
 *              device_dax's iomem resource; kmem's memory stays: the kernel
 *              cannot remove online memory either).
 *   Binding creates daxX.Y/driver -> drivers/<drv> and drivers/<drv>/daxX.Y
 *   -> the device, as relative links from the device's real directory.
 *   device_dax probe: adds "S-E : daxX.Y" (resource, size) to proc/iomem.
 *   kmem probe: the errno named in daxX.Y/.fake_kmem_error ("ENOMEM", ...;
 *   unknown names EIO) if that exists (a probe failure to test recovery);
 *   EINVAL if target_node < 0 or no whole memory block lies in
 *   [resource, resource+size); EBUSY if a memoryN of the range exists.  It
 *   then creates nodeN (if missing) and memoryN for every whole block:
 *   phys_index, state/online (offline, or onlined as auto_online_blocks
 *   says), valid_zones "Normal Movable", removable, phys_device, node links
 *   both ways, .fake_vmemmap_pages (block_size/4096*64/4096 if the device's
 *   memmap_on_memory is 1 and the module parameter is not N, else 0), and
 *   "S-E : daxX.Y" with "  S-E : System RAM (kmem)" under it in proc/iomem,
 *   nested under the deepest resource containing it.
 * proc/zoneinfo bookkeeping: every successful online of a block (by a write
 *   or by auto_online_blocks) into zone Z of node N (the block's nodeN link)
 *   adds the block's pages to Z's present and spanned and pages minus vmemmap
 *   pages to managed, "pages free" and nr_free_pages; offline subtracts the
 *   same.  vmemmap pages: memoryN/.fake_vmemmap_pages, else the kernel's
 *   memoryN/memmap_on_memory (companion series), else 0.  A missing zone
 *   section is appended.
 * sys/firmware/memory/memoryN/{config,memmap_on_memory}: the s390 rules in
 *   fakekernel-s390.c (memmap only while deconfigured, config=1 adds the
 *   block, config=0 only when it is offline).
 * Any other file inside the root: content replaced by the bytes written.
 * Writes through daxX.Y's real directory are named (and matched) as
 * sys/bus/dax/devices/daxX.Y/<attr>.
 *
 * With MEMHP_FAKE_TIMING naming a file, the shim appends one line to it when
 * the process exits: "stores N emulated_ns T", the number of writes it played
 * the kernel for and the wall time spent doing so, opens of tracked files
 * included (bench/scale.py subtracts it: that time stands for the kernel's
 * own work, which a real kernel spends differently).
 *
 * Every write on a tracked fd appends one line to $MEMHP_FAKE_ROOT/.fake-kernel.log:
 *   "<path relative to root> <value> <OK|errno name>"
 * with the value escaped: "\n" for newline, "\\" for backslash, "\xNN" for
 * space and other non-graphic bytes.
 *
 * Limits (test infrastructure, single-threaded callers; the threads of a
 * scan of 4096 blocks or more only read, and only tracked fds carry state):
 * fds from dup(),
 * fcntl(F_DUPFD), stdio and pwrite/writev are not tracked; fds >= FK_MAX_FDS
 * inside the root are refused with EMFILE rather than silently written.
 */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FK_MAX_FDS 1024
#define FK_VAL_MAX 4096
#define FK_EXPORT __attribute__((visibility("default")))
#define SYSFS_HOTPLUG_PARAM "sys/module/memory_hotplug/parameters/memmap_on_memory"
#define MEMDIR "sys/devices/system/memory"
#define NODEDIR "sys/devices/system/node"
#define DAXDEVS "sys/bus/dax/devices"
#define DAXDRVS "sys/bus/dax/drivers"

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static long (*real_syscall)(long, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_close)(int);

static int active = -1; /* -1: not initialised yet */
static char root[PATH_MAX];
static size_t rootlen;
static char *tracked[FK_MAX_FDS]; /* path relative to root, for fds open for writing */
/* MEMHP_FAKE_TIMING: time spent playing the kernel (single-threaded writers) */
static uint64_t emulated_ns, emulated_stores;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((destructor)) static void fk_report_timing(void)
{
	const char *path = getenv("MEMHP_FAKE_TIMING");
	char line[96];
	int fd, n;

	if (!path || !*path || active != 1)
		return;
	n = snprintf(line, sizeof(line), "stores %" PRIu64 " emulated_ns %" PRIu64 "\n",
		     emulated_stores, emulated_ns);
	fd = real_open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (real_write(fd, line, (size_t)n) != n)
		fprintf(stderr, "fakekernel: short write to %s\n", path);
	real_close(fd);
}

static void fk_init(void)
{
	const char *env;

	if (active >= 0)
		return;
	real_open = dlsym(RTLD_NEXT, "open");
	real_open64 = dlsym(RTLD_NEXT, "open64");
	real_openat = dlsym(RTLD_NEXT, "openat");
	real_openat64 = dlsym(RTLD_NEXT, "openat64");
	real_syscall = dlsym(RTLD_NEXT, "syscall");
	real_write = dlsym(RTLD_NEXT, "write");
	real_close = dlsym(RTLD_NEXT, "close");
	if (!real_open64)
		real_open64 = real_open;
	if (!real_openat64)
		real_openat64 = real_openat;

	active = 0;
	env = getenv("MEMHP_FAKE_ROOT");
	if (!env || !*env)
		return;
	if (env[0] != '/' || !realpath(env, root) || strcmp(root, "/") == 0) {
		fprintf(stderr,
			"fakekernel: MEMHP_FAKE_ROOT=%s ignored (not an absolute "
			"directory other than /), passing everything through\n",
			env);
		return;
	}
	rootlen = strlen(root);
	active = 1;
}

/* Path of an open fd relative to the root, or false if it is outside. */
static bool fd_rel_path(int fd, char *rel, size_t size)
{
	char link[64], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	if (strncmp(target, root, rootlen) != 0 || target[rootlen] != '/')
		return false;
	return snprintf(rel, size, "%s", target + rootlen + 1) < (int)size;
}

static void untrack(int fd)
{
	if (fd >= 0 && fd < FK_MAX_FDS) {
		free(tracked[fd]);
		tracked[fd] = NULL;
	}
}

static void canon_dax_path(char *rel, size_t size);

/* Called with the result of every intercepted open; returns what the caller gets. */
static int track(int fd, int flags)
{
	char rel[PATH_MAX];
	int saved = errno;
	uint64_t t0;

	if (fd < 0 || active != 1)
		return fd;
	untrack(fd); /* the number may have been closed behind our back */
	if ((flags & O_ACCMODE) == O_RDONLY || (flags & O_PATH))
		return fd;
	t0 = now_ns();
	if (!fd_rel_path(fd, rel, sizeof(rel))) {
		errno = saved;
		return fd;
	}
	canon_dax_path(rel, sizeof(rel));
	if (fd >= FK_MAX_FDS || !(tracked[fd] = strdup(rel))) {
		real_close(fd);
		errno = EMFILE;
		return -1;
	}
	emulated_ns += now_ns() - t0;
	errno = saved;
	return fd;
}

/* ---- files inside the root, accessed with the real functions ---- */

static int fk_path(char *buf, size_t size, const char *rel)
{
	return snprintf(buf, size, "%s/%s", root, rel) < (int)size ? 0 : -ENAMETOOLONG;
}

/* Read a small file, trailing newline stripped.  Returns length or -errno. */
static int fk_read(const char *rel, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;
	size_t len = 0;
	int fd;

	if (fk_path(path, sizeof(path), rel) < 0)
		return -ENAMETOOLONG;
	fd = real_open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	real_close(fd);
	buf[len] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return (int)len;
}

static bool fk_exists(const char *rel)
{
	char path[PATH_MAX];

	return fk_path(path, sizeof(path), rel) == 0 && access(path, F_OK) == 0;
}

/* Replace a file's content.  Returns 0 or -errno. */
static int fk_store(const char *rel, const char *data, size_t len)
{
	char path[PATH_MAX];
	int fd, r = 0;

	if (fk_path(path, sizeof(path), rel) < 0)
		return -ENAMETOOLONG;
	fd = real_open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (real_write(fd, data, len) != (ssize_t)len)
		r = -EIO;
	real_close(fd);
	return r;
}

/* "<dir>/<name>" into rel; false if it does not fit. */
static bool fk_join(char *rel, size_t size, const char *dir, const char *name)
{
	return snprintf(rel, size, "%s/%s", dir, name) < (int)size;
}

static int fk_storef(const char *dir, const char *name, const char *val)
{
	char rel[PATH_MAX], line[FK_VAL_MAX + 2];

	if (!fk_join(rel, sizeof(rel), dir, name) ||
	    snprintf(line, sizeof(line), "%s\n", val) >= (int)sizeof(line))
		return -ENAMETOOLONG;
	return fk_store(rel, line, strlen(line));
}

static int fk_readf(const char *dir, const char *name, char *buf, size_t size)
{
	char rel[PATH_MAX];

	if (!fk_join(rel, sizeof(rel), dir, name))
		return -ENAMETOOLONG;
	return fk_read(rel, buf, size);
}

static bool fk_existsf(const char *dir, const char *name)
{
	char rel[PATH_MAX];

	return fk_join(rel, sizeof(rel), dir, name) && fk_exists(rel);
}

/* A whole file into a malloc'd, NUL-terminated buffer.  Returns 0 or -errno. */
static int fk_read_all(const char *rel, char **out, size_t *outlen)
{
	char path[PATH_MAX], *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	if (fk_path(path, sizeof(path), rel) < 0)
		return -ENAMETOOLONG;
	fd = real_open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (cap - len < 4097) {
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				real_close(fd);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			n = -errno;
			free(buf);
			real_close(fd);
			return (int)n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	real_close(fd);
	buf[len] = '\0';
	*out = buf;
	if (outlen)
		*outlen = len;
	return 0;
}

/* Create or replace a file with content.  Returns 0 or -errno. */
static int fk_create(const char *rel, const char *data, mode_t mode)
{
	char path[PATH_MAX];
	size_t len = strlen(data);
	int fd, r = 0;

	if (fk_path(path, sizeof(path), rel) < 0)
		return -ENAMETOOLONG;
	fd = real_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (len && real_write(fd, data, len) != (ssize_t)len)
		r = -EIO;
	real_close(fd);
	return r;
}

static int fk_createf(const char *dir, const char *name, const char *data, mode_t mode)
{
	char rel[PATH_MAX];

	if (!fk_join(rel, sizeof(rel), dir, name))
		return -ENAMETOOLONG;
	return fk_create(rel, data, mode);
}

static int fk_mkdir(const char *rel)
{
	char path[PATH_MAX];

	if (fk_path(path, sizeof(path), rel) < 0)
		return -ENAMETOOLONG;
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

static void fk_unlink(const char *rel)
{
	char path[PATH_MAX];

	if (fk_path(path, sizeof(path), rel) == 0)
		unlink(path);
}

/* The real location of rel (symlinks resolved), relative to the root; false if outside. */
static bool fk_realrel(const char *rel, char *out, size_t size)
{
	char path[PATH_MAX], real[PATH_MAX];

	if (fk_path(path, sizeof(path), rel) < 0 || !realpath(path, real))
		return false;
	if (strncmp(real, root, rootlen) != 0 || real[rootlen] != '/')
		return false;
	return snprintf(out, size, "%s", real + rootlen + 1) < (int)size;
}

/* Split a relative path into at most 64 components (in place). */
static size_t split_path(char *p, char **parts)
{
	size_t n = 0;
	char *save = NULL;

	for (char *t = strtok_r(p, "/", &save); t && n < 64; t = strtok_r(NULL, "/", &save))
		parts[n++] = t;
	return n;
}

/*
 * Symlink link_rel -> target_rel (both relative to the root, no "." or ".."),
 * written relative to the link's directory the way os.path.relpath() does.
 */
static int fk_symlink_rel(const char *link_rel, const char *target_rel)
{
	char path[PATH_MAX], rel[PATH_MAX], dir[PATH_MAX], tgt[PATH_MAX], *slash;
	char *dp[64], *tp[64];
	size_t nd, nt, c = 0, len = 0;

	snprintf(dir, sizeof(dir), "%s", link_rel);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		dir[0] = '\0';
	snprintf(tgt, sizeof(tgt), "%s", target_rel);
	nd = split_path(dir, dp);
	nt = split_path(tgt, tp);
	while (c < nd && c < nt && !strcmp(dp[c], tp[c]))
		c++;
	rel[0] = '\0';
	for (size_t i = c; i < nd; i++)
		len += (size_t)snprintf(rel + len, sizeof(rel) - len, "../");
	for (size_t i = c; i < nt; i++)
		len += (size_t)snprintf(rel + len, sizeof(rel) - len, "%s%s", tp[i],
					i + 1 < nt ? "/" : "");
	if (len >= sizeof(rel))
		return -ENAMETOOLONG;
	if (fk_path(path, sizeof(path), link_rel) < 0)
		return -ENAMETOOLONG;
	unlink(path);
	return symlink(rel, path) == 0 ? 0 : -errno;
}

static bool parse_u64(const char *s, int base, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, base);
	return !errno && end != s && !*end && s[0] != '-';
}

static bool parse_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < INT_MIN || v > INT_MAX)
		return false;
	*out = (int)v;
	return true;
}

static uint64_t block_size(void)
{
	char buf[64];
	uint64_t v;

	if (fk_read(MEMDIR "/block_size_bytes", buf, sizeof(buf)) < 0 || !parse_u64(buf, 16, &v))
		return 0;
	return v;
}

/* ---- proc/zoneinfo bookkeeping ---- */

/* "<indent><key><blanks><number>" with key a whole word?  Returns the number's offset. */
static int zi_key(const char *line, size_t len, const char *key)
{
	size_t i = 0, klen = strlen(key);

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i <= klen || strncmp(line + i, key, klen) != 0 || line[i + klen] != ' ')
		return -1;
	i += klen;
	while (i < len && line[i] == ' ')
		i++;
	return i < len && line[i] >= '0' && line[i] <= '9' ? (int)i : -1;
}

static void zi_append(char **out, size_t *olen, size_t *ocap, const char *s, size_t n)
{
	char *nb;

	if (!*out)
		return;
	if (*olen + n + 1 > *ocap) {
		*ocap = (*olen + n + 1) * 2;
		nb = realloc(*out, *ocap);
		if (!nb) {
			free(*out);
			*out = NULL;
			return;
		}
		*out = nb;
	}
	memcpy(*out + *olen, s, n);
	*olen += n;
	(*out)[*olen] = '\0';
}

static int64_t add_floor0(int64_t v, int64_t d)
{
	return v + d < 0 ? 0 : v + d;
}

/* Add pages (and managed pages) to node/zone in proc/zoneinfo; negative to take away. */
static void zoneinfo_account(int node, const char *zone, int64_t pages, int64_t managed)
{
	static const struct {
		const char *key;
		int which; /* 0 present/spanned, 1 managed/free */
	} keys[] = { { "pages free", 1 },
		     { "nr_free_pages", 1 },
		     { "spanned", 0 },
		     { "present", 0 },
		     { "managed", 1 } };
	char *text = NULL, *out, hdr[96];
	size_t len, olen = 0, ocap;
	const char *pos;
	bool in = false, found = false;

	if (fk_read_all("proc/zoneinfo", &text, &len) < 0)
		return;
	ocap = len + 512;
	out = malloc(ocap);
	if (!out) {
		free(text);
		return;
	}
	out[0] = '\0';
	for (pos = text; *pos;) {
		const char *nl = strchr(pos, '\n');
		size_t n = nl ? (size_t)(nl - pos) : strlen(pos);
		int node_id, off = -1, k;
		char zname[32];

		if (n > 5 && !strncmp(pos, "Node ", 5)) {
			in = sscanf(pos, "Node %d, zone %31s", &node_id, zname) == 2 &&
			     node_id == node && !strcmp(zname, zone);
			found |= in;
		}
		for (k = 0; in && k < (int)(sizeof(keys) / sizeof(keys[0])); k++) {
			off = zi_key(pos, n, keys[k].key);
			if (off >= 0)
				break;
		}
		if (in && off >= 0) {
			char num[32];
			int64_t v = strtoll(pos + off, NULL, 10);

			v = add_floor0(v, keys[k].which ? managed : pages);
			zi_append(&out, &olen, &ocap, pos, (size_t)off);
			snprintf(num, sizeof(num), "%" PRId64, v);
			zi_append(&out, &olen, &ocap, num, strlen(num));
			while (off < (int)n && pos[off] >= '0' && pos[off] <= '9')
				off++;
			zi_append(&out, &olen, &ocap, pos + off, n - (size_t)off);
		} else {
			zi_append(&out, &olen, &ocap, pos, n);
		}
		if (nl)
			zi_append(&out, &olen, &ocap, "\n", 1);
		pos += n + (nl ? 1 : 0);
	}
	if (!found && pages > 0) {
		snprintf(hdr, sizeof(hdr), "Node %d, zone %8s\n", node, zone);
		zi_append(&out, &olen, &ocap, hdr, strlen(hdr));
		snprintf(hdr, sizeof(hdr), "  pages free     %" PRId64 "\n", managed);
		zi_append(&out, &olen, &ocap, hdr, strlen(hdr));
		snprintf(hdr, sizeof(hdr),
			 "        spanned  %" PRId64 "\n        present  %" PRId64 "\n", pages,
			 pages);
		zi_append(&out, &olen, &ocap, hdr, strlen(hdr));
		snprintf(hdr, sizeof(hdr), "        managed  %" PRId64 "\n", managed);
		zi_append(&out, &olen, &ocap, hdr, strlen(hdr));
	}
	if (out)
		fk_store("proc/zoneinfo", out, olen);
	free(out);
	free(text);
}

/* The node of a block from its nodeN link, -1 if none. */
static int block_node(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int node = -1, id;

	if (fk_path(path, sizeof(path), dir) < 0 || !(d = opendir(path)))
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "node", 4) && parse_int(de->d_name + 4, &id) && id >= 0) {
			node = id;
			break;
		}
	closedir(d);
	return node;
}

/* vmemmap pages kept on the block: the sidecar, else the kernel's attribute, else 0. */
static int64_t block_vmemmap(const char *dir)
{
	char buf[64];
	uint64_t v;

	if (fk_readf(dir, ".fake_vmemmap_pages", buf, sizeof(buf)) >= 0 && parse_u64(buf, 10, &v))
		return (int64_t)v;
	if (fk_readf(dir, "memmap_on_memory", buf, sizeof(buf)) >= 0 && parse_u64(buf, 10, &v))
		return (int64_t)v;
	return 0;
}

/* A block went online into zone (sign 1) or left it (sign -1). */
static void account_block(const char *dir, const char *zone, int sign)
{
	int64_t pages = (int64_t)(block_size() / 4096), vm = block_vmemmap(dir);
	int node = block_node(dir);

	if (node < 0 || !pages || !strcmp(zone, "none"))
		return;
	zoneinfo_account(node, zone, sign * pages, sign * (pages - vm));
}

/* ---- the rules ---- */

static bool is_kernel_zone(const char *z)
{
	return !strcmp(z, "Normal") || !strcmp(z, "DMA32") || !strcmp(z, "DMA") ||
	       !strcmp(z, "HighMem");
}

/* Pick the zone for an online request from valid_zones; false if none fits. */
static bool pick_zone(const char *how, const char *zones, char *out, size_t size)
{
	char copy[512], *save = NULL, *tok;

	snprintf(copy, sizeof(copy), "%s", zones);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strcmp(tok, "none"))
			continue;
		if ((!strcmp(how, "online")) ||
		    (!strcmp(how, "online_movable") && !strcmp(tok, "Movable")) ||
		    (!strcmp(how, "online_kernel") && is_kernel_zone(tok))) {
			snprintf(out, size, "%s", tok);
			return true;
		}
	}
	return false;
}

/*
 * .fake_busy: returns EBUSY if this attempt fails.  For online requests it
 * holds "online:N"/"online:always", for offline "N"/"always".
 */
static int fake_busy(const char *dir, bool online)
{
	char buf[64], next[64];
	const char *p = buf;
	unsigned long n;
	char *end;

	if (fk_readf(dir, ".fake_busy", buf, sizeof(buf)) < 0)
		return 0;
	if (online) {
		if (strncmp(buf, "online:", 7) != 0)
			return 0;
		p += 7;
	} else if (!strncmp(buf, "online:", 7)) {
		return 0;
	}
	if (!strcmp(p, "always"))
		return EBUSY;
	errno = 0;
	n = strtoul(p, &end, 10);
	if (errno || end == p || *end) {
		fprintf(stderr, "fakekernel: %s/.fake_busy: bad content \"%s\"\n", dir, buf);
		return EIO;
	}
	if (n == 0)
		return 0;
	snprintf(next, sizeof(next), "%s%lu", online ? "online:" : "", n - 1);
	fk_storef(dir, ".fake_busy", next);
	return EBUSY;
}

static void set_online(const char *dir, const char *zone)
{
	fk_storef(dir, "state", "online");
	fk_storef(dir, "valid_zones", zone);
	if (fk_existsf(dir, "online"))
		fk_storef(dir, "online", "1");
	account_block(dir, zone, 1);
}

static int rule_state(const char *dir, const char *v)
{
	char state[64], zones[512], zone[64];
	bool online;
	int e;

	if (fk_readf(dir, "state", state, sizeof(state)) < 0)
		return EIO;
	if (fk_readf(dir, "valid_zones", zones, sizeof(zones)) < 0)
		zones[0] = '\0';

	online =
		!strcmp(v, "online") || !strcmp(v, "online_movable") || !strcmp(v, "online_kernel");
	if (!online && strcmp(v, "offline") != 0)
		return EINVAL;
	if (!strcmp(state, online ? "online" : "offline"))
		return EINVAL;
	e = fake_busy(dir, online);
	if (e)
		return e;

	if (online) {
		if (!pick_zone(v, zones, zone, sizeof(zone)))
			return EINVAL;
		fk_readf(dir, ".fake_online_zone", zone, sizeof(zone));
		set_online(dir, zone);
		return 0;
	}

	if (is_kernel_zone(zones) && fk_existsf(dir, ".fake_unmovable"))
		return EBUSY;
	account_block(dir, zones, -1);
	if (fk_readf(dir, ".fake_offline_zones", zones, sizeof(zones)) < 0)
		snprintf(zones, sizeof(zones), "Normal Movable");
	fk_storef(dir, "state", "offline");
	fk_storef(dir, "valid_zones", zones);
	if (fk_existsf(dir, "online"))
		fk_storef(dir, "online", "0");
	return 0;
}

/* The kernel's kstrtobool(): first character decides, "on"/"off" spelled out. */
static int kstrtobool(const char *s, bool *out)
{
	switch (s[0]) {
	case 'y':
	case 'Y':
	case 't':
	case 'T':
	case '1':
		*out = true;
		return 0;
	case 'n':
	case 'N':
	case 'f':
	case 'F':
	case '0':
		*out = false;
		return 0;
	case 'o':
	case 'O':
		if (s[1] == 'n' || s[1] == 'N') {
			*out = true;
			return 0;
		}
		if (s[1] == 'f' || s[1] == 'F') {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int rule_dax_memmap(const char *dir, const char *v)
{
	char param[16], cur[16], link[PATH_MAX], path[PATH_MAX];
	bool val, curval = false;
	const char *base;
	ssize_t n;

	if (kstrtobool(v, &val) < 0)
		return EINVAL;
	if (val && fk_read(SYSFS_HOTPLUG_PARAM, param, sizeof(param)) >= 0 && !strcmp(param, "N"))
		return EOPNOTSUPP;
	if (fk_readf(dir, "memmap_on_memory", cur, sizeof(cur)) >= 0)
		kstrtobool(cur, &curval);
	if (snprintf(link, sizeof(link), "%s/%s/driver", root, dir) >= (int)sizeof(link))
		return ENAMETOOLONG;
	n = readlink(link, path, sizeof(path) - 1);
	if (n > 0 && val != curval) {
		path[n] = '\0';
		base = strrchr(path, '/');
		base = base ? base + 1 : path;
		if (!strcmp(base, "kmem"))
			return EBUSY;
	}
	fk_storef(dir, "memmap_on_memory", val ? "1" : "0");
	return 0;
}

static int rule_auto_online(const char *v)
{
	if (strcmp(v, "offline") && strcmp(v, "online") && strcmp(v, "online_kernel") &&
	    strcmp(v, "online_movable"))
		return EINVAL;
	fk_storef("sys/devices/system/memory", "auto_online_blocks", v);
	return 0;
}

/* ---- dax bus ---- */

/* "dax%u.%u" exactly (what drivers/dax/bus.c do_id_store() accepts, minus its slack) */
static bool valid_dax_name(const char *s)
{
	const char *p = s + 3;
	int dots = 0;

	if (strncmp(s, "dax", 3) != 0 || strlen(s) > 32)
		return false;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p; p++) {
		if (*p == '.') {
			if (dots++ || p[1] < '0' || p[1] > '9')
				return false;
		} else if (*p < '0' || *p > '9') {
			return false;
		}
	}
	return dots == 1;
}

/* Basename of the device's driver link into buf ("" unbound); false if no such device. */
static bool dax_driver(const char *name, char *buf, size_t size)
{
	char rel[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	buf[0] = '\0';
	snprintf(rel, sizeof(rel), DAXDEVS "/%s", name);
	if (!fk_exists(rel))
		return false;
	snprintf(rel, sizeof(rel), DAXDEVS "/%s/driver", name);
	if (fk_path(path, sizeof(path), rel) < 0)
		return true;
	n = readlink(path, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		base = strrchr(target, '/');
		if (snprintf(buf, size, "%s", base ? base + 1 : target) >= (int)size)
			buf[0] = '\0';
	}
	return true;
}

/* Is name in the driver's id list?  With add/remove, change the list. */
static bool dax_ids(const char *drv, const char *name, int change)
{
	char rel[PATH_MAX], *text = NULL, *out, *line, *save = NULL;
	bool found = false;
	size_t len = 0, olen = 0;

	snprintf(rel, sizeof(rel), DAXDRVS "/%s/.fake_ids", drv);
	if (fk_read_all(rel, &text, &len) < 0)
		text = NULL;
	out = malloc(len + strlen(name) + 2);
	if (!out) {
		free(text);
		return false;
	}
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strcmp(line, name)) {
			found = true;
			if (change < 0)
				continue;
		}
		olen += (size_t)sprintf(out + olen, "%s\n", line);
	}
	if (change > 0 && !found)
		olen += (size_t)sprintf(out + olen, "%s\n", name);
	out[olen] = '\0';
	if (change)
		fk_create(rel, out, 0644);
	free(out);
	free(text);
	return found;
}

/* ---- proc/iomem editing ---- */

struct res_line {
	const char *text;
	size_t len;
	int depth;
	uint64_t start, end;
	char name[96];
};

/* Parse "  S-E : name"; false for a line that is not one. */
static bool parse_res(const char *line, size_t len, struct res_line *r)
{
	char buf[256];
	size_t i = 0;
	int nameoff = 0;

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, line, len);
	buf[len] = '\0';
	while (buf[i] == ' ')
		i++;
	r->depth = (int)(i / 2);
	if (sscanf(buf + i, "%" SCNx64 "-%" SCNx64 " : %n", &r->start, &r->end, &nameoff) < 2 ||
	    !nameoff)
		return false;
	snprintf(r->name, sizeof(r->name), "%s", buf + i + nameoff);
	return true;
}

static size_t iomem_lines(char *text, struct res_line **out)
{
	size_t n = 0, cap = 0;
	struct res_line *v = NULL, *nv;

	for (char *pos = text; *pos;) {
		char *nl = strchr(pos, '\n');
		size_t len = nl ? (size_t)(nl - pos) : strlen(pos);

		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].text = pos;
		v[n].len = len;
		if (!parse_res(pos, len, &v[n]))
			v[n].depth = -1; /* kept as it is */
		n++;
		pos += len + (nl ? 1 : 0);
	}
	*out = v;
	return n;
}

/*
 * Insert "S-E : name" (and "S-E : child" under it, if child) as the last
 * child that starts at or before S of the deepest resource containing
 * [start, end], or at the top level.
 */
static void iomem_insert(uint64_t start, uint64_t end, const char *name, const char *child)
{
	char *text = NULL, *out, add[256];
	struct res_line *v = NULL;
	size_t n, at, olen = 0, len;
	int parent = -1, depth = 0;

	if (fk_read_all("proc/iomem", &text, &len) < 0)
		return;
	n = iomem_lines(text, &v);
	for (size_t i = 0; i < n; i++)
		if (v[i].depth >= 0 && v[i].start <= start && end <= v[i].end &&
		    (parent < 0 || v[i].depth > v[parent].depth))
			parent = (int)i;
	if (parent >= 0)
		depth = v[parent].depth + 1;
	/* after the parent's children (and their subtrees) that start at or before us */
	at = parent >= 0 ? (size_t)parent + 1 : 0;
	for (size_t i = at; i < n; i++) {
		if (v[i].depth < 0)
			continue;
		if (v[i].depth < depth)
			break;
		if (v[i].depth == depth && v[i].start > start)
			break;
		at = i + 1;
	}
	snprintf(add, sizeof(add), "%*s%08" PRIx64 "-%08" PRIx64 " : %s\n", depth * 2, "", start,
		 end, name);
	if (child)
		snprintf(add + strlen(add), sizeof(add) - strlen(add),
			 "%*s%08" PRIx64 "-%08" PRIx64 " : %s\n", depth * 2 + 2, "", start, end,
			 child);
	out = malloc(len + strlen(add) + 2);
	if (out) {
		size_t head = at < n ? (size_t)(v[at].text - text) : len;

		memcpy(out, text, head);
		olen = head;
		if (head && out[head - 1] != '\n')
			out[olen++] = '\n';
		memcpy(out + olen, add, strlen(add));
		olen += strlen(add);
		memcpy(out + olen, text + head, len - head);
		olen += len - head;
		fk_store("proc/iomem", out, olen);
		free(out);
	}
	free(v);
	free(text);
}

/* Remove the resource [start, end] named name, with its subtree. */
static void iomem_remove(uint64_t start, uint64_t end, const char *name)
{
	char *text = NULL, *out;
	struct res_line *v = NULL;
	size_t n, len, olen = 0;
	int skip_depth = -1;

	if (fk_read_all("proc/iomem", &text, &len) < 0)
		return;
	n = iomem_lines(text, &v);
	out = malloc(len + 1);
	for (size_t i = 0; out && i < n; i++) {
		if (skip_depth >= 0 && v[i].depth > skip_depth)
			continue;
		skip_depth = -1;
		if (v[i].depth >= 0 && v[i].start == start && v[i].end == end &&
		    !strcmp(v[i].name, name)) {
			skip_depth = v[i].depth;
			continue;
		}
		memcpy(out + olen, v[i].text, v[i].len);
		olen += v[i].len;
		out[olen++] = '\n';
	}
	if (out)
		fk_store("proc/iomem", out, olen);
	free(out);
	free(v);
	free(text);
}

/* ---- binding ---- */

static bool dax_attr_u64(const char *name, const char *attr, int base, uint64_t *v)
{
	char rel[PATH_MAX], buf[64];

	snprintf(rel, sizeof(rel), DAXDEVS "/%s/%s", name, attr);
	return fk_read(rel, buf, sizeof(buf)) >= 0 && parse_u64(buf, base, v);
}

static void dax_links(const char *drv, const char *name, bool add)
{
	char dev[PATH_MAX], rel[PATH_MAX], drvdir[PATH_MAX];

	snprintf(rel, sizeof(rel), DAXDEVS "/%s", name);
	if (!fk_realrel(rel, dev, sizeof(dev)))
		return;
	if (snprintf(drvdir, sizeof(drvdir), DAXDRVS "/%s", drv) >= (int)sizeof(drvdir) ||
	    snprintf(rel, sizeof(rel), "%s/driver", dev) >= (int)sizeof(rel))
		return;
	if (add)
		fk_symlink_rel(rel, drvdir);
	else
		fk_unlink(rel);
	if (snprintf(rel, sizeof(rel), "%s/%s", drvdir, name) >= (int)sizeof(rel))
		return;
	if (add)
		fk_symlink_rel(rel, dev);
	else
		fk_unlink(rel);
}

static void ensure_node(int node)
{
	char dir[64], meminfo[256];

	snprintf(dir, sizeof(dir), NODEDIR "/node%d", node);
	if (fk_exists(dir))
		return;
	fk_mkdir(dir);
	snprintf(meminfo, sizeof(meminfo),
		 "Node %d MemTotal:       %8d kB\nNode %d MemFree:        %8d kB\n"
		 "Node %d MemUsed:        %8d kB\n",
		 node, 0, node, 0, node, 0);
	fk_createf(dir, "meminfo", meminfo, 0444);
	fk_createf(dir, "uevent", "", 0644);
}

/* A new offline memory block, as add_memory() leaves it. */
static int add_block(uint64_t idx, int node, int64_t vmemmap)
{
	char dir[64], rel[128], buf[64];

	snprintf(dir, sizeof(dir), MEMDIR "/memory%" PRIu64, idx);
	if (fk_mkdir(dir) < 0)
		return EIO;
	snprintf(buf, sizeof(buf), "%08" PRIx64 "\n", idx);
	fk_createf(dir, "phys_index", buf, 0444);
	fk_createf(dir, "state", "offline\n", 0644);
	fk_createf(dir, "online", "0\n", 0644);
	fk_createf(dir, "removable", "1\n", 0444);
	fk_createf(dir, "valid_zones", "Normal Movable\n", 0444);
	fk_createf(dir, "phys_device", "0\n", 0444);
	fk_createf(dir, "uevent", "", 0644);
	snprintf(buf, sizeof(buf), "%" PRId64 "\n", vmemmap);
	fk_createf(dir, ".fake_vmemmap_pages", buf, 0644);
	snprintf(rel, sizeof(rel), "%s/node%d", dir, node);
	snprintf(buf, sizeof(buf), NODEDIR "/node%d", node);
	fk_symlink_rel(rel, buf);
	snprintf(rel, sizeof(rel), NODEDIR "/node%d/memory%" PRIu64, node, idx);
	fk_symlink_rel(rel, dir);
	if (fk_exists("sys/bus/memory/devices")) {
		snprintf(rel, sizeof(rel), "sys/bus/memory/devices/memory%" PRIu64, idx);
		fk_symlink_rel(rel, dir);
		snprintf(rel, sizeof(rel), "%s/subsystem", dir);
		fk_symlink_rel(rel, "sys/bus/memory");
	}
	return 0;
}

/* "ENOMEM" -> ENOMEM for the few errors a probe returns; anything else EIO. */
static int errno_by_name(const char *s)
{
	static const int errs[] = { ENOMEM, EBUSY, EINVAL, ENXIO, ENODEV, EEXIST, ENOSPC };

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (!strcmp(s, strerrorname_np(errs[i])))
			return errs[i];
	return EIO;
}

/* dev_dax_kmem_probe(): hot-add the whole blocks of the device's range. */
static int kmem_probe(const char *name)
{
	char rel[PATH_MAX], buf[64], autoon[32], zones[64], zone[32];
	uint64_t start, size, bs = block_size(), kstart, kend, mom = 0;
	int64_t vmemmap = 0;
	int node;

	snprintf(rel, sizeof(rel), DAXDEVS "/%s/.fake_kmem_error", name);
	if (fk_read(rel, buf, sizeof(buf)) >= 0)
		return errno_by_name(buf);
	snprintf(rel, sizeof(rel), DAXDEVS "/%s/target_node", name);
	if (fk_read(rel, buf, sizeof(buf)) < 0 || !parse_int(buf, &node) || node < 0)
		return EINVAL;
	if (!dax_attr_u64(name, "resource", 16, &start) || !dax_attr_u64(name, "size", 10, &size) ||
	    !bs)
		return EINVAL;
	kstart = (start + bs - 1) / bs * bs;
	kend = (start + size) / bs * bs;
	if (kend <= kstart)
		return EINVAL; /* nothing left after aligning to memory blocks */
	for (uint64_t a = kstart; a < kend; a += bs) {
		snprintf(rel, sizeof(rel), MEMDIR "/memory%" PRIu64, a / bs);
		if (fk_exists(rel))
			return EBUSY; /* request_mem_region() conflict */
	}
	if (dax_attr_u64(name, "memmap_on_memory", 10, &mom) && mom == 1 &&
	    !(fk_read(SYSFS_HOTPLUG_PARAM, buf, sizeof(buf)) >= 0 &&
	      (!strcmp(buf, "N") || !strcmp(buf, "n") || !strcmp(buf, "0"))))
		vmemmap = (int64_t)(bs / 4096 * 64 / 4096);
	if (fk_read(MEMDIR "/auto_online_blocks", autoon, sizeof(autoon)) < 0)
		snprintf(autoon, sizeof(autoon), "offline");

	ensure_node(node);
	for (uint64_t a = kstart; a < kend; a += bs) {
		if (add_block(a / bs, node, vmemmap))
			return EIO;
		if (strcmp(autoon, "offline") != 0) {
			snprintf(rel, sizeof(rel), MEMDIR "/memory%" PRIu64, a / bs);
			snprintf(zones, sizeof(zones), "Normal Movable");
			if (pick_zone(autoon, zones, zone, sizeof(zone)))
				set_online(rel, zone);
		}
	}
	iomem_insert(kstart, kend - 1, name, "System RAM (kmem)");
	return 0;
}

/* Probe with drv and, on success, bind.  0 or errno. */
static int dax_probe_bind(const char *drv, const char *name)
{
	uint64_t start, size;
	int e = 0;

	if (!strcmp(drv, "kmem")) {
		e = kmem_probe(name);
	} else if (dax_attr_u64(name, "resource", 16, &start) &&
		   dax_attr_u64(name, "size", 10, &size) && size) {
		iomem_insert(start, start + size - 1, name, NULL);
	}
	if (!e)
		dax_links(drv, name, true);
	return e;
}

static int rule_dax_driver(const char *drv, const char *file, const char *v)
{
	char cur[64];
	bool exists;
	uint64_t start, size;

	if (strcmp(drv, "kmem") != 0 && strcmp(drv, "device_dax") != 0)
		return -1; /* not ours: a plain file */
	if (!strcmp(file, "new_id") || !strcmp(file, "remove_id")) {
		if (!valid_dax_name(v))
			return EINVAL;
		dax_ids(drv, v, !strcmp(file, "new_id") ? 1 : -1);
		if (!strcmp(file, "new_id") && dax_driver(v, cur, sizeof(cur)) && !cur[0])
			dax_probe_bind(drv, v);
		return 0;
	}
	if (!strcmp(file, "bind")) {
		exists = valid_dax_name(v) && dax_driver(v, cur, sizeof(cur));
		if (!exists || (!strcmp(drv, "kmem") && !dax_ids(drv, v, 0)))
			return ENODEV;
		if (cur[0])
			return EBUSY;
		return dax_probe_bind(drv, v);
	}
	if (!strcmp(file, "unbind")) {
		if (!valid_dax_name(v) || !dax_driver(v, cur, sizeof(cur)) || strcmp(cur, drv))
			return ENODEV;
		dax_links(drv, v, false);
		if (!strcmp(drv, "device_dax") && dax_attr_u64(v, "resource", 16, &start) &&
		    dax_attr_u64(v, "size", 10, &size) && size)
			iomem_remove(start, start + size - 1, v);
		return 0;
	}
	return -1;
}

/*
 * A write through the real directory of a dax device is named as the kernel
 * documents it: sys/bus/dax/devices/daxX.Y/<attr>.
 */
static void canon_dax_path(char *rel, size_t size)
{
	char dir[PATH_MAX], byname[PATH_MAX], a[PATH_MAX], b[PATH_MAX], *slash, *name;

	snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	name = strrchr(dir, '/');
	name = name ? name + 1 : dir;
	if (!valid_dax_name(name))
		return;
	if (snprintf(byname, sizeof(byname), DAXDEVS "/%s", name) >= (int)sizeof(byname) ||
	    !strcmp(dir, byname) || !fk_realrel(byname, a, sizeof(a)) ||
	    !fk_realrel(dir, b, sizeof(b)) || strcmp(a, b) != 0)
		return;
	if (snprintf(a, sizeof(a), "%s/%s", byname, slash + 1) < (int)size)
		memcpy(rel, a, strlen(a) + 1);
}

/* Is rel "<prefix><name>/<attr>" with name free of '/'?  Fills dir. */
static bool match(const char *rel, const char *prefix, const char *attr, char *dir, size_t size)
{
	size_t plen = strlen(prefix), alen = strlen(attr);
	size_t len = strlen(rel);
	const char *name = rel + plen;
	size_t namelen;

	if (strncmp(rel, prefix, plen) != 0 || len < plen + alen + 2)
		return false;
	if (strcmp(rel + len - alen, attr) != 0 || rel[len - alen - 1] != '/')
		return false;
	namelen = len - plen - alen - 1;
	if (memchr(name, '/', namelen) || namelen + plen >= size)
		return false;
	snprintf(dir, size, "%.*s", (int)(plen + namelen), rel);
	return true;
}

static bool is_block_dir(const char *dir)
{
	const char *p = strrchr(dir, '/') + 1;

	if (strncmp(p, "memory", 6) != 0 || !p[6])
		return false;
	for (p += 6; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* s390 sys/firmware/memory (sclp_mem): config and memmap_on_memory rules */
#include "fakekernel-s390.c"

static int apply_rules(const char *rel, const char *v, const char *raw, size_t n)
{
	char dir[PATH_MAX];
	int s390 = s390_apply_rules(rel, v);

	if (s390 >= 0)
		return s390;

	if (match(rel, "sys/devices/system/memory/", "state", dir, sizeof(dir)) &&
	    is_block_dir(dir))
		return rule_state(dir, v);
	if (match(rel, "sys/bus/dax/devices/", "memmap_on_memory", dir, sizeof(dir)))
		return rule_dax_memmap(dir, v);
	if (!strcmp(rel, "sys/devices/system/memory/auto_online_blocks"))
		return rule_auto_online(v);
	if (match(rel, DAXDRVS "/", "new_id", dir, sizeof(dir)) ||
	    match(rel, DAXDRVS "/", "remove_id", dir, sizeof(dir)) ||
	    match(rel, DAXDRVS "/", "bind", dir, sizeof(dir)) ||
	    match(rel, DAXDRVS "/", "unbind", dir, sizeof(dir))) {
		int e = rule_dax_driver(dir + strlen(DAXDRVS "/"), rel + strlen(dir) + 1, v);

		if (e >= 0)
			return e;
	}
	return -fk_store(rel, raw, n);
}

static void fk_log(const char *rel, const char *raw, size_t n, int e)
{
	char line[PATH_MAX + 4 * FK_VAL_MAX + 64], path[PATH_MAX];
	size_t len;
	int fd;

	len = (size_t)snprintf(line, sizeof(line), "%s ", rel);
	for (size_t i = 0; i < n && len < sizeof(line) - 64; i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c == '\n')
			len += (size_t)snprintf(line + len, sizeof(line) - len, "\\n");
		else if (c == '\\')
			len += (size_t)snprintf(line + len, sizeof(line) - len, "\\\\");
		else if (c <= ' ' || c >= 0x7f)
			len += (size_t)snprintf(line + len, sizeof(line) - len, "\\x%02x", c);
		else
			line[len++] = (char)c;
	}
	len += (size_t)snprintf(line + len, sizeof(line) - len, " %s\n",
				e ? strerrorname_np(e) : "OK");
	if (fk_path(path, sizeof(path), ".fake-kernel.log") < 0)
		return;
	fd = real_open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (real_write(fd, line, len) != (ssize_t)len)
		fprintf(stderr, "fakekernel: short write to %s\n", path);
	real_close(fd);
}

static ssize_t fake_write(const char *rel, const void *buf, size_t n)
{
	char raw[FK_VAL_MAX], v[FK_VAL_MAX];
	int e;

	if (n >= sizeof(raw)) {
		e = EINVAL;
		fk_log(rel, buf, 64, e);
	} else {
		memcpy(raw, buf, n);
		raw[n] = '\0';
		snprintf(v, sizeof(v), "%s", raw);
		if (n && v[strlen(v) - 1] == '\n')
			v[strlen(v) - 1] = '\0';
		e = apply_rules(rel, v, raw, n);
		fk_log(rel, raw, n, e);
	}
	if (e) {
		errno = e;
		return -1;
	}
	return (ssize_t)n;
}

/* ---- interposed entry points ---- */

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

FK_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	fk_init();
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return track(real_open(path, flags, mode), flags);
}

FK_EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	fk_init();
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return track(real_open64(path, flags, mode), flags);
}

FK_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	fk_init();
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return track(real_openat(dirfd, path, flags, mode), flags);
}

FK_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	fk_init();
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return track(real_openat64(dirfd, path, flags, mode), flags);
}

/* _FORTIFY_SOURCE variants (no O_CREAT, so no mode) */
FK_EXPORT int __open_2(const char *path, int flags);
FK_EXPORT int __open64_2(const char *path, int flags);
FK_EXPORT int __openat_2(int dirfd, const char *path, int flags);
FK_EXPORT int __openat64_2(int dirfd, const char *path, int flags);

int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

int __open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

int __openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	return openat64(dirfd, path, flags);
}

/* syscall(2) takes at most six register arguments; forward them all. */
FK_EXPORT long syscall(long nr, ...)
{
	long a[6];
	va_list ap;
	long r;

	fk_init();
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	r = real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (nr == SYS_openat2 && r >= 0 && a[2]) {
		const struct open_how *how = (const struct open_how *)a[2];

		return track((int)r, (int)how->flags);
	}
	return r;
}

FK_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	fk_init();
	if (active == 1 && fd >= 0 && fd < FK_MAX_FDS && tracked[fd]) {
		uint64_t t0 = now_ns();
		ssize_t r = fake_write(tracked[fd], buf, n);
		int saved = errno;

		emulated_ns += now_ns() - t0;
		emulated_stores++;
		errno = saved;
		return r;
	}
	return real_write(fd, buf, n);
}

FK_EXPORT int close(int fd)
{
	fk_init();
	untrack(fd);
	return real_close(fd);
}
