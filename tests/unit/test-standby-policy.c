// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The s390 standby pressure policy driven by a scripted PSI source.  Each
 * script is a list of samples (time, avg10) with the decision expected at
 * that sample; a simulated LPAR executes every grow/shrink (online memory
 * changes by the bytes decided) and tells the policy it acted, as memhpd does.
 * Defaults: threshold 10%, grow_window 30s, shrink_idle 120s, min_interval
 * 60s, step 1G, 1G blocks, 4G online, 8G standby left, everything shrinkable
 * above 4G.
 */
#include "standby_policy.h"
#include "check.h"

#define S(x) ((uint64_t)(x)*1000)
#define NOPSI 0xffffffffu

struct step {
	uint64_t t; /* ms */
	unsigned avg10; /* hundredths of a percent, NOPSI: no valid sample */
	enum sp_action want;
	uint64_t bytes; /* for grow/shrink */
	const char *why; /* substring of the reason */
};

struct lpar {
	uint64_t online, standby, boot;
};

static void cfg_default(struct standby_config *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = true;
	c->step = 1 * GiB;
	c->pressure_threshold = 1000;
	c->grow_window_ms = 30000;
	c->shrink_idle_ms = 120000;
	c->min_interval_ms = 60000;
}

static void run(const char *name, const struct standby_config *cfg, struct lpar lp,
		const struct step *steps, size_t n)
{
	struct sp_state st;

	sp_init(&st);
	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		struct sp_inputs in = {
			.psi = { .t_ms = s->t, .valid = s->avg10 != NOPSI, .some_avg10 = s->avg10 },
			.online = lp.online,
			.growable = lp.standby,
			.shrinkable = lp.online > lp.boot ? lp.online - lp.boot : 0,
			.block_size = 1 * GiB,
		};
		struct sp_decision d;

		sp_decide(&st, cfg, &in, &d);
		CHECK(d.action == s->want, "%s, step %zu (t=%llums): %s, expected %s: %s", name, i,
		      (unsigned long long)s->t, sp_action_name(d.action), sp_action_name(s->want),
		      d.reason);
		CHECK(s->want == SP_HOLD || d.bytes == s->bytes,
		      "%s, step %zu: %llu bytes, expected %llu", name, i,
		      (unsigned long long)d.bytes, (unsigned long long)s->bytes);
		CHECK(d.action != SP_HOLD || d.bytes == 0, "%s, step %zu: hold with bytes", name,
		      i);
		CHECK(s->why == NULL || strstr(d.reason, s->why) != NULL,
		      "%s, step %zu: reason \"%s\" lacks \"%s\"", name, i, d.reason, s->why);
		CHECK(d.reason[0] != '\0', "%s, step %zu: no reason", name, i);
		if (d.action == SP_GROW) {
			lp.online += d.bytes;
			lp.standby -= d.bytes;
			sp_acted(&st, s->t);
		} else if (d.action == SP_SHRINK) {
			lp.online -= d.bytes;
			lp.standby += d.bytes;
			sp_acted(&st, s->t);
		}
	}
}

#define RUN(name, cfg, lp, ...)                                      \
	do {                                                         \
		static const struct step steps_[] = { __VA_ARGS__ }; \
		run(name, cfg, lp, steps_, ARRAY_SIZE(steps_));      \
	} while (0)

#define LPAR(on, sb) ((struct lpar){ .online = (on)*GiB, .standby = (sb)*GiB, .boot = 4 * GiB })

int main(void)
{
	struct standby_config c;

	cfg_default(&c);

	/* pressure must stay above the threshold for the whole window, then one step */
	RUN("grow after window", &c, LPAR(4, 8), { S(0), 500, SP_HOLD, 0, "between idle and high" },
	    { S(10), 1200, SP_HOLD, 0, "above 10.00% for 0 of 30000 ms" },
	    { S(20), 1500, SP_HOLD, 0, "for 10000 of 30000 ms" },
	    { S(39), 1500, SP_HOLD, 0, "for 29000 of 30000 ms" },
	    { S(40), 1001, SP_GROW, 1 * GiB, "has been above 10.00% for 30000 ms" },
	    /* windows restart after the action, and the rate limit holds it back */
	    { S(45), 2000, SP_HOLD, 0, "for 0 of 30000 ms" },
	    { S(75), 2000, SP_HOLD, 0, "last action was 35000 ms ago (min_interval 60000 ms)" },
	    { S(100), 2000, SP_GROW, 1 * GiB, "configure 1G" });

	/* hysteresis: a dip into the band between 5% and 10% restarts the window;
	 * exactly the threshold is not above it */
	RUN("dip resets window", &c, LPAR(4, 8), { S(0), 1200, SP_HOLD, 0, NULL },
	    { S(20), 1200, SP_HOLD, 0, NULL }, { S(25), 800, SP_HOLD, 0, "between idle and high" },
	    { S(30), 1200, SP_HOLD, 0, "for 0 of" },
	    { S(55), 1000, SP_HOLD, 0, "between idle and high" }, { S(56), 1200, SP_HOLD, 0, NULL },
	    { S(85), 1200, SP_HOLD, 0, "29000 of 30000" }, { S(86), 1200, SP_GROW, 1 * GiB, NULL });

	/* idle: below half the threshold for shrink_idle; 5% itself is not idle */
	RUN("shrink when idle", &c, LPAR(7, 5),
	    { S(0), 100, SP_HOLD, 0, "idle for 0 of 120000 ms" },
	    { S(100), 499, SP_HOLD, 0, "idle for 100000 of 120000 ms" },
	    { S(110), 500, SP_HOLD, 0, "between idle and high" },
	    { S(120), 0, SP_HOLD, 0, "idle for 0 of" },
	    { S(240), 0, SP_SHRINK, 1 * GiB, "has been below 5.00% for 120000 ms" },
	    /* the idle window starts over after the action */
	    { S(300), 0, SP_HOLD, 0, "idle for 0 of" }, { S(420), 0, SP_SHRINK, 1 * GiB, NULL },
	    { S(540), 0, SP_HOLD, 0, NULL },
	    /* at 5G online, 1G shrinkable: the last one */
	    { S(660), 0, SP_SHRINK, 1 * GiB, NULL }, { S(780), 0, SP_HOLD, 0, NULL },
	    { S(900), 0, SP_HOLD, 0, "no configured increment can be offlined" });

	/* growing never passes the ceiling nor what standby memory is left */
	c.ceiling = 6 * GiB;
	c.step = 4 * GiB;
	RUN("ceiling bounds grow", &c, LPAR(4, 8), { S(0), 5000, SP_HOLD, 0, NULL },
	    { S(30), 5000, SP_GROW, 2 * GiB, "configure 2G" }, { S(60), 5000, SP_HOLD, 0, NULL },
	    { S(90), 5000, SP_HOLD, 0, "the ceiling is reached" });
	c.ceiling = 0;
	RUN("no standby left", &c, LPAR(4, 1), { S(0), 5000, SP_HOLD, 0, NULL },
	    { S(30), 5000, SP_GROW, 1 * GiB, "configure 1G" }, { S(60), 5000, SP_HOLD, 0, NULL },
	    { S(90), 5000, SP_HOLD, 0, "no standby memory is left" });

	/* shrinking stops at the floor */
	cfg_default(&c);
	c.floor = 6 * GiB;
	c.step = 2 * GiB;
	RUN("floor bounds shrink", &c, LPAR(7, 5), { S(0), 0, SP_HOLD, 0, NULL },
	    { S(120), 0, SP_SHRINK, 1 * GiB, "deconfigure 1G" },
	    { S(300), 0, SP_HOLD, 0, "idle for 0 of" },
	    { S(420), 0, SP_HOLD, 0, "the floor is reached" });

	/* floor and ceiling are enforced at once, without pressure, with or without PSI */
	cfg_default(&c);
	c.floor = 6 * GiB;
	c.ceiling = 8 * GiB;
	RUN("floor at start", &c, LPAR(4, 8),
	    { S(0), NOPSI, SP_GROW, 2 * GiB, "below the floor 6G: configure 2G" },
	    { S(30), NOPSI, SP_HOLD, 0, "no memory pressure information" });
	RUN("floor partly", &c, LPAR(4, 1), { S(0), 0, SP_GROW, 1 * GiB, "configure 1G" },
	    { S(10), 0, SP_HOLD, 0, "below the floor 6G, but no standby memory is left" });
	RUN("ceiling at start", &c, LPAR(11, 0),
	    { S(0), 5000, SP_SHRINK, 3 * GiB, "above the ceiling 8G: deconfigure 3G" },
	    { S(30), 5000, SP_HOLD, 0, "above 10.00%" });
	/* only what can be offlined: 11G online, 4G boot, but only 2G shrinkable */
	{
		static const struct step st[] = {
			{ S(0), 0, SP_SHRINK, 2 * GiB, "(all that can be offlined)" },
			{ S(60), 0, SP_HOLD, 0, "but no configured increment can be offlined" },
		};
		struct lpar lp = { .online = 11 * GiB, .standby = 0, .boot = 9 * GiB };

		run("ceiling, partly shrinkable", &c, lp, st, ARRAY_SIZE(st));
	}

	/* pressure-driven resizing off: floor/ceiling only */
	cfg_default(&c);
	c.pressure_threshold = 0;
	RUN("pressure off", &c, LPAR(4, 8),
	    { S(0), 9000, SP_HOLD, 0, "pressure-driven resizing is off" },
	    { S(100), 9000, SP_HOLD, 0, "off" });

	/* losing PSI resets the windows */
	cfg_default(&c);
	RUN("psi gap", &c, LPAR(4, 8), { S(0), 2000, SP_HOLD, 0, NULL },
	    { S(20), NOPSI, SP_HOLD, 0, "no memory pressure information" },
	    { S(30), 2000, SP_HOLD, 0, "for 0 of" }, { S(60), 2000, SP_GROW, 1 * GiB, NULL });

	/* a step below the block size is one block */
	cfg_default(&c);
	c.step = 256 * MiB;
	RUN("small step", &c, LPAR(4, 8), { S(0), 2000, SP_HOLD, 0, NULL },
	    { S(30), 2000, SP_GROW, 1 * GiB, NULL });

	/* /proc/pressure/memory */
	{
		static const struct {
			const char *text;
			int r;
			unsigned v;
		} p[] = {
			{ "some avg10=12.34 avg60=1.00 avg300=0.10 total=123\n"
			  "full avg10=1.00 avg60=0.00 avg300=0.00 total=1\n",
			  0, 1234 },
			{ "full avg10=50.00 avg60=0.00 avg300=0.00 total=1\n"
			  "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
			  0, 0 },
			{ "some avg10=100.00 avg60=0.00 avg300=0.00 total=0\n", 0, 10000 },
			{ "some avg10=7.5 avg60=0.00\n", 0, 750 },
			{ "some avg10=7.999 avg60=0.00\n", 0, 799 },
			{ "some avg10=100.01 avg60=0.00\n", -EINVAL, 0 },
			{ "some avg10=-1.00 avg60=0.00\n", -EINVAL, 0 },
			{ "some avg60=1.00\navg10=1.00\n", -EINVAL, 0 },
			{ "some avg10=1.00x avg60=0.00\n", -EINVAL, 0 },
			{ "full avg10=1.00\n", -EINVAL, 0 },
			{ "", -EINVAL, 0 },
		};

		for (size_t i = 0; i < ARRAY_SIZE(p); i++) {
			unsigned v = 4242;
			int r = psi_parse_some_avg10(p[i].text, &v);

			CHECK(r == p[i].r, "psi case %zu: r=%d", i, r);
			CHECK(r < 0 || v == p[i].v, "psi case %zu: %u, expected %u", i, v, p[i].v);
		}
	}

	CHECK_STREQ(sp_action_name(SP_HOLD), "hold");
	CHECK_STREQ(sp_action_name(SP_GROW), "grow");
	CHECK_STREQ(sp_action_name(SP_SHRINK), "shrink");
	return check_exit();
}
