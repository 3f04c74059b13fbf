// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memhpd: the memory hotplug policy daemon.  Startup order matters: the udev
 * monitor starts before the one scan of the tree that state reconciliation
 * and coldplug share, so that nothing added in between is missed (it is
 * simply seen twice, and handling is idempotent).
 */
#include <getopt.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

#include "control.h"
#include "memhpd.h"

static const char *const level_names[] = { "emerg", "alert",  "crit", "err",
					   "warning", "notice", "info", "debug" };

static int parse_level(const char *s)
{
	for (int i = 0; i < (int)ARRAY_SIZE(level_names); i++)
		if (streq(s, level_names[i]))
			return i;
	return -1;
}

static int load_config(struct daemon *d, struct config *cfg)
{
	int r;

	config_init(cfg);
	r = config_load(cfg, d->config_path, d->config_dir);
	if (r >= 0)
		r = config_validate(cfg);
	if (r >= 0)
		r = config_rebase_defaults(cfg, d->sysroot_path);
	if (r < 0 || cfg->errors.n) {
		for (size_t i = 0; i < cfg->errors.n; i++)
			log_err("%s", cfg->errors.v[i]);
		return r < 0 ? r : -EINVAL;
	}
	return 0;
}

int daemon_reload(struct daemon *d, char *msg, size_t msglen)
{
	struct config cfg;
	int r;

	sd_notify(0, "RELOADING=1");
	log_info("reloading configuration");
	r = load_config(d, &cfg);
	if (r < 0) {
		snprintf(msg, msglen, "configuration has %zu error(s)%s%s; keeping the previous one",
			 cfg.errors.n, cfg.errors.n ? ", first: " : "",
			 cfg.errors.n ? cfg.errors.v[0] : "");
		log_err("%s", msg);
		config_free(&cfg);
		d->st.cnt.reload_failures++;
		sd_notify(0, "READY=1");
		return r;
	}
	if (!streq(cfg.control_socket, d->cfg.control_socket))
		log_warn("control_socket changed to %s; it takes effect at restart",
			 cfg.control_socket);
	strscpy_safe(cfg.control_socket, d->cfg.control_socket, sizeof(cfg.control_socket));
	config_free(&d->cfg);
	d->cfg = cfg;
	if (d->cli_log_level < 0)
		log_set_level(d->cfg.log_level);
	d->st.cnt.reloads++;
	snprintf(msg, msglen, "configuration reloaded: %zu file(s), %zu rule(s)", cfg.files.n,
		 cfg.nrules);
	log_info("%s", msg);
	engine_set_memmap_param(d);
	/* decide everything again under the new policy */
	events_mark_rescan(d);
	/* [standby] may have been switched on or off; its windows and rate limit carry over */
	standby_stop(d);
	standby_start(d);
	sd_notify(0, "READY=1");
	return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	char msg[512];

	daemon_reload(userdata, msg, sizeof(msg));
	return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	log_info("received %s, exiting", strsignal((int)si->ssi_signo));
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void usage(FILE *f)
{
	fputs("Usage: memhpd [OPTIONS]\n"
	      "\n"
	      "Memory hotplug policy daemon: onlines hot-added memory into the zone its policy\n"
	      "chooses and decides where each device's memmap lives.\n"
	      "\n"
	      "  -r, --sysroot DIR      use DIR instead of / for /sys and /proc\n"
	      "  -c, --config FILE      configuration file (default " MEMHPD_CONF_DEFAULT ")\n"
	      "      --config-dir DIR   drop-in directory (default " MEMHPD_CONF_DIR_DEFAULT ")\n"
	      "      --once             handle everything pending, then exit (0/1/64)\n"
	      "  -l, --log-level LEVEL  emerg..debug (default: from the configuration)\n"
	      "      --stderr           log to stderr even under systemd\n"
	      "  -h, --help, -V, --version\n",
	      f);
}

static void daemon_free(struct daemon *d)
{
	standby_stop(d);
	control_stop(d);
	events_stop(d);
	d->retry_src = sd_event_source_disable_unref(d->retry_src);
	sd_event_unref(d->ev);
	machine_free(d->m);
	state_free(&d->st);
	config_free(&d->cfg);
	free(d->waits);
	if (d->sr)
		sysroot_free(d->sr);
}

static int load_state(struct daemon *d)
{
	char msg[256];
	int r;

	r = state_read(&d->st, d->cfg.state_file, msg, sizeof(msg));
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		log_warn("ignoring state file: %s", msg);
		state_free(&d->st);
		memset(&d->st, 0, sizeof(d->st));
		return 0;
	}
	return 1;
}

static int run_daemon(struct daemon *d)
{
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = sd_event_add_signal(d->ev, NULL, SIGTERM, on_exit_signal, d);
	if (r >= 0)
		r = sd_event_add_signal(d->ev, NULL, SIGINT, on_exit_signal, d);
	if (r >= 0)
		r = sd_event_add_signal(d->ev, NULL, SIGHUP, on_sighup, d);
	if (r < 0) {
		log_err("cannot set up signal handling: %s", strerror(-r));
		return 1;
	}
	r = sd_event_set_watchdog(d->ev, true);
	if (r < 0)
		log_warn("cannot enable the watchdog: %s", strerror(-r));

	r = control_start(d);
	if (r < 0) {
		log_err("cannot open the control socket %s: %s", d->cfg.control_socket,
			strerror(-r));
		return 1;
	}

	r = engine_coldplug(d);
	if (r < 0)
		log_err("coldplug failed: %s; waiting for events", strerror(-r));
	standby_start(d);
	sd_notifyf(0, "READY=1\nSTATUS=%s", d->status);
	log_info("ready: %s", d->status);

	r = sd_event_loop(d->ev);
	if (r < 0) {
		log_err("event loop failed: %s", strerror(-r));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_ONCE = 256, OPT_CONFIG_DIR, OPT_STDERR };
	static const struct option opts[] = {
		{ "sysroot", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "config-dir", required_argument, NULL, OPT_CONFIG_DIR },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "log-level", required_argument, NULL, 'l' },
		{ "stderr", no_argument, NULL, OPT_STDERR },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	struct daemon d = {
		.config_path = MEMHPD_CONF_DEFAULT,
		.config_dir = MEMHPD_CONF_DIR_DEFAULT,
		.cli_log_level = -1,
		.control_fd = -1,
	};
	bool config_set = false, config_dir_set = false;
	char conf_file[512], conf_dir[512];
	int o, r, ret;

	while ((o = getopt_long(argc, argv, "r:c:l:hV", opts, NULL)) >= 0) {
		switch (o) {
		case 'r':
			d.sysroot_path = optarg;
			break;
		case 'c':
			d.config_path = optarg;
			config_set = true;
			break;
		case OPT_CONFIG_DIR:
			d.config_dir = optarg;
			config_dir_set = true;
			break;
		case OPT_ONCE:
			d.once = true;
			break;
		case 'l':
			d.cli_log_level = parse_level(optarg);
			if (d.cli_log_level < 0) {
				fprintf(stderr, "memhpd: --log-level: unknown level \"%s\"\n", optarg);
				return 1;
			}
			break;
		case OPT_STDERR:
			d.force_stderr = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("memhpd " MEMHP_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "memhpd: unexpected argument \"%s\"\n", argv[optind]);
		return 1;
	}
	/* the configuration lives in the sysroot like everything else ... */
	config_default_paths(d.sysroot_path, conf_file, sizeof(conf_file), conf_dir,
			     sizeof(conf_dir));
	if (!config_set)
		d.config_path = conf_file;
	if (!config_dir_set)
		/* ... and an explicit --config without --config-dir means exactly that file */
		d.config_dir = config_set ? NULL : conf_dir;

	log_setup(d.cli_log_level >= 0 ? d.cli_log_level : LOG_INFO, d.force_stderr || d.once);
	if (load_config(&d, &d.cfg) < 0) {
		log_err("invalid configuration; not starting");
		config_free(&d.cfg);
		return 1;
	}
	if (d.cli_log_level < 0)
		log_set_level(d.cfg.log_level);

	r = sysroot_open(d.sysroot_path, &d.sr);
	if (r < 0) {
		log_err("cannot open sysroot %s: %s", d.sysroot_path, strerror(-r));
		config_free(&d.cfg);
		return 1;
	}
	r = sd_event_default(&d.ev);
	if (r < 0) {
		log_err("cannot create the event loop: %s", strerror(-r));
		daemon_free(&d);
		return 1;
	}

	/* the daemon listens before it scans: see the top of this file */
	if (!d.once) {
		r = events_start(&d);
		if (r < 0) {
			log_err("cannot listen for uevents: %s", strerror(-r));
			daemon_free(&d);
			return 1;
		}
	}
	if (load_state(&d) > 0 && engine_rescan(&d) >= 0) {
		r = state_reconcile(&d.st, d.m);
		if (r > 0)
			log_notice("state file and sysfs disagreed in %d place(s); sysfs wins", r);
		d.st.dirty = true;
	}
	if (!d.m && engine_rescan(&d) < 0) {
		daemon_free(&d);
		return 1;
	}
	engine_check_auto_online(&d);
	engine_set_memmap_param(&d);

	if (d.once) {
		r = engine_coldplug(&d);
		standby_start(&d);
		ret = r < 0 ? 1 : d.exit_code;
		log_info("%s (exit %d)", d.status, ret);
	} else {
		ret = run_daemon(&d);
	}
	daemon_free(&d);
	return ret;
}
