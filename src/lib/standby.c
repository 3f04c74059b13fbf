// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * s390 standby memory: the model (which increments exist, which are
 * configured, online, where their memmap is) and the configure / deconfigure
 * operations, on both kernel interfaces (see standby.h).  The interface is
 * told by what exists: sys/firmware/memory means 6.19+; an s390 machine
 * without it has the pre-6.19 behaviour, where the standby increments are the
 * blocks the device grouping calls s390-standby.
 *
 * Nothing here prints; every step goes to the caller's report callback.
 */
#include <ctype.h>
#include <inttypes.h>

#include "ops.h"
#include "policy.h"
#include "standby.h"
#include "sysroot.h"

const char *standby_iface_name(enum standby_iface i)
{
	switch (i) {
	case STANDBY_IFACE_LEGACY:
		return "legacy";
	case STANDBY_IFACE_FIRMWARE:
		return "firmware";
	default:
		return "none";
	}
}

/* ---- model ------------------------------------------------------------- */

static int add_incr(struct standby *sb, size_t *cap, const struct standby_incr *in)
{
	if (sb->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct standby_incr *p = realloc(sb->incr, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		sb->incr = p;
		*cap = ncap;
	}
	sb->incr[sb->n++] = *in;
	return 0;
}

static int cmp_incr(const void *a, const void *b)
{
	const struct standby_incr *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* Copy what the memory block says (if there is one) into the increment. */
static void link_block(const struct machine *m, struct standby_incr *in)
{
	const struct mem_block *b = machine_block_by_index(m, in->index);

	in->block = -1;
	in->state = BLOCK_STATE_UNKNOWN;
	in->zone = ZONE_ID_NONE;
	in->valid_zones = 0;
	in->removable = -1;
	if (!b)
		return;
	in->block = (int)(b - m->blocks);
	in->state = b->state;
	in->zone = b->zone;
	in->valid_zones = b->valid_zones;
	in->removable = b->removable;
}

/* 0/1 from a firmware attribute; -1 if absent; -EINVAL/-errno recorded. */
static int read_fw_bit(struct sysroot *sr, struct standby *sb, const char *name, const char *attr)
{
	char buf[64], path[160];
	uint64_t v;
	int r;

	snprintf(path, sizeof(path), SYSFS_FW_MEMORY "/%s/%s", name, attr);
	r = sysroot_read_attr(sr, path, buf, sizeof(buf));
	if (r == -ENOENT)
		return -1;
	if (r < 0) {
		if (strv_pushf(&sb->errors, "%s: cannot read: %s", path, strerror(-r)) < 0)
			return -ENOMEM;
		return -2;
	}
	if (parse_u64(buf, 10, &v) < 0 || v > 1) {
		if (strv_pushf(&sb->errors, "%s: unexpected value \"%.40s\"", path, buf) < 0)
			return -ENOMEM;
		return -2;
	}
	return (int)v;
}

static int scan_firmware(struct sysroot *sr, const struct machine *m, struct standby *sb)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t cap = 0;
	int r;

	r = sysroot_opendir(sr, SYSFS_FW_MEMORY, &d);
	if (r < 0)
		return strv_pushf(&sb->errors, "%s: cannot open: %s", SYSFS_FW_MEMORY,
				  strerror(-r)) < 0
			       ? -ENOMEM
			       : 0;
	while ((de = readdir(d))) {
		struct standby_incr in = { 0 };
		const struct mem_block *b;
		int cfgv, mm;

		if (parse_block_name(de->d_name, &in.index) < 0)
			continue;
		strscpy_safe(in.name, de->d_name, sizeof(in.name));
		in.start = in.index * sb->block_size;
		in.size = sb->block_size;
		cfgv = read_fw_bit(sr, sb, de->d_name, "config");
		mm = read_fw_bit(sr, sb, de->d_name, "memmap_on_memory");
		if (cfgv == -ENOMEM || mm == -ENOMEM)
			return -ENOMEM;
		if (cfgv < 0) {
			if (cfgv == -1 && strv_pushf(&sb->errors, "%s/%s: no config attribute",
						     SYSFS_FW_MEMORY, de->d_name) < 0)
				return -ENOMEM;
			continue; /* unusable: neither listed nor touched */
		}
		in.configured = cfgv == 1;
		in.fw_memmap_on_memory = mm < 0 ? -1 : mm;
		link_block(m, &in);
		b = in.block >= 0 ? &m->blocks[in.block] : NULL;
		if (b && b->memmap != MEMMAP_UNKNOWN)
			in.memmap = b->memmap;
		else if (in.fw_memmap_on_memory >= 0)
			in.memmap = in.fw_memmap_on_memory ? MEMMAP_ON_MEMORY : MEMMAP_RAM;
		else
			in.memmap = MEMMAP_UNKNOWN;
		if (add_incr(sb, &cap, &in) < 0)
			return -ENOMEM;
	}
	qsort(sb->incr, sb->n, sizeof(*sb->incr), cmp_incr);
	return 0;
}

/*
 * Before 6.19 the kernel added all standby storage at boot with add_memory(),
 * so it has System RAM resources of its own above the one holding address 0
 * (assigned storage).  That survives onlining, unlike "offline blocks at the
 * top" which the device grouping has to go by.  UINT64_MAX: unknown.
 */
static uint64_t legacy_boot_end(const struct machine *m)
{
	const struct iomem *io = &m->iomem;

	if (io->addresses_hidden)
		return UINT64_MAX;
	for (size_t i = 0; i < io->nres; i++)
		if (io->res[i].depth == 0 && io->res[i].start == 0 &&
		    streq(io->res[i].name, "System RAM"))
			return io->res[i].end;
	return UINT64_MAX;
}

static int scan_legacy(const struct machine *m, struct standby *sb)
{
	uint64_t boot_end = legacy_boot_end(m);
	size_t cap = 0;

	for (size_t i = 0; i < m->nblocks; i++) {
		const struct mem_block *b = &m->blocks[i];
		struct standby_incr in = { 0 };
		bool standby;

		if (boot_end != UINT64_MAX)
			standby = b->start > boot_end;
		else
			standby = b->device >= 0 && m->devices[b->device].type == DEV_S390_STANDBY;
		if (!standby)
			continue;
		strscpy_safe(in.name, b->name, sizeof(in.name));
		in.index = b->index;
		in.start = b->start;
		in.size = b->size;
		in.fw_memmap_on_memory = -1;
		/* added at boot with the module parameter in force then */
		if (m->params.memmap_on_memory == MEMMAP_PARAM_ON ||
		    m->params.memmap_on_memory == MEMMAP_PARAM_FORCE)
			in.memmap = MEMMAP_ON_MEMORY;
		else if (m->params.memmap_on_memory == MEMMAP_PARAM_OFF)
			in.memmap = MEMMAP_RAM;
		else
			in.memmap = b->memmap;
		link_block(m, &in);
		in.configured = b->state == BLOCK_ONLINE;
		if (add_incr(sb, &cap, &in) < 0)
			return -ENOMEM;
	}
	return 0;
}

int standby_scan(struct sysroot *sr, const struct machine *m, struct standby *sb)
{
	int r = 0;

	memset(sb, 0, sizeof(*sb));
	sb->block_size = m->block_size;
	if (m->has_fw_memory) {
		sb->iface = STANDBY_IFACE_FIRMWARE;
		r = scan_firmware(sr, m, sb);
	} else if (m->is_s390) {
		sb->iface = STANDBY_IFACE_LEGACY;
		r = scan_legacy(m, sb);
	}
	if (r < 0)
		return r;
	for (size_t i = 0; i < sb->n; i++) {
		const struct standby_incr *in = &sb->incr[i];

		if (in->configured) {
			sb->configured += in->size;
			if (in->memmap == MEMMAP_ON_MEMORY)
				sb->memmap_on_memory += in->size;
		} else {
			sb->deconfigured += in->size;
		}
		if (in->state == BLOCK_ONLINE)
			sb->online += in->size;
		else
			sb->offline += in->size;
	}
	return 0;
}

void standby_free(struct standby *sb)
{
	free(sb->incr);
	sb->incr = NULL;
	sb->n = 0;
	strv_clear(&sb->errors);
}

struct standby_incr *standby_find(const struct standby *sb, uint64_t index)
{
	size_t lo = 0, hi = sb->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sb->incr[mid].index == index)
			return &sb->incr[mid];
		if (sb->incr[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool standby_incr_shrinkable(const struct standby_incr *in)
{
	return in->configured && in->removable != 0 && in->state == BLOCK_ONLINE &&
	       in->zone == ZONE_ID_MOVABLE;
}

/* ---- selections (chmem syntax) ----------------------------------------- */

static int sel_err(char *msg, size_t len, const char *fmt, ...) __printf(3, 4);
static int sel_err(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int standby_parse_sel(const char *arg, bool blocks, uint64_t block_size, struct standby_sel *sel,
		      char *msg, size_t msglen)
{
	char a[64], *dash, *b;
	char bs[32];
	uint64_t x, y;

	memset(sel, 0, sizeof(*sel));
	if (!block_size)
		return sel_err(msg, msglen, "unknown memory block size");
	format_size(block_size, bs, sizeof(bs));
	if (strscpy_safe(a, arg, sizeof(a)) < 0 || !*a)
		return sel_err(msg, msglen, "invalid parameter \"%.64s\"", arg);
	dash = strchr(a, '-');
	if (dash && strchr(dash + 1, '-'))
		return sel_err(msg, msglen, "invalid parameter \"%s\"", arg);
	if (dash) {
		*dash = '\0';
		b = dash + 1;
		if (blocks) {
			if (!all_digits(a) || parse_u64(a, 10, &x) < 0)
				return sel_err(msg, msglen, "invalid start block \"%s\"", a);
			if (!all_digits(b) || parse_u64(b, 10, &y) < 0)
				return sel_err(msg, msglen, "invalid end block \"%s\"", b);
		} else {
			if (strncmp(a, "0x", 2) != 0 || parse_u64(a, 16, &x) < 0)
				return sel_err(
					msg, msglen,
					"invalid start address \"%s\" (expected 0xSTART-0xEND)", a);
			if (strncmp(b, "0x", 2) != 0 || parse_u64(b, 16, &y) < 0)
				return sel_err(
					msg, msglen,
					"invalid end address \"%s\" (expected 0xSTART-0xEND)", b);
			if (x % block_size || y == UINT64_MAX || (y + 1) % block_size)
				return sel_err(
					msg, msglen,
					"start address and (end address + 1) must be aligned "
					"to the memory block size (%s)",
					bs);
			x /= block_size;
			y /= block_size;
		}
		if (x > y)
			return sel_err(msg, msglen, "invalid range \"%s\": start above end", arg);
		sel->first = x;
		sel->last = y;
		return 0;
	}
	if (blocks) {
		if (!all_digits(a) || parse_u64(a, 10, &x) < 0)
			return sel_err(msg, msglen, "invalid block number \"%s\"", a);
		sel->first = sel->last = x;
		return 0;
	}
	/* a SIZE: without a unit in MiB, as chmem */
	if (isdigit((unsigned char)a[strlen(a) - 1])) {
		if (!all_digits(a) || parse_u64(a, 10, &x) < 0 || x > UINT64_MAX / MiB)
			return sel_err(msg, msglen, "invalid size \"%s\"", arg);
		x *= MiB;
	} else if (!isdigit((unsigned char)a[0]) || parse_size(a, &x) < 0) {
		return sel_err(msg, msglen,
			       "invalid size \"%s\" (e.g. 512M, 4G, or MiB without unit)", arg);
	}
	if (!x || x % block_size)
		return sel_err(msg, msglen,
			       "size must be a non-zero multiple of the memory block size (%s)",
			       bs);
	sel->is_size = true;
	sel->count = x / block_size;
	return 0;
}

/* ---- operations -------------------------------------------------------- */

struct run {
	struct sysroot *sr;
	const struct config *cfg;
	struct machine *m;
	struct standby *sb;
	const struct standby_opts *o;
	standby_report_fn report;
	void *data;
	struct standby_tally *t;
	struct standby_incr *cur; /* for the ops adapter */
	bool step_ok;
};

static __printf(5, 6) void say(struct run *ru, const struct standby_incr *in, const char *op,
			       int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ru->report)
		ru->report(ru->data, in, op, err, msg);
}

static void ops_adapter(void *data, const struct mem_block *b, const char *op,
			const struct action_result *res)
{
	struct run *ru = data;
	bool ok = res->outcome != OUTCOME_FAILED && res->outcome != OUTCOME_MISMATCH;

	ru->step_ok = ok;
	if (ok && res->zone != ZONE_ID_NONE)
		say(ru, ru->cur, op, 0, "%s %s: %s (%s)", b->name, op,
		    action_outcome_name(res->outcome), zone_name(res->zone));
	else if (ok)
		say(ru, ru->cur, op, 0, "%s %s: %s", b->name, op,
		    action_outcome_name(res->outcome));
	else
		say(ru, ru->cur, op, res->err ? res->err : -EIO, "%s %s: %s: %s", b->name, op,
		    action_outcome_name(res->outcome), res->msg);
}

/* Re-read one block after config changed; refresh the increment from it. */
static int refresh(struct run *ru, struct standby_incr *in)
{
	int r = machine_update(ru->sr, ru->m, &in->index, 1);

	if (r < 0)
		return r;
	link_block(ru->m, in);
	return 0;
}

static const char *errname(int err)
{
	return strerror(err < 0 ? -err : err);
}

static int write_fw(struct run *ru, const struct standby_incr *in, const char *attr,
		    const char *val)
{
	char path[160];

	snprintf(path, sizeof(path), SYSFS_FW_MEMORY "/%s/%s", in->name, attr);
	return sysroot_write_attr(ru->sr, path, val);
}

static bool online_step(struct run *ru, struct standby_incr *in, enum zone_choice zone)
{
	struct ops_tally ot = { 0 };
	size_t bi;

	if (in->block < 0) {
		say(ru, in, "online", -ENOENT, "%s: no memory block to online", in->name);
		return false;
	}
	bi = (size_t)in->block;
	ru->cur = in;
	ru->step_ok = false;
	ops_online(ru->sr, ru->cfg, ru->m, &bi, 1, NULL, zone, ru->o->timeout_ms, ops_adapter, ru,
		   &ot);
	link_block(ru->m, in);
	return ot.failed == 0 && ot.ok == 1;
}

static bool offline_step(struct run *ru, struct standby_incr *in)
{
	struct ops_tally ot = { 0 };
	size_t bi;

	if (in->block < 0 || in->state == BLOCK_OFFLINE)
		return true;
	bi = (size_t)in->block;
	ru->cur = in;
	ops_offline(ru->sr, ru->m, &bi, 1, ru->o->timeout_ms, ops_adapter, ru, &ot);
	link_block(ru->m, in);
	return ot.failed == 0 && ot.ok == 1;
}

/* Firmware interface: memmap, config=1, online.  True when it ended as requested. */
static bool configure_fw(struct run *ru, struct standby_incr *in, enum memmap_place want,
			 enum zone_choice zone, bool explicit_memmap)
{
	int r;

	if (in->configured) {
		if (explicit_memmap && want != MEMMAP_UNKNOWN && in->memmap != want) {
			say(ru, in, "configure", -EBUSY,
			    "%s is configured with its memmap %s; deconfigure it before changing "
			    "the memmap placement",
			    in->name, in->memmap == MEMMAP_ON_MEMORY ? "on the memory" : "in RAM");
			return false;
		}
		if (ru->o->no_online || in->state == BLOCK_ONLINE) {
			say(ru, in, "configure", 0, "%s already configured", in->name);
			return true;
		}
		return online_step(ru, in, zone);
	}
	if (want != MEMMAP_UNKNOWN) {
		int bit = want == MEMMAP_ON_MEMORY;

		if (in->fw_memmap_on_memory < 0 && bit) {
			say(ru, in, "memmap", -EOPNOTSUPP,
			    "%s has no firmware memmap_on_memory attribute: cannot put its memmap "
			    "on the memory",
			    in->name);
			return false;
		}
		if (in->fw_memmap_on_memory >= 0 && in->fw_memmap_on_memory != bit) {
			r = write_fw(ru, in, "memmap_on_memory", bit ? "1" : "0");
			if (r == -EOPNOTSUPP) {
				say(ru, in, "memmap", r,
				    "%s: the kernel cannot place the memmap on this memory "
				    "(memory_hotplug.memmap_on_memory is off?)",
				    in->name);
				return false;
			}
			if (r == -EBUSY) {
				say(ru, in, "memmap", r,
				    "%s: memmap_on_memory is busy: someone configured it meanwhile",
				    in->name);
				return false;
			}
			if (r < 0) {
				say(ru, in, "memmap", r, "%s: writing memmap_on_memory=%d: %s",
				    in->name, bit, errname(r));
				return false;
			}
			in->fw_memmap_on_memory = bit;
			say(ru, in, "memmap", 0, "%s: memmap %s", in->name,
			    bit ? "on the memory" : "in RAM");
		}
		in->memmap = want;
	}
	r = write_fw(ru, in, "config", "1");
	if (r < 0) {
		say(ru, in, "configure", r, "%s: writing config=1: %s", in->name, errname(r));
		return false;
	}
	in->configured = true;
	r = refresh(ru, in);
	if (r < 0) {
		say(ru, in, "configure", r, "%s: configured, but re-reading it failed: %s",
		    in->name, errname(r));
		return false;
	}
	if (in->block < 0) {
		say(ru, in, "configure", -ENOENT,
		    "%s: config=1 was accepted but no memory block appeared", in->name);
		return false;
	}
	say(ru, in, "configure", 0, "%s configured (%s)", in->name,
	    in->state == BLOCK_ONLINE ? "the kernel onlined it" : "offline");
	if (ru->o->no_online)
		return true;
	return online_step(ru, in, zone);
}

static bool deconfigure_fw(struct run *ru, struct standby_incr *in)
{
	int r;

	if (!in->configured) {
		say(ru, in, "deconfigure", 0, "%s already deconfigured", in->name);
		return true;
	}
	if (!offline_step(ru, in))
		return false;
	r = write_fw(ru, in, "config", "0");
	if (r < 0) {
		say(ru, in, "deconfigure", r, "%s: writing config=0: %s%s", in->name, errname(r),
		    r == -EBUSY ? " (the block is not offline)" : "");
		return false;
	}
	in->configured = false;
	r = refresh(ru, in);
	if (r < 0) {
		say(ru, in, "deconfigure", r, "%s: deconfigured, but re-reading it failed: %s",
		    in->name, errname(r));
		return false;
	}
	if (in->block >= 0) {
		say(ru, in, "deconfigure", -EIO,
		    "%s: config=0 was accepted but its memory block is still there", in->name);
		return false;
	}
	say(ru, in, "deconfigure", 0, "%s deconfigured", in->name);
	return true;
}

/* The increments a request names, ascending, as block indices (missing ones too). */
static int collect(const struct standby *sb, const struct standby_sel *sel, uint64_t **out,
		   size_t *n)
{
	uint64_t cnt = sel->last - sel->first + 1;
	uint64_t *v;

	if (sel->is_size || cnt > (1u << 24))
		return -EINVAL;
	v = calloc(cnt, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint64_t i = 0; i < cnt; i++)
		v[i] = sel->first + i;
	*out = v;
	*n = cnt;
	(void)sb;
	return 0;
}

static int precheck(const struct standby *sb, const struct standby_opts *o, bool configure,
		    char *msg, size_t msglen)
{
	if (sb->iface == STANDBY_IFACE_NONE) {
		snprintf(msg, msglen,
			 "no s390 standby memory here (neither %s nor an s390 machine)",
			 SYSFS_FW_MEMORY);
		return -ENODEV;
	}
	if (sb->iface == STANDBY_IFACE_LEGACY && configure && o->no_online) {
		snprintf(msg, msglen,
			 "configuring without onlining needs the Linux 6.19 firmware interface "
			 "(%s); before it, onlining assigns standby memory",
			 SYSFS_FW_MEMORY);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Legacy interface: the placement fixed at boot must match an explicit --memmap. */
static int legacy_memmap_check(const struct standby *sb, const struct standby_opts *o, char *msg,
			       size_t msglen)
{
	enum memmap_place want;

	if (o->memmap == MC_UNSET || o->memmap == MC_AUTO)
		return 0;
	want = o->memmap == MC_ON_MEMORY ? MEMMAP_ON_MEMORY : MEMMAP_RAM;
	for (size_t i = 0; i < sb->n; i++) {
		const struct standby_incr *in = &sb->incr[i];

		if (in->memmap != MEMMAP_UNKNOWN && in->memmap != want) {
			snprintf(
				msg, msglen,
				"before Linux 6.19 the memmap placement of standby memory is fixed "
				"at boot (%s is %s); --memmap %s cannot be honoured",
				in->name, memmap_place_name(in->memmap),
				memmap_choice_name(o->memmap));
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

static int rescan(struct run *ru)
{
	standby_free(ru->sb);
	return standby_scan(ru->sr, ru->m, ru->sb);
}

int standby_configure(struct sysroot *sr, const struct config *cfg, struct machine *m,
		      struct standby *sb, const struct standby_sel *sel,
		      const struct standby_opts *o, standby_report_fn report, void *data,
		      struct standby_tally *t, char *msg, size_t msglen)
{
	struct run ru = { sr, cfg, m, sb, o, report, data, t, NULL, false };
	_cleanup_free_ uint64_t *idx = NULL;
	enum memmap_place want = MEMMAP_UNKNOWN;
	enum zone_choice zone = o->zone;
	struct decision dec;
	uint64_t first_start = 0, nbytes;
	size_t n = 0;
	bool explicit_memmap = o->memmap != MC_UNSET;
	bool fw = sb->iface == STANDBY_IFACE_FIRMWARE;
	int r;

	msg[0] = '\0';
	r = precheck(sb, o, true, msg, msglen);
	if (r < 0)
		return r;
	if (!fw) {
		r = legacy_memmap_check(sb, o, msg, msglen);
		if (r < 0)
			return r;
	}

	/* what to configure */
	if (sel->is_size) {
		t->requested = sel->count;
		for (size_t i = 0; i < sb->n; i++)
			if (!sb->incr[i].configured) {
				first_start = sb->incr[i].start;
				break;
			}
	} else {
		r = collect(sb, sel, &idx, &n);
		if (r < 0) {
			snprintf(msg, msglen, "range too large");
			return r;
		}
		t->requested = n;
		first_start = sel->first * sb->block_size;
	}
	nbytes = t->requested * sb->block_size;

	/* one decision for the whole request: the memmap and the zone */
	r = policy_decide_standby(cfg, m, first_start, nbytes ? nbytes : sb->block_size, fw,
				  sb->n ? sb->incr[sb->n - 1].memmap : MEMMAP_UNKNOWN, &dec);
	if (r >= 0 && fw && explicit_memmap && o->memmap != MC_AUTO)
		r = strv_pushf(&dec.reasons,
			       "memmap = %s from the command line (overrides the "
			       "policy)",
			       memmap_choice_name(o->memmap));
	if (r >= 0 && o->zone != ZC_UNSET)
		r = strv_pushf(&dec.reasons, "zone %s from the command line (overrides the policy)",
			       zone_choice_name(o->zone));
	if (r < 0) {
		decision_free(&dec);
		return r;
	}
	for (size_t i = 0; i < dec.reasons.n; i++)
		if (strv_push(&t->reasons, dec.reasons.v[i]) < 0) {
			decision_free(&dec);
			return -ENOMEM;
		}
	if (dec.action != DECIDE_ONLINE && !explicit_memmap && o->zone == ZC_UNSET) {
		snprintf(msg, msglen, "the policy leaves this standby memory alone (%s)",
			 dec.reasons.n ? dec.reasons.v[dec.reasons.n - 1] : "no reason");
		decision_free(&dec);
		return -EPERM;
	}
	if (zone == ZC_UNSET)
		zone = dec.zone;
	if (fw) {
		if (explicit_memmap && o->memmap != MC_AUTO)
			want = o->memmap == MC_ON_MEMORY ? MEMMAP_ON_MEMORY : MEMMAP_RAM;
		else if (dec.memmap_choosable)
			want = dec.memmap;
	}
	decision_free(&dec);

	if (sel->is_size) {
		uint64_t left = sel->count;

		for (size_t i = 0; i < sb->n && left; i++) {
			struct standby_incr *in = &sb->incr[i];
			bool ok;

			/* configured but offline counts too: configure means usable memory */
			if (in->configured && (o->no_online || in->state == BLOCK_ONLINE))
				continue;
			link_block(m, in);
			ok = fw ? configure_fw(&ru, in, want, zone, explicit_memmap)
				: online_step(&ru, in, zone);
			if (ok) {
				t->done++;
				left--;
			} else {
				t->failed++;
			}
		}
		if (left) {
			char b1[32], b2[32];

			snprintf(msg, msglen, "could only configure %s of %s",
				 format_size(t->done * sb->block_size, b1, sizeof(b1)),
				 format_size(nbytes, b2, sizeof(b2)));
		}
	} else {
		for (size_t k = 0; k < n; k++) {
			struct standby_incr *in = standby_find(sb, idx[k]);
			bool ok;

			if (!in) {
				struct standby_incr miss = { .index = idx[k], .block = -1 };

				snprintf(miss.name, sizeof(miss.name), "memory%" PRIu64, idx[k]);
				say(&ru, &miss, "configure", -ENOENT,
				    "%s is not a standby memory increment", miss.name);
				t->failed++;
				continue;
			}
			link_block(m, in);
			if (!fw && in->configured) {
				say(&ru, in, "configure", 0, "%s already online (assigned)",
				    in->name);
				ok = true;
			} else {
				ok = fw ? configure_fw(&ru, in, want, zone, explicit_memmap)
					: online_step(&ru, in, zone);
			}
			if (ok)
				t->done++;
			else
				t->failed++;
		}
	}
	return rescan(&ru);
}

int standby_deconfigure(struct sysroot *sr, const struct config *cfg, struct machine *m,
			struct standby *sb, const struct standby_sel *sel,
			const struct standby_opts *o, standby_report_fn report, void *data,
			struct standby_tally *t, char *msg, size_t msglen)
{
	struct run ru = { sr, cfg, m, sb, o, report, data, t, NULL, false };
	_cleanup_free_ uint64_t *idx = NULL;
	bool fw = sb->iface == STANDBY_IFACE_FIRMWARE;
	size_t n = 0;
	int r;

	msg[0] = '\0';
	r = precheck(sb, o, false, msg, msglen);
	if (r < 0)
		return r;

	if (sel->is_size) {
		uint64_t left = sel->count;

		t->requested = sel->count;
		/* highest first; never memory online in a kernel zone (boot memory) */
		for (size_t i = sb->n; i-- > 0 && left;) {
			struct standby_incr *in = &sb->incr[i];
			bool ok;

			if (!in->configured)
				continue;
			if (in->state == BLOCK_ONLINE && in->zone != ZONE_ID_MOVABLE)
				continue;
			if (o->shrinkable_only && !standby_incr_shrinkable(in))
				continue;
			link_block(m, in);
			ok = fw ? deconfigure_fw(&ru, in) : offline_step(&ru, in);
			if (ok && !fw)
				say(&ru, in, "deconfigure", 0, "%s offline (unassigned)", in->name);
			if (ok) {
				t->done++;
				left--;
			} else {
				t->failed++;
			}
		}
		if (left) {
			char b1[32], b2[32];

			snprintf(msg, msglen, "could only deconfigure %s of %s",
				 format_size(t->done * sb->block_size, b1, sizeof(b1)),
				 format_size(sel->count * sb->block_size, b2, sizeof(b2)));
		}
		return rescan(&ru);
	}

	r = collect(sb, sel, &idx, &n);
	if (r < 0) {
		snprintf(msg, msglen, "range too large");
		return r;
	}
	t->requested = n;
	for (size_t k = n; k-- > 0;) {
		struct standby_incr *in = standby_find(sb, idx[k]);
		bool ok;

		if (!in) {
			struct standby_incr miss = { .index = idx[k], .block = -1 };

			snprintf(miss.name, sizeof(miss.name), "memory%" PRIu64, idx[k]);
			say(&ru, &miss, "deconfigure", -ENOENT,
			    "%s is not a standby memory increment", miss.name);
			t->failed++;
			continue;
		}
		link_block(m, in);
		if (o->shrinkable_only && in->configured && !standby_incr_shrinkable(in)) {
			say(&ru, in, "skip", -EBUSY,
			    "%s cannot be offlined (not movable/removable)", in->name);
			t->failed++;
			continue;
		}
		if (fw) {
			ok = deconfigure_fw(&ru, in);
		} else if (!in->configured) {
			say(&ru, in, "deconfigure", 0, "%s already offline (unassigned)", in->name);
			ok = true;
		} else {
			ok = offline_step(&ru, in);
			if (ok)
				say(&ru, in, "deconfigure", 0, "%s offline (unassigned)", in->name);
		}
		if (ok)
			t->done++;
		else
			t->failed++;
	}
	return rescan(&ru);
}

void standby_tally_free(struct standby_tally *t)
{
	strv_clear(&t->reasons);
}

int standby_exit_code(const struct standby_tally *t)
{
	if (t->done >= t->requested && !(t->done == 0 && t->failed))
		return 0;
	return t->done ? 64 : 1;
}
