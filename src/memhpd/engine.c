// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The engine: turn pending work into decisions and decisions into kernel
 * state.  Used identically by coldplug (--once and daemon start), batched
 * events, ENOBUFS rescans and reloads, so a block is handled the same way
 * whichever path noticed it.
 *
 * Per batch: update the model for the dirty blocks only (machine_update),
 * hand devdax devices that a rule wants as RAM to kmem first, then decide
 * per device and online its blocks in one ascending pass.  A block whose
 * node link is not there yet (the "add" uevent can beat it) is waited for,
 * bounded by node_wait; we never guess its node.
 */
#include <inttypes.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "memhpd.h"
#include "ops.h"
#include "render.h"
#include "target.h"

#define NODE_WAIT_POLL_MS 50

static uint64_t wall_seconds(void)
{
	return (uint64_t)time(NULL);
}

void engine_update_status(struct daemon *d, const char *what)
{
	size_t online = 0, offline = 0;

	/* every block belongs to a device, and devices keep their online count */
	for (size_t i = 0; d->m && i < d->m->ndevices; i++)
		online += d->m->devices[i].online_blocks;
	if (d->m)
		offline = d->m->nblocks > online ? d->m->nblocks - online : 0;
	snprintf(d->status, sizeof(d->status),
		 "%s: %zu devices, %zu blocks online, %zu offline; onlined %" PRIu64
		 ", conflicts %" PRIu64 ", failures %" PRIu64,
		 what, d->m ? d->m->ndevices : 0, online, offline, d->st.cnt.blocks_onlined,
		 d->st.cnt.conflicts,
		 d->st.cnt.failures_ebusy + d->st.cnt.failures_einval + d->st.cnt.failures_other +
			 d->st.cnt.failures_node_timeout);
	if (!d->once)
		sd_notifyf(0, "STATUS=%s", d->status);
}

static void log_scan_errors(struct daemon *d)
{
	size_t shown = d->m->nerrors < 20 ? d->m->nerrors : 20;

	for (size_t i = 0; i < shown; i++)
		log_warn("%s: %s", d->m->errors[i].path, d->m->errors[i].msg);
	if (d->m->nerrors > shown)
		log_warn("... and %zu more scan problems", d->m->nerrors - shown);
}

int engine_rescan(struct daemon *d)
{
	struct machine *m = NULL;
	int r;

	r = machine_scan(d->sr, &m);
	if (r < 0) {
		if (m && m->nerrors)
			log_err("cannot scan memory under %s: %s: %s", sysroot_path(d->sr),
				m->errors[0].path, m->errors[0].msg);
		else
			log_err("cannot scan memory under %s: %s", sysroot_path(d->sr),
				strerror(-r));
		machine_free(m);
		return r;
	}
	machine_free(d->m);
	d->m = m;
	d->st.cnt.rescans++;
	log_scan_errors(d);
	return 0;
}

/* ---- node-link waits ---- */

static struct node_wait *wait_find(struct daemon *d, uint64_t index)
{
	for (size_t i = 0; i < d->nwaits; i++)
		if (d->waits[i].index == index)
			return &d->waits[i];
	return NULL;
}

static void wait_drop(struct daemon *d, uint64_t index)
{
	struct node_wait *w = wait_find(d, index);

	if (w)
		*w = d->waits[--d->nwaits];
}

static int on_wait_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	for (size_t i = 0; i < d->nwaits; i++)
		events_mark_block(d, d->waits[i].index);
	return 0;
}

static void arm_wait_timer(struct daemon *d)
{
	if (d->once)
		return; /* --once polls inline */
	if (d->retry_src) {
		sd_event_source_set_time_relative(d->retry_src, NODE_WAIT_POLL_MS * 1000);
		sd_event_source_set_enabled(d->retry_src, SD_EVENT_ONESHOT);
		return;
	}
	/* accuracy 1 ms, not sd-event's default 250 ms: the poll interval is shorter */
	sd_event_add_time_relative(d->ev, &d->retry_src, CLOCK_MONOTONIC, NODE_WAIT_POLL_MS * 1000,
				   1000, on_wait_timer, d);
}

/*
 * Blocks of the device still missing their node link.  Returns true while
 * we should wait; a block that waited longer than node_wait is given up on
 * (logged, counted) and the policy then leaves the device alone.
 */
static bool waiting_for_node(struct daemon *d, const struct mem_device *dev)
{
	bool waiting = false;
	uint64_t now = now_ms();

	for (size_t i = 0; i < dev->nblocks; i++) {
		const struct mem_block *b = &d->m->blocks[dev->blocks[i]];
		struct node_wait *w;

		if (b->node >= 0 || b->state == BLOCK_ONLINE) {
			wait_drop(d, b->index);
			continue;
		}
		w = wait_find(d, b->index);
		if (!w) {
			if (grow_array((void **)&d->waits, &d->waits_cap, d->nwaits + 1,
				       sizeof(*d->waits)) < 0)
				continue;
			w = &d->waits[d->nwaits++];
			w->index = b->index;
			w->since_ms = now;
			log_debug("%s: no node link yet, waiting up to %u ms", b->name,
				  d->cfg.node_wait_ms);
		}
		if (now - w->since_ms >= d->cfg.node_wait_ms) {
			log_msg(LOG_ERR, dev->id, b->name, NULL,
				"%s: still no node link after %u ms; leaving it offline", b->name,
				d->cfg.node_wait_ms);
			d->st.cnt.failures_node_timeout++;
			wait_drop(d, b->index);
			continue;
		}
		waiting = true;
	}
	if (waiting)
		arm_wait_timer(d);
	return waiting;
}

/* ---- applying decisions ---- */

struct apply_ctx {
	struct daemon *d;
	struct dev_record *rec;
	const char *dev_id;
	unsigned ok, failed;
};

static void count_failure(struct daemon *d, int err)
{
	if (err == -EBUSY || err == -EAGAIN)
		d->st.cnt.failures_ebusy++;
	else if (err == -EINVAL)
		d->st.cnt.failures_einval++;
	else
		d->st.cnt.failures_other++;
}

static void on_online_result(void *data, const struct mem_block *b, const char *op,
			     const struct action_result *res)
{
	struct apply_ctx *a = data;
	struct daemon *d = a->d;
	const char *zone = res->zone != ZONE_ID_NONE ? zone_name(res->zone) : "?";

	if (res->outcome != OUTCOME_FAILED && res->outcome != OUTCOME_MISMATCH)
		idxset_add(&a->rec->handled, b->index);
	switch (res->outcome) {
	case OUTCOME_DONE:
		a->ok++;
		a->rec->onlined++;
		d->st.cnt.blocks_onlined++;
		/* per block at debug; handle_device logs one line per device */
		log_msg(LOG_DEBUG, a->dev_id, b->name, "online",
			"%s: online in %s (write %.2f ms, verify %.2f ms)", b->name, zone,
			res->write_us / 1000.0, res->verify_us / 1000.0);
		break;
	case OUTCOME_ALREADY:
	case OUTCOME_BY_OTHER:
		/* someone else (kernel auto-online, a udev rule, an admin) was faster */
		a->ok++;
		a->rec->by_other++;
		d->st.cnt.conflicts++;
		log_msg(LOG_NOTICE, a->dev_id, b->name, "conflict",
			"%s: was onlined by someone else (zone %s); not fighting it", b->name,
			zone);
		break;
	default:
		a->failed++;
		a->rec->failed++;
		count_failure(d, res->err);
		snprintf(a->rec->last_error, sizeof(a->rec->last_error), "%.31s: %.120s", b->name,
			 res->msg);
		log_msg(LOG_ERR, a->dev_id, b->name, "failed", "%s: cannot online: %s", b->name,
			res->msg);
	}
}

static void record_decision(struct daemon *d, struct dev_record *rec, const struct decision *dec)
{
	const char *action = dec->action == DECIDE_ONLINE ? "online" : "leave";
	/* what the blocks get after the ratio guard, not only the device's first choice */
	const char *zone = dec->n_movable && dec->n_kernel ? "mixed" :
			   dec->n_kernel			 ? "kernel" :
			   dec->n_movable			 ? "movable" :
			   dec->zone != ZC_UNSET		 ? zone_choice_name(dec->zone) :
								   "";
	const char *memmap = memmap_place_name(dec->memmap);
	bool changed = !streq(rec->decision, action) || !streq(rec->zone, zone) ||
		       !streq(rec->memmap, memmap) || rec->reasons.n != dec->reasons.n;

	for (size_t i = 0; !changed && i < dec->reasons.n; i++)
		changed = !streq(rec->reasons.v[i], dec->reasons.v[i]);
	if (!changed)
		return;
	strscpy_safe(rec->decision, action, sizeof(rec->decision));
	strscpy_safe(rec->zone, zone, sizeof(rec->zone));
	strscpy_safe(rec->memmap, memmap, sizeof(rec->memmap));
	rec->memmap_chosen = dec->memmap_choosable;
	strv_clear(&rec->reasons);
	for (size_t i = 0; i < dec->reasons.n; i++)
		strv_push(&rec->reasons, dec->reasons.v[i]);
	rec->decided_at = wall_seconds();
	d->st.dirty = true;
	if (dec->action == DECIDE_ONLINE)
		d->st.cnt.decisions_online++;
	else
		d->st.cnt.decisions_leave++;
	log_msg(dec->config_error ? LOG_ERR : LOG_INFO, rec->id, NULL, action,
		"%s: decided %s%s%s (memmap %s): %s", rec->id, action, *zone ? " " : "", zone,
		memmap, dec->reasons.n ? dec->reasons.v[dec->reasons.n - 1] : "");
}

/*
 * Online blocks of a hot-added device that memhpd neither onlined nor saw
 * someone else win a race for were onlined before memhpd looked: by the
 * kernel (auto_online_blocks), a distro udev rule or an admin.  Count them
 * once, so "who onlined what" adds up.
 */
static void account_foreign(struct daemon *d, struct dev_record *rec,
			    const struct mem_device *dev)
{
	unsigned extra = 0;

	for (size_t i = 0; i < dev->nblocks; i++) {
		const struct mem_block *b = &d->m->blocks[dev->blocks[i]];

		if (b->state == BLOCK_ONLINE && idxset_add(&rec->handled, b->index) > 0)
			extra++;
	}
	if (!extra)
		return;
	rec->by_other += extra;
	d->st.cnt.conflicts += extra;
	d->st.dirty = true;
	log_msg(LOG_NOTICE, dev->id, NULL, "conflict",
		"%s: %u block(s) were already onlined by someone else (kernel auto-online, a udev "
		"rule or an admin) before memhpd decided",
		dev->id, extra);
}

/* What the scan recorded about block b (the first problem), or NULL. */
static const char *block_scan_error(const struct machine *m, const struct mem_block *b)
{
	size_t len = strlen(SYSFS_MEMORY "/") + strlen(b->name);

	for (size_t i = 0; i < m->nerrors; i++) {
		const char *p = m->errors[i].path;

		if (startswith(p, SYSFS_MEMORY "/") &&
		    !strncmp(p + strlen(SYSFS_MEMORY "/"), b->name, strlen(b->name)) &&
		    (p[len] == '/' || p[len] == '\0'))
			return m->errors[i].msg;
	}
	return NULL;
}

/*
 * A block of a device decided online that the scan could not read (state or
 * valid_zones unreadable or garbled) is left offline by the policy.  That is
 * a failure to online it, not "nothing to do": count it and name it, so the
 * exit code, the state file and the log say which block and why.
 */
static void scan_failure(struct apply_ctx *a, const struct mem_block *b)
{
	const char *why = block_scan_error(a->d->m, b);
	char msg[200];

	if (why)
		snprintf(msg, sizeof(msg), "%.190s", why);
	else
		snprintf(msg, sizeof(msg), "cannot read it: %s", strerror(-b->error));
	a->failed++;
	a->rec->failed++;
	count_failure(a->d, b->error);
	snprintf(a->rec->last_error, sizeof(a->rec->last_error), "%.31s: %.120s", b->name, msg);
	a->d->st.dirty = true;
	log_msg(LOG_ERR, a->dev_id, b->name, "failed", "%s: cannot online: %s", b->name, msg);
}

static int handle_device(struct daemon *d, size_t di)
{
	const struct mem_device *dev = &d->m->devices[di];
	_cleanup_free_ size_t *blocks = NULL;
	_cleanup_free_ enum zone_choice *zones = NULL;
	struct apply_ctx a = { .d = d, .dev_id = dev->id };
	struct ops_tally tally = { 0 };
	struct decision dec;
	char id[DEVICE_ID_MAX];
	unsigned scan_failed;
	uint64_t t0;
	size_t n = 0;
	int r;

	if (dev->type == DEV_BOOT)
		return 0;
	if (waiting_for_node(d, dev))
		return 0;

	decision_init(&dec);
	r = policy_decide(&d->cfg, d->m, dev, &dec);
	if (r < 0) {
		decision_free(&dec);
		return r;
	}
	a.rec = state_record(&d->st, dev->id, dev->type);
	if (!a.rec) {
		decision_free(&dec);
		return -ENOMEM;
	}
	/*
	 * A device whose blocks are all online has nothing left to decide.  The
	 * kernel sends an "online" uevent for every block we online, so without
	 * this the next batch would overwrite the decision that onlined the
	 * device (zone, memmap chosen) with "leave: already online".
	 */
	if (!(dec.action == DECIDE_LEAVE && dev->nblocks && dev->online_blocks == dev->nblocks &&
	      a.rec->decision[0]))
		record_decision(d, a.rec, &dec);
	a.rec->memmap_on_device_bytes = dev->memmap_on_device_bytes;
	a.rec->memmap_in_ram_bytes = dev->memmap_in_ram_bytes;
	account_foreign(d, a.rec, dev);

	if (dec.action == DECIDE_ONLINE && dec.block_zone) {
		blocks = calloc(dev->nblocks, sizeof(*blocks));
		zones = calloc(dev->nblocks, sizeof(*zones));
		if (!blocks || !zones) {
			decision_free(&dec);
			return -ENOMEM;
		}
		for (size_t i = 0; i < dev->nblocks && i < dec.nblocks; i++) {
			const struct mem_block *b = &d->m->blocks[dev->blocks[i]];

			if (dec.block_zone[i] == ZC_UNSET) {
				if (b->error < 0 && b->state != BLOCK_ONLINE &&
				    !idxset_has(&a.rec->handled, b->index))
					scan_failure(&a, b);
				continue;
			}
			if (idxset_has(&a.rec->handled, b->index)) {
				/* it was online once: someone offlined it on purpose */
				log_msg(LOG_DEBUG, dev->id, b->name, "leave",
					"%s: offlined after memhpd handled it; leaving it offline "
					"(memhpctl online brings it back)",
					b->name);
				continue;
			}
			blocks[n] = dev->blocks[i];
			zones[n++] = dec.block_zone[i];
		}
	}
	decision_free(&dec);
	scan_failed = a.failed;
	d->done_failed += scan_failed;
	if (!n)
		return 0;

	strscpy_safe(id, dev->id, sizeof(id));
	a.dev_id = id;
	/*
	 * ops_online keeps the node sums current block by block, so the next
	 * device's movable_ratio guard sees what this one added; without that
	 * one pass over several devices lets each of them use the whole ratio
	 * (and a restart after a crash half way decides differently from an
	 * uninterrupted pass).
	 */
	t0 = now_ms();
	r = ops_online(d->sr, &d->cfg, d->m, blocks, n, zones, ZC_UNSET, d->cfg.offline_timeout_ms,
		       on_online_result, &a, &tally);
	if (r < 0)
		return r;
	a.rec = state_record(&d->st, id, d->m->devices[di].type);
	if (a.rec) {
		a.rec->applied_at = wall_seconds();
		a.rec->memmap_on_device_bytes = d->m->devices[di].memmap_on_device_bytes;
		a.rec->memmap_in_ram_bytes = d->m->devices[di].memmap_in_ram_bytes;
	}
	d->st.dirty = true;
	log_msg(a.failed ? LOG_WARNING : LOG_INFO, id, NULL, "online",
		"%s: %u of %zu block(s) online as decided (%u onlined by memhpd, %u by someone else), "
		"%u failed, in %" PRIu64 " ms",
		id, a.ok, n, tally.ok - tally.by_other, tally.by_other, a.failed, now_ms() - t0);
	d->done_ok += a.ok;
	d->done_failed += a.failed - scan_failed;
	return 0;
}

/* Returns 1 when the device was handed to kmem (new blocks will appear). */
static int handle_dax(struct daemon *d, size_t xi)
{
	const struct dax_device *dax = &d->m->dax[xi];
	struct dev_record *rec;
	struct decision dec;
	char msg[256];
	int r;

	if (streq(dax->driver, "kmem"))
		return 0; /* its memory is a device of its own now */
	decision_init(&dec);
	r = policy_decide_dax(&d->cfg, d->m, dax, &dec);
	if (r < 0) {
		decision_free(&dec);
		log_err("%s: cannot decide: %s", dax->name, strerror(-r));
		return r;
	}
	rec = state_record(&d->st, dax->name, DEV_DAX);
	if (!rec) {
		decision_free(&dec);
		return -ENOMEM;
	}
	record_decision(d, rec, &dec);
	if (!dec.dax_to_system_ram && dax->error < 0) {
		/* left alone because what it is could not be read: say so, as a failure */
		const char *why = NULL;

		for (size_t i = 0; i < d->m->nerrors && !why; i++)
			if (startswith(d->m->errors[i].path, SYSFS_DAX "/") &&
			    startswith(d->m->errors[i].path + strlen(SYSFS_DAX "/"), dax->name))
				why = d->m->errors[i].msg;
		rec->failed++;
		snprintf(rec->last_error, sizeof(rec->last_error), "%.100s; left as it is",
			 why ? why : strerror(-dax->error));
		count_failure(d, dax->error);
		d->st.dirty = true;
		log_msg(LOG_ERR, dax->name, NULL, "failed", "%s: cannot decide: %s", dax->name,
			rec->last_error);
		decision_free(&dec);
		return -EIO;
	}
	if (!dec.dax_to_system_ram) {
		decision_free(&dec);
		return 0;
	}
	r = dax_to_system_ram(d->sr, dax->name, dec.memmap, msg, sizeof(msg));
	if (r < 0) {
		rec->failed++;
		strscpy_safe(rec->last_error, msg, sizeof(rec->last_error));
		count_failure(d, r);
		log_msg(LOG_ERR, dax->name, NULL, "failed", "%s: cannot hand to kmem: %s",
			dax->name, msg);
		decision_free(&dec);
		return -EIO;
	}
	d->st.cnt.dax_reconfigured++;
	rec->applied_at = wall_seconds();
	d->st.dirty = true;
	log_msg(LOG_INFO, dax->name, NULL, "system-ram", "%s: now system RAM, memmap %s: %s",
		dax->name, memmap_place_name(dec.memmap), msg);
	decision_free(&dec);
	return 1;
}

/* What the pass achieved: exit 0 when nothing failed, 1 when only failures, 64 when both. */
static void save_state(struct daemon *d)
{
	int r;

	if (!d->st.dirty)
		return;
	r = state_write(&d->st, d->cfg.state_file);
	d->state_saved_ms = now_ms();
	if (r < 0)
		log_err("cannot write state file %s: %s", d->cfg.state_file, strerror(-r));
	else
		d->st.dirty = false;
}

/*
 * Within a pass: save what the devices done so far changed, at most every
 * STATE_SAVE_INTERVAL_MS, so a crash half way through loses at most that
 * much of "which blocks memhpd onlined" (the successor finds those blocks
 * online and counts them as onlined by someone else; nothing is done
 * twice).  Writing after every device serialized every record and made
 * two fsyncs per device: O(devices^2) and seconds on a disk for a
 * coldplug of hundreds of DIMMs.  finish_pass() always writes.
 */
#define STATE_SAVE_INTERVAL_MS 200

static void save_state_soon(struct daemon *d)
{
	if (d->st.dirty && now_ms() - d->state_saved_ms >= STATE_SAVE_INTERVAL_MS)
		save_state(d);
}

static void finish_pass(struct daemon *d)
{
	int r;

	d->exit_code = !d->done_failed ? 0 : d->done_ok ? 64 : 1;
	save_state(d);
	r = metrics_write(d->cfg.metrics_file, d->m, &d->st);
	if (r < 0)
		log_err("cannot write metrics file %s: %s", d->cfg.metrics_file, strerror(-r));
	engine_update_status(d, d->once ? "coldplug done" : "idle");
}

static bool dax_is_dirty(const struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->dirty_dax.n; i++)
		if (streq(d->dirty_dax.v[i], "*") || streq(d->dirty_dax.v[i], name))
			return true;
	return false;
}

/* Whether a block of this batch is gone from the model (hot-removed). */
static bool blocks_missing(const struct machine *m, const uint64_t *idx, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!machine_block_by_index(m, idx[i]))
			return true;
	return false;
}

/*
 * Which devices this batch touches: those holding a block of the batch, and
 * those of a dax device named by it.  Per dirty block, not per block of the
 * machine, so a batch of one event costs the same at 65k blocks as at 1k.
 * NULL on ENOMEM: the caller then handles every device.
 */
static bool *dirty_devices(const struct daemon *d, const uint64_t *dirty, size_t ndirty)
{
	const struct machine *m = d->m;
	bool *mark = calloc(m->ndevices ? m->ndevices : 1, sizeof(*mark));

	if (!mark)
		return NULL;
	for (size_t i = 0; i < ndirty; i++) {
		const struct mem_block *b = machine_block_by_index(m, dirty[i]);

		if (b && b->device >= 0 && (size_t)b->device < m->ndevices)
			mark[b->device] = true;
	}
	for (size_t i = 0; d->dirty_dax.n && i < m->ndevices; i++)
		if (m->devices[i].dax >= 0 && dax_is_dirty(d, m->dax[m->devices[i].dax].name))
			mark[i] = true;
	return mark;
}

int engine_process(struct daemon *d)
{
	_cleanup_free_ uint64_t *dirty = NULL;
	_cleanup_free_ bool *dev_dirty = NULL;
	size_t ndirty = d->ndirty;
	bool scan = d->rescan || !d->m, all = scan || d->process_all, reconfigured = false;
	uint64_t timeouts = d->st.cnt.failures_node_timeout, t0 = now_ms(), t_model;
	int r = 0;

	/* take the pending work; events arriving while we work start a new batch */
	dirty = TAKE_PTR(d->dirty_blocks);
	d->ndirty = d->dirty_cap = 0;
	/* ascending: a regroup then inserts new blocks at the end of the model, not before it */
	if (dirty)
		qsort(dirty, ndirty, sizeof(*dirty), cmp_u64);
	d->rescan = d->process_all = false;
	/*
	 * Worth telling systemd for work that takes a while; a batch of one
	 * block (virtio-mem plugs them one at a time) is over before anyone
	 * could read it, and the notification was a tenth of its cost.
	 */
	if (all || ndirty > 1)
		engine_update_status(d, "processing");

	if (scan)
		r = engine_rescan(d);
	else if (!all)
		r = machine_update(d->sr, d->m, dirty, ndirty);
	/* else: coldplug right after main()'s scan, the model is current */
	t_model = now_ms();
	if (r >= 0 && !scan && !all)
		log_debug("batch of %zu block(s): model %s in %" PRIu64 " ms", ndirty,
			  r == 1 ? "updated in place" : "regrouped", t_model - t0);
	if (r < 0) {
		strv_clear(&d->dirty_dax);
		d->exit_code = 1;
		return r;
	}
	/*
	 * Hot-removed blocks: a block of that number later is new memory.  Only
	 * a scan or a removal in this batch can leave records of blocks that are
	 * gone, and the walk over every handled block is not free per event.
	 */
	if (all || blocks_missing(d->m, dirty, ndirty))
		state_forget_missing(&d->st, d->m);

	for (size_t i = 0; i < d->m->ndax; i++) {
		if (!all && !dax_is_dirty(d, d->m->dax[i].name))
			continue;
		r = handle_dax(d, i);
		if (r == 1) {
			reconfigured = true;
			d->done_ok++;
		} else if (r < 0) {
			d->done_failed++;
		}
		save_state_soon(d);
	}
	if (reconfigured) {
		/* kmem added memory: look at all of it (also what uevents will tell) */
		r = engine_rescan(d);
		if (r < 0)
			return r;
		all = true;
	}

	if (!all) {
		dev_dirty = dirty_devices(d, dirty, ndirty);
		all = !dev_dirty;
	}
	for (size_t i = 0; i < d->m->ndevices; i++) {
		if (!all && !dev_dirty[i])
			continue;
		r = handle_device(d, i);
		if (r < 0) {
			log_err("%s: %s", d->m->devices[i].id, strerror(-r));
			d->done_failed++;
		}
		save_state_soon(d);
	}
	/* blocks given up on for want of a node link are failures too */
	d->done_failed += (unsigned)(d->st.cnt.failures_node_timeout - timeouts);
	strv_clear(&d->dirty_dax);
	log_debug("pass: decided and applied in %" PRIu64 " ms", now_ms() - t_model);
	finish_pass(d);
	return 0;
}

bool engine_batch_ready(struct daemon *d)
{
	_cleanup_free_ uint64_t *also = NULL;
	size_t nalso = 0;

	if (!d->m || d->rescan || d->process_all || d->dirty_dax.n || !d->ndirty)
		return false;
	if (machine_dimms_complete(d->sr, d->m, d->dirty_blocks, d->ndirty, &also, &nalso) != 1)
		return false;
	/* blocks of these DIMMs whose events udev has still to pass on */
	if (nalso && grow_array((void **)&d->dirty_blocks, &d->dirty_cap, d->ndirty + nalso,
				sizeof(*d->dirty_blocks)) < 0)
		return false;
	for (size_t i = 0; i < nalso; i++)
		d->dirty_blocks[d->ndirty++] = also[i];
	if (nalso)
		log_debug("%zu block(s) of complete DIMMs not heard of yet join the batch", nalso);
	return true;
}

int engine_coldplug(struct daemon *d)
{
	int r;

	/* main() scanned just before: process that model, unless the scan failed */
	d->rescan = !d->m;
	d->process_all = true;
	d->done_ok = d->done_failed = 0;
	r = engine_process(d);
	/* --once: blocks waiting for their node link are polled here, bounded */
	while (r >= 0 && d->once && d->nwaits) {
		uint64_t *idx = calloc(d->nwaits, sizeof(*idx));

		if (!idx)
			return -ENOMEM;
		sleep_ms(NODE_WAIT_POLL_MS);
		for (size_t i = 0; i < d->nwaits; i++)
			idx[i] = d->waits[i].index;
		d->dirty_blocks = idx;
		d->ndirty = d->dirty_cap = d->nwaits;
		r = engine_process(d);
	}
	return r;
}

void engine_check_auto_online(struct daemon *d)
{
	enum auto_online a = d->m ? d->m->params.auto_online_blocks : AUTO_ONLINE_UNKNOWN;
	const char *now = auto_online_name(a);
	int r;

	if (a == AUTO_ONLINE_OFFLINE || a == AUTO_ONLINE_UNKNOWN)
		return;
	switch (d->cfg.kernel_auto_online) {
	case KAO_SET_OFFLINE:
		r = action_set_auto_online(d->sr, "offline");
		if (r < 0)
			log_err("auto_online_blocks is \"%s\" and cannot be set to \"offline\": %s; "
				"the kernel will keep onlining hot-added memory itself",
				now, strerror(-r));
		else
			log_notice("auto_online_blocks was \"%s\"; set it to \"offline\" so memhpd "
				   "decides zones (kernel_auto_online = set-offline)",
				   now);
		break;
	case KAO_WARN:
		log_warn("the kernel onlines hot-added memory itself (auto_online_blocks = \"%s\"); "
			 "memhpd will find those blocks already online and count them as conflicts "
			 "(kernel_auto_online = warn)",
			 now);
		break;
	case KAO_IGNORE:
		log_debug("auto_online_blocks = \"%s\" (kernel_auto_online = ignore)", now);
		break;
	}
}

/*
 * With the companion kernel series the memmap placement of the next ACPI
 * DIMM is chosen by memory_hotplug.memmap_on_memory at the moment the kernel
 * adds it, so memhpd sets it ahead of time from the policy for acpi-dimm
 * devices (a type-only rule, else [policy] memmap; auto uses
 * memmap_auto_default since the size of a DIMM not yet plugged is unknown).
 */
void engine_set_memmap_param(struct daemon *d)
{
	enum memmap_choice mc = d->cfg.memmap;
	const char *from = "[policy] memmap";
	bool on, now;
	int r;

	if (!d->m || !d->m->params.memmap_param_writable)
		return;
	for (size_t i = 0; i < d->cfg.nrules; i++) {
		const struct rule *rl = &d->cfg.rules[i];

		if (rl->match == RM_TYPE && rl->type == DEV_ACPI_DIMM && rl->memmap != MC_UNSET) {
			mc = rl->memmap;
			from = rl->name;
		}
	}
	if (mc == MC_AUTO || mc == MC_UNSET)
		mc = d->cfg.memmap_auto_default == MC_ON_MEMORY ? MC_ON_MEMORY : MC_RAM;
	on = mc == MC_ON_MEMORY;
	now = d->m->params.memmap_on_memory == MEMMAP_PARAM_ON ||
	      d->m->params.memmap_on_memory == MEMMAP_PARAM_FORCE;
	if (on == now)
		return;
	r = action_set_memmap_param(d->sr, on);
	if (r < 0) {
		log_err("cannot set memory_hotplug.memmap_on_memory to %s: %s", on ? "Y" : "N",
			strerror(-r));
		return;
	}
	d->m->params.memmap_on_memory = on ? MEMMAP_PARAM_ON : MEMMAP_PARAM_OFF;
	log_notice("memory_hotplug.memmap_on_memory set to %s for the next ACPI DIMM (%s)",
		   on ? "Y" : "N", from);
}

/* ---- requests from the control socket ---- */

struct req_ctx {
	json_object *results;
};

static void on_request_result(void *data, const struct mem_block *b, const char *op,
			      const struct action_result *res)
{
	struct req_ctx *c = data;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "block", json_object_new_string(b->name));
	json_object_object_add(o, "outcome", json_object_new_string(action_outcome_name(res->outcome)));
	json_object_object_add(o, "zone", res->zone != ZONE_ID_NONE ?
						  json_object_new_string(zone_name(res->zone)) :
						  NULL);
	json_object_object_add(o, "message", json_object_new_string(res->msg));
	json_object_array_add(c->results, o);
	log_msg(res->outcome == OUTCOME_FAILED ? LOG_ERR : LOG_INFO, NULL, b->name, op,
		"request: %s %s: %s", op, b->name, res->msg[0] ? res->msg :
					   action_outcome_name(res->outcome));
}

int engine_request(struct daemon *d, const char *op, const char *target, const char *zone,
		   unsigned timeout_ms, json_object *reply)
{
	struct req_ctx c = { .results = json_object_new_array() };
	struct ops_tally tally = { 0 };
	enum zone_choice z = ZC_UNSET;
	struct target t;
	char msg[256];
	int r;

	r = engine_rescan(d);
	if (r < 0) {
		json_object_put(c.results);
		json_object_object_add(reply, "error", json_object_new_string("cannot scan memory"));
		return r;
	}
	r = target_resolve(d->m, target, &t, msg, sizeof(msg));
	if (r < 0 || !t.nblocks) {
		if (r >= 0) {
			snprintf(msg, sizeof(msg), "%s has no memory blocks", target);
			r = -ENOENT;
		}
		target_free(&t);
		json_object_put(c.results);
		json_object_object_add(reply, "error", json_object_new_string(msg));
		return r;
	}
	if (zone && *zone)
		z = streq(zone, "movable") ? ZC_MOVABLE : ZC_KERNEL;
	if (!timeout_ms)
		timeout_ms = d->cfg.offline_timeout_ms;
	if (streq(op, "online"))
		r = ops_online(d->sr, &d->cfg, d->m, t.blocks, t.nblocks, NULL, z, timeout_ms,
			       on_request_result, &c, &tally);
	else
		r = ops_offline(d->sr, d->m, t.blocks, t.nblocks, timeout_ms, on_request_result,
				&c, &tally);
	target_free(&t);
	if (streq(op, "offline"))
		d->st.cnt.blocks_offlined += tally.ok;
	json_object_object_add(reply, "succeeded", json_object_new_int((int)tally.ok));
	json_object_object_add(reply, "failed", json_object_new_int((int)tally.failed));
	json_object_object_add(reply, "exit", json_object_new_int(ops_exit_code(&tally)));
	json_object_object_add(reply, "results", c.results);
	d->st.dirty = true;
	finish_pass(d);
	return r;
}
