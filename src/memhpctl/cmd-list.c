// SPDX-License-Identifier: GPL-2.0-or-later
/* memhpctl list: blocks, devices, nodes and dax devices as tables or JSON. */
#include <inttypes.h>

#include "memhpctl.h"
#include "render.h"

static const char *hex(uint64_t v, char *buf, size_t size)
{
	snprintf(buf, size, "0x%016" PRIx64, v);
	return buf;
}

static const char *num(long long v, char *buf, size_t size)
{
	if (v < 0)
		return "-";
	snprintf(buf, size, "%lld", v);
	return buf;
}

static void print_blocks(const struct machine *m)
{
	static const char *const h[] = { "BLOCK", "START",  "SIZE",   "STATE",	 "ZONE",
					 "NODE",  "DEVICE", "MEMMAP", "EVIDENCE" };
	struct table *t = table_new(ARRAY_SIZE(h), h);

	for (size_t i = 0; i < m->nblocks; i++) {
		const struct mem_block *b = &m->blocks[i];
		char a[24], s[24], n[24];

		table_add(t, b->name, hex(b->start, a, sizeof(a)),
			  format_size(b->size, s, sizeof(s)), block_state_name(b->state),
			  b->state == BLOCK_ONLINE ? zone_name(b->zone) : "-",
			  num(b->node, n, sizeof(n)),
			  b->device >= 0 ? m->devices[b->device].id : "-",
			  memmap_place_name(b->memmap), memmap_evidence_name(b->memmap_evidence));
	}
	table_print(t, stdout);
	table_free(t);
}

static void print_devices(const struct machine *m)
{
	static const char *const h[] = { "DEVICE", "TYPE", "NODE",   "SIZE",	  "BLOCKS",
					 "ONLINE", "ZONE", "MEMMAP", "ON-DEVICE", "IN-RAM" };
	struct table *t = table_new(ARRAY_SIZE(h), h);

	for (size_t i = 0; i < m->ndevices; i++) {
		const struct mem_device *d = &m->devices[i];
		char n[24], s[24], nb[24], on[24], a[24], b[24];

		table_add(t, d->id, device_type_name(d->type), num(d->node, n, sizeof(n)),
			  format_size(d->size, s, sizeof(s)),
			  num((long long)d->nblocks, nb, sizeof(nb)),
			  num((long long)d->online_blocks, on, sizeof(on)),
			  d->zone_mixed	     ? "mixed"
			  : d->online_blocks ? zone_name(d->zone)
					     : "-",
			  memmap_place_name(d->memmap),
			  format_size(d->memmap_on_device_bytes, a, sizeof(a)),
			  format_size(d->memmap_in_ram_bytes, b, sizeof(b)));
	}
	table_print(t, stdout);
	table_free(t);
}

static void print_nodes(const struct machine *m)
{
	static const char *const h[] = { "NODE",  "KERNEL",	      "MOVABLE",      "OFFLINE",
					 "RATIO", "MEMMAP-ON-DEVICE", "MEMMAP-IN-RAM" };
	struct table *t = table_new(ARRAY_SIZE(h), h);

	for (size_t i = 0; i < m->nnodes; i++) {
		const struct numa_node *n = &m->nodes[i];
		char id[24], k[24], mv[24], off[24], r[24], a[24], b[24];

		if (n->kernel_bytes)
			snprintf(r, sizeof(r), "%" PRIu64 "%%",
				 n->movable_bytes * 100 / n->kernel_bytes);
		else
			snprintf(r, sizeof(r), "-");
		table_add(t, num(n->id, id, sizeof(id)), format_size(n->kernel_bytes, k, sizeof(k)),
			  format_size(n->movable_bytes, mv, sizeof(mv)),
			  format_size(n->offline_bytes, off, sizeof(off)), r,
			  format_size(n->memmap_on_device_bytes, a, sizeof(a)),
			  format_size(n->memmap_in_ram_bytes, b, sizeof(b)));
	}
	table_print(t, stdout);
	table_free(t);
}

static void print_dax(const struct machine *m)
{
	static const char *const h[] = {
		"DAX", "MODE", "KIND", "REGION", "NODE", "SIZE", "MEMMAP-ON-MEMORY", "DEVICE"
	};
	struct table *t = table_new(ARRAY_SIZE(h), h);

	for (size_t i = 0; i < m->ndax; i++) {
		const struct dax_device *d = &m->dax[i];
		char n[24], s[24];

		table_add(t, d->name,
			  streq(d->driver, "kmem")	   ? "system-ram"
			  : streq(d->driver, "device_dax") ? "devdax"
							   : "unbound",
			  d->kind[0] ? d->kind : "unknown", d->region[0] ? d->region : "-",
			  num(d->target_node, n, sizeof(n)), format_size(d->size, s, sizeof(s)),
			  d->memmap_on_memory < 0 ? "-"
			  : d->memmap_on_memory	  ? "yes"
						  : "no",
			  d->device >= 0 ? m->devices[d->device].id : "-");
	}
	table_print(t, stdout);
	table_free(t);
}

int cmd_list(struct ctl *c)
{
	_cleanup_sysroot_ struct sysroot *sr = NULL;
	_cleanup_machine_ struct machine *m = NULL;
	unsigned what = c->what;
	char a[16], b[16], d[16];
	int r;

	if (c->argc) {
		ctl_err("list takes no arguments (got \"%s\")", c->argv[0]);
		return EXIT_FAILURE;
	}
	r = ctl_scan(c, &sr, &m);
	if (r)
		return r;

	if (c->json) {
		r = render_machine_print(stdout, m, what ? what : RENDER_ALL, CTL_JSON_FLAGS);
		if (r >= 0 && (putchar('\n') == EOF || fflush(stdout) == EOF))
			r = -errno;
		if (r < 0) {
			ctl_err("cannot write the list: %s", strerror(-r));
			return EXIT_FAILURE;
		}
		return EXIT_SUCCESS;
	}
	if (!what)
		what = RENDER_DEVICES | RENDER_NODES | (m->ndax ? RENDER_DAX : 0);
	if (what & RENDER_BLOCKS)
		print_blocks(m);
	if (what & RENDER_DEVICES) {
		if (what & RENDER_BLOCKS)
			putchar('\n');
		print_devices(m);
	}
	if (what & RENDER_DAX) {
		if (what & (RENDER_BLOCKS | RENDER_DEVICES))
			putchar('\n');
		print_dax(m);
	}
	if (what & RENDER_NODES) {
		if (what & (RENDER_BLOCKS | RENDER_DEVICES | RENDER_DAX))
			putchar('\n');
		print_nodes(m);
		printf("\nblock size %s; memmap on devices %s, in RAM %s\n",
		       format_size(m->block_size, a, sizeof(a)),
		       format_size(m->memmap_on_device_bytes, b, sizeof(b)),
		       format_size(m->memmap_in_ram_bytes, d, sizeof(d)));
	}
	return EXIT_SUCCESS;
}
