// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Metrics as a Prometheus text exposition file for node_exporter's textfile
 * collector (--collector.textfile.directory, files named *.prom).  Written
 * atomically after every batch, so the collector never reads half a file.
 * No timestamps on samples (the collector refuses them); the time of the
 * last update is a metric of its own.
 *
 * Output order is fixed (nodes ascending, "unknown" node last, zones and
 * states in kernel order) so the file only changes when the numbers do.
 */
#include <inttypes.h>
#include <time.h>

#include "memhpd.h"

struct agg {
	int node;
	enum zone_id zone;
	enum block_state state;
	uint64_t blocks, bytes;
};

struct aggs {
	struct agg *v;
	size_t n, cap;
};

static void put_label(FILE *f, const char *name, const char *value, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void put_node_label(FILE *f, int node, bool first)
{
	char buf[16];

	if (node < 0)
		snprintf(buf, sizeof(buf), "unknown");
	else
		snprintf(buf, sizeof(buf), "%d", node);
	put_label(f, "node", buf, first);
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric without labels. */
static void simple(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	header(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void labelled(FILE *f, const char *name, const char *label, const char *value, uint64_t v)
{
	fprintf(f, "%s{", name);
	put_label(f, label, value, true);
	fprintf(f, "} %" PRIu64 "\n", v);
}

static enum zone_id block_zone(const struct mem_block *b)
{
	return b->state == BLOCK_OFFLINE ? ZONE_ID_NONE : b->zone;
}

static int agg_add(struct aggs *a, const struct mem_block *b, bool by_state)
{
	enum block_state state = by_state ? b->state : BLOCK_STATE_UNKNOWN;
	enum zone_id zone = block_zone(b);
	struct agg *x = NULL;

	for (size_t i = 0; i < a->n && !x; i++)
		if (a->v[i].node == b->node && a->v[i].zone == zone && a->v[i].state == state)
			x = &a->v[i];
	if (!x) {
		if (grow_array((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v)) < 0)
			return -ENOMEM;
		x = &a->v[a->n++];
		x->node = b->node;
		x->zone = zone;
		x->state = state;
	}
	x->blocks++;
	x->bytes += b->size;
	return 0;
}

static unsigned node_key(int node)
{
	return node < 0 ? UINT32_MAX : (unsigned)node;
}

static int agg_cmp(const void *pa, const void *pb)
{
	const struct agg *a = pa, *b = pb;

	if (node_key(a->node) != node_key(b->node))
		return node_key(a->node) < node_key(b->node) ? -1 : 1;
	if (a->zone != b->zone)
		return a->zone < b->zone ? -1 : 1;
	if (a->state != b->state)
		return a->state < b->state ? -1 : 1;
	return 0;
}

static int aggregate(const struct machine *m, bool by_state, struct aggs *a)
{
	for (size_t i = 0; i < m->nblocks; i++)
		if (agg_add(a, &m->blocks[i], by_state) < 0)
			return -ENOMEM;
	if (a->n)
		qsort(a->v, a->n, sizeof(*a->v), agg_cmp);
	return 0;
}

static int machine_metrics(FILE *f, const struct machine *m)
{
	struct aggs by_state = { 0 }, by_zone = { 0 };
	int r;

	r = aggregate(m, true, &by_state);
	if (r >= 0)
		r = aggregate(m, false, &by_zone);
	if (r < 0)
		goto out;

	header(f, "memhpd_blocks", "gauge",
	       "Memory blocks by NUMA node, zone and state (zone \"none\": offline).");
	for (size_t i = 0; i < by_state.n; i++) {
		const struct agg *x = &by_state.v[i];

		fputs("memhpd_blocks{", f);
		put_node_label(f, x->node, true);
		put_label(f, "zone", x->zone == ZONE_ID_NONE ? "none" : zone_name(x->zone), false);
		put_label(f, "state", block_state_name(x->state), false);
		fprintf(f, "} %" PRIu64 "\n", x->blocks);
	}

	header(f, "memhpd_memory_bytes", "gauge",
	       "Bytes of memory blocks by NUMA node and zone (zone \"none\": offline).");
	for (size_t i = 0; i < by_zone.n; i++) {
		const struct agg *x = &by_zone.v[i];

		fputs("memhpd_memory_bytes{", f);
		put_node_label(f, x->node, true);
		put_label(f, "zone", x->zone == ZONE_ID_NONE ? "none" : zone_name(x->zone), false);
		fprintf(f, "} %" PRIu64 "\n", x->bytes);
	}

	header(f, "memhpd_memmap_bytes", "gauge",
	       "Bytes of memmap (struct pages) by NUMA node and where it lives: on the "
	       "hot-added memory itself (device) or in other RAM (ram).");
	for (size_t i = 0; i < m->nnodes; i++) {
		const struct numa_node *n = &m->nodes[i];

		fputs("memhpd_memmap_bytes{", f);
		put_node_label(f, n->id, true);
		fprintf(f, ",location=\"device\"} %" PRIu64 "\n", n->memmap_on_device_bytes);
		fputs("memhpd_memmap_bytes{", f);
		put_node_label(f, n->id, true);
		fprintf(f, ",location=\"ram\"} %" PRIu64 "\n", n->memmap_in_ram_bytes);
	}

	header(f, "memhpd_device_memmap_bytes", "gauge",
	       "Bytes of memmap (struct pages) of each memory device by where it lives.");
	for (size_t i = 0; i < m->ndevices; i++) {
		const struct mem_device *d = &m->devices[i];

		for (int loc = 0; loc < 2; loc++) {
			fputs("memhpd_device_memmap_bytes{", f);
			put_label(f, "device", d->id, true);
			put_label(f, "type", device_type_name(d->type), false);
			put_label(f, "location", loc ? "ram" : "device", false);
			fprintf(f, "} %" PRIu64 "\n",
				loc ? d->memmap_in_ram_bytes : d->memmap_on_device_bytes);
		}
	}
out:
	free(by_state.v);
	free(by_zone.v);
	return r;
}

static void counter_metrics(FILE *f, const struct counters *c)
{
	header(f, "memhpd_decisions_total", "counter",
	       "Decisions memhpd made for devices, by action.");
	labelled(f, "memhpd_decisions_total", "action", "online", c->decisions_online);
	labelled(f, "memhpd_decisions_total", "action", "leave", c->decisions_leave);
	simple(f, "memhpd_blocks_onlined_total", "counter", "Memory blocks memhpd onlined.",
	       c->blocks_onlined);
	simple(f, "memhpd_blocks_offlined_total", "counter",
	       "Memory blocks memhpd offlined on request.", c->blocks_offlined);
	simple(f, "memhpd_conflicts_total", "counter",
	       "Memory blocks found onlined by someone else before memhpd got to them.",
	       c->conflicts);
	header(f, "memhpd_failures_total", "counter",
	       "Memory blocks or devices memhpd could not bring online, by reason.");
	labelled(f, "memhpd_failures_total", "reason", "ebusy", c->failures_ebusy);
	labelled(f, "memhpd_failures_total", "reason", "einval", c->failures_einval);
	labelled(f, "memhpd_failures_total", "reason", "node_timeout", c->failures_node_timeout);
	labelled(f, "memhpd_failures_total", "reason", "other", c->failures_other);
	simple(f, "memhpd_events_total", "counter", "Memory and dax uevents received.", c->events);
	simple(f, "memhpd_batches_total", "counter", "Batches of events processed.", c->batches);
	simple(f, "memhpd_batches_early_total", "counter",
	       "Batches processed before the settle time was up: every DIMM in them fully added.",
	       c->batches_early);
	simple(f, "memhpd_rescans_total", "counter", "Full rescans of the memory sysfs tree.",
	       c->rescans);
	simple(f, "memhpd_enobufs_total", "counter",
	       "Times the uevent socket overflowed (ENOBUFS) and a rescan was needed.", c->enobufs);
	simple(f, "memhpd_dax_reconfigured_total", "counter",
	       "dax devices memhpd handed to kmem as system RAM.", c->dax_reconfigured);
	simple(f, "memhpd_reloads_total", "counter", "Configuration reloads.", c->reloads);
	simple(f, "memhpd_reload_failures_total", "counter",
	       "Configuration reloads that failed (the old configuration stays active).",
	       c->reload_failures);
}

char *metrics_render(const struct machine *m, const struct state *st, uint64_t now)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r = 0;

	if (!f)
		return NULL;
	if (m)
		r = machine_metrics(f, m);
	counter_metrics(f, &st->cnt);
	simple(f, "memhpd_last_update_timestamp_seconds", "gauge",
	       "Unix time memhpd last wrote this file.", now);
	if (ferror(f))
		r = -ENOMEM;
	if (fclose(f) != 0 || r < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int metrics_write(const char *path, const struct machine *m, const struct state *st)
{
	_cleanup_free_ char *text = NULL;

	if (!path || !*path)
		return 0;
	text = metrics_render(m, st, (uint64_t)time(NULL));
	if (!text)
		return -ENOMEM;
	return write_file_atomic(path, text, strlen(text));
}
