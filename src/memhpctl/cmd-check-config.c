// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memhpctl check-config [FILE...]: validate configuration, e.g. from ansible
 * (`validate: memhpctl check-config %s`).  Without files it checks what the
 * daemon would load (main file plus drop-ins).
 */
#include "memhpctl.h"

int cmd_check_config(struct ctl *c)
{
	struct config cfg;
	int r;

	if (c->argc) {
		config_init(&cfg);
		r = config_load_files(&cfg, c->argv, (size_t)c->argc);
		if (r >= 0)
			r = config_validate(&cfg);
	} else {
		r = ctl_config_load(c, &cfg);
	}
	for (size_t i = 0; i < cfg.errors.n; i++)
		fprintf(stderr, "%s\n", cfg.errors.v[i]);
	if (r >= 0 && !cfg.errors.n) {
		if (c->verbose || !c->argc)
			for (size_t i = 0; i < cfg.files.n; i++)
				printf("%s: ok\n", cfg.files.v[i]);
		printf("configuration ok: %zu file(s), %zu rule(s)\n", cfg.files.n, cfg.nrules);
	}
	r = (r < 0 || cfg.errors.n) ? EXIT_FAILURE : EXIT_SUCCESS;
	config_free(&cfg);
	return r;
}
