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

	config_init(&cfg);
	if (c->argc)
		r = config_load_files(&cfg, c->argv, (size_t)c->argc);
	else
		r = config_load(&cfg, c->config ? c->config : MEMHPD_CONF_DEFAULT,
				c->config_dir ? c->config_dir :
				c->config     ? NULL :
						MEMHPD_CONF_DIR_DEFAULT);
	if (r >= 0)
		r = config_validate(&cfg);
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
