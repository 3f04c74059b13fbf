// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Machine model, read side: memory blocks, nodes, hotplug parameters.
 *
 * The scan reads every attribute through the sysroot and never aborts on one
 * bad block: a missing file, garbage, a dangling link or a block that vanishes
 * while we look are recorded in m->errors with the path, and the block is
 * kept (or dropped, if its directory is gone) so the rest of the picture
 * stays usable.  Device grouping lives in devices.c, memmap inference in
 * memmap.c, dax devices in dax.c.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>

#include "machine-internal.h"
#include "sysroot.h"

static const char *const device_type_names[DEV_TYPE_MAX] = {
	[DEV_BOOT] = "boot", [DEV_ACPI_DIMM] = "acpi-dimm",	  [DEV_VIRTIO_MEM] = "virtio-mem",
	[DEV_DAX] = "dax",   [DEV_S390_STANDBY] = "s390-standby", [DEV_UNKNOWN] = "unknown",
};

const char *device_type_name(enum device_type t)
{
	return (unsigned)t < DEV_TYPE_MAX ? device_type_names[t] : "invalid";
}

int parse_device_type(const char *s, enum device_type *out)
{
	for (unsigned i = 0; i < DEV_TYPE_MAX; i++) {
		if (streq(s, device_type_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

void machine_add_error(struct machine *m, const char *path, int err, const char *fmt, ...)
{
	struct scan_error *e;
	va_list ap;

	e = realloc(m->errors, (m->nerrors + 1) * sizeof(*e));
	if (!e)
		return;
	m->errors = e;
	e = &m->errors[m->nerrors++];
	memset(e, 0, sizeof(*e));
	strscpy_safe(e->path, path, sizeof(e->path));
	e->err = err;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

uint64_t machine_block_memmap_bytes(const struct machine *m)
{
	if (!m->page_size)
		return 0;
	return m->block_size / m->page_size * m->struct_page_size;
}

static void block_attr_failed(struct machine *m, struct mem_block *b, const char *attr, int r)
{
	char path[160];

	snprintf(path, sizeof(path), SYSFS_MEMORY "/%s/%s", b->name, attr);
	machine_add_error(m, path, r, "cannot read %s of %s: %s", attr, b->name, strerror(-r));
	if (!b->error)
		b->error = r;
}

/* Read an attribute of a block; on failure record it and return the error. */
static int block_attr(struct sysroot_dir *dir, struct machine *m, struct mem_block *b,
		      const char *attr, char *buf, size_t size, bool required)
{
	int r;

	r = sysroot_dir_read_attr(dir, attr, buf, size);
	if (r < 0 && (required || r != -ENOENT))
		block_attr_failed(m, b, attr, r);
	return r;
}

static void block_bad_value(struct machine *m, struct mem_block *b, const char *attr,
			    const char *val, int r)
{
	char path[160];

	snprintf(path, sizeof(path), SYSFS_MEMORY "/%s/%s", b->name, attr);
	machine_add_error(m, path, r, "unexpected value \"%.60s\" in %s of %s", val, attr, b->name);
	if (!b->error)
		b->error = r;
}

static void block_firmware_node(struct sysroot_dir *dir, struct machine *m, struct mem_block *b)
{
	char buf[256];
	int r;

	r = sysroot_dir_link_basename(dir, "firmware_node", buf, sizeof(buf));
	if (r >= 0 && strscpy_safe(b->firmware_node, buf, sizeof(b->firmware_node)) < 0) {
		/* no ACPI device name is that long: not something to group by */
		char path[300];

		b->firmware_node[0] = '\0';
		snprintf(path, sizeof(path), "%s/firmware_node", dir->path);
		machine_add_error(m, path, -ENAMETOOLONG,
				  "firmware_node of %s: name \"%.64s\" too long (at most %d)",
				  b->name, buf, FIRMWARE_NODE_MAX - 1);
	} else if (r < 0 && r != -ENOENT) {
		char path[300];

		snprintf(path, sizeof(path), "%s/firmware_node", dir->path);
		machine_add_error(m, path, r, "cannot read firmware_node of %s: %s", b->name,
				  strerror(-r));
	}
}

/*
 * Walk the block directory for nodeN and firmware_node links.  Returns
 * whether the directory lists memmap_on_memory (the companion kernel's
 * attribute), or true when the directory could not be listed: a probe per
 * block for a file a stock kernel never has would be a failed open each.
 */
static bool block_links(struct sysroot_dir *dir, struct machine *m, struct mem_block *b)
{
	bool memmap_attr = false;
	_cleanup_closedir_ DIR *d = NULL;
	char path[512];
	struct dirent *de;
	int r;

	r = sysroot_dir_list(dir, &d);
	if (r < 0) {
		machine_add_error(m, dir->path, r, "cannot list %s: %s", b->name, strerror(-r));
		if (!b->error)
			b->error = r;
		return true;
	}
	for (errno = 0; (de = readdir(d)); errno = 0) {
		int node;

		if (streq(de->d_name, "memmap_on_memory")) {
			memmap_attr = true;
		} else if (parse_node_name(de->d_name, &node) == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir->path, de->d_name);
			r = sysroot_exists(dir->sr, path);
			if (r < 0) {
				machine_add_error(m, path, r,
						  "cannot follow the node link of %s: %s", b->name,
						  strerror(-r));
				if (!b->error)
					b->error = r;
				continue;
			}
			if (r == 0) {
				machine_add_error(m, path, -ENOENT,
						  "node link of %s points nowhere", b->name);
				if (!b->error)
					b->error = -ENOENT;
				continue;
			}
			if (b->node >= 0 && b->node != node) {
				machine_add_error(m, path, -EINVAL,
						  "%s has links to node%d and node%d", b->name,
						  b->node, node);
				continue;
			}
			b->node = node;
		} else if (streq(de->d_name, "firmware_node")) {
			block_firmware_node(dir, m, b);
		}
	}
	if (errno) {
		r = -errno;
		machine_add_error(m, dir->path, r, "cannot list %s: %s", b->name, strerror(-r));
		if (!b->error)
			b->error = r;
		return true;
	}
	return memmap_attr;
}

/* 1 if the block links to node `node` and the link resolves, 0 or -errno if not. */
static int block_on_node(struct sysroot_dir *dir, int node)
{
	char path[sizeof(dir->path) + 16];

	if (node < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/node%d", dir->path, node);
	return sysroot_exists(dir->sr, path);
}

static void fw_memory_attrs(struct sysroot *sr, struct machine *m, struct mem_block *b)
{
	char path[160], buf[64];
	uint64_t v;
	int r;

	if (!m->has_fw_memory)
		return;
	snprintf(path, sizeof(path), SYSFS_FW_MEMORY "/%s/config", b->name);
	r = sysroot_read_attr(sr, path, buf, sizeof(buf));
	if (r >= 0) {
		if (parse_u64(buf, 10, &v) < 0 || v > 1)
			machine_add_error(m, path, -EINVAL, "unexpected value \"%.40s\"", buf);
		else
			b->fw_config = (int)v;
	} else if (r != -ENOENT) {
		machine_add_error(m, path, r, "cannot read: %s", strerror(-r));
	}
	snprintf(path, sizeof(path), SYSFS_FW_MEMORY "/%s/memmap_on_memory", b->name);
	r = sysroot_read_attr(sr, path, buf, sizeof(buf));
	if (r >= 0) {
		if (parse_u64(buf, 10, &v) < 0 || v > 1)
			machine_add_error(m, path, -EINVAL, "unexpected value \"%.40s\"", buf);
		else
			b->fw_memmap_on_memory = (int)v;
	} else if (r != -ENOENT) {
		machine_add_error(m, path, r, "cannot read: %s", strerror(-r));
	}
}

/*
 * What a full scan learns once instead of asking every block (scan_blocks):
 * the node from the node directories' memoryN links, and two properties of
 * the kernel rather than of the block, taken from the first block read in
 * full.  Since Linux 5.9 removable is the same constant for every block
 * (CONFIG_MEMORY_HOTREMOVE), phys_index is the block id the name already
 * carries, and memoryN/memmap_on_memory (the companion series) is in the
 * attribute group of every block or of none.
 */
struct block_hint {
	int node; /* per the node directories; -1: not there, ask the block */
	/*
	 * -1, or a node to ask the block for first (one lookup); the
	 * directory is listed only if the link is not there.  A hot-added
	 * block gets the node of the block before it: add_memory() puts a
	 * whole range on one node.
	 */
	int node_try;
	bool memmap_attr;
	int removable;
	struct sysroot_dir *memory; /* SYSFS_MEMORY, open */
};

/* Removed since it was listed: say so, the caller drops the block. */
static int block_gone(struct machine *m, const struct mem_block *b, const char *path)
{
	machine_add_error(m, path, -ENOENT, "cannot read %s: %s (removed while it was read?)",
			  b->name, strerror(ENOENT));
	return -ENOENT;
}

/*
 * Read one block; hint NULL reads everything from the block itself.
 * *memmap_attr (if not NULL) tells whether memoryN/memmap_on_memory was
 * looked for.  Returns -ENOENT if the block directory is gone (it was
 * removed between readdir and now), 0 otherwise: attribute problems are
 * recorded on the block and in m->errors.
 */
static int read_block(struct sysroot *sr, struct machine *m, struct mem_block *b,
		      const struct block_hint *hint, bool *memmap_attr_out)
{
	_cleanup_sysroot_dir_ struct sysroot_dir dir = { .fd = -1 };
	char buf[SYSFS_ATTR_MAX], path[128];
	bool memmap_attr;
	uint64_t v;
	int r;

	b->node = -1;
	b->removable = -1;
	b->kernel_memmap_pages = -1;
	b->fw_config = -1;
	b->fw_memmap_on_memory = -1;
	b->device = -1;
	b->error = 0;
	b->state = BLOCK_STATE_UNKNOWN;
	b->zone = ZONE_ID_NONE;
	b->firmware_node[0] = '\0';
	b->start = b->index * m->block_size;
	b->size = m->block_size;

	snprintf(path, sizeof(path), SYSFS_MEMORY "/%s", b->name);
	/* from the memory directory, the block directory is not even opened */
	if (hint && hint->memory)
		r = sysroot_dir_entry(hint->memory, b->name, &dir);
	else
		r = sysroot_dir_open(sr, path, &dir);
	if (r == -ENOENT || r == -ENOTDIR)
		return block_gone(m, b, path);
	if (r < 0) {
		machine_add_error(m, path, r, "cannot open %s: %s", b->name, strerror(-r));
		b->error = r;
		return 0;
	}

	r = sysroot_dir_read_attr(&dir, "state", buf, sizeof(buf));
	if ((r == -ENOENT || r == -ENOTDIR) && sysroot_exists(sr, path) == 0)
		return block_gone(m, b, path);
	if (r < 0) {
		block_attr_failed(m, b, "state", r);
	} else if ((r = parse_block_state(buf, &b->state)) < 0) {
		block_bad_value(m, b, "state", buf, r);
	}

	if (!hint && block_attr(&dir, m, b, "phys_index", buf, sizeof(buf), false) >= 0) {
		r = parse_phys_index(buf, &v);
		if (r < 0)
			block_bad_value(m, b, "phys_index", buf, r);
		else if (v != b->index)
			machine_add_error(m, b->name, -EINVAL,
					  "%s: phys_index %#" PRIx64 " differs from its name",
					  b->name, v);
	}

	/*
	 * The node link first: valid_zones of an offline block is computed from
	 * the block's node, and a hot-added block is visible in sysfs before
	 * add_memory_resource() links it to its node.  In that window Linux up
	 * to at least 6.12 computes valid_zones for NUMA_NO_NODE and
	 * dereferences NODE_DATA(-1) (an oops in zone_for_pfn_range(), seen in
	 * our VM suite).  So on a NUMA kernel an offline block without a node
	 * link is not set up yet: leave valid_zones empty, the daemon waits for
	 * the link and reads the block again.  The node directories link a
	 * block in the same kernel function as the block links its node; a
	 * block they do not list is asked itself, which also tells a link not
	 * made yet from a broken one.
	 */
	if (hint && hint->node >= 0) {
		b->node = hint->node;
		memmap_attr = hint->memmap_attr;
		block_firmware_node(&dir, m, b);
	} else if (hint && block_on_node(&dir, hint->node_try) == 1) {
		b->node = hint->node_try;
		memmap_attr = hint->memmap_attr;
		block_firmware_node(&dir, m, b);
	} else {
		memmap_attr = block_links(&dir, m, b);
	}
	if (b->state == BLOCK_OFFLINE && b->node < 0 && m->is_numa) {
		b->valid_zones = 0;
		b->zone_default = ZONE_ID_NONE;
	} else if (block_attr(&dir, m, b, "valid_zones", buf, sizeof(buf), true) >= 0) {
		r = parse_valid_zones(buf, &b->valid_zones, &b->zone_default);
		if (r < 0) {
			b->valid_zones = 0;
			block_bad_value(m, b, "valid_zones", buf, r);
		}
	}
	if (b->state == BLOCK_ONLINE)
		b->zone = b->zone_default;

	if (hint) {
		b->removable = hint->removable;
	} else if (block_attr(&dir, m, b, "removable", buf, sizeof(buf), false) >= 0) {
		if (parse_u64(buf, 10, &v) < 0 || v > 1)
			block_bad_value(m, b, "removable", buf, -EINVAL);
		else
			b->removable = (int)v;
	}

	if (memmap_attr_out)
		*memmap_attr_out = memmap_attr;
	/* companion kernel series: pages of this block holding its own memmap */
	if (memmap_attr &&
	    block_attr(&dir, m, b, "memmap_on_memory", buf, sizeof(buf), false) >= 0) {
		if (parse_u64(buf, 10, &v) < 0 || v > b->size / (m->page_size ? m->page_size : 1))
			block_bad_value(m, b, "memmap_on_memory", buf, -EINVAL);
		else {
			b->kernel_memmap_pages = (long)v;
			m->has_kernel_memmap_attr = true;
		}
	}

	fw_memory_attrs(sr, m, b);
	b->memmap_bytes = machine_block_memmap_bytes(m);
	return 0;
}

int machine_refresh_block(struct sysroot *sr, struct machine *m, struct mem_block *b)
{
	int device = b->device;
	enum memmap_place memmap = b->memmap;
	enum memmap_evidence ev = b->memmap_evidence;
	int r;

	r = read_block(sr, m, b, NULL, NULL);
	/* grouping and memmap are properties of how the block was added: keep them */
	b->device = device;
	b->memmap = memmap;
	b->memmap_evidence = ev;
	return r;
}

/*
 * The node of every block from the memoryN links in the node directories:
 * four listings instead of one per block.  A block no node lists, or that
 * two nodes list, gets -1 and is asked itself (read_block).  A node that
 * cannot be listed just leaves its blocks to be asked.
 */
static void map_block_nodes(struct sysroot *sr, const uint64_t *idx, size_t n, int *node_of)
{
	_cleanup_closedir_ DIR *nodes = NULL;
	struct dirent *nd;

	for (size_t i = 0; i < n; i++)
		node_of[i] = -1;
	if (sysroot_opendir(sr, SYSFS_NODE, &nodes) < 0)
		return;
	while ((nd = readdir(nodes))) {
		_cleanup_closedir_ DIR *d = NULL;
		struct dirent *de;
		char path[sizeof(SYSFS_NODE) + sizeof(nd->d_name) + 1];
		int node;

		if (parse_node_name(nd->d_name, &node) < 0)
			continue;
		snprintf(path, sizeof(path), SYSFS_NODE "/%s", nd->d_name);
		if (sysroot_opendir(sr, path, &d) < 0)
			continue;
		while ((de = readdir(d))) {
			const uint64_t *hit;
			uint64_t i;

			if (parse_block_name(de->d_name, &i) < 0)
				continue;
			hit = bsearch(&i, idx, n, sizeof(*idx), cmp_u64);
			if (!hit)
				continue;
			/* listed twice: -2, and the block itself says what is wrong */
			node_of[hit - idx] = node_of[hit - idx] == -1 ? node : -2;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (node_of[i] < -1)
			node_of[i] = -1;
}

/*
 * Reading blocks [from, to) of m->blocks, possibly on several threads.
 * Each part records its problems in a machine of its own (read_block only
 * reads the scalars of m and appends to m->errors); they are appended to
 * m->errors in block order afterwards, so the result does not depend on
 * the number of threads.
 */
struct scan_part {
	struct sysroot *sr;
	struct machine shadow;
	struct mem_block *blocks;
	const int *node_of;
	const struct block_hint *hint;
	bool *gone;
	size_t from, to;
};

static void *read_part(void *arg)
{
	struct scan_part *p = arg;

	for (size_t i = p->from; i < p->to; i++) {
		struct block_hint h = *p->hint;

		h.node = p->node_of[i];
		if (read_block(p->sr, &p->shadow, &p->blocks[i], &h, NULL) == -ENOENT)
			p->gone[i] = true;
	}
	return NULL;
}

/*
 * Below this many blocks one thread reads everything: threads buy nothing
 * on small machines and the order of operations stays the same from run to
 * run (the fault-injection tests count operations).  Above it, sysfs reads
 * of different blocks run in parallel like udev's workers: an 8 TiB machine
 * has 65,536 blocks and many CPUs, and the scan is nearly all system time.
 */
#define SCAN_PARALLEL_MIN_BLOCKS 4096
#define SCAN_THREADS_MAX 8

static int read_blocks(struct sysroot *sr, struct machine *m, size_t from, size_t to,
		       const int *node_of, const struct block_hint *hint, bool *gone)
{
	struct scan_part parts[SCAN_THREADS_MAX];
	pthread_t tid[SCAN_THREADS_MAX];
	bool started[SCAN_THREADS_MAX] = { false };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nparts = 1, n = to - from;
	int r = 0;

	if (n >= SCAN_PARALLEL_MIN_BLOCKS && cpus > 1)
		nparts = cpus < SCAN_THREADS_MAX ? (size_t)cpus : SCAN_THREADS_MAX;
	for (size_t k = 0; k < nparts; k++) {
		struct scan_part *p = &parts[k];

		p->sr = sr;
		p->shadow = *m;
		p->shadow.errors = NULL;
		p->shadow.nerrors = 0;
		p->shadow.has_kernel_memmap_attr = false;
		p->blocks = m->blocks;
		p->node_of = node_of;
		p->hint = hint;
		p->gone = gone;
		p->from = from + n * k / nparts;
		p->to = from + n * (k + 1) / nparts;
	}
	/* part 0 on this thread; a thread that cannot be started is read here too */
	for (size_t k = 1; k < nparts; k++)
		started[k] = pthread_create(&tid[k], NULL, read_part, &parts[k]) == 0;
	read_part(&parts[0]);
	for (size_t k = 1; k < nparts; k++) {
		if (started[k])
			pthread_join(tid[k], NULL);
		else
			read_part(&parts[k]);
	}
	for (size_t k = 0; k < nparts; k++) {
		struct machine *s = &parts[k].shadow;

		m->has_kernel_memmap_attr |= s->has_kernel_memmap_attr;
		if (s->nerrors && !r) {
			struct scan_error *e =
				realloc(m->errors, (m->nerrors + s->nerrors) * sizeof(*e));

			if (e) {
				memcpy(e + m->nerrors, s->errors, s->nerrors * sizeof(*e));
				m->errors = e;
				m->nerrors += s->nerrors;
			} else {
				r = -ENOMEM;
			}
		}
		free(s->errors);
	}
	return r;
}

static int scan_blocks(struct sysroot *sr, struct machine *m)
{
	_cleanup_sysroot_dir_ struct sysroot_dir memory = { .fd = -1 };
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ uint64_t *idx = NULL;
	_cleanup_free_ int *node_of = NULL;
	_cleanup_free_ bool *gone = NULL;
	struct block_hint hint = { .node = -1, .node_try = -1 };
	size_t n = 0, cap = 0, out = 0, first = 0;
	struct dirent *de;
	int r;

	r = sysroot_opendir(sr, SYSFS_MEMORY, &d);
	if (r < 0) {
		machine_add_error(m, SYSFS_MEMORY, r, "cannot list memory blocks: %s",
				  strerror(-r));
		return r;
	}
	/* a listing that fails half way must not pass for a machine with fewer blocks */
	for (errno = 0; (de = readdir(d)); errno = 0) {
		uint64_t i;

		if (parse_block_name(de->d_name, &i) < 0)
			continue;
		r = grow_array((void **)&idx, &cap, n + 1, sizeof(*idx));
		if (r < 0)
			return r;
		idx[n++] = i;
	}
	if (errno) {
		r = -errno;
		machine_add_error(m, SYSFS_MEMORY, r, "cannot list memory blocks: %s",
				  strerror(-r));
		return r;
	}
	qsort(idx, n, sizeof(*idx), cmp_u64);

	m->blocks = calloc(n ? n : 1, sizeof(*m->blocks));
	m->blocks_cap = n ? n : 1;
	node_of = malloc((n ? n : 1) * sizeof(*node_of));
	gone = calloc(n ? n : 1, sizeof(*gone));
	if (!m->blocks || !node_of || !gone)
		return -ENOMEM;
	map_block_nodes(sr, idx, n, node_of);
	for (size_t i = 0; i < n; i++) {
		struct mem_block *b = &m->blocks[i];

		b->index = idx[i];
		snprintf(b->name, sizeof(b->name), "memory%" PRIu64, idx[i]);
	}
	/* the first block is read in full and tells what holds for all */
	for (; first < n; first++) {
		if (read_block(sr, m, &m->blocks[first], NULL, &hint.memmap_attr) == 0) {
			m->memmap_attr_listed = hint.memmap_attr;
			break;
		}
		gone[first] = true;
	}
	if (first < n) {
		hint.removable = m->blocks[first].removable;
		/* if it cannot be opened, each block is opened from the root */
		if (sysroot_dir_open(sr, SYSFS_MEMORY, &memory) == 0)
			hint.memory = &memory;
		r = read_blocks(sr, m, first + 1, n, node_of, &hint, gone);
		if (r < 0)
			return r;
	}
	/* close the gaps of blocks removed while the scan ran */
	for (size_t i = 0; i < n; i++)
		if (!gone[i])
			m->blocks[out++] = m->blocks[i];
	m->nblocks = out;
	return 0;
}

static void read_params(struct sysroot *sr, struct machine *m)
{
	struct hotplug_params *p = &m->params;
	char buf[256];
	int r;

	p->auto_movable_ratio = -1;
	r = sysroot_read_attr(sr, SYSFS_MEMORY "/auto_online_blocks", buf, sizeof(buf));
	if (r >= 0) {
		if (parse_auto_online(buf, &p->auto_online_blocks) < 0)
			machine_add_error(m, SYSFS_MEMORY "/auto_online_blocks", -EINVAL,
					  "unexpected value \"%.60s\"", buf);
	} else if (r != -ENOENT) {
		machine_add_error(m, SYSFS_MEMORY "/auto_online_blocks", r, "cannot read: %s",
				  strerror(-r));
	}

	r = sysroot_read_attr(sr, SYSFS_HOTPLUG_PARAMS "/memmap_on_memory", buf, sizeof(buf));
	if (r >= 0) {
		if (parse_memmap_param(buf, &p->memmap_on_memory) < 0)
			machine_add_error(m, SYSFS_HOTPLUG_PARAMS "/memmap_on_memory", -EINVAL,
					  "unexpected value \"%.60s\"", buf);
		/* stock kernels register it 0444; the companion series makes it 0644 */
		p->memmap_param_writable =
			sysroot_writable(sr, SYSFS_HOTPLUG_PARAMS "/memmap_on_memory") > 0;
	} else if (r != -ENOENT) {
		machine_add_error(m, SYSFS_HOTPLUG_PARAMS "/memmap_on_memory", r, "cannot read: %s",
				  strerror(-r));
	}

	r = sysroot_read_attr(sr, SYSFS_HOTPLUG_PARAMS "/online_policy", buf, sizeof(buf));
	if (r >= 0)
		strscpy_safe(p->online_policy, buf, sizeof(p->online_policy));

	r = sysroot_read_attr(sr, SYSFS_HOTPLUG_PARAMS "/auto_movable_ratio", buf, sizeof(buf));
	if (r >= 0 && parse_int(buf, &p->auto_movable_ratio) < 0) {
		p->auto_movable_ratio = -1;
		machine_add_error(m, SYSFS_HOTPLUG_PARAMS "/auto_movable_ratio", -EINVAL,
				  "unexpected value \"%.60s\"", buf);
	}
}

static struct numa_node *node_get(struct machine *m, int id, size_t *cap)
{
	struct numa_node *n = machine_node(m, id);
	size_t pos;

	if (n)
		return n;
	if (grow_array((void **)&m->nodes, cap, m->nnodes + 1, sizeof(*m->nodes)) < 0)
		return NULL;
	for (pos = 0; pos < m->nnodes && m->nodes[pos].id < id; pos++)
		;
	memmove(&m->nodes[pos + 1], &m->nodes[pos], (m->nnodes - pos) * sizeof(*m->nodes));
	memset(&m->nodes[pos], 0, sizeof(*m->nodes));
	m->nodes[pos].id = id;
	m->nnodes++;
	return &m->nodes[pos];
}

static int scan_nodes(struct sysroot *sr, struct machine *m)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ char *zi_text = NULL;
	struct zoneinfo zi = { 0 };
	struct dirent *de;
	size_t cap = 0;
	int r;

	r = sysroot_opendir(sr, SYSFS_NODE, &d);
	if (r < 0 && r != -ENOENT)
		machine_add_error(m, SYSFS_NODE, r, "cannot list nodes: %s", strerror(-r));
	while (d && (de = readdir(d))) {
		_cleanup_free_ char *text = NULL;
		struct numa_node *n;
		char path[128];
		int id;

		if (parse_node_name(de->d_name, &id) < 0)
			continue;
		n = node_get(m, id, &cap);
		if (!n)
			return -ENOMEM;
		snprintf(path, sizeof(path), SYSFS_NODE "/node%d/meminfo", id);
		r = sysroot_read_file(sr, path, &text, NULL);
		if (r < 0) {
			machine_add_error(m, path, r, "cannot read: %s", strerror(-r));
			continue;
		}
		if (parse_node_meminfo(text, id, &n->meminfo) < 0)
			machine_add_error(m, path, -EINVAL, "malformed node meminfo");
	}

	/* blocks may name nodes whose directory we could not read */
	for (size_t i = 0; i < m->nblocks; i++)
		if (m->blocks[i].node >= 0 && !node_get(m, m->blocks[i].node, &cap))
			return -ENOMEM;

	r = sysroot_read_file(sr, PROC_ZONEINFO, &zi_text, NULL);
	if (r < 0) {
		if (r != -ENOENT)
			machine_add_error(m, PROC_ZONEINFO, r, "cannot read: %s", strerror(-r));
		return 0;
	}
	if (parse_zoneinfo(zi_text, &zi) < 0) {
		machine_add_error(m, PROC_ZONEINFO, -EINVAL, "malformed zoneinfo");
		zoneinfo_free(&zi);
		return 0;
	}
	for (size_t i = 0; i < zi.nzones; i++) {
		const struct zoneinfo_zone *z = &zi.zones[i];
		struct numa_node *n = machine_node(m, z->node);

		if (!n)
			continue;
		n->zoneinfo_known = true;
		if (zone_is_kernel(z->zone)) {
			n->kernel_free_bytes += z->free * m->page_size;
			n->kernel_free_known = true;
		} else if (z->zone == ZONE_ID_MOVABLE && z->present >= z->managed) {
			n->movable_present_minus_managed += z->present - z->managed;
		}
	}
	zoneinfo_free(&zi);
	return 0;
}

static void iomem_errors(struct machine *m)
{
	if (m->iomem_bad)
		machine_add_error(m, PROC_IOMEM, -EINVAL, "%u malformed line(s), first at line %u",
				  m->iomem_bad, m->iomem_first_bad);
}

/*
 * Parse text (taken) into m->iomem, which is empty; the lines it shares
 * with the text prev (may be NULL) was parsed from are taken from prev.
 */
static void iomem_from_text(struct machine *m, char *text, const struct machine *prev)
{
	int r;

	m->iomem_bad = m->iomem_first_bad = 0;
	r = iomem_parse_from(text, prev ? prev->iomem_text : NULL, prev ? &prev->iomem : NULL,
			     &m->iomem, &m->iomem_bad, &m->iomem_first_bad);
	if (r < 0) {
		machine_add_error(m, PROC_IOMEM, r, "cannot parse: %s", strerror(-r));
		free(text);
		return;
	}
	iomem_errors(m);
	free(m->iomem_text);
	m->iomem_text = text;
}

/*
 * /proc/iomem into m->iomem (empty).  When it reads as the text prev's iomem
 * was parsed from, nothing is parsed: m gets prev's malformed-line count and
 * its problem, and the return is true (m->iomem stays empty; prev's holds).
 */
static bool scan_iomem(struct sysroot *sr, struct machine *m, const struct machine *prev)
{
	char *text = NULL;
	int r;

	r = sysroot_read_file(sr, PROC_IOMEM, &text, NULL);
	if (r < 0) {
		if (r != -ENOENT)
			machine_add_error(m, PROC_IOMEM, r, "cannot read: %s", strerror(-r));
		return false;
	}
	if (prev && prev->iomem_text && streq(text, prev->iomem_text)) {
		free(text);
		m->iomem_bad = prev->iomem_bad;
		m->iomem_first_bad = prev->iomem_first_bad;
		iomem_errors(m);
		return true;
	}
	iomem_from_text(m, text, prev);
	return false;
}

/* Add (sign 1) or take away (sign -1) one block's share of the node and machine sums. */
static void account_block(struct machine *m, const struct mem_block *b, int sign)
{
	struct numa_node *n = machine_node(m, b->node);
	uint64_t on_dev = b->memmap == MEMMAP_ON_MEMORY ? b->memmap_bytes : 0;
	uint64_t in_ram = b->memmap == MEMMAP_RAM ? b->memmap_bytes : 0;
	/* unsigned arithmetic wraps: adding the two's complement subtracts */
	uint64_t k = sign < 0 ? UINT64_MAX : 1;

	m->memmap_on_device_bytes += k * on_dev;
	m->memmap_in_ram_bytes += k * in_ram;
	if (!n)
		return;
	n->memmap_on_device_bytes += k * on_dev;
	n->memmap_in_ram_bytes += k * in_ram;
	if (b->state == BLOCK_OFFLINE) {
		n->offline_bytes += k * b->size;
	} else if (b->state == BLOCK_STATE_UNKNOWN) {
		/* unreadable state: neither online nor offline memory */
	} else if (b->zone == ZONE_ID_MOVABLE) {
		n->movable_bytes += k * b->size;
		n->movable_usable_bytes += k * (b->size - on_dev);
		n->movable_memmap_in_ram_bytes += k * in_ram;
		/* the zoneinfo check's figures: online blocks only, like zoneinfo_check() */
		if (memmap_guessed_movable(b))
			n->movable_guessed_blocks += k;
		else if (b->state == BLOCK_ONLINE && b->memmap == MEMMAP_ON_MEMORY && m->page_size)
			n->movable_known_memmap_pages += k * (machine_block_memmap_bytes(m) /
							      m->page_size);
	} else {
		/* kernel zones, or "none": boot blocks spanning DMA/DMA32 */
		n->kernel_bytes += k * b->size;
		n->kernel_usable_bytes += k * (b->size - on_dev);
	}
}

/* A device's summary (online blocks, zone, memmap) from its blocks. */
static void recount_device(const struct machine *m, struct mem_device *d)
{
	bool first_zone = true, first_mm = true;

	d->online_blocks = 0;
	d->zone = ZONE_ID_NONE;
	d->zone_mixed = false;
	d->memmap = MEMMAP_UNKNOWN;
	d->memmap_evidence = EV_NONE;
	d->memmap_on_device_bytes = d->memmap_in_ram_bytes = 0;
	for (size_t j = 0; j < d->nblocks; j++) {
		const struct mem_block *b = &m->blocks[d->blocks[j]];

		if (b->state == BLOCK_ONLINE) {
			d->online_blocks++;
			if (first_zone)
				d->zone = b->zone;
			else if (d->zone != b->zone)
				d->zone_mixed = true;
			first_zone = false;
		}
		if (first_mm) {
			d->memmap = b->memmap;
			d->memmap_evidence = b->memmap_evidence;
		} else {
			if (d->memmap != b->memmap)
				d->memmap = MEMMAP_MIXED;
			if (b->memmap_evidence > d->memmap_evidence)
				d->memmap_evidence = b->memmap_evidence;
		}
		first_mm = false;
		if (b->memmap == MEMMAP_ON_MEMORY)
			d->memmap_on_device_bytes += b->memmap_bytes;
		else if (b->memmap == MEMMAP_RAM)
			d->memmap_in_ram_bytes += b->memmap_bytes;
	}
	if (d->zone_mixed)
		d->zone = ZONE_ID_NONE;
}

void machine_recount(struct machine *m)
{
	m->memmap_on_device_bytes = m->memmap_in_ram_bytes = 0;
	for (size_t i = 0; i < m->nnodes; i++) {
		struct numa_node *n = &m->nodes[i];

		n->kernel_bytes = n->movable_bytes = n->offline_bytes = 0;
		n->kernel_usable_bytes = n->movable_usable_bytes = 0;
		n->movable_memmap_in_ram_bytes = 0;
		n->memmap_on_device_bytes = n->memmap_in_ram_bytes = 0;
		n->movable_guessed_blocks = n->movable_known_memmap_pages = 0;
	}
	for (size_t i = 0; i < m->nblocks; i++)
		account_block(m, &m->blocks[i], 1);
	for (size_t i = 0; i < m->ndevices; i++)
		recount_device(m, &m->devices[i]);
}

void machine_account_blocks(struct machine *m, const size_t *blocks, size_t n, int sign)
{
	for (size_t i = 0; i < n; i++)
		account_block(m, &m->blocks[blocks[i]], sign);
}

void machine_recount_device(struct machine *m, size_t di)
{
	if (di < m->ndevices)
		recount_device(m, &m->devices[di]);
}

static void reset_derived(struct machine *m)
{
	for (size_t i = 0; i < m->ndevices; i++)
		free(m->devices[i].blocks);
	free(m->devices);
	m->devices = NULL;
	m->ndevices = 0;
	for (size_t i = 0; i < m->ndax; i++)
		free(m->dax[i].mappings);
	free(m->dax);
	m->dax = NULL;
	m->ndax = 0;
	free(m->nodes);
	m->nodes = NULL;
	m->nnodes = 0;
	iomem_free(&m->iomem);
	memset(&m->iomem, 0, sizeof(m->iomem));
	free(m->iomem_text);
	m->iomem_text = NULL;
	m->iomem_bad = m->iomem_first_bad = 0;
	free(m->errors);
	m->errors = NULL;
	m->nerrors = 0;
}

/* Everything derived from the blocks plus the small machine-wide files. */
static int scan_rest(struct sysroot *sr, struct machine *m)
{
	int r;

	r = scan_nodes(sr, m);
	if (r < 0)
		return r;
	scan_iomem(sr, m, NULL);
	r = machine_scan_dax(sr, m);
	if (r < 0)
		return r;
	r = machine_group_devices(m);
	if (r < 0)
		return r;
	machine_infer_memmap(m);
	machine_recount(m);
	return 0;
}

static bool iomem_equal(const struct iomem *a, const struct iomem *b)
{
	if (a->nres != b->nres || a->addresses_hidden != b->addresses_hidden ||
	    a->nested != b->nested)
		return false;
	for (size_t i = 0; i < a->nres; i++) {
		const struct iomem_res *x = &a->res[i], *y = &b->res[i];

		if (x->start != y->start || x->end != y->end || x->parent != y->parent ||
		    x->depth != y->depth || !streq(x->name, y->name))
			return false;
	}
	return true;
}

/* Everything but the back-pointer to the device, which the grouping sets. */
static bool dax_equal(const struct dax_device *x, const struct dax_device *y)
{
	if (!streq(x->name, y->name) || !streq(x->region, y->region) || !streq(x->kind, y->kind) ||
	    !streq(x->uuid, y->uuid) || !streq(x->driver, y->driver) ||
	    x->target_node != y->target_node || x->numa_node != y->numa_node ||
	    x->size != y->size || x->start != y->start || x->align != y->align ||
	    x->memmap_on_memory != y->memmap_on_memory || x->error != y->error ||
	    x->nmappings != y->nmappings)
		return false;
	for (size_t j = 0; j < x->nmappings; j++)
		if (x->mappings[j].start != y->mappings[j].start ||
		    x->mappings[j].end != y->mappings[j].end ||
		    x->mappings[j].page_offset != y->mappings[j].page_offset)
			return false;
	return true;
}

/*
 * /proc/iomem as before, but for resources added above `above` (the end of
 * the last block the model has): those contain no block a device holds, so
 * no block changes its owner.  New memory comes with such resources.
 */
static bool iomem_extends(const struct iomem *now, const struct iomem *before, uint64_t above)
{
	size_t i = 0;

	if (now->addresses_hidden != before->addresses_hidden)
		return false;
	if (!above)
		return iomem_equal(now, before);
	for (size_t j = 0; j < now->nres; j++) {
		const struct iomem_res *x = &now->res[j], *y = &before->res[i];

		if (i < before->nres && x->start == y->start && x->end == y->end &&
		    x->depth == y->depth && streq(x->name, y->name))
			i++;
		else if (x->start < above || now->addresses_hidden)
			return false;
	}
	return i == before->nres;
}

/*
 * The machine-wide inputs of the grouping read as before (nodes, dax) or
 * only grew above the blocks the model has (iomem, when `above` is not 0).
 */
static bool inputs_equal(const struct machine *a, const struct machine *b, bool iomem_same,
			 uint64_t above)
{
	if (a->nnodes != b->nnodes || a->ndax != b->ndax ||
	    (!iomem_same && !iomem_extends(&a->iomem, &b->iomem, above)))
		return false;
	for (size_t i = 0; i < a->nnodes; i++)
		if (a->nodes[i].id != b->nodes[i].id)
			return false;
	for (size_t i = 0; i < a->ndax; i++)
		if (!dax_equal(&a->dax[i], &b->dax[i]))
			return false;
	return true;
}

/* Drop repeats from a sorted array; returns the new length. */
static size_t uniq_u64(uint64_t *v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!k || v[i] != v[k - 1])
			v[k++] = v[i];
	return k;
}

/* The node's verdict on a block the sums already count. */
static void apply_verdict(struct machine *m, struct mem_block *b)
{
	account_block(m, b, -1);
	memmap_apply_verdict(m, b);
	account_block(m, b, 1);
}

/*
 * The common batches: blocks the model has, whose state changed (above all
 * the "online" uevents of the blocks memhpd itself just onlined), and new
 * blocks above all the others (a DIMM, a dax device, a virtio-mem device
 * plugging on).  When the machine-wide inputs of the grouping (the dax
 * devices, the node set, /proc/iomem but for resources above the old
 * blocks) read as before, every known block of the batch still classifies
 * into its device and every new one into a device with a name, a regroup
 * would rebuild the same devices plus the new blocks: this skips it and the
 * recount, which at 65,536 blocks made every batch cost ~50 times what it
 * costs at 1,024 (docs/performance.md).  Nothing here walks all blocks: the
 * zoneinfo check of the memmap guesses works from the node sums, and only
 * when its verdict on a node changes are all blocks inferred and counted
 * again.  The result equals a rebuild (tests/sysroot/test-update.c checks it
 * against a fresh scan).  Returns 1 when done, 0 when the caller must
 * rebuild (the model may have the new blocks appended then, unread or
 * without a device: the rebuild reads them again and redoes everything
 * derived), or -errno.
 */
static int update_in_place(struct sysroot *sr, struct machine *m, const uint64_t *idx, size_t n)
{
	_cleanup_sysroot_dir_ struct sysroot_dir memory = { .fd = -1 };
	_cleanup_free_ struct mem_block *old = NULL;
	/* positions in m->blocks and m->devices, as uint64_t to share cmp_u64 */
	_cleanup_free_ uint64_t *pos = NULL, *devs = NULL, *add = NULL;
	struct block_hint hint = { .node = -1, .node_try = -1 };
	struct machine t = { 0 };
	size_t nknown = 0, nadd = 0, ndevs = 0;
	uint64_t above = 0;
	enum memmap_param param;
	bool iomem_same = false;
	int r;

	if (!n || !m->ndevices || !m->nblocks || (m->is_s390 && !m->has_fw_memory))
		return 0;
	pos = calloc(n, sizeof(*pos));
	add = calloc(n, sizeof(*add));
	if (!pos || !add)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct mem_block *b = machine_block_by_index(m, idx[i]);

		if (b && b->device < 0)
			return 0; /* a block no device has */
		if (b)
			pos[nknown++] = (uint64_t)(b - m->blocks);
		else if (idx[i] > m->blocks[m->nblocks - 1].index)
			add[nadd++] = idx[i];
		else
			return 0; /* new memory between blocks: indices would move */
	}
	/* a block named twice is taken once */
	qsort(pos, nknown, sizeof(*pos), cmp_u64);
	nknown = uniq_u64(pos, nknown);
	qsort(add, nadd, sizeof(*add), cmp_u64);
	nadd = uniq_u64(add, nadd);
	old = calloc(nknown ? nknown : 1, sizeof(*old));
	devs = calloc(nknown + nadd, sizeof(*devs));
	if (!old || !devs)
		return -ENOMEM;
	for (size_t i = 0; i < nknown; i++)
		old[i] = m->blocks[pos[i]];
	above = m->blocks[m->nblocks - 1].start + m->blocks[m->nblocks - 1].size;

	/*
	 * The machine-wide inputs, read into a scratch model beside m.  No
	 * blocks: scan_nodes() would add the nodes that only blocks name
	 * (their directory unreadable), a walk over every block.  Such a node
	 * makes the node sets differ, and the rebuild takes care of it.
	 */
	t.block_size = m->block_size;
	t.page_size = m->page_size;
	t.struct_page_size = m->struct_page_size;
	t.is_numa = m->is_numa;
	r = scan_nodes(sr, &t);
	if (r >= 0) {
		/* the text m->iomem came from, again: no parse (most batches) */
		iomem_same = scan_iomem(sr, &t, m);
		r = machine_scan_dax(sr, &t);
	}
	if (r < 0 || !inputs_equal(&t, m, iomem_same, nadd ? above : 0)) {
		reset_derived(&t);
		return r < 0 ? r : 0;
	}
	if (!iomem_same) {
		/* the new /proc/iomem: new blocks are classified by it */
		iomem_free(&m->iomem);
		free(m->iomem_text);
		m->iomem = t.iomem;
		m->iomem_text = t.iomem_text;
		m->iomem_bad = t.iomem_bad;
		m->iomem_first_bad = t.iomem_first_bad;
		memset(&t.iomem, 0, sizeof(t.iomem));
		t.iomem_text = NULL;
	}

	free(m->errors);
	m->errors = NULL;
	m->nerrors = 0;
	param = m->params.memmap_on_memory;
	read_params(sr, m);
	if (m->params.memmap_on_memory != param) {
		/* every inference from the parameter changes */
		reset_derived(&t);
		return 0;
	}
	/*
	 * What a scan takes from its first block holds for these too (see
	 * struct block_hint): the model's first block gives removable, the
	 * scan's listing of it whether memmap_on_memory is there.  The node
	 * directories are not listed here (each names every block of its
	 * node): a known block lists its own directory, which also finds one
	 * linked to two nodes; a new block is asked for the link to the node
	 * of the block before it, and listed only if that link is not there.
	 * A hot-added DIMM's blocks are read here before any is onlined.
	 */
	hint.removable = m->blocks[0].removable;
	hint.memmap_attr = m->memmap_attr_listed;
	if (sysroot_dir_open(sr, SYSFS_MEMORY, &memory) == 0)
		hint.memory = &memory;
	for (size_t i = 0; i < nknown; i++) {
		struct mem_block *b = &m->blocks[pos[i]];

		r = read_block(sr, m, b, &hint, NULL);
		b->device = old[i].device;
		if (r < 0 || b->node != old[i].node || !machine_block_keeps_device(m, b)) {
			reset_derived(&t);
			return 0;
		}
		devs[ndevs++] = (uint64_t)b->device;
	}
	/* new blocks: appended in index order, like a scan would have them */
	hint.node_try = m->blocks[m->nblocks - 1].node;
	for (size_t i = 0; i < nadd; i++) {
		struct mem_block *b;

		if (grow_array_uninit((void **)&m->blocks, &m->blocks_cap, m->nblocks + 1,
				      sizeof(*m->blocks)) < 0) {
			reset_derived(&t);
			return -ENOMEM;
		}
		b = &m->blocks[m->nblocks];
		memset(b, 0, sizeof(*b));
		b->index = add[i];
		snprintf(b->name, sizeof(b->name), "memory%" PRIu64, add[i]);
		r = read_block(sr, m, b, &hint, NULL);
		if (r == -ENOENT)
			continue; /* gone again: a scan would not see it either */
		if (b->node >= 0)
			hint.node_try = b->node;
		m->nblocks++;
		if (r < 0 || (b->node >= 0 && !machine_node(m, b->node))) {
			reset_derived(&t);
			return 0; /* e.g. a node the model does not have */
		}
		r = machine_device_append(m, m->nblocks - 1);
		if (r <= 0) {
			reset_derived(&t);
			return r;
		}
		devs[ndevs++] = (uint64_t)b->device;
	}

	/* commit: fresh node figures (the sums stay), the scratch model's errors */
	for (size_t i = 0; i < m->nnodes; i++) {
		struct numa_node *to = &m->nodes[i];
		const struct numa_node *from = &t.nodes[i];

		to->meminfo = from->meminfo;
		to->kernel_free_bytes = from->kernel_free_bytes;
		to->kernel_free_known = from->kernel_free_known;
		to->movable_present_minus_managed = from->movable_present_minus_managed;
		to->zoneinfo_known = from->zoneinfo_known;
	}
	for (size_t i = 0; i < t.nerrors; i++)
		machine_add_error(m, t.errors[i].path, t.errors[i].err, "%s", t.errors[i].msg);
	reset_derived(&t);

	/*
	 * The memmap of the batch's blocks, without a pass over the others:
	 * their inference depends on the module parameter and the dax devices
	 * (both as before), and on their node's zoneinfo verdict, which the
	 * node sums decide.  A verdict that changes moves blocks of the whole
	 * node: infer and count everything then.
	 */
	for (size_t i = 0; i < nknown; i++) {
		struct mem_block *b = &m->blocks[pos[i]];

		account_block(m, &old[i], -1);
		machine_infer_block(m, b);
		account_block(m, b, 1);
	}
	for (size_t i = m->nblocks - (ndevs - nknown); i < m->nblocks; i++) {
		machine_infer_block(m, &m->blocks[i]);
		account_block(m, &m->blocks[i], 1);
	}
	for (size_t i = 0; i < m->nnodes; i++) {
		struct numa_node *nd = &m->nodes[i];

		if (memmap_node_verdict(m, nd->movable_guessed_blocks,
					nd->movable_known_memmap_pages, nd) != nd->memmap_verdict) {
			machine_infer_memmap(m);
			machine_recount(m);
			return 1;
		}
	}
	for (size_t i = 0; i < nknown; i++)
		apply_verdict(m, &m->blocks[pos[i]]);
	for (size_t i = m->nblocks - (ndevs - nknown); i < m->nblocks; i++)
		apply_verdict(m, &m->blocks[i]);
	qsort(devs, ndevs, sizeof(*devs), cmp_u64);
	ndevs = uniq_u64(devs, ndevs);
	for (size_t i = 0; i < ndevs; i++)
		recount_device(m, &m->devices[devs[i]]);
	return 1;
}

int machine_update(struct sysroot *sr, struct machine *m, const uint64_t *idx, size_t n)
{
	int r;

	r = update_in_place(sr, m, idx, n);
	if (r != 0)
		return r;

	reset_derived(m);
	read_params(sr, m);
	for (size_t i = 0; i < n; i++) {
		struct mem_block *b = machine_block_by_index(m, idx[i]);
		size_t pos;

		if (b) {
			if (read_block(sr, m, b, NULL, NULL) == -ENOENT) {
				/* removed: close the gap */
				pos = b - m->blocks;
				memmove(b, b + 1, (m->nblocks - pos - 1) * sizeof(*b));
				m->nblocks--;
			}
			continue;
		}
		if (grow_array_uninit((void **)&m->blocks, &m->blocks_cap, m->nblocks + 1,
				      sizeof(*m->blocks)) < 0)
			return -ENOMEM;
		for (pos = m->nblocks; pos > 0 && m->blocks[pos - 1].index > idx[i]; pos--)
			;
		memmove(&m->blocks[pos + 1], &m->blocks[pos], (m->nblocks - pos) * sizeof(*b));
		b = &m->blocks[pos];
		memset(b, 0, sizeof(*b));
		b->index = idx[i];
		snprintf(b->name, sizeof(b->name), "memory%" PRIu64, idx[i]);
		if (read_block(sr, m, b, NULL, NULL) == -ENOENT) {
			memmove(b, b + 1, (m->nblocks - pos) * sizeof(*b));
			continue;
		}
		m->nblocks++;
	}
	return scan_rest(sr, m);
}

int machine_scan(struct sysroot *sr, struct machine **out)
{
	_cleanup_machine_ struct machine *m = NULL;
	char buf[256];
	long ps;
	int r;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	ps = sysconf(_SC_PAGESIZE);
	m->page_size = ps > 0 ? (uint64_t)ps : 4096;
	m->struct_page_size = 64;

	r = sysroot_read_attr(sr, SYSFS_MEMORY "/block_size_bytes", buf, sizeof(buf));
	if (r < 0) {
		machine_add_error(m, SYSFS_MEMORY "/block_size_bytes", r,
				  "cannot read the memory block size: %s", strerror(-r));
		*out = TAKE_PTR(m);
		return r;
	}
	r = parse_block_size(buf, &m->block_size);
	if (r < 0) {
		machine_add_error(m, SYSFS_MEMORY "/block_size_bytes", r,
				  "unexpected block size \"%.60s\"", buf);
		*out = TAKE_PTR(m);
		return r;
	}

	m->has_fw_memory = sysroot_exists(sr, SYSFS_FW_MEMORY) > 0;
	m->is_s390 = m->has_fw_memory || sysroot_exists(sr, "proc/sysinfo") > 0;
	m->is_numa = sysroot_exists(sr, SYSFS_NODE) > 0;

	read_params(sr, m);
	r = scan_blocks(sr, m);
	if (r < 0) {
		*out = TAKE_PTR(m);
		return r;
	}
	r = scan_rest(sr, m);
	if (r < 0)
		return r;
	*out = TAKE_PTR(m);
	return 0;
}

void machine_free(struct machine *m)
{
	if (!m)
		return;
	reset_derived(m);
	free(m->blocks);
	free(m);
}

struct mem_block *machine_find_block(const struct machine *m, const char *name)
{
	uint64_t idx;

	if (parse_block_name(name, &idx) < 0)
		return NULL;
	return machine_block_by_index(m, idx);
}

struct mem_block *machine_block_by_index(const struct machine *m, uint64_t index)
{
	size_t lo = 0, hi = m->nblocks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->blocks[mid].index == index)
			return &m->blocks[mid];
		if (m->blocks[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct mem_device *machine_find_device(const struct machine *m, const char *id)
{
	for (size_t i = 0; i < m->ndevices; i++)
		if (streq(m->devices[i].id, id))
			return &m->devices[i];
	return NULL;
}

struct dax_device *machine_find_dax(const struct machine *m, const char *name)
{
	for (size_t i = 0; i < m->ndax; i++)
		if (streq(m->dax[i].name, name))
			return &m->dax[i];
	return NULL;
}

struct numa_node *machine_node(const struct machine *m, int id)
{
	for (size_t i = 0; i < m->nnodes; i++)
		if (m->nodes[i].id == id)
			return &m->nodes[i];
	return NULL;
}

/*
 * A hot-added block is set up once it has its node link and, for an ACPI
 * DIMM, its firmware_node: acpi_memory_enable_device() binds the blocks of
 * a range to the ACPI device only after __add_memory() created all of them.
 */
static int block_bound_to_dimm(struct sysroot *sr, bool numa, uint64_t index)
{
	_cleanup_sysroot_dir_ struct sysroot_dir dir = { .fd = -1 };
	_cleanup_closedir_ DIR *d = NULL;
	char path[64], fw[64];
	struct dirent *de;
	int r, node;

	snprintf(path, sizeof(path), SYSFS_MEMORY "/memory%" PRIu64, index);
	r = sysroot_dir_open(sr, path, &dir);
	if (r < 0)
		return r == -ENOENT || r == -ENOTDIR ? 0 : r;
	r = sysroot_dir_link_basename(&dir, "firmware_node", fw, sizeof(fw));
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	if (!startswith(fw, "PNP0C80"))
		return 0;
	if (!numa)
		return 1;
	r = sysroot_dir_list(&dir, &d);
	if (r < 0)
		return r;
	while ((de = readdir(d)))
		if (parse_node_name(de->d_name, &node) == 0)
			return 1;
	return 0;
}

int machine_dimms_complete(struct sysroot *sr, const struct machine *m, const uint64_t *idx,
			   size_t n, uint64_t **also, size_t *nalso)
{
	_cleanup_free_ uint64_t *sorted = NULL, *more = NULL;
	_cleanup_free_ char *text = NULL;
	struct iomem io = { 0 };
	const struct iomem *cached = NULL, *use;
	size_t nmore = 0, cap = 0;
	int r = 1, last = -1;

	*also = NULL;
	*nalso = 0;
	if (!n || !m->block_size)
		return 0;
	/* newest first: while a device is being added its last block is not bound yet */
	for (size_t i = n; i-- > 0;) {
		r = block_bound_to_dimm(sr, m->is_numa, idx[i]);
		if (r <= 0)
			return r;
	}
	/*
	 * Every block is bound, so the add of its range is over.  The range is
	 * the "System RAM" resource __add_memory() registered; udev may not
	 * have passed on the events of all its blocks yet (under load it takes
	 * longer to relay 64 events than the kernel takes to add 8 GiB), but
	 * sysfs shows them: a block of the range that is neither in this
	 * batch nor known must be bound too, and joins the batch.
	 */
	r = sysroot_read_file(sr, PROC_IOMEM, &text, NULL);
	if (r < 0)
		return r;
	if (m->iomem_text && streq(text, m->iomem_text)) {
		cached = &m->iomem; /* what m parsed from this very text */
	} else {
		r = iomem_parse_from(text, m->iomem_text, &m->iomem, &io, NULL, NULL);
		if (r < 0)
			return r;
	}
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted) {
		iomem_free(&io);
		return -ENOMEM;
	}
	memcpy(sorted, idx, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	use = cached ? cached : &io;
	r = use->addresses_hidden ? 0 : 1;
	for (size_t i = 0; i < n && r == 1; i++) {
		uint64_t start = sorted[i] * m->block_size;
		int k = iomem_find_containing(use, start, start + m->block_size - 1, "System RAM");

		if (k < 0) {
			r = 0;
			break;
		}
		if (k == last)
			continue; /* this range was checked for the block before */
		last = k;
		for (uint64_t b = use->res[k].start / m->block_size;
		     r == 1 && b <= use->res[k].end / m->block_size; b++) {
			if (machine_block_by_index(m, b) ||
			    bsearch(&b, sorted, n, sizeof(*sorted), cmp_u64))
				continue;
			r = block_bound_to_dimm(sr, m->is_numa, b);
			if (r == 1 && grow_array((void **)&more, &cap, nmore + 1, sizeof(*more)) < 0)
				r = -ENOMEM;
			if (r == 1)
				more[nmore++] = b;
		}
	}
	iomem_free(&io);
	if (r == 1) {
		*also = TAKE_PTR(more);
		*nalso = nmore;
	}
	return r;
}
