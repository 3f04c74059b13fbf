// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dax devices (/sys/bus/dax/devices/daxX.Y): pmem namespaces in devdax mode,
 * hmem (EFI soft-reserved) and CXL regions.
 *
 * Read by hand through the sysroot rather than with libdaxctl/libndctl:
 * those libraries hard-code /sys and cannot look at a sysroot, and the read
 * side must work on fixture trees exactly as on a host.  The daemon uses
 * libdaxctl for what it does well: reconfiguring a device (actions).
 */
#include <inttypes.h>

#include "machine-internal.h"
#include "sysroot.h"

/*
 * Join a relative symlink target onto the directory holding the link and
 * collapse "." and "..", giving a path relative to the sysroot.
 */
static int resolve_link(const char *dir, const char *target, char *out, size_t size)
{
	char tmp[1024], *parts[64], *save = NULL, *tok;
	size_t n = 0, len = 0;
	int w;

	if (target[0] == '/')
		w = snprintf(tmp, sizeof(tmp), "%s", target + 1);
	else
		w = snprintf(tmp, sizeof(tmp), "%s/%s", dir, target);
	if (w < 0 || (size_t)w >= sizeof(tmp))
		return -ENAMETOOLONG;
	for (tok = strtok_r(tmp, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (streq(tok, "."))
			continue;
		if (streq(tok, "..")) {
			if (n)
				n--;
			continue;
		}
		if (n == ARRAY_SIZE(parts))
			return -ENAMETOOLONG;
		parts[n++] = tok;
	}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		w = snprintf(out + len, size - len, "%s%s", i ? "/" : "", parts[i]);

		if (w < 0 || (size_t)w >= size - len)
			return -ENAMETOOLONG;
		len += w;
	}
	return 0;
}

static void dax_error(struct machine *m, struct dax_device *d, const char *attr, int err,
		      const char *what)
{
	char path[160];

	snprintf(path, sizeof(path), SYSFS_DAX "/%s/%s", d->name, attr);
	machine_add_error(m, path, err, "%s %s of %s: %s", what, attr, d->name,
			  err == -EINVAL ? "unexpected value" : strerror(-err));
	if (!d->error)
		d->error = err;
}

/* Read a numeric attribute; absent attributes leave *out alone and return -ENOENT. */
static int dax_num(struct sysroot *sr, struct machine *m, struct dax_device *d, const char *attr,
		   int base, uint64_t *out)
{
	char buf[128];
	int r;

	r = sysroot_read_attrf(sr, buf, sizeof(buf), SYSFS_DAX "/%s/%s", d->name, attr);
	if (r < 0) {
		if (r != -ENOENT)
			dax_error(m, d, attr, r, "cannot read");
		return r;
	}
	r = base == 16 ? parse_hex_addr(buf, out) : parse_u64(buf, base, out);
	if (r < 0)
		dax_error(m, d, attr, -EINVAL, "cannot parse");
	return r;
}

static int dax_node(struct sysroot *sr, struct machine *m, struct dax_device *d, const char *attr)
{
	char buf[64];
	int v, r;

	r = sysroot_read_attrf(sr, buf, sizeof(buf), SYSFS_DAX "/%s/%s", d->name, attr);
	if (r < 0) {
		if (r != -ENOENT)
			dax_error(m, d, attr, r, "cannot read");
		return -1;
	}
	if (parse_int(buf, &v) < 0 || v < -1) {
		dax_error(m, d, attr, -EINVAL, "cannot parse");
		return -1;
	}
	return v;
}

static void dax_mappings(struct sysroot *sr, struct machine *m, struct dax_device *d)
{
	size_t cap = 0;

	for (unsigned i = 0; i < 4096; i++) {
		struct dax_mapping mp;
		char attr[32];

		snprintf(attr, sizeof(attr), "mapping%u/start", i);
		if (dax_num(sr, m, d, attr, 16, &mp.start) < 0)
			break;
		snprintf(attr, sizeof(attr), "mapping%u/end", i);
		if (dax_num(sr, m, d, attr, 16, &mp.end) < 0)
			break;
		snprintf(attr, sizeof(attr), "mapping%u/page_offset", i);
		mp.page_offset = 0; /* optional: absent means 0 */
		dax_num(sr, m, d, attr, 16, &mp.page_offset);
		if (grow_array((void **)&d->mappings, &cap, d->nmappings + 1,
			       sizeof(*d->mappings)) < 0)
			break;
		d->mappings[d->nmappings++] = mp;
	}
}

/* Where the device sits tells its kind and region; pmem also has a namespace uuid. */
static void dax_topology(struct sysroot *sr, struct machine *m, struct dax_device *d)
{
	char link[160], target[512], path[512], buf[256];
	char *slash, *comp, *save = NULL;
	int r;

	snprintf(link, sizeof(link), SYSFS_DAX "/%s", d->name);
	r = sysroot_readlink(sr, link, target, sizeof(target));
	if (r < 0) {
		/* a plain directory (some fixtures, old kernels): no topology */
		strscpy_safe(d->kind, "unknown", sizeof(d->kind));
		return;
	}
	if (resolve_link(SYSFS_DAX, target, path, sizeof(path)) < 0) {
		machine_add_error(m, link, -ENAMETOOLONG, "link target of %s too long", d->name);
		return;
	}

	if (strstr(path, "/ndbus"))
		strscpy_safe(d->kind, "pmem", sizeof(d->kind));
	/* CXL regions hang below the ACPI0017 root: .../ACPI0017:00/root0/decoder0.0/region0/dax_region0 */
	else if (strstr(path, "ACPI0017") || strstr(path, "/decoder") || strstr(path, "/cxl") ||
		 strstr(path, "cxl_"))
		strscpy_safe(d->kind, "cxl", sizeof(d->kind));
	else if (strstr(path, "hmem"))
		strscpy_safe(d->kind, "hmem", sizeof(d->kind));
	else
		strscpy_safe(d->kind, "unknown", sizeof(d->kind));

	snprintf(buf, sizeof(buf), "%s", path);
	for (comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		uint64_t id;

		if (startswith(comp, "region") && parse_u64(comp + 6, 10, &id) == 0)
			strscpy_safe(d->region, comp, sizeof(d->region));
		else if (startswith(comp, "dax_region") && parse_u64(comp + 10, 10, &id) == 0)
			strscpy_safe(d->region, comp, sizeof(d->region));
	}

	if (!streq(d->kind, "pmem"))
		return;
	/* pmem: .../regionN/daxN.M (nd_dax)/daxN.M; the nd_dax names its namespace */
	slash = strrchr(path, '/');
	if (!slash)
		return;
	*slash = '\0';
	r = sysroot_read_attrf(sr, buf, sizeof(buf), "%s/namespace", path);
	if (r < 0 || !buf[0])
		return;
	r = sysroot_read_attrf(sr, d->uuid, sizeof(d->uuid), SYSFS_ND "/%s/uuid", buf);
	if (r < 0) {
		d->uuid[0] = '\0';
		if (r != -ENOENT)
			machine_add_error(m, SYSFS_ND, r, "cannot read uuid of %s: %s", buf,
					  strerror(-r));
	}
}

static void read_dax(struct sysroot *sr, struct machine *m, struct dax_device *d)
{
	char path[160], buf[128];
	uint64_t v;
	int r;

	d->target_node = dax_node(sr, m, d, "target_node");
	d->numa_node = dax_node(sr, m, d, "numa_node");
	d->memmap_on_memory = -1;
	d->device = -1;
	dax_num(sr, m, d, "size", 10, &d->size);
	dax_num(sr, m, d, "resource", 16, &d->start);
	dax_num(sr, m, d, "align", 10, &d->align);
	if (dax_num(sr, m, d, "memmap_on_memory", 10, &v) == 0) {
		if (v > 1)
			dax_error(m, d, "memmap_on_memory", -EINVAL, "cannot parse");
		else
			d->memmap_on_memory = (int)v;
	}
	snprintf(path, sizeof(path), SYSFS_DAX "/%s/driver", d->name);
	r = sysroot_link_basename(sr, path, buf, sizeof(buf));
	if (r >= 0)
		strscpy_safe(d->driver, buf, sizeof(d->driver));
	else if (r != -ENOENT)
		dax_error(m, d, "driver", r, "cannot read");
	dax_mappings(sr, m, d);
	dax_topology(sr, m, d);
}

static int cmp_dax(const void *a, const void *b)
{
	return strverscmp(((const struct dax_device *)a)->name,
			  ((const struct dax_device *)b)->name);
}

int machine_scan_dax(struct sysroot *sr, struct machine *m)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t cap = 0;
	int r;

	r = sysroot_opendir(sr, SYSFS_DAX, &d);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		machine_add_error(m, SYSFS_DAX, r, "cannot list dax devices: %s", strerror(-r));
		return 0;
	}
	while ((de = readdir(d))) {
		struct dax_device *x;

		if (!startswith(de->d_name, "dax"))
			continue;
		r = grow_array((void **)&m->dax, &cap, m->ndax + 1, sizeof(*m->dax));
		if (r < 0)
			return r;
		x = &m->dax[m->ndax++];
		memset(x, 0, sizeof(*x));
		if (strscpy_safe(x->name, de->d_name, sizeof(x->name)) < 0) {
			machine_add_error(m, SYSFS_DAX, -ENAMETOOLONG, "dax device name too long");
			m->ndax--;
			continue;
		}
		read_dax(sr, m, x);
	}
	qsort(m->dax, m->ndax, sizeof(*m->dax), cmp_dax);
	return 0;
}
