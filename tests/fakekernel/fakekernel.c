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
 * Any other file inside the root: content replaced by the bytes written.
 *
 * Every write on a tracked fd appends one line to $MEMHP_FAKE_ROOT/.fake-kernel.log:
 *   "<path relative to root> <value> <OK|errno name>"
 * with the value escaped: "\n" for newline, "\\" for backslash, "\xNN" for
 * space and other non-graphic bytes.
 *
 * Limits (test infrastructure, single-threaded callers): fds from dup(),
 * fcntl(F_DUPFD), stdio and pwrite/writev are not tracked; fds >= FK_MAX_FDS
 * inside the root are refused with EMFILE rather than silently written.
 */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FK_MAX_FDS 1024
#define FK_VAL_MAX 4096
#define FK_EXPORT __attribute__((visibility("default")))
#define SYSFS_HOTPLUG_PARAM "sys/module/memory_hotplug/parameters/memmap_on_memory"

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

/* Called with the result of every intercepted open; returns what the caller gets. */
static int track(int fd, int flags)
{
	char rel[PATH_MAX];
	int saved = errno;

	if (fd < 0 || active != 1)
		return fd;
	untrack(fd); /* the number may have been closed behind our back */
	if ((flags & O_ACCMODE) == O_RDONLY || (flags & O_PATH))
		return fd;
	if (!fd_rel_path(fd, rel, sizeof(rel))) {
		errno = saved;
		return fd;
	}
	if (fd >= FK_MAX_FDS || !(tracked[fd] = strdup(rel))) {
		real_close(fd);
		errno = EMFILE;
		return -1;
	}
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
		fk_storef(dir, "state", "online");
		fk_storef(dir, "valid_zones", zone);
		if (fk_existsf(dir, "online"))
			fk_storef(dir, "online", "1");
		return 0;
	}

	if (is_kernel_zone(zones) && fk_existsf(dir, ".fake_unmovable"))
		return EBUSY;
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

static int apply_rules(const char *rel, const char *v, const char *raw, size_t n)
{
	char dir[PATH_MAX];

	if (match(rel, "sys/devices/system/memory/", "state", dir, sizeof(dir)) &&
	    is_block_dir(dir))
		return rule_state(dir, v);
	if (match(rel, "sys/bus/dax/devices/", "memmap_on_memory", dir, sizeof(dir)))
		return rule_dax_memmap(dir, v);
	if (!strcmp(rel, "sys/devices/system/memory/auto_online_blocks"))
		return rule_auto_online(v);
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
	if (active == 1 && fd >= 0 && fd < FK_MAX_FDS && tracked[fd])
		return fake_write(tracked[fd], buf, n);
	return real_write(fd, buf, n);
}

FK_EXPORT int close(int fd)
{
	fk_init();
	untrack(fd);
	return real_close(fd);
}
