// SPDX-License-Identifier: GPL-2.0-or-later
/* memhpctl explain: the policy's decision for one device, with its reasons. */
#include "memhpctl.h"
#include "policy.h"
#include "render.h"
#include "target.h"

static void print_decision(const struct machine *m, const char *name, const struct mem_device *d,
			   const struct dax_device *dax, const struct decision *dec)
{
	char s[16];

	if (d)
		printf("%s: %s device on node %d, %s in %zu block(s), %zu online\n", name,
		       device_type_name(d->type), d->node, format_size(d->size, s, sizeof(s)),
		       d->nblocks, d->online_blocks);
	else
		printf("%s: dax device (%s) on node %d, %s, no system RAM yet\n", name,
		       dax->kind[0] ? dax->kind : "unknown", dax->target_node,
		       format_size(dax->size, s, sizeof(s)));
	if (dec->action == DECIDE_ONLINE) {
		printf("decision: online");
		if (dec->dax_to_system_ram)
			printf(" (after handing it to kmem as system RAM)");
		printf(": %zu block(s) movable, %zu kernel\n", dec->n_movable, dec->n_kernel);
	} else {
		printf("decision: leave as is\n");
	}
	printf("memmap: %s (%s)\n", memmap_place_name(dec->memmap),
	       dec->memmap_choosable ? "chosen by memhpd" : "fixed by the kernel");
	if (dec->rule)
		printf("rule: %s (%s:%d)\n", dec->rule->name, dec->rule->file, dec->rule->line);
	else
		printf("rule: none, defaults apply\n");
	printf("reasons:\n");
	for (size_t i = 0; i < dec->reasons.n; i++)
		printf("  - %s\n", dec->reasons.v[i]);
	(void)m;
}

int cmd_explain(struct ctl *c)
{
	_cleanup_sysroot_ struct sysroot *sr = NULL;
	_cleanup_machine_ struct machine *m = NULL;
	const struct mem_device *d = NULL;
	const struct dax_device *dax = NULL;
	struct decision dec;
	struct config cfg;
	struct target t;
	char msg[256];
	int r, ret;

	if (c->argc != 1) {
		ctl_err("explain takes exactly one device, dax device or block name");
		return EXIT_FAILURE;
	}
	r = ctl_scan(c, &sr, &m);
	if (r)
		return r;
	r = ctl_config(c, &cfg);
	if (r)
		return r;

	r = target_resolve(m, c->argv[0], &t, msg, sizeof(msg));
	if (r < 0) {
		ctl_err("%s", msg);
		config_free(&cfg);
		return EXIT_FAILURE;
	}
	if (t.device)
		d = t.device;
	else if (t.dax)
		dax = t.dax;
	else if (t.nblocks && m->blocks[t.blocks[0]].device >= 0)
		d = &m->devices[m->blocks[t.blocks[0]].device];
	target_free(&t);
	if (!d && !dax) {
		ctl_err("%s belongs to no device", c->argv[0]);
		config_free(&cfg);
		return EXIT_FAILURE;
	}

	decision_init(&dec);
	r = d ? policy_decide(&cfg, m, d, &dec) : policy_decide_dax(&cfg, m, dax, &dec);
	if (r < 0) {
		ctl_err("cannot decide for %s: %s", c->argv[0], strerror(-r));
		ret = EXIT_FAILURE;
		goto out;
	}
	if (c->json) {
		json_object *o = render_decision(m, d, &dec);

		json_object_object_add(o, "name", json_object_new_string(d ? d->id : dax->name));
		if (d)
			json_object_object_add(o, "device", render_device(m, d));
		else
			json_object_object_add(o, "dax", render_dax(m, dax));
		ctl_print_json(o);
		json_object_put(o);
	} else {
		print_decision(m, d ? d->id : dax->name, d, dax, &dec);
	}
	ret = dec.config_error ? EXIT_FAILURE : EXIT_SUCCESS;
out:
	decision_free(&dec);
	config_free(&cfg);
	return ret;
}
