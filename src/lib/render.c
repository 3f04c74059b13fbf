// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * JSON views of the machine model and decisions (schema in memhpctl(8)).
 * Addresses are hex strings as lsmem prints them; sizes are byte integers.
 */
#include <inttypes.h>

#include "render.h"

static json_object *jstr_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static json_object *jhex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

static json_object *jnode(int node)
{
	return node >= 0 ? json_object_new_int(node) : NULL;
}

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

/*
 * The zones of mask in the kernel's order: its default zone first, then the
 * others ascending.  Returns how many were put in out.
 */
static size_t zones_in_order(unsigned mask, enum zone_id first, enum zone_id out[ZONE_ID_MAX])
{
	size_t n = 0;

	if (first != ZONE_ID_NONE && (mask & ZONE_BIT(first)))
		out[n++] = first;
	for (unsigned z = ZONE_ID_DMA; z < ZONE_ID_MAX; z++)
		if ((mask & ZONE_BIT(z)) && z != first)
			out[n++] = (enum zone_id)z;
	return n;
}

static json_object *zones_array(unsigned mask, enum zone_id first)
{
	json_object *a = json_object_new_array();
	enum zone_id z[ZONE_ID_MAX];
	size_t n = zones_in_order(mask, first, z);

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(zone_name(z[i])));
	return a;
}

json_object *render_block(const struct machine *m, const struct mem_block *b)
{
	json_object *o = json_object_new_object();

	add(o, "name", json_object_new_string(b->name));
	add(o, "index", json_object_new_int64((int64_t)b->index));
	add(o, "start", jhex(b->start));
	add(o, "size", json_object_new_int64((int64_t)b->size));
	add(o, "state", json_object_new_string(block_state_name(b->state)));
	add(o, "zone",
	    b->state == BLOCK_ONLINE && b->zone != ZONE_ID_NONE
		    ? json_object_new_string(zone_name(b->zone))
		    : NULL);
	add(o, "valid_zones", zones_array(b->valid_zones, b->zone_default));
	add(o, "node", jnode(b->node));
	add(o, "removable", b->removable >= 0 ? json_object_new_boolean(b->removable) : NULL);
	add(o, "device", b->device >= 0 ? json_object_new_string(m->devices[b->device].id) : NULL);
	add(o, "memmap", json_object_new_string(memmap_place_name(b->memmap)));
	add(o, "memmap_evidence", json_object_new_string(memmap_evidence_name(b->memmap_evidence)));
	add(o, "memmap_bytes", json_object_new_int64((int64_t)b->memmap_bytes));
	if (b->kernel_memmap_pages >= 0)
		add(o, "memmap_pages", json_object_new_int64(b->kernel_memmap_pages));
	if (b->fw_config >= 0)
		add(o, "configured", json_object_new_boolean(b->fw_config));
	if (b->firmware_node[0])
		add(o, "firmware_node", json_object_new_string(b->firmware_node));
	add(o, "error", b->error ? json_object_new_string(strerror(-b->error)) : NULL);
	return o;
}

/* "memory32-memory39,memory41": the block list compressed into ranges */
static json_object *block_list(const struct machine *m, const struct mem_device *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_object *o;

	if (!f)
		return NULL;
	for (size_t i = 0; i < d->nblocks;) {
		size_t j = i;

		while (j + 1 < d->nblocks &&
		       m->blocks[d->blocks[j + 1]].index == m->blocks[d->blocks[j]].index + 1)
			j++;
		fprintf(f, "%s%s", i ? "," : "", m->blocks[d->blocks[i]].name);
		if (j > i)
			fprintf(f, "-%s", m->blocks[d->blocks[j]].name);
		i = j + 1;
	}
	fclose(f);
	o = json_object_new_string(buf ? buf : "");
	free(buf);
	return o;
}

json_object *render_device(const struct machine *m, const struct mem_device *d)
{
	json_object *o = json_object_new_object();

	add(o, "id", json_object_new_string(d->id));
	add(o, "type", json_object_new_string(device_type_name(d->type)));
	add(o, "node", jnode(d->node));
	add(o, "start", jhex(d->start));
	add(o, "end", jhex(d->end ? d->end - 1 : 0));
	add(o, "size", json_object_new_int64((int64_t)d->size));
	add(o, "blocks", json_object_new_int64((int64_t)d->nblocks));
	add(o, "block_list", block_list(m, d));
	add(o, "online_blocks", json_object_new_int64((int64_t)d->online_blocks));
	add(o, "zone",
	    d->zone_mixed	      ? json_object_new_string("mixed")
	    : d->zone != ZONE_ID_NONE ? json_object_new_string(zone_name(d->zone))
				      : NULL);
	add(o, "memmap", json_object_new_string(memmap_place_name(d->memmap)));
	add(o, "memmap_evidence", json_object_new_string(memmap_evidence_name(d->memmap_evidence)));
	add(o, "memmap_on_device_bytes", json_object_new_int64((int64_t)d->memmap_on_device_bytes));
	add(o, "memmap_in_ram_bytes", json_object_new_int64((int64_t)d->memmap_in_ram_bytes));
	add(o, "dax", d->dax >= 0 ? json_object_new_string(m->dax[d->dax].name) : NULL);
	return o;
}

json_object *render_node(const struct machine *m, const struct numa_node *n)
{
	json_object *o = json_object_new_object();

	add(o, "node", json_object_new_int(n->id));
	add(o, "kernel_bytes", json_object_new_int64((int64_t)n->kernel_bytes));
	add(o, "movable_bytes", json_object_new_int64((int64_t)n->movable_bytes));
	add(o, "offline_bytes", json_object_new_int64((int64_t)n->offline_bytes));
	/* MOVABLE:KERNEL in percent, as memory_hotplug.auto_movable_ratio counts it */
	add(o, "movable_ratio",
	    n->kernel_bytes
		    ? json_object_new_int64((int64_t)(n->movable_bytes * 100 / n->kernel_bytes))
		    : NULL);
	add(o, "memmap_on_device_bytes", json_object_new_int64((int64_t)n->memmap_on_device_bytes));
	add(o, "memmap_in_ram_bytes", json_object_new_int64((int64_t)n->memmap_in_ram_bytes));
	add(o, "mem_total",
	    n->meminfo.has_total ? json_object_new_int64((int64_t)n->meminfo.total) : NULL);
	add(o, "mem_free",
	    n->meminfo.has_free ? json_object_new_int64((int64_t)n->meminfo.free) : NULL);
	add(o, "kernel_free_bytes",
	    n->kernel_free_known ? json_object_new_int64((int64_t)n->kernel_free_bytes) : NULL);
	return o;
}

static const char *dax_mode(const struct dax_device *d)
{
	if (streq(d->driver, "kmem"))
		return "system-ram";
	if (streq(d->driver, "device_dax"))
		return "devdax";
	return d->driver[0] ? d->driver : "unbound";
}

json_object *render_dax(const struct machine *m, const struct dax_device *d)
{
	json_object *o = json_object_new_object();

	add(o, "name", json_object_new_string(d->name));
	add(o, "mode", json_object_new_string(dax_mode(d)));
	add(o, "kind", json_object_new_string(d->kind[0] ? d->kind : "unknown"));
	add(o, "region", jstr_or_null(d->region));
	add(o, "uuid", jstr_or_null(d->uuid));
	add(o, "target_node", jnode(d->target_node));
	add(o, "start", jhex(d->start));
	add(o, "size", json_object_new_int64((int64_t)d->size));
	add(o, "memmap_on_memory",
	    d->memmap_on_memory >= 0 ? json_object_new_boolean(d->memmap_on_memory) : NULL);
	add(o, "device", d->device >= 0 ? json_object_new_string(m->devices[d->device].id) : NULL);
	return o;
}

json_object *render_decision(const struct machine *m, const struct mem_device *d,
			     const struct decision *dec)
{
	json_object *o = json_object_new_object();
	json_object *reasons = json_object_new_array();
	json_object *blocks = json_object_new_object();

	add(o, "action", json_object_new_string(dec->action == DECIDE_ONLINE ? "online" : "leave"));
	add(o, "dax_to_system_ram", json_object_new_boolean(dec->dax_to_system_ram));
	add(o, "zone",
	    dec->zone != ZC_UNSET ? json_object_new_string(zone_choice_name(dec->zone)) : NULL);
	add(o, "movable_blocks", json_object_new_int64((int64_t)dec->n_movable));
	add(o, "kernel_blocks", json_object_new_int64((int64_t)dec->n_kernel));
	add(o, "memmap", json_object_new_string(memmap_place_name(dec->memmap)));
	add(o, "memmap_choosable", json_object_new_boolean(dec->memmap_choosable));
	add(o, "rule", dec->rule ? json_object_new_string(dec->rule->name) : NULL);
	add(o, "config_error", json_object_new_boolean(dec->config_error));
	for (size_t i = 0; i < dec->reasons.n; i++)
		json_object_array_add(reasons, json_object_new_string(dec->reasons.v[i]));
	add(o, "reasons", reasons);
	if (d && dec->block_zone) {
		for (size_t i = 0; i < dec->nblocks && i < d->nblocks; i++)
			if (dec->block_zone[i] != ZC_UNSET)
				add(blocks, m->blocks[d->blocks[i]].name,
				    json_object_new_string(zone_choice_name(dec->block_zone[i])));
	}
	add(o, "block_zones", blocks);
	return o;
}

static json_object *render_kernel(const struct machine *m)
{
	json_object *o = json_object_new_object();
	const struct hotplug_params *p = &m->params;

	add(o, "memmap_on_memory",
	    p->memmap_on_memory != MEMMAP_PARAM_UNKNOWN
		    ? json_object_new_string(memmap_param_name(p->memmap_on_memory))
		    : NULL);
	add(o, "memmap_param_writable", json_object_new_boolean(p->memmap_param_writable));
	add(o, "online_policy", jstr_or_null(p->online_policy));
	add(o, "auto_movable_ratio",
	    p->auto_movable_ratio >= 0 ? json_object_new_int(p->auto_movable_ratio) : NULL);
	add(o, "auto_online_blocks",
	    p->auto_online_blocks != AUTO_ONLINE_UNKNOWN
		    ? json_object_new_string(auto_online_name(p->auto_online_blocks))
		    : NULL);
	add(o, "kernel_memmap_attr", json_object_new_boolean(m->has_kernel_memmap_attr));
	add(o, "firmware_memory", json_object_new_boolean(m->has_fw_memory));
	add(o, "s390", json_object_new_boolean(m->is_s390));
	return o;
}

/* What comes before the block list: block size and kernel facts. */
static void add_head(json_object *o, const struct machine *m)
{
	add(o, "block_size", json_object_new_int64((int64_t)m->block_size));
	add(o, "kernel", render_kernel(m));
}

/* What comes after it: devices, nodes, dax, totals, errors. */
static void add_tail(json_object *o, const struct machine *m, unsigned what)
{
	json_object *a, *t;
	uint64_t online = 0, offline = 0;

	if (what & RENDER_DEVICES) {
		a = json_object_new_array();
		for (size_t i = 0; i < m->ndevices; i++)
			json_object_array_add(a, render_device(m, &m->devices[i]));
		add(o, "devices", a);
	}
	if (what & RENDER_NODES) {
		a = json_object_new_array();
		for (size_t i = 0; i < m->nnodes; i++)
			json_object_array_add(a, render_node(m, &m->nodes[i]));
		add(o, "nodes", a);
	}
	if (what & RENDER_DAX) {
		a = json_object_new_array();
		for (size_t i = 0; i < m->ndax; i++)
			json_object_array_add(a, render_dax(m, &m->dax[i]));
		add(o, "dax", a);
	}
	for (size_t i = 0; i < m->nblocks; i++) {
		if (m->blocks[i].state == BLOCK_ONLINE || m->blocks[i].state == BLOCK_GOING_OFFLINE)
			online += m->blocks[i].size;
		else if (m->blocks[i].state == BLOCK_OFFLINE)
			offline += m->blocks[i].size;
	}
	t = json_object_new_object();
	add(t, "online_bytes", json_object_new_int64((int64_t)online));
	add(t, "offline_bytes", json_object_new_int64((int64_t)offline));
	add(t, "memmap_on_device_bytes", json_object_new_int64((int64_t)m->memmap_on_device_bytes));
	add(t, "memmap_in_ram_bytes", json_object_new_int64((int64_t)m->memmap_in_ram_bytes));
	add(o, "totals", t);
	a = json_object_new_array();
	for (size_t i = 0; i < m->nerrors; i++) {
		json_object *e = json_object_new_object();

		add(e, "path", json_object_new_string(m->errors[i].path));
		add(e, "error",
		    json_object_new_string(strerrorname_np(-m->errors[i].err)
						   ? strerrorname_np(-m->errors[i].err)
						   : "EINVAL"));
		add(e, "message", json_object_new_string(m->errors[i].msg));
		json_object_array_add(a, e);
	}
	add(o, "errors", a);
}

json_object *render_machine(const struct machine *m, unsigned what)
{
	json_object *o = json_object_new_object();

	add_head(o, m);
	if (what & RENDER_BLOCKS) {
		json_object *a = json_object_new_array_ext((int)m->nblocks);

		for (size_t i = 0; i < m->nblocks; i++)
			json_object_array_add(a, render_block(m, &m->blocks[i]));
		add(o, "blocks", a);
	}
	add_tail(o, m, what);
	return o;
}

/*
 * s with every line after the first indented by `indent` (<= 8) spaces.
 * fwrite, not fprintf: a block is 17 lines, and at 65,536 blocks the
 * format parsing alone was a third of `memhpctl list --json`'s user time.
 */
static void put_indented(FILE *f, const char *s, int indent)
{
	static const char nl_pad[] = "\n        ";
	size_t pad = indent < 0 ? 0 : indent > 8 ? 8 : (size_t)indent;

	for (const char *nl; (nl = strchr(s, '\n')); s = nl + 1) {
		fwrite(s, 1, (size_t)(nl - s), f);
		fwrite(nl_pad, 1, pad + 1, f);
	}
	fputs(s, f);
}

/*
 * The member text of a pretty-printed object: "{\n  ...\n}" without its
 * braces and the newlines next to them ("" for an empty object).
 */
static void put_members(FILE *f, json_object *o, int flags)
{
	const char *s = json_object_to_json_string_ext(o, flags);
	size_t len = strlen(s);

	if (len < 4 || s[0] != '{' || s[1] != '\n' || s[len - 1] != '}' || s[len - 2] != '\n')
		return;
	fwrite(s + 2, 1, len - 4, f);
}

/*
 * One block of `memhpctl list --json` written directly, byte for byte the
 * text put_indented(render_block(), 4) gives with FAST_FLAGS: building and
 * serializing 17 json-c objects per block was most of the time left in
 * printing 65,536 blocks, and json-c has no streaming writer.  Anything
 * this does not write itself goes through json-c: strings other than
 * plain printable ASCII (json-c's escaping is the reference) and other
 * flags (render_machine_print falls back to render_block).  The unit test
 * compares the two on every kind of block.
 */
#define FAST_FLAGS \
	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
#define MEMBER "\n      "

static void put_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	json_object *o;

	for (; *p; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			break;
	if (!*p) {
		fputc('"', f);
		fputs(s, f);
		fputc('"', f);
		return;
	}
	o = json_object_new_string(s);
	fputs(o ? json_object_to_json_string_ext(o, FAST_FLAGS) : "null", f);
	json_object_put(o);
}

static void put_key(FILE *f, const char *key)
{
	fputs("," MEMBER "\"", f);
	fputs(key, f);
	fputs("\": ", f);
}

static void put_int(FILE *f, int64_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	*--p = '\0';
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	fputs(p, f);
}

static void put_member_str(FILE *f, const char *key, const char *s)
{
	put_key(f, key);
	if (s)
		put_str(f, s);
	else
		fputs("null", f);
}

static void put_member_int(FILE *f, const char *key, int64_t v)
{
	put_key(f, key);
	put_int(f, v);
}

static void put_block(FILE *f, const struct machine *m, const struct mem_block *b)
{
	enum zone_id zones[ZONE_ID_MAX];
	char hex[24];
	size_t n;

	fputs("{" MEMBER "\"name\": ", f);
	put_str(f, b->name);
	put_member_int(f, "index", (int64_t)b->index);
	snprintf(hex, sizeof(hex), "0x%" PRIx64, b->start);
	put_member_str(f, "start", hex);
	put_member_int(f, "size", (int64_t)b->size);
	put_member_str(f, "state", block_state_name(b->state));
	put_member_str(f, "zone",
		       b->state == BLOCK_ONLINE && b->zone != ZONE_ID_NONE ? zone_name(b->zone)
									   : NULL);
	put_key(f, "valid_zones");
	fputs("[", f);
	n = zones_in_order(b->valid_zones, b->zone_default, zones);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n        " : "\n        ", f);
		put_str(f, zone_name(zones[i]));
	}
	fputs(MEMBER "]", f);
	if (b->node >= 0)
		put_member_int(f, "node", b->node);
	else
		put_member_str(f, "node", NULL);
	put_key(f, "removable");
	fputs(b->removable < 0 ? "null" : b->removable ? "true" : "false", f);
	put_member_str(f, "device", b->device >= 0 ? m->devices[b->device].id : NULL);
	put_member_str(f, "memmap", memmap_place_name(b->memmap));
	put_member_str(f, "memmap_evidence", memmap_evidence_name(b->memmap_evidence));
	put_member_int(f, "memmap_bytes", (int64_t)b->memmap_bytes);
	if (b->kernel_memmap_pages >= 0)
		put_member_int(f, "memmap_pages", b->kernel_memmap_pages);
	if (b->fw_config >= 0) {
		put_key(f, "configured");
		fputs(b->fw_config ? "true" : "false", f);
	}
	if (b->firmware_node[0])
		put_member_str(f, "firmware_node", b->firmware_node);
	put_member_str(f, "error", b->error ? strerror(-b->error) : NULL);
	fputs("\n    }", f);
}

/*
 * render_machine() printed, without holding the tree of every block: each
 * block is built, printed and freed in turn.  At 65,536 blocks the whole
 * tree took 250 MB and most of `memhpctl list --json`'s time in malloc.
 * json-c serializes every value; only the punctuation between the
 * top-level members is written here, so that the text is byte for byte
 * what json_object_to_json_string_ext(render_machine(), flags) gives with
 * JSON_C_TO_STRING_PRETTY (which flags must include).
 */
int render_machine_print(FILE *f, const struct machine *m, unsigned what, int flags)
{
	json_object *head = json_object_new_object(), *tail = json_object_new_object();
	int r = 0;

	if (!head || !tail || !(flags & JSON_C_TO_STRING_PRETTY)) {
		r = -EINVAL;
		goto out;
	}
	add_head(head, m);
	add_tail(tail, m, what);
	fputs("{\n", f);
	put_members(f, head, flags);
	if (what & RENDER_BLOCKS) {
		fputs(",\n  \"blocks\": [", f);
		for (size_t i = 0; i < m->nblocks; i++) {
			json_object *b;

			fputs(i ? ",\n    " : "\n    ", f);
			if (flags == FAST_FLAGS) {
				put_block(f, m, &m->blocks[i]);
				continue;
			}
			b = render_block(m, &m->blocks[i]);
			if (!b) {
				r = -ENOMEM;
				goto out;
			}
			put_indented(f, json_object_to_json_string_ext(b, flags), 4);
			json_object_put(b);
		}
		fputs("\n  ]", f);
	}
	fputs(",\n", f);
	put_members(f, tail, flags);
	fputs("\n}", f);
out:
	json_object_put(head);
	json_object_put(tail);
	if (!r && ferror(f))
		r = -EIO;
	return r;
}
