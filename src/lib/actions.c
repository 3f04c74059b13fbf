// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Online/offline memory blocks through the sysroot and verify the result.
 *
 * Every call that gets past argument checking determines an outcome and
 * returns 0; the outcome (and res->err/res->msg) says what happened.  Read
 * errors of the block's own attributes are outcomes too (OUTCOME_FAILED with
 * the -errno), because for the caller "the block vanished" and "the kernel
 * refused" are handled alike.  A negative return means no action was tried.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "actions.h"
#include "sysroot.h"
#include "util.h"

#define BACKOFF_MAX_MS 1000u

const char *action_outcome_name(enum action_outcome o)
{
	switch (o) {
	case OUTCOME_DONE:
		return "done";
	case OUTCOME_ALREADY:
		return "already";
	case OUTCOME_BY_OTHER:
		return "by-other";
	case OUTCOME_FAILED:
		return "failed";
	case OUTCOME_MISMATCH:
		return "mismatch";
	}
	return "unknown";
}

static const char *online_verb(enum zone_choice zone)
{
	switch (zone) {
	case ZC_MOVABLE:
		return "online_movable";
	case ZC_KERNEL:
		return "online_kernel";
	default:
		return "online";
	}
}

static bool block_name_ok(const char *name)
{
	size_t len = strnlen(name, BLOCK_NAME_MAX);

	return len > 0 && len < BLOCK_NAME_MAX && !strchr(name, '/') && !streq(name, ".") &&
	       !streq(name, "..");
}

static void res_init(struct action_result *res)
{
	memset(res, 0, sizeof(*res));
	res->zone = ZONE_ID_NONE;
}

static void __printf(3, 4)
	res_set(struct action_result *res, enum action_outcome o, const char *fmt, ...)
{
	va_list ap;

	res->outcome = o;
	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
}

/* What one read of a block's state and valid_zones showed. */
struct block_view {
	enum block_state state;
	unsigned zones; /* valid_zones mask */
	enum zone_id first; /* first listed zone */
	char raw_state[32];
	char raw_zones[64];
};

/*
 * Read state and valid_zones of block b.  valid_zones is optional (absent on
 * some architectures); then zones == 0.  Returns 0 or -errno, with a message
 * naming the attribute in res on failure.
 */
static int read_view(struct sysroot *sr, const struct mem_block *b, struct block_view *v,
		     struct action_result *res)
{
	char buf[SYSFS_ATTR_MAX];
	int r;

	memset(v, 0, sizeof(*v));
	v->first = ZONE_ID_NONE;

	r = sysroot_read_attrf(sr, buf, sizeof(buf), SYSFS_MEMORY "/%s/state", b->name);
	if (r < 0) {
		snprintf(res->msg, sizeof(res->msg), "cannot read %s/state: %s", b->name,
			 strerror(-r));
		return r;
	}
	strscpy_safe(v->raw_state, buf, sizeof(v->raw_state));
	r = parse_block_state(buf, &v->state);
	if (r < 0) {
		snprintf(res->msg, sizeof(res->msg), "%s/state: unexpected value \"%s\"", b->name,
			 v->raw_state);
		return r;
	}

	r = sysroot_read_attrf(sr, buf, sizeof(buf), SYSFS_MEMORY "/%s/valid_zones", b->name);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		snprintf(res->msg, sizeof(res->msg), "cannot read %s/valid_zones: %s", b->name,
			 strerror(-r));
		return r;
	}
	strscpy_safe(v->raw_zones, buf, sizeof(v->raw_zones));
	r = parse_valid_zones(buf, &v->zones, &v->first);
	if (r < 0) {
		snprintf(res->msg, sizeof(res->msg), "%s/valid_zones: unexpected value \"%s\"",
			 b->name, v->raw_zones);
		return r;
	}
	return 0;
}

/* Zone an online block is in: valid_zones shows exactly that one zone. */
static enum zone_id online_zone(const struct block_view *v)
{
	if (v->state != BLOCK_ONLINE || v->zones != ZONE_BIT(v->first))
		return ZONE_ID_NONE;
	return v->first;
}

static void update_block(struct mem_block *b, const struct block_view *v)
{
	b->state = v->state;
	b->valid_zones = v->zones;
	b->zone_default = v->first;
	b->zone = online_zone(v);
}

/* Read the block into v and b; on failure the result says so (FAILED) and -errno. */
static int look(struct sysroot *sr, struct mem_block *b, struct block_view *v,
		struct action_result *res)
{
	int r = read_view(sr, b, v, res);

	if (r < 0) {
		res->outcome = OUTCOME_FAILED;
		res->err = r;
		return r;
	}
	update_block(b, v);
	return 0;
}

/*
 * Write val to the block's state attribute, retrying EBUSY/EAGAIN.  At most
 * o->retries + 1 writes; with o->timeout_ms != 0 no sleep reaches past that
 * bound (measured from the first write).  Returns 0 or the last -errno.
 */
static int write_retry(struct sysroot *sr, const char *path, const char *val,
		       const struct action_opts *o, struct action_result *res)
{
	uint64_t start = now_ms();
	unsigned delay = o->backoff_ms;
	int r;

	for (;;) {
		res->attempts++;
		r = sysroot_write_attr(sr, path, val);
		res->err = r;
		if (r != -EBUSY && r != -EAGAIN)
			return r;
		if (res->attempts > o->retries)
			return r;
		if (o->timeout_ms) {
			uint64_t spent = now_ms() - start;

			if (spent >= o->timeout_ms)
				return r;
			if (delay > o->timeout_ms - spent)
				delay = (unsigned)(o->timeout_ms - spent);
		}
		sleep_ms(delay);
		delay = delay > BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : delay * 2;
	}
}

static int check_args(struct sysroot *sr, struct mem_block *b, const struct action_opts *o,
		      struct action_result *res)
{
	if (!res)
		return -EINVAL;
	res_init(res);
	if (!sr || !b || !o || !block_name_ok(b->name)) {
		res_set(res, OUTCOME_FAILED, "invalid arguments");
		res->err = -EINVAL;
		return -EINVAL;
	}
	return 0;
}

int action_online_block(struct sysroot *sr, struct mem_block *b, enum zone_choice zone,
			const struct action_opts *o, struct action_result *res)
{
	const char *verb = online_verb(zone);
	char path[sizeof(SYSFS_MEMORY) + BLOCK_NAME_MAX + 16];
	struct block_view v;
	enum zone_id z;
	uint64_t t;
	int r;

	r = check_args(sr, b, o, res);
	if (r < 0)
		return r;
	if (zone != ZC_UNSET && zone != ZC_MOVABLE && zone != ZC_KERNEL) {
		res_set(res, OUTCOME_FAILED, "invalid zone choice %d", (int)zone);
		res->err = -EINVAL;
		return -EINVAL;
	}
	snprintf(path, sizeof(path), SYSFS_MEMORY "/%s/state", b->name);

	/*
	 * A block the caller's model just read as offline is written at once:
	 * the read before the write was a third of the calls per block, and a
	 * block onlined meanwhile still shows up, as the kernel's EINVAL below
	 * ("onlined by someone else").  Any other state is looked at first, so
	 * an online block is reported as such and never written.
	 */
	if (b->state != BLOCK_OFFLINE) {
		if (look(sr, b, &v, res) < 0)
			return 0;
		if (v.state == BLOCK_ONLINE) {
			res->zone = online_zone(&v);
			res_set(res, OUTCOME_ALREADY, "already online (%s)", zone_name(res->zone));
			return 0;
		}
	}

	t = now_us();
	r = write_retry(sr, path, verb, o, res);
	res->write_us = now_us() - t;
	if (r == -EINVAL) {
		/* The kernel refuses onlining an online block with EINVAL. */
		struct block_view now;

		if (read_view(sr, b, &now, res) == 0) {
			update_block(b, &now);
			if (now.state == BLOCK_ONLINE) {
				res->zone = online_zone(&now);
				res_set(res, OUTCOME_BY_OTHER, "%s: onlined by someone else (%s)",
					verb, zone_name(res->zone));
				return 0;
			}
		}
	}
	if (r < 0) {
		if (res->attempts > 1)
			res_set(res, OUTCOME_FAILED, "%s: %s after %u attempts", verb, strerror(-r),
				res->attempts);
		else
			res_set(res, OUTCOME_FAILED, "%s: %s", verb, strerror(-r));
		return 0;
	}

	/* Verify what the kernel did. */
	t = now_us();
	r = read_view(sr, b, &v, res);
	res->verify_us = now_us() - t;
	if (r < 0) {
		/* msg names the attribute; the write itself worked */
		res->outcome = OUTCOME_MISMATCH;
		res->err = r;
		return 0;
	}
	update_block(b, &v);
	if (v.state != BLOCK_ONLINE) {
		res_set(res, OUTCOME_MISMATCH, "%s: written, but state is \"%s\"", verb,
			v.raw_state);
		return 0;
	}
	z = online_zone(&v);
	res->zone = z;
	if (v.zones && z == ZONE_ID_NONE) {
		res_set(res, OUTCOME_MISMATCH, "%s: online, but valid_zones is \"%s\"", verb,
			v.raw_zones);
		return 0;
	}
	if ((zone == ZC_MOVABLE && z != ZONE_ID_MOVABLE) ||
	    (zone == ZC_KERNEL && !zone_is_kernel(z))) {
		res_set(res, OUTCOME_MISMATCH, "%s: online, but in zone %s", verb, zone_name(z));
		return 0;
	}
	res_set(res, OUTCOME_DONE, "%s: online in zone %s", verb, zone_name(z));
	return 0;
}

int action_offline_block(struct sysroot *sr, struct mem_block *b, const struct action_opts *o,
			 struct action_result *res)
{
	char path[sizeof(SYSFS_MEMORY) + BLOCK_NAME_MAX + 16];
	struct block_view v;
	int r;

	r = check_args(sr, b, o, res);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), SYSFS_MEMORY "/%s/state", b->name);

	if (look(sr, b, &v, res) < 0)
		return 0;
	if (v.state == BLOCK_OFFLINE) {
		res_set(res, OUTCOME_ALREADY, "already offline");
		return 0;
	}

	r = write_retry(sr, path, "offline", o, res);
	if (r == -EINVAL) {
		/* The kernel refuses offlining an offline block with EINVAL. */
		struct block_view now;

		if (read_view(sr, b, &now, res) == 0) {
			update_block(b, &now);
			if (now.state == BLOCK_OFFLINE) {
				res_set(res, OUTCOME_BY_OTHER, "offline: offlined by someone else");
				return 0;
			}
		}
	}
	if (r < 0) {
		res->zone = b->zone;
		if (res->attempts > 1)
			res_set(res, OUTCOME_FAILED, "offline: %s after %u attempts", strerror(-r),
				res->attempts);
		else
			res_set(res, OUTCOME_FAILED, "offline: %s", strerror(-r));
		return 0;
	}

	r = read_view(sr, b, &v, res);
	if (r < 0) {
		res->outcome = OUTCOME_MISMATCH;
		res->err = r;
		return 0;
	}
	update_block(b, &v);
	if (v.state != BLOCK_OFFLINE) {
		res->zone = b->zone;
		res_set(res, OUTCOME_MISMATCH, "offline: written, but state is \"%s\"",
			v.raw_state);
		return 0;
	}
	res_set(res, OUTCOME_DONE, "offline: done");
	return 0;
}

int action_set_auto_online(struct sysroot *sr, const char *value)
{
	enum auto_online want, got;
	char buf[64];
	int r;

	if (!sr || !value)
		return -EINVAL;
	r = parse_auto_online(value, &want);
	if (r < 0)
		return r;
	r = sysroot_write_attr(sr, SYSFS_MEMORY "/auto_online_blocks", value);
	if (r < 0)
		return r;
	/* Verify: the kernel prints back the policy it now uses. */
	r = sysroot_read_attr(sr, SYSFS_MEMORY "/auto_online_blocks", buf, sizeof(buf));
	if (r < 0)
		return r;
	if (parse_auto_online(buf, &got) < 0 || got != want)
		return -EIO;
	return 0;
}

int action_set_memmap_param(struct sysroot *sr, bool on)
{
	enum memmap_param got;
	char buf[64];
	int r;

	if (!sr)
		return -EINVAL;
	r = sysroot_write_attr(sr, SYSFS_HOTPLUG_PARAMS "/memmap_on_memory", on ? "Y" : "N");
	if (r < 0)
		return r;
	r = sysroot_read_attr(sr, SYSFS_HOTPLUG_PARAMS "/memmap_on_memory", buf, sizeof(buf));
	if (r < 0)
		return r;
	if (parse_memmap_param(buf, &got) < 0)
		return -EIO;
	/* "force" stays force when asked for on: still on-memory */
	if (on ? got == MEMMAP_PARAM_OFF : got != MEMMAP_PARAM_OFF)
		return -EIO;
	return 0;
}
