// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rss-floor: the reference of the idle RSS row of bench/scale.py.
 *
 * The smallest daemon built on the libraries memhpd must use: it links
 * libsystemd, libudev, json-c and inih like memhpd, and does once what any
 * such daemon does at start: an sd-event loop with signal and io sources, a
 * udev monitor on the netlink socket, one JSON object written out, one INI
 * text parsed, sd_notify("READY=1").  Then it idles until SIGTERM.  It has no
 * model of the machine, no policy, no control socket and no state.
 *
 * Its resident memory is what the libraries cost before any work is done:
 * memhpd's idle RSS minus this is what memhpd itself adds.
 *
 *     cc -O2 -o rss-floor rss-floor.c $(pkg-config --cflags --libs \
 *        libsystemd libudev json-c inih)
 */
#include <errno.h>
#include <ini.h>
#include <json.h>
#include <libudev.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#define UNUSED __attribute__((unused))

static int on_ini(void *user, UNUSED const char *section, UNUSED const char *name,
		  UNUSED const char *value)
{
	(*(int *)user)++;
	return 1;
}

static int on_udev(UNUSED sd_event_source *s, UNUSED int fd, UNUSED uint32_t revents, void *user)
{
	struct udev_device *dev = udev_monitor_receive_device(user);

	if (dev)
		udev_device_unref(dev);
	return 0;
}

int main(void)
{
	sd_event *ev = NULL;
	struct udev *udev;
	struct udev_monitor *mon;
	struct json_object *o;
	sigset_t ss;
	int n = 0, r;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	r = sd_event_default(&ev);
	if (r < 0)
		goto fail;
	r = sd_event_add_signal(ev, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(ev, NULL, SIGINT, NULL, NULL);
	if (r < 0)
		goto fail;

	udev = udev_new();
	mon = udev ? udev_monitor_new_from_netlink(udev, "udev") : NULL;
	if (!mon) {
		r = -errno;
		goto fail;
	}
	udev_monitor_filter_add_match_subsystem_devtype(mon, "memory", NULL);
	r = udev_monitor_enable_receiving(mon);
	if (r >= 0)
		r = sd_event_add_io(ev, NULL, udev_monitor_get_fd(mon), EPOLLIN, on_udev, mon);
	if (r < 0)
		goto fail;

	o = json_object_new_object();
	json_object_object_add(o, "blocks", json_object_new_int(n));
	if (!json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY)) {
		r = -ENOMEM;
		goto fail;
	}
	json_object_put(o);
	if (ini_parse_string("[policy]\nmemmap = auto\n", on_ini, &n) != 0 || n != 1) {
		r = -EINVAL;
		goto fail;
	}

	sd_notify(0, "READY=1");
	r = sd_event_loop(ev);
	sd_event_unref(ev);
	return r < 0 ? 1 : 0;
fail:
	fprintf(stderr, "rss-floor: %s\n", strerror(-r));
	return 1;
}
