// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dax devdax -> system-ram, with the memmap placement memhpd chose.
 *
 * The sequence is the one daxctl reconfigure-device --mode=system-ram
 * --no-online performs, with one step daxctl cannot do for us:
 *
 *   1. unbind the device from device_dax (if it is bound there);
 *   2. write daxX.Y/memmap_on_memory ("1" on-memory, "0" ram).  The kernel
 *      reads it when kmem probes, so it must happen while the device is
 *      unbound; once kmem holds the device a different value is EBUSY.
 *      libdaxctl v76 (Debian 12) has no API for this attribute (it appeared
 *      with Linux 6.8, after v76), so it is written through the sysroot on
 *      the host as well;
 *   3. bind the device to kmem, which hot-adds its memory blocks.
 *
 * Memory is NOT onlined here: memhpd onlines the new blocks afterwards with
 * its own zone choice.  (If auto_online_blocks is not "offline" the kernel
 * onlines them itself on add; the daemon reports that elsewhere.)
 *
 * On the host, steps 1 and 3 go through libdaxctl, the supported interface.
 * In a sysroot they are done by hand in sysfs, because libdaxctl hard-codes
 * /sys and /dev and cannot be pointed at another root.  Both paths leave a
 * device that was in devdax mode back in devdax mode when anything fails.
 *
 * Nothing here prints: the result is the return value (0 or -errno) plus one
 * line in msg.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <daxctl/libdaxctl.h>

#include "memhpd.h"
#include "sysroot.h"
#include "util.h"

#define DAX_DRIVERS "sys/bus/dax/drivers"
#define DRV_DEVDAX "device_dax"
#define DRV_KMEM "kmem"

struct dax_job {
	struct sysroot *sr;
	const char *name;
	enum memmap_place memmap;
	char *msg;
	size_t msglen;
	char driver[64]; /* driver at the start: "device_dax", "" unbound */
	char lib_err[160]; /* last error libdaxctl reported, "" none */
};

static void __printf(2, 3) job_msg(struct dax_job *j, const char *fmt, ...)
{
	va_list ap;

	if (!j->msg || !j->msglen)
		return;
	va_start(ap, fmt);
	vsnprintf(j->msg, j->msglen, fmt, ap);
	va_end(ap);
}

/* "dax<region>.<id>", nothing else: the name ends up in sysfs paths and writes */
static bool valid_dax_name(const char *name)
{
	unsigned region, id;
	char tail;
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (len < 6 || len >= 32 || !startswith(name, "dax"))
		return false;
	for (size_t i = 3; i < len; i++)
		if (!(name[i] >= '0' && name[i] <= '9') && name[i] != '.')
			return false;
	return sscanf(name, "dax%u.%u%c", &region, &id, &tail) == 2;
}

/* Basename of daxX.Y/driver into buf, "" when unbound. */
static int read_driver(struct sysroot *sr, const char *name, char *buf, size_t size)
{
	char path[128];
	int r;

	snprintf(path, sizeof(path), SYSFS_DAX "/%s/driver", name);
	r = sysroot_link_basename(sr, path, buf, size);
	if (r == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	return r < 0 ? r : 0;
}

static const char *memmap_value(enum memmap_place p)
{
	return p == MEMMAP_ON_MEMORY ? "1" : "0";
}

/*
 * Checks that need no change to the device, so that a request that cannot
 * work fails before the device is taken away from device_dax.
 */
static int precheck(struct dax_job *j)
{
	char path[128], buf[64];
	int r, node;

	snprintf(path, sizeof(path), SYSFS_DAX "/%s", j->name);
	r = sysroot_exists(j->sr, path);
	if (r < 0) {
		job_msg(j, "%s: cannot access /%s: %s", j->name, path, strerror(-r));
		return r;
	}
	if (r == 0) {
		job_msg(j, "%s: no such dax device (/%s missing)", j->name, path);
		return -ENODEV;
	}

	r = read_driver(j->sr, j->name, j->driver, sizeof(j->driver));
	if (r < 0) {
		job_msg(j, "%s: cannot read /%s/driver: %s", j->name, path, strerror(-r));
		return r;
	}
	if (streq(j->driver, DRV_KMEM)) {
		/* the placement was fixed when kmem added the memory */
		r = sysroot_read_attrf(j->sr, buf, sizeof(buf), SYSFS_DAX "/%s/memmap_on_memory",
				       j->name);
		if (r >= 0 && j->memmap != MEMMAP_UNKNOWN && !streq(buf, memmap_value(j->memmap))) {
			job_msg(j,
				"%s: already in system-ram mode with memmap_on_memory=%s; the memmap "
				"placement cannot change while kmem holds the device",
				j->name, buf);
			return -EBUSY;
		}
		job_msg(j, "%s: already in system-ram mode (bound to kmem)", j->name);
		return -EALREADY;
	}
	if (j->driver[0] && !streq(j->driver, DRV_DEVDAX)) {
		job_msg(j, "%s: bound to driver %s, not device_dax; leaving it alone", j->name,
			j->driver);
		return -EBUSY;
	}

	r = sysroot_exists(j->sr, DAX_DRIVERS "/" DRV_KMEM);
	if (r <= 0) {
		job_msg(j,
			"%s: kmem driver not loaded (/" DAX_DRIVERS "/" DRV_KMEM
			" missing): run 'modprobe kmem'; memhpd does not load kernel modules",
			j->name);
		return r < 0 ? r : -ENXIO;
	}

	/* kmem refuses a device without a target node (EINVAL from probe) */
	r = sysroot_read_attrf(j->sr, buf, sizeof(buf), SYSFS_DAX "/%s/target_node", j->name);
	if (r >= 0 && parse_int(buf, &node) == 0 && node < 0) {
		job_msg(j, "%s: target_node is %d: kmem cannot add memory without a NUMA node",
			j->name, node);
		return -EINVAL;
	}

	if (j->memmap == MEMMAP_ON_MEMORY) {
		r = sysroot_read_attrf(j->sr, buf, sizeof(buf), SYSFS_DAX "/%s/memmap_on_memory",
				       j->name);
		if (r == -ENOENT) {
			job_msg(j,
				"%s: memmap on-memory requested but the kernel has no per-device "
				"memmap_on_memory (Linux >= 6.8 needed); device left as it was",
				j->name);
			return -EOPNOTSUPP;
		}
		r = sysroot_read_attr(j->sr, SYSFS_HOTPLUG_PARAMS "/memmap_on_memory", buf,
				      sizeof(buf));
		/* the companion series (writable parameter) allows it per device anyway */
		if (r >= 0 && (streq(buf, "N") || streq(buf, "n") || streq(buf, "0")) &&
		    sysroot_writable(j->sr, SYSFS_HOTPLUG_PARAMS "/memmap_on_memory") <= 0) {
			job_msg(j,
				"%s: memmap on-memory requested but memory_hotplug.memmap_on_memory "
				"is off (boot with memory_hotplug.memmap_on_memory=1); device left "
				"as it was",
				j->name);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/*
 * Step 2.  Returns 0 or -errno with msg explaining; the caller restores the
 * device.
 */
static int set_memmap(struct dax_job *j)
{
	char path[128];
	int r;

	if (j->memmap == MEMMAP_UNKNOWN)
		return 0; /* no choice made: keep the kernel's per-device default */

	snprintf(path, sizeof(path), SYSFS_DAX "/%s/memmap_on_memory", j->name);
	r = sysroot_write_attr(j->sr, path, memmap_value(j->memmap));
	switch (r) {
	case 0:
		return 0;
	case -ENOENT:
		/* before Linux 6.8 kmem always put the memmap in RAM */
		if (j->memmap == MEMMAP_RAM)
			return 0;
		job_msg(j, "%s: memmap on-memory requested but /%s does not exist (Linux < 6.8)",
			j->name, path);
		return -EOPNOTSUPP;
	case -EOPNOTSUPP:
		job_msg(j,
			"%s: writing %s to /%s: memory_hotplug.memmap_on_memory is off or "
			"unsupported for this device",
			j->name, memmap_value(j->memmap), path);
		return r;
	case -EBUSY:
		job_msg(j, "%s: writing %s to /%s: device already bound to kmem", j->name,
			memmap_value(j->memmap), path);
		return r;
	default:
		job_msg(j, "%s: writing %s to /%s: %s", j->name, memmap_value(j->memmap), path,
			strerror(-r));
		return r;
	}
}

/*
 * Append what became of the device after a failure: unbound (touched) and
 * rebound to device_dax with result r, or never touched.
 */
static void note_restore(struct dax_job *j, bool touched, int r)
{
	size_t len;

	if (!j->msg || !j->msglen)
		return;
	len = strlen(j->msg);
	if (len + 1 >= j->msglen)
		return;
	if (!touched)
		snprintf(j->msg + len, j->msglen - len, "; device left %s",
			 j->driver[0] ? "in devdax mode" : "unbound as found");
	else if (r == 0)
		snprintf(j->msg + len, j->msglen - len, "; device back in devdax mode");
	else
		snprintf(j->msg + len, j->msglen - len,
			 "; could not rebind it to device_dax (%s): device is unbound",
			 strerror(-r));
}

static void job_ok(struct dax_job *j)
{
	if (j->memmap == MEMMAP_UNKNOWN)
		job_msg(j, "%s: %s -> system-ram (kmem), memmap placement left to the kernel",
			j->name, j->driver[0] ? "devdax" : "unbound");
	else
		job_msg(j, "%s: %s -> system-ram (kmem), memmap %s", j->name,
			j->driver[0] ? "devdax" : "unbound", memmap_place_name(j->memmap));
}

/* ---- host: libdaxctl ---- */

/*
 * libdaxctl is opened the first time a device is converted, not linked:
 * it pulls in libkmod and through it libcrypto, whose relocations alone
 * are 1.4 MiB of resident memory in every memhpd process, while most
 * machines never convert a dax device.  The pointers are typed from the
 * header, so a prototype change fails the build instead of the call.
 * Once loaded the library stays: libcrypto does not promise a clean
 * dlclose().
 */
#define DAXCTL_SONAME "libdaxctl.so.1"

static struct {
	typeof(daxctl_new) *new_ctx;
	typeof(daxctl_unref) *unref;
	typeof(daxctl_set_userdata) *set_userdata;
	typeof(daxctl_get_userdata) *get_userdata;
	typeof(daxctl_set_log_fn) *set_log_fn;
	typeof(daxctl_set_log_priority) *set_log_priority;
	typeof(daxctl_region_get_first) *region_get_first;
	typeof(daxctl_region_get_next) *region_get_next;
	typeof(daxctl_dev_get_first) *dev_get_first;
	typeof(daxctl_dev_get_next) *dev_get_next;
	typeof(daxctl_dev_get_devname) *dev_get_devname;
	typeof(daxctl_dev_is_enabled) *dev_is_enabled;
	typeof(daxctl_dev_disable) *dev_disable;
	typeof(daxctl_dev_enable_ram) *dev_enable_ram;
	typeof(daxctl_dev_enable_devdax) *dev_enable_devdax;
} dax_lib;

static pthread_once_t dax_lib_once = PTHREAD_ONCE_INIT;
static char dax_lib_err[160];

static void dax_lib_load(void)
{
	void *h = dlopen(DAXCTL_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *missing = NULL;

#define SYM(field, name)                                                        \
	do {                                                                    \
		if (h && !missing)                                              \
			dax_lib.field = (typeof(dax_lib.field))dlsym(h, #name); \
		if (h && !missing && !dax_lib.field)                            \
			missing = #name;                                        \
	} while (0)
	SYM(new_ctx, daxctl_new);
	SYM(unref, daxctl_unref);
	SYM(set_userdata, daxctl_set_userdata);
	SYM(get_userdata, daxctl_get_userdata);
	SYM(set_log_fn, daxctl_set_log_fn);
	SYM(set_log_priority, daxctl_set_log_priority);
	SYM(region_get_first, daxctl_region_get_first);
	SYM(region_get_next, daxctl_region_get_next);
	SYM(dev_get_first, daxctl_dev_get_first);
	SYM(dev_get_next, daxctl_dev_get_next);
	SYM(dev_get_devname, daxctl_dev_get_devname);
	SYM(dev_is_enabled, daxctl_dev_is_enabled);
	SYM(dev_disable, daxctl_dev_disable);
	SYM(dev_enable_ram, daxctl_dev_enable_ram);
	SYM(dev_enable_devdax, daxctl_dev_enable_devdax);
#undef SYM
	if (!h) {
		const char *e = dlerror();

		snprintf(dax_lib_err, sizeof(dax_lib_err), "%s",
			 e ? e : DAXCTL_SONAME " not found");
	} else if (missing) {
		snprintf(dax_lib_err, sizeof(dax_lib_err), "%s has no %s", DAXCTL_SONAME, missing);
		memset(&dax_lib, 0, sizeof(dax_lib));
		dlclose(h);
	}
}

/* 0 when dax_lib is usable, else -ELIBACC with the reason in j's message */
static int dax_lib_get(struct dax_job *j)
{
	pthread_once(&dax_lib_once, dax_lib_load);
	if (dax_lib.new_ctx)
		return 0;
	job_msg(j, "%s: cannot load libdaxctl: %s", j->name, dax_lib_err);
	return -ELIBACC;
}

static void lib_log(struct daxctl_ctx *ctx, int priority, const char *file __unused,
		    int line __unused, const char *fn __unused, const char *format, va_list args)
{
	struct dax_job *j = dax_lib.get_userdata(ctx);
	size_t len;

	if (!j || priority > LOG_ERR)
		return;
	vsnprintf(j->lib_err, sizeof(j->lib_err), format, args);
	len = strlen(j->lib_err);
	while (len && j->lib_err[len - 1] == '\n')
		j->lib_err[--len] = '\0';
}

static void free_ctx(struct daxctl_ctx **ctx)
{
	if (*ctx)
		dax_lib.unref(*ctx);
}

static struct daxctl_dev *lib_find(struct daxctl_ctx *ctx, const char *name)
{
	for (struct daxctl_region *region = dax_lib.region_get_first(ctx); region;
	     region = dax_lib.region_get_next(region))
		for (struct daxctl_dev *dev = dax_lib.dev_get_first(region); dev;
		     dev = dax_lib.dev_get_next(dev))
			if (streq(dax_lib.dev_get_devname(dev), name))
				return dev;
	return NULL;
}

static int host_convert(struct dax_job *j)
{
	_cleanup_(free_ctx) struct daxctl_ctx *ctx = NULL;
	struct daxctl_dev *dev;
	bool disabled = false;
	int r;

	r = dax_lib_get(j);
	if (r < 0)
		return r;
	r = dax_lib.new_ctx(&ctx);
	if (r < 0) {
		job_msg(j, "%s: libdaxctl: cannot create a context: %s", j->name, strerror(-r));
		return r;
	}
	dax_lib.set_userdata(ctx, j);
	dax_lib.set_log_fn(ctx, lib_log); /* libdaxctl logs to stderr by default */
	dax_lib.set_log_priority(ctx, LOG_ERR);

	dev = lib_find(ctx, j->name);
	if (!dev) {
		job_msg(j, "%s: libdaxctl does not list the device (no /dev/%s?)", j->name,
			j->name);
		return -ENODEV;
	}

	if (dax_lib.dev_is_enabled(dev)) {
		r = dax_lib.dev_disable(dev);
		if (r < 0) {
			job_msg(j, "%s: cannot disable devdax mode: %s%s%s", j->name, strerror(-r),
				j->lib_err[0] ? ": " : "", j->lib_err);
			return r;
		}
		disabled = true;
	}

	r = set_memmap(j);
	if (r == 0) {
		j->lib_err[0] = '\0';
		r = dax_lib.dev_enable_ram(dev);
		if (r < 0)
			job_msg(j, "%s: cannot enable system-ram mode: %s%s%s", j->name,
				strerror(-r), j->lib_err[0] ? ": " : "", j->lib_err);
	}
	if (r < 0) {
		int rr = 0;

		if (disabled) {
			rr = dax_lib.dev_enable_devdax(dev);
			if (rr > 0)
				rr = -rr;
		}
		note_restore(j, disabled, rr);
		return r;
	}
	job_ok(j);
	return 0;
}

/* ---- sysroot: the same through sysfs ---- */

static int drv_write(struct dax_job *j, const char *drv, const char *file)
{
	char path[128];

	snprintf(path, sizeof(path), DAX_DRIVERS "/%s/%s", drv, file);
	return sysroot_write_attr(j->sr, path, j->name);
}

/* 1 if the device's driver link now names drv, 0 if not, -errno */
static int bound_to(struct dax_job *j, const char *drv)
{
	char cur[64];
	int r = read_driver(j->sr, j->name, cur, sizeof(cur));

	if (r < 0)
		return r;
	return streq(cur, drv);
}

/*
 * Bind like libdaxctl: new_id adds the name to the driver's id list and
 * attaches (kmem matches dax devices by id, not by type, unless the region
 * is a kmem-type one); an explicit bind follows in case new_id found the id
 * already listed.  new_id "succeeds" even when the probe fails, so the
 * driver link decides, and bind's error is the one that explains a failure
 * (unless new_id itself failed and bind only found no matching id).
 */
static int sysfs_bind(struct dax_job *j, const char *drv)
{
	int r_new, r_bind, b;

	r_new = drv_write(j, drv, "new_id");
	b = bound_to(j, drv);
	if (b != 0)
		return b < 0 ? b : 0;
	r_bind = drv_write(j, drv, "bind");
	b = bound_to(j, drv);
	if (b != 0)
		return b < 0 ? b : 0;
	/* bind's ENODEV after a failed new_id only says kmem lacks the id: new_id's error is why */
	if (r_new < 0 && (r_bind == -ENODEV || r_bind >= 0))
		return r_new;
	return r_bind < 0 ? r_bind : -ENXIO;
}

static int sysfs_convert(struct dax_job *j)
{
	bool unbound = false;
	int r, b;

	if (streq(j->driver, DRV_DEVDAX)) {
		/*
		 * No remove_id first (libdaxctl writes one to the current
		 * driver): device_dax matches devices by type, so its id list
		 * does not decide anything here.
		 */
		r = drv_write(j, DRV_DEVDAX, "unbind");
		b = bound_to(j, DRV_DEVDAX);
		if (b != 0) {
			if (b < 0)
				r = b;
			job_msg(j, "%s: cannot unbind from device_dax: %s", j->name,
				strerror(r < 0 ? -r : EBUSY));
			return r < 0 ? r : -EBUSY;
		}
		unbound = true;
	}

	r = set_memmap(j);
	if (r == 0) {
		r = sysfs_bind(j, DRV_KMEM);
		if (r < 0)
			job_msg(j, "%s: cannot bind to kmem: %s", j->name, strerror(-r));
	}
	if (r < 0) {
		int rr = 0;

		if (unbound) {
			/* best effort: do not leave our id in kmem's list */
			drv_write(j, DRV_KMEM, "remove_id");
			rr = sysfs_bind(j, DRV_DEVDAX);
		}
		note_restore(j, unbound, rr);
		return r;
	}
	job_ok(j);
	return 0;
}

int dax_to_system_ram(struct sysroot *sr, const char *name, enum memmap_place memmap, char *msg,
		      size_t msglen)
{
	struct dax_job j = {
		.sr = sr,
		.name = name,
		.memmap = memmap,
		.msg = msg,
		.msglen = msglen,
	};
	int r;

	if (msg && msglen)
		msg[0] = '\0';
	if (!sr || !valid_dax_name(name)) {
		job_msg(&j, "invalid dax device name '%s'", name ? name : "(null)");
		return -EINVAL;
	}
	if (memmap != MEMMAP_ON_MEMORY && memmap != MEMMAP_RAM && memmap != MEMMAP_UNKNOWN) {
		job_msg(&j, "%s: memmap placement must be on-memory or ram, not %s", name,
			memmap_place_name(memmap));
		return -EINVAL;
	}

	r = precheck(&j);
	if (r == -EALREADY)
		return 0;
	if (r < 0)
		return r;
	return sysroot_is_host(sr) ? host_convert(&j) : sysfs_convert(&j);
}
