// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * udev events in, batches out.
 *
 * A 64 GiB DIMM is 512 "add" events, a 1 TiB CXL device 8192.  Deciding per
 * event would decide per block and re-read the tree each time; instead every
 * event only notes what changed, and a settle timer (batch, default 200 ms,
 * extended while events keep coming, at most 10x) hands the whole set to the
 * engine, which groups blocks into devices before deciding.
 *
 * If the netlink socket overflows (ENOBUFS) events were lost; we cannot know
 * which, so the next batch is a full rescan.
 */
#include <inttypes.h>
#include <libudev.h>

#include "memhpd.h"

/* As systemd-udevd's own monitor: big enough for a 1 TiB add storm. */
#define MONITOR_RCVBUF (128u << 20)
#define BATCH_MAX_FACTOR 10
#define BATCH_ACCURACY_US 1000

static int on_batch(sd_event_source *s, uint64_t usec, void *userdata);

static void set_batch_timer(struct daemon *d, uint64_t when)
{
	int r;

	d->batch_timer_at = when;
	if (d->batch_src) {
		sd_event_source_set_time(d->batch_src, when);
		sd_event_source_set_enabled(d->batch_src, SD_EVENT_ONESHOT);
		return;
	}
	/*
	 * Accuracy 1 ms: with 0, sd-event uses its default of 250 ms and may
	 * fire the timer that much late to coalesce wake-ups, which is longer
	 * than the settle time itself.
	 */
	r = sd_event_add_time(d->ev, &d->batch_src, CLOCK_MONOTONIC, when, BATCH_ACCURACY_US,
			      on_batch, d);
	if (r < 0) {
		/* no timer: process right away rather than lose the work */
		log_err("cannot arm the batch timer: %s", strerror(-r));
		d->batch_started = 0;
		engine_process(d);
	}
}

/*
 * The settle time waits out the events of one device.  A DIMM whose add is
 * visibly over (every block of its range bound to its ACPI device:
 * machine_dimms_complete) does not need it: the batch is looked at as soon
 * as its first event has been read, and again every BATCH_PROBE_MS until
 * it is complete or the settle time is up.  Blocks of the DIMM whose
 * uevents udev has not relayed yet join the batch then: in a guest,
 * relaying the 64 events of an 8 GiB DIMM took ~120 ms, while the kernel
 * had added all of them in a few.  Without this memhpd onlined a DIMM the
 * full settle time later than the kernel's own auto-online would have.
 *
 * A probe of a DIMM still being added stops at the newest block heard of,
 * which the kernel binds only after adding the last one: a directory open
 * and a readlink.  So probing often is cheap, and every ms between the
 * kernel's bind and the probe is added to the hot-add's latency.
 */
#define BATCH_PROBE_MS 5

/*
 * Looking at a batch as soon as its first event is read would, during a
 * storm, turn every read of the socket into a batch of its own: the blocks
 * of a DIMM memhpd has already onlined and the uevents of its own writes
 * are "complete" at once.  So a batch is processed no sooner than
 * BATCH_GAP_MS after the previous one ended; only the first event after a
 * quiet spell (a hot-add to an idle machine) is looked at immediately.
 */
#define BATCH_GAP_MS 20

static int on_batch(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t now;
	int r;

	sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	if (now < d->batch_deadline && !engine_batch_ready(d)) {
		uint64_t next = now + BATCH_PROBE_MS * 1000;

		set_batch_timer(d, next < d->batch_deadline ? next : d->batch_deadline);
		return 0;
	}
	if (now < d->batch_deadline) {
		d->st.cnt.batches_early++;
		log_debug("batch complete %" PRIu64 " ms after its first event: not waiting out "
			  "the settle time",
			  (now - d->batch_started) / 1000);
	}
	d->batch_started = 0;
	d->st.cnt.batches++;
	r = engine_process(d);
	if (r < 0)
		log_err("processing events failed: %s", strerror(-r));
	d->batch_ended = now_us();
	return 0;
}

static void arm_batch(struct daemon *d)
{
	uint64_t now, deadline, limit, gap_end;
	bool pending = d->batch_started != 0;

	sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	if (!pending)
		d->batch_started = now;
	deadline = now + (uint64_t)d->cfg.batch_ms * 1000;
	limit = d->batch_started + (uint64_t)d->cfg.batch_ms * 1000 * BATCH_MAX_FACTOR;
	if (deadline > limit)
		deadline = limit;
	d->batch_deadline = deadline;
	/*
	 * Later events of a batch leave its timer where it is, due or not
	 * (it is armed until the batch is processed), unless a shorter settle
	 * time since the reload puts the deadline before it.  udevd relays a
	 * DIMM's 64 events a few ms apart, and a probe pushed back by each of
	 * them ran only after the last one (in a guest, 114 ms after the
	 * first) although the DIMM was complete at the first.
	 */
	if (pending) {
		if (d->batch_timer_at > deadline)
			set_batch_timer(d, deadline);
		return;
	}
	/*
	 * The first event of a batch: probe once the events already queued
	 * are read (the timer runs after this dispatch), but not within
	 * BATCH_GAP_MS of the end of the previous batch.
	 */
	gap_end = d->batch_ended + BATCH_GAP_MS * 1000;
	if (!d->batch_ended || gap_end < now)
		gap_end = now;
	set_batch_timer(d, gap_end < deadline ? gap_end : deadline);
}

void events_mark_block(struct daemon *d, uint64_t index)
{
	for (size_t i = d->ndirty; i-- > 0;)
		if (d->dirty_blocks[i] == index)
			goto arm;
	if (grow_array((void **)&d->dirty_blocks, &d->dirty_cap, d->ndirty + 1,
		       sizeof(*d->dirty_blocks)) < 0) {
		d->rescan = true; /* cannot remember it: look at everything instead */
		goto arm;
	}
	d->dirty_blocks[d->ndirty++] = index;
arm:
	arm_batch(d);
}

void events_mark_dax(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->dirty_dax.n; i++)
		if (streq(d->dirty_dax.v[i], name))
			goto arm;
	if (strv_push(&d->dirty_dax, name) < 0)
		d->rescan = true;
arm:
	arm_batch(d);
}

void events_mark_rescan(struct daemon *d)
{
	d->rescan = true;
	arm_batch(d);
}

static void handle_device(struct daemon *d, struct udev_device *dev)
{
	const char *subsystem = udev_device_get_subsystem(dev);
	const char *action = udev_device_get_action(dev);
	const char *sysname = udev_device_get_sysname(dev);
	uint64_t index;

	if (!subsystem || !sysname)
		return;
	d->st.cnt.events++;
	log_debug("uevent %s %s/%s", action ? action : "?", subsystem, sysname);
	if (streq(subsystem, "memory")) {
		if (parse_block_name(sysname, &index) == 0)
			events_mark_block(d, index);
	} else if (streq(subsystem, "dax")) {
		if (startswith(sysname, "dax"))
			events_mark_dax(d, sysname);
	} else if (streq(subsystem, "nd")) {
		/* a namespace changed mode: its dax device shows up under "dax" too,
		 * but uuid/region matching needs a fresh look at the dax list */
		events_mark_dax(d, "*");
	}
}

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;

	for (unsigned n = 0; n < 4096; n++) {
		struct udev_device *dev;

		errno = 0;
		dev = udev_monitor_receive_device(d->mon);
		if (!dev) {
			if (errno == ENOBUFS) {
				d->st.cnt.enobufs++;
				log_warn("uevent queue overflowed (ENOBUFS): events were lost, "
					 "rescanning everything");
				events_mark_rescan(d);
				continue;
			}
			break; /* EAGAIN: drained */
		}
		handle_device(d, dev);
		udev_device_unref(dev);
	}
	return 0;
}

int events_start(struct daemon *d)
{
	static const char *const subsystems[] = { "memory", "dax", "nd" };
	int r;

	d->udev = udev_new();
	if (!d->udev)
		return -errno ? -errno : -ENOMEM;
	d->mon = udev_monitor_new_from_netlink(d->udev, "udev");
	if (!d->mon)
		return -errno ? -errno : -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(subsystems); i++) {
		r = udev_monitor_filter_add_match_subsystem_devtype(d->mon, subsystems[i], NULL);
		if (r < 0)
			return r;
	}
	/* failure only means the default size: still correct thanks to the ENOBUFS rescan */
	r = udev_monitor_set_receive_buffer_size(d->mon, MONITOR_RCVBUF);
	if (r < 0)
		log_debug("cannot enlarge the uevent buffer: %s", strerror(-r));
	r = udev_monitor_enable_receiving(d->mon);
	if (r < 0)
		return r;
	return sd_event_add_io(d->ev, &d->mon_src, udev_monitor_get_fd(d->mon), EPOLLIN,
			       on_monitor, d);
}

void events_stop(struct daemon *d)
{
	d->mon_src = sd_event_source_disable_unref(d->mon_src);
	d->batch_src = sd_event_source_disable_unref(d->batch_src);
	if (d->mon)
		udev_monitor_unref(d->mon);
	if (d->udev)
		udev_unref(d->udev);
	d->mon = NULL;
	d->udev = NULL;
	free(d->dirty_blocks);
	d->dirty_blocks = NULL;
	d->ndirty = d->dirty_cap = 0;
	strv_clear(&d->dirty_dax);
}
