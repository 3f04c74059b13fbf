/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sysroot access: every read and write of kernel state goes through a handle
 * that holds one directory fd standing in for "/" (like lsmem --sysroot).
 * Paths passed in are relative to that root ("sys/devices/system/memory/...").
 * Nothing here logs: functions return >= 0 or -errno and callers report.
 */
#ifndef MEMHP_SYSROOT_H
#define MEMHP_SYSROOT_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>

#define SYSFS_MEMORY "sys/devices/system/memory"
#define SYSFS_NODE "sys/devices/system/node"
#define SYSFS_DAX "sys/bus/dax/devices"
#define SYSFS_ND "sys/bus/nd/devices"
#define SYSFS_FW_MEMORY "sys/firmware/memory"
#define SYSFS_HOTPLUG_PARAMS "sys/module/memory_hotplug/parameters"
#define PROC_IOMEM "proc/iomem"
#define PROC_ZONEINFO "proc/zoneinfo"

/* Largest sysfs attribute we read with sysroot_read_attr (a page). */
#define SYSFS_ATTR_MAX 4096
/* Cap for whole-file reads such as /proc/iomem and /proc/zoneinfo. */
#define SYSROOT_FILE_MAX (16u << 20)

struct sysroot;

enum sysroot_op {
	SYSROOT_OP_READ,
	SYSROOT_OP_WRITE,
	SYSROOT_OP_READLINK,
	SYSROOT_OP_OPENDIR,
};

/*
 * Fault injection hook: called before every operation; a negative return is
 * returned to the caller instead of doing the operation.  For reads, a return
 * of 1 means "deliver a short read" (first half of the data).  Used by the
 * fault-injection tests; NULL in production.
 */
typedef int (*sysroot_fault_fn)(void *data, enum sysroot_op op, const char *path);

/* path NULL or "" or "/" means the real root. */
int sysroot_open(const char *path, struct sysroot **out);
void sysroot_free(struct sysroot *sr);
static inline void sysroot_freep(struct sysroot **sr)
{
	if (*sr)
		sysroot_free(*sr);
}
#define _cleanup_sysroot_ __attribute__((cleanup(sysroot_freep)))

/* The root as given ("/" for the real root). */
const char *sysroot_path(const struct sysroot *sr);
bool sysroot_is_host(const struct sysroot *sr);
void sysroot_set_fault(struct sysroot *sr, sysroot_fault_fn fn, void *data);

/*
 * Read a small attribute into buf (NUL-terminated, one trailing newline
 * removed).  Returns the length; -EFBIG if it does not fit in size-1 bytes.
 */
int sysroot_read_attr(struct sysroot *sr, const char *path, char *buf, size_t size);
/* printf-style path variant. */
int sysroot_read_attrf(struct sysroot *sr, char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Read a whole file (capped at SYSROOT_FILE_MAX) into a malloc'd NUL-terminated buffer. */
int sysroot_read_file(struct sysroot *sr, const char *path, char **out, size_t *len);

/*
 * Write val to an attribute with one write(2), as the kernel expects.
 * Returns 0 or the -errno the kernel gave (EBUSY, EINVAL, ...).
 */
int sysroot_write_attr(struct sysroot *sr, const char *path, const char *val);

/* readlink relative to the root; result NUL-terminated. */
int sysroot_readlink(struct sysroot *sr, const char *path, char *buf, size_t size);
/* Basename of a symlink's target ("node1", "PNP0C80:00", "kmem"). */
int sysroot_link_basename(struct sysroot *sr, const char *path, char *buf, size_t size);

int sysroot_opendir(struct sysroot *sr, const char *path, DIR **out);
/* 1 if the file's mode allows writing by its owner, 0 if not, -errno on errors. */
int sysroot_writable(struct sysroot *sr, const char *path);
/* 1 if the path exists, 0 if not, -errno on other errors. */
int sysroot_exists(struct sysroot *sr, const char *path);

/*
 * A directory opened once for several reads of what is in it (the
 * attributes of one memory block): one confined lookup of the directory,
 * then one single-component open per entry instead of a walk from the root
 * each time.  A scan of 65,536 blocks spends most of its system time in
 * path walks otherwise.  The fault hook still sees every entry's whole path.
 */
struct sysroot_dir {
	struct sysroot *sr;
	int fd;
	char path[256]; /* relative to the root */
	/* set by sysroot_dir_entry(): not opened yet, reached through parent */
	const struct sysroot_dir *parent;
	unsigned short entry_off; /* where the entry's name starts in path */
	bool plain; /* an open through parent found no symlink on the way */
};
int sysroot_dir_open(struct sysroot *sr, const char *path, struct sysroot_dir *d);
/* d = the directory `name` (one component) of the open directory parent */
int sysroot_dir_open_entry(struct sysroot_dir *parent, const char *name, struct sysroot_dir *d);
/*
 * As sysroot_dir_open_entry(), but the directory itself is not opened:
 * each entry of it is opened from parent as "name/entry" in one lookup
 * that may follow no symlink.  Where that fails because something on the
 * way is a link, the directory is opened as sysroot_dir_open_entry() does
 * and everything goes through it, so links still resolve inside the root.
 * Saves an open and a close per directory when only a few of its files are
 * read: a scan of 65,536 memory blocks reads two or three per block.
 * parent must stay open as long as d is used.  A missing directory shows
 * as -ENOENT (or -ENOTDIR) from the first access, not from this call.
 */
int sysroot_dir_entry(const struct sysroot_dir *parent, const char *name, struct sysroot_dir *d);
void sysroot_dir_close(struct sysroot_dir *d);
#define _cleanup_sysroot_dir_ __attribute__((cleanup(sysroot_dir_close)))
/* As sysroot_read_attr, sysroot_link_basename and sysroot_opendir, for an entry of d. */
int sysroot_dir_read_attr(struct sysroot_dir *d, const char *name, char *buf, size_t size);
int sysroot_dir_link_basename(struct sysroot_dir *d, const char *name, char *buf, size_t size);
int sysroot_dir_list(struct sysroot_dir *d, DIR **out);

#endif
