// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * s390 standby memory, when [standby] enabled = yes: keep online memory
 * between floor and ceiling, grow by step under memory pressure and shrink
 * when idle (src/lib/standby_policy.c decides; src/lib/standby.c acts).
 *
 * When it looks: at start (floor/ceiling enforcement), every scan_interval
 * (sys/firmware/memory emits no uevents), on SIGUSR1, and when the PSI
 * trigger "some 150000 1000000" on proc/pressure/memory fires (EPOLLPRI).
 * The trigger needs the real procfs; on a sysroot fixture (or without PSI)
 * avg10 is read on the timer instead.  Every action is logged with its
 * reason; holds are logged at debug level, and at notice when the reason
 * for not acting changes kind (no standby left, nothing offlinable).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "memhpd.h"
#include "standby.h"
#include "standby_policy.h"

#define PSI_TRIGGER "some 150000 1000000"

static uint64_t online_bytes(const struct machine *m)
{
	uint64_t n = 0;

	for (size_t i = 0; i < m->nblocks; i++)
		if (m->blocks[i].state == BLOCK_ONLINE)
			n += m->blocks[i].size;
	return n;
}

static struct psi_sample read_psi(struct daemon *d)
{
	struct psi_sample s = { .t_ms = now_ms() };
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = sysroot_read_file(d->sr, "proc/pressure/memory", &text, &len);
	if (r < 0) {
		if (!d->standby_psi_warned)
			log_info("standby: no memory pressure information (proc/pressure/memory: "
				 "%s); keeping floor and ceiling only",
				 strerror(-r));
		d->standby_psi_warned = true;
		return s;
	}
	if (psi_parse_some_avg10(text, &s.some_avg10) < 0) {
		if (!d->standby_psi_warned)
			log_warn("standby: proc/pressure/memory has no \"some avg10=\" line");
		d->standby_psi_warned = true;
		return s;
	}
	d->standby_psi_warned = false;
	s.valid = true;
	return s;
}

static void step_report(void *data, const struct standby_incr *in, const char *op, int err,
			const char *msg)
{
	const char *why = data;

	if (err)
		log_msg(LOG_WARNING, "standby", in->name, why, "standby: %s failed: %s", op, msg);
	else if (!streq(op, "skip"))
		log_msg(LOG_INFO, "standby", in->name, why, "standby: %s", msg);
}

static void act(struct daemon *d, struct standby *sb, const struct sp_decision *dec,
		const char *trigger)
{
	const struct standby_config *c = &d->cfg.standby;
	struct standby_sel sel = { .is_size = true, .count = dec->bytes / sb->block_size };
	struct standby_opts o = { .timeout_ms = d->cfg.offline_timeout_ms,
				  .shrinkable_only = true };
	struct standby_tally t = { 0 };
	const char *verb = dec->action == SP_GROW ? "grow" : "shrink";
	char msg[256], b1[32];
	int r, code;

	(void)c;
	log_msg(LOG_NOTICE, "standby", NULL, verb, "standby: %s by %s (%s): %s", verb,
		format_size(dec->bytes, b1, sizeof(b1)), trigger, dec->reason);
	if (dec->action == SP_GROW)
		r = standby_configure(d->sr, &d->cfg, d->m, sb, &sel, &o, step_report, (void *)verb,
				      &t, msg, sizeof(msg));
	else
		r = standby_deconfigure(d->sr, &d->cfg, d->m, sb, &sel, &o, step_report,
					(void *)verb, &t, msg, sizeof(msg));
	sp_acted(&d->standby_sp, now_ms());
	for (size_t i = 0; i < t.reasons.n; i++)
		log_msg(LOG_INFO, "standby", NULL, verb, "standby: policy: %s", t.reasons.v[i]);
	if (r < 0) {
		log_err("standby: %s failed: %s", verb, msg[0] ? msg : strerror(-r));
		code = 1;
	} else {
		code = standby_exit_code(&t);
		log_msg(code ? LOG_WARNING : LOG_NOTICE, "standby", NULL, verb,
			"standby: %s: %" PRIu64 " of %" PRIu64 " increment(s) done, %" PRIu64
			" failed%s%s",
			verb, t.done, t.requested, t.failed, msg[0] ? "; " : "", msg);
	}
	if (code && !d->exit_code)
		d->exit_code = code;
	standby_tally_free(&t);
}

/* One look: scan, decide, maybe act.  Returns 0 or -errno (logged). */
int standby_run(struct daemon *d, const char *trigger)
{
	struct standby sb;
	struct sp_inputs in = { 0 };
	struct sp_decision dec;
	int r;

	if (!d->standby_active || !d->m)
		return 0;
	r = standby_scan(d->sr, d->m, &sb);
	if (r < 0) {
		log_err("standby: cannot read standby memory: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < sb.errors.n; i++)
		log_warn("standby: %s", sb.errors.v[i]);
	in.psi = read_psi(d);
	in.online = online_bytes(d->m);
	in.block_size = sb.block_size;
	for (size_t i = 0; i < sb.n; i++) {
		const struct standby_incr *x = &sb.incr[i];

		if (!x->configured || x->state != BLOCK_ONLINE)
			in.growable += x->size;
		else if (standby_incr_shrinkable(x))
			in.shrinkable += x->size;
	}
	sp_decide(&d->standby_sp, &d->cfg.standby, &in, &dec);
	if (dec.action == SP_HOLD) {
		bool notable = strstr(dec.reason, " but ") != NULL;

		/* say a blocking reason once, not every scan */
		if (notable && strncmp(d->standby_last, dec.reason, 40) != 0)
			log_msg(LOG_NOTICE, "standby", NULL, "hold", "standby: hold (%s): %s",
				trigger, dec.reason);
		else
			log_msg(LOG_DEBUG, "standby", NULL, "hold", "standby: hold (%s): %s",
				trigger, dec.reason);
		strscpy_safe(d->standby_last, notable ? dec.reason : "", sizeof(d->standby_last));
	} else {
		d->standby_last[0] = '\0';
		act(d, &sb, &dec, trigger);
	}
	standby_free(&sb);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	standby_run(d, "scan");
	sd_event_source_set_time_relative(s, (uint64_t)d->cfg.standby.scan_interval_ms * 1000);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static int on_psi(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;

	if (revents & EPOLLERR) {
		log_warn("standby: the PSI trigger went away; sampling avg10 on the timer");
		d->standby_psi_src = sd_event_source_disable_unref(d->standby_psi_src);
		return 0;
	}
	standby_run(d, "pressure trigger");
	return 0;
}

static int on_sigusr1(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	standby_run(userdata, "SIGUSR1");
	return 0;
}

/* A PSI trigger needs the real procfs: a sysroot's regular file is only sampled. */
static void psi_trigger(struct daemon *d)
{
	char path[PATH_MAX];
	const char *root = sysroot_path(d->sr);
	struct statfs sf;
	int fd, r;

	snprintf(path, sizeof(path), "%s/proc/pressure/memory", streq(root, "/") ? "" : root);
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		log_info("standby: no PSI trigger (%s: %m); sampling avg10 every %u ms", path,
			 d->cfg.standby.scan_interval_ms);
		return;
	}
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) {
		log_info("standby: %s is not procfs; sampling avg10 every %u ms", path,
			 d->cfg.standby.scan_interval_ms);
		close(fd);
		return;
	}
	if (write(fd, PSI_TRIGGER, strlen(PSI_TRIGGER) + 1) < 0) {
		log_info("standby: cannot register the PSI trigger \"%s\": %m; sampling avg10 "
			 "every %u ms",
			 PSI_TRIGGER, d->cfg.standby.scan_interval_ms);
		close(fd);
		return;
	}
	r = sd_event_add_io(d->ev, &d->standby_psi_src, fd, EPOLLPRI, on_psi, d);
	if (r < 0) {
		log_warn("standby: cannot watch the PSI trigger: %s", strerror(-r));
		close(fd);
		return;
	}
	sd_event_source_set_io_fd_own(d->standby_psi_src, true);
	log_info("standby: PSI trigger \"%s\" registered", PSI_TRIGGER);
}

int standby_start(struct daemon *d)
{
	const struct standby_config *c = &d->cfg.standby;
	char b1[32], b2[32], b3[32];
	sigset_t mask;
	int r;

	if (!c->enabled || d->standby_active)
		return 0;
	if (!d->m || !d->m->is_s390) {
		log_notice("standby: [standby] is enabled but this is not an s390 machine; "
			   "nothing to manage");
		return 0;
	}
	d->standby_active = true; /* standby_sp starts zeroed (sp_init) and survives reloads */
	log_info("standby: managing s390 standby memory (%s interface): floor %s, ceiling %s, "
		 "step %s, pressure threshold %u.%02u%%",
		 d->m->has_fw_memory ? "firmware" : "legacy",
		 c->floor ? format_size(c->floor, b1, sizeof(b1)) : "none",
		 c->ceiling ? format_size(c->ceiling, b2, sizeof(b2)) : "none",
		 format_size(c->step, b3, sizeof(b3)), c->pressure_threshold / 100,
		 c->pressure_threshold % 100);
	r = standby_run(d, "start");
	if (d->once || !d->ev)
		return r;

	r = sd_event_add_time_relative(d->ev, &d->standby_timer, CLOCK_MONOTONIC,
				       (uint64_t)c->scan_interval_ms * 1000, 0, on_timer, d);
	if (r < 0) {
		log_err("standby: cannot arm the scan timer: %s", strerror(-r));
		return r;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_add_signal(d->ev, &d->standby_sig_src, SIGUSR1, on_sigusr1, d);
	if (r < 0)
		log_warn("standby: SIGUSR1 rescans are unavailable: %s", strerror(-r));
	if (c->pressure_threshold)
		psi_trigger(d);
	return 0;
}

void standby_stop(struct daemon *d)
{
	d->standby_timer = sd_event_source_disable_unref(d->standby_timer);
	d->standby_psi_src = sd_event_source_disable_unref(d->standby_psi_src);
	d->standby_sig_src = sd_event_source_disable_unref(d->standby_sig_src);
	d->standby_active = false;
}
