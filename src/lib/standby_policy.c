// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * s390 standby pressure policy (see standby_policy.h).  Pure: the only inputs
 * are the arguments; every decision says why in a sentence with the numbers.
 */
#include <ctype.h>
#include <stdarg.h>

#include "standby_policy.h"

const char *sp_action_name(enum sp_action a)
{
	switch (a) {
	case SP_GROW:
		return "grow";
	case SP_SHRINK:
		return "shrink";
	default:
		return "hold";
	}
}

int psi_parse_some_avg10(const char *text, unsigned *out)
{
	const char *line = text;

	while (line && *line) {
		if (startswith(line, "some ")) {
			const char *p = strstr(line, " avg10=");
			const char *eol = strchr(line, '\n');
			unsigned whole = 0, frac = 0, digits = 0;

			if (!p || (eol && p > eol))
				return -EINVAL;
			p += strlen(" avg10=");
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			while (isdigit((unsigned char)*p)) {
				whole = whole * 10 + (unsigned)(*p++ - '0');
				if (whole > 100)
					return -EINVAL;
			}
			if (*p == '.') {
				p++;
				while (isdigit((unsigned char)*p)) {
					if (digits < 2)
						frac = frac * 10 + (unsigned)(*p - '0');
					digits++;
					p++;
				}
				if (digits == 1)
					frac *= 10;
			}
			if (*p != ' ' && *p != '\n' && *p != '\0')
				return -EINVAL;
			if (whole * 100 + frac > 10000)
				return -EINVAL;
			*out = whole * 100 + frac;
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -EINVAL;
}

void sp_init(struct sp_state *st)
{
	memset(st, 0, sizeof(*st));
}

void sp_acted(struct sp_state *st, uint64_t now_ms)
{
	st->acted = true;
	st->last_action = now_ms;
	st->above = false;
	st->idle = false;
}

static __printf(3, 4) void set(struct sp_decision *d, enum sp_action a, const char *fmt, ...)
{
	va_list ap;

	d->action = a;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

#define SZ(v, b) format_size((v), (b), sizeof(b))

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a < b ? a : b;

	return m < c ? m : c;
}

static uint64_t blocks_down(uint64_t bytes, uint64_t bs)
{
	return bs ? bytes / bs * bs : bytes;
}

static uint64_t blocks_up(uint64_t bytes, uint64_t bs)
{
	if (!bs)
		return bytes;
	return bytes / bs * bs + (bytes % bs ? bs : 0);
}

/* Pressure windows: update from the sample. */
static void track(struct sp_state *st, const struct standby_config *cfg, const struct psi_sample *p)
{
	unsigned thr = cfg->pressure_threshold;

	if (!thr || !p->valid) {
		st->above = st->idle = false;
		return;
	}
	if (p->some_avg10 > thr) {
		if (!st->above) {
			st->above = true;
			st->above_since = p->t_ms;
		}
		st->idle = false;
	} else if (p->some_avg10 * 2 < thr) {
		if (!st->idle) {
			st->idle = true;
			st->idle_since = p->t_ms;
		}
		st->above = false;
	} else {
		st->above = st->idle = false;
	}
}

static bool rate_limited(const struct sp_state *st, const struct standby_config *cfg, uint64_t now,
			 struct sp_decision *d, const char *what)
{
	if (!st->acted || now - st->last_action >= cfg->min_interval_ms)
		return false;
	set(d, SP_HOLD, "%s, but the last action was %llu ms ago (min_interval %u ms)", what,
	    (unsigned long long)(now - st->last_action), cfg->min_interval_ms);
	d->bytes = 0;
	return true;
}

/* How much a grow of want bytes may be: ceiling, what is left, whole blocks. */
static uint64_t grow_room(const struct standby_config *cfg, const struct sp_inputs *in,
			  uint64_t want)
{
	uint64_t room = cfg->ceiling ? (in->online < cfg->ceiling ? cfg->ceiling - in->online : 0)
				     : UINT64_MAX;

	return blocks_down(min3(want, room, in->growable), in->block_size);
}

static uint64_t shrink_room(const struct standby_config *cfg, const struct sp_inputs *in,
			    uint64_t want)
{
	uint64_t room = in->online > cfg->floor ? in->online - cfg->floor : 0;

	return blocks_down(min3(want, room, in->shrinkable), in->block_size);
}

void sp_decide(struct sp_state *st, const struct standby_config *cfg, const struct sp_inputs *in,
	       struct sp_decision *d)
{
	uint64_t now = in->psi.t_ms, step, n;
	char b1[32], b2[32], b3[32], what[160];

	memset(d, 0, sizeof(*d));
	track(st, cfg, &in->psi);
	step = cfg->step < in->block_size ? in->block_size : cfg->step;

	/* hard limits first */
	if (cfg->ceiling && in->online > cfg->ceiling) {
		snprintf(what, sizeof(what), "online memory %s is above the ceiling %s",
			 SZ(in->online, b1), SZ(cfg->ceiling, b2));
		n = blocks_up(in->online - cfg->ceiling, in->block_size);
		if (n > in->shrinkable)
			n = blocks_down(in->shrinkable, in->block_size);
		if (!n) {
			set(d, SP_HOLD, "%s, but no configured increment can be offlined", what);
			return;
		}
		if (rate_limited(st, cfg, now, d, what))
			return;
		d->bytes = n;
		set(d, SP_SHRINK, "%s: deconfigure %s%s", what, SZ(n, b3),
		    n < in->online - cfg->ceiling ? " (all that can be offlined)" : "");
		return;
	}
	if (cfg->floor && in->online < cfg->floor) {
		snprintf(what, sizeof(what), "online memory %s is below the floor %s",
			 SZ(in->online, b1), SZ(cfg->floor, b2));
		n = grow_room(cfg, in, blocks_up(cfg->floor - in->online, in->block_size));
		if (!n) {
			set(d, SP_HOLD, "%s, but no standby memory is left to configure", what);
			return;
		}
		if (rate_limited(st, cfg, now, d, what))
			return;
		d->bytes = n;
		set(d, SP_GROW, "%s: configure %s", what, SZ(n, b3));
		return;
	}

	if (!cfg->pressure_threshold) {
		set(d, SP_HOLD, "within floor and ceiling; pressure-driven resizing is off");
		return;
	}
	if (!in->psi.valid) {
		set(d, SP_HOLD, "within floor and ceiling; no memory pressure information (PSI)");
		return;
	}
	if (st->above && now - st->above_since >= cfg->grow_window_ms) {
		snprintf(what, sizeof(what),
			 "memory pressure %u.%02u%% has been above %u.%02u%% for %llu ms "
			 "(grow_window %u ms)",
			 in->psi.some_avg10 / 100, in->psi.some_avg10 % 100,
			 cfg->pressure_threshold / 100, cfg->pressure_threshold % 100,
			 (unsigned long long)(now - st->above_since), cfg->grow_window_ms);
		n = grow_room(cfg, in, step);
		if (!n) {
			set(d, SP_HOLD, "%s, but %s", what,
			    in->growable < in->block_size ? "no standby memory is left"
							  : "the ceiling is reached");
			return;
		}
		if (rate_limited(st, cfg, now, d, what))
			return;
		d->bytes = n;
		set(d, SP_GROW, "%s: configure %s", what, SZ(n, b3));
		return;
	}
	if (st->idle && now - st->idle_since >= cfg->shrink_idle_ms) {
		snprintf(what, sizeof(what),
			 "memory pressure %u.%02u%% has been below %u.%02u%% for %llu ms "
			 "(shrink_idle %u ms)",
			 in->psi.some_avg10 / 100, in->psi.some_avg10 % 100,
			 cfg->pressure_threshold / 200, (cfg->pressure_threshold / 2) % 100,
			 (unsigned long long)(now - st->idle_since), cfg->shrink_idle_ms);
		n = shrink_room(cfg, in, step);
		if (!n) {
			set(d, SP_HOLD, "%s, but %s", what,
			    in->shrinkable < in->block_size
				    ? "no configured increment can be offlined (movable, removable)"
				    : "the floor is reached");
			return;
		}
		if (rate_limited(st, cfg, now, d, what))
			return;
		d->bytes = n;
		set(d, SP_SHRINK, "%s: deconfigure %s", what, SZ(n, b3));
		return;
	}
	if (st->above)
		set(d, SP_HOLD, "memory pressure %u.%02u%% above %u.%02u%% for %llu of %u ms",
		    in->psi.some_avg10 / 100, in->psi.some_avg10 % 100,
		    cfg->pressure_threshold / 100, cfg->pressure_threshold % 100,
		    (unsigned long long)(now - st->above_since), cfg->grow_window_ms);
	else if (st->idle)
		set(d, SP_HOLD, "memory pressure %u.%02u%% idle for %llu of %u ms",
		    in->psi.some_avg10 / 100, in->psi.some_avg10 % 100,
		    (unsigned long long)(now - st->idle_since), cfg->shrink_idle_ms);
	else
		set(d, SP_HOLD, "memory pressure %u.%02u%% is between idle and high (%u.%02u%%)",
		    in->psi.some_avg10 / 100, in->psi.some_avg10 % 100,
		    cfg->pressure_threshold / 100, cfg->pressure_threshold % 100);
}
