// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What memhpd knows and did, per device, plus its counters: kept in memory,
 * written to /run/memhpd/state.json after every batch that changed it, read
 * back at start and reconciled with sysfs (sysfs always wins).
 *
 * The file is ours, but anything may have happened to it (a crash half way
 * through an older version's write, an admin's editor, a full tmpfs), so the
 * reader trusts nothing: every field's type and range is checked and the
 * first problem is reported as "PATH: devices[3].onlined: expected integer".
 * Fields it does not know are ignored (a newer memhpd may add some); fields
 * it knows may be missing (an older one did not write them), except the few
 * nothing works without.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "memhpd.h"

#define STATE_VERSION 1
#define STATE_MAX_BYTES (64 * MiB)

static const struct {
	const char *name;
	size_t off;
} counter_fields[] = {
/* clang-format off */
#define C(f) { #f, offsetof(struct counters, f) }
	C(events),
	C(batches),
	C(batches_early),
	C(rescans),
	C(enobufs),
	C(decisions_online),
	C(decisions_leave),
	C(blocks_onlined),
	C(blocks_offlined),
	C(conflicts),
	C(failures_ebusy),
	C(failures_einval),
	C(failures_other),
	C(failures_node_timeout),
	C(dax_reconfigured),
	C(reloads),
	C(reload_failures),
#undef C
	/* clang-format on */
};
/* a counter added to struct counters must be added to the table too */
_Static_assert(sizeof(struct counters) == ARRAY_SIZE(counter_fields) * sizeof(uint64_t),
	       "counter_fields does not cover struct counters");

static uint64_t *counter_ptr(struct counters *c, size_t i)
{
	return (uint64_t *)((char *)c + counter_fields[i].off);
}

static uint64_t counter_get(const struct counters *c, size_t i)
{
	return *(const uint64_t *)((const char *)c + counter_fields[i].off);
}

/* ---- records ---- */

struct dev_record *state_find(struct state *st, const char *id)
{
	for (size_t i = 0; i < st->ndev; i++) {
		if (streq(st->dev[i].id, id)) {
			st->dev[i].touched = true;
			return &st->dev[i];
		}
	}
	return NULL;
}

struct dev_record *state_record(struct state *st, const char *id, enum device_type type)
{
	struct dev_record *rec = state_find(st, id);

	if (!rec) {
		if (strlen(id) >= DEVICE_ID_MAX)
			return NULL;
		if (grow_array((void **)&st->dev, &st->cap, st->ndev + 1, sizeof(*st->dev)) < 0)
			return NULL;
		rec = &st->dev[st->ndev++];
		memset(rec, 0, sizeof(*rec));
		strscpy_safe(rec->id, id, sizeof(rec->id));
		rec->type = type;
		st->dirty = true;
	}
	if (rec->type != type) {
		rec->type = type;
		st->dirty = true;
	}
	rec->seen = true;
	rec->touched = true;
	return rec;
}

static void record_free(struct dev_record *rec)
{
	strv_clear(&rec->reasons);
	idxset_clear(&rec->handled);
	free(rec->json);
	free(rec->json_key);
}

static void state_drop(struct state *st, size_t i)
{
	record_free(&st->dev[i]);
	memmove(&st->dev[i], &st->dev[i + 1], (st->ndev - i - 1) * sizeof(*st->dev));
	st->ndev--;
	st->dirty = true;
}

void state_free(struct state *st)
{
	for (size_t i = 0; i < st->ndev; i++)
		record_free(&st->dev[i]);
	free(st->dev);
	memset(st, 0, sizeof(*st));
}

/* ---- writing ---- */

static json_object *record_to_json(const struct dev_record *rec)
{
	json_object *o = json_object_new_object(), *reasons = json_object_new_array();
	char *handled = NULL;

	if (!o || !reasons) {
		json_object_put(o);
		json_object_put(reasons);
		return NULL;
	}
	for (size_t i = 0; i < rec->reasons.n; i++)
		json_object_array_add(reasons, json_object_new_string(rec->reasons.v[i]));
	json_object_object_add(o, "id", json_object_new_string(rec->id));
	json_object_object_add(o, "type", json_object_new_string(device_type_name(rec->type)));
	json_object_object_add(o, "decision", json_object_new_string(rec->decision));
	json_object_object_add(o, "zone", json_object_new_string(rec->zone));
	json_object_object_add(o, "memmap", json_object_new_string(rec->memmap));
	json_object_object_add(o, "memmap_chosen", json_object_new_boolean(rec->memmap_chosen));
	json_object_object_add(o, "reasons", reasons);
	json_object_object_add(o, "decided_at", json_object_new_uint64(rec->decided_at));
	json_object_object_add(o, "applied_at", json_object_new_uint64(rec->applied_at));
	json_object_object_add(o, "onlined", json_object_new_int64(rec->onlined));
	json_object_object_add(o, "by_other", json_object_new_int64(rec->by_other));
	json_object_object_add(o, "failed", json_object_new_int64(rec->failed));
	json_object_object_add(o, "last_error", json_object_new_string(rec->last_error));
	json_object_object_add(o, "memmap_on_device_bytes",
			       json_object_new_uint64(rec->memmap_on_device_bytes));
	json_object_object_add(o, "memmap_in_ram_bytes",
			       json_object_new_uint64(rec->memmap_in_ram_bytes));
	if (idxset_format(&rec->handled, &handled) < 0) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "handled_blocks", json_object_new_string(handled));
	free(handled);
	return o;
}

/* The state without its devices: version, updated, counters.  NULL on ENOMEM. */
static json_object *state_head_json(const struct state *st)
{
	json_object *root = json_object_new_object(), *cnt = json_object_new_object();

	if (!root || !cnt) {
		json_object_put(root);
		json_object_put(cnt);
		return NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(counter_fields); i++)
		json_object_object_add(cnt, counter_fields[i].name,
				       json_object_new_uint64(counter_get(&st->cnt, i)));
	json_object_object_add(root, "version", json_object_new_int(STATE_VERSION));
	json_object_object_add(root, "updated", json_object_new_uint64((uint64_t)time(NULL)));
	json_object_object_add(root, "counters", cnt);
	return root;
}

json_object *state_to_json(const struct state *st)
{
	json_object *root = state_head_json(st), *devs = json_object_new_array();

	if (!root || !devs) {
		json_object_put(root);
		json_object_put(devs);
		return NULL;
	}
	for (size_t i = 0; i < st->ndev; i++) {
		json_object *o = record_to_json(&st->dev[i]);

		if (!o) {
			json_object_put(root);
			json_object_put(devs);
			return NULL;
		}
		json_object_array_add(devs, o);
	}
	json_object_object_add(root, "devices", devs);
	return root;
}

/*
 * Everything record_to_json() prints, as bytes (the handled blocks by
 * their set's gen): records with equal keys have equal JSON.  Exact,
 * unlike a hash: a stale record in the state file would tell the next
 * memhpd a wrong story.  One walk over the fields
 * either compares them with a kept key (cmp) or writes a new one (out).
 */
struct key_walk {
	const char *cmp; /* the kept key, or NULL */
	size_t cmp_len;
	char *out; /* NULL while only comparing or counting */
	size_t len; /* bytes walked */
	bool differs;
};

static void key_bytes(struct key_walk *k, const void *p, size_t n)
{
	if (k->cmp && !k->differs)
		k->differs = k->len + n > k->cmp_len || memcmp(k->cmp + k->len, p, n);
	if (k->out)
		memcpy(k->out + k->len, p, n);
	k->len += n;
}

/* A string with its NUL, so that "a","bc" and "ab","c" differ. */
static void key_str(struct key_walk *k, const char *s)
{
	key_bytes(k, s, strlen(s) + 1);
}

#define KEY(k, field) key_bytes(k, &(field), sizeof(field))

static void record_key(struct key_walk *k, const struct dev_record *rec)
{
	key_str(k, rec->id);
	KEY(k, rec->type);
	key_str(k, rec->decision);
	key_str(k, rec->zone);
	key_str(k, rec->memmap);
	KEY(k, rec->memmap_chosen);
	KEY(k, rec->decided_at);
	KEY(k, rec->applied_at);
	KEY(k, rec->onlined);
	KEY(k, rec->by_other);
	KEY(k, rec->failed);
	key_str(k, rec->last_error);
	KEY(k, rec->memmap_on_device_bytes);
	KEY(k, rec->memmap_in_ram_bytes);
	KEY(k, rec->reasons.n);
	for (size_t i = 0; i < rec->reasons.n; i++)
		key_str(k, rec->reasons.v[i]);
	/*
	 * Not the members: comparing them on every write was a tenth of a
	 * batch at 65,536 blocks.  An idxset's gen is new after every change
	 * to it (idxset.h), so an equal gen means the same members, exactly.
	 */
	KEY(k, rec->handled.n);
	KEY(k, rec->handled.gen);
}

/* Whether the record still says what its kept JSON was made from. */
static bool record_unchanged(const struct dev_record *rec)
{
	struct key_walk k = { .cmp = rec->json_key, .cmp_len = rec->json_key_len };

	if (!rec->json)
		return false;
	record_key(&k, rec);
	return !k.differs && k.len == rec->json_key_len;
}

static int record_key_new(const struct dev_record *rec, char **out, size_t *len)
{
	struct key_walk k = { 0 };

	record_key(&k, rec); /* counts */
	k.out = malloc(k.len ? k.len : 1);
	if (!k.out)
		return -ENOMEM;
	*len = k.len;
	k.len = 0;
	record_key(&k, rec);
	*out = k.out;
	return 0;
}

/*
 * The record's JSON as an element of "devices" (indented by 4, as json-c
 * prints it there), made again only when the record changed: a batch
 * changes a few records, and serializing all of them on every write was a
 * third of a batch's cost at 65,536 blocks.  Only records looked up since
 * (dev_record.touched) are compared with their key: comparing all 768 of
 * the 65k tree on every write was a tenth of a batch.
 */
static int record_text(struct dev_record *rec)
{
	_cleanup_free_ char *key = NULL;
	const char *s;
	json_object *o;
	size_t klen = 0, len = 0, lines = 1;
	char *text, *t;
	int r;

	/* not looked up since its JSON was made: nothing can have changed it */
	if (!rec->touched && rec->json) {
#ifdef MEMHP_SELF_CHECK
		/* the sanitizer test pass: such a change would never be written */
		if (!record_unchanged(rec)) {
			fprintf(stderr,
				"memhpd: BUG: state record %s changed without a lookup since the "
				"last write (see dev_record.touched)\n",
				rec->id);
			abort();
		}
#endif
		return 0;
	}
	rec->touched = false;
	if (record_unchanged(rec))
		return 0;
	r = record_key_new(rec, &key, &klen);
	if (r < 0)
		goto fail;
	o = record_to_json(rec);
	if (!o) {
		r = -ENOMEM;
		goto fail;
	}
	s = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	for (size_t i = 0; s && i < len; i++)
		lines += s[i] == '\n';
	text = s ? malloc(len + 4 * lines + 1) : NULL;
	if (!text) {
		json_object_put(o);
		r = -ENOMEM;
		goto fail;
	}
	t = text;
	for (size_t i = 0; i < len; i++) {
		if (i == 0 || s[i - 1] == '\n')
			t = mempcpy(t, "    ", 4);
		*t++ = s[i];
	}
	*t = '\0';
	json_object_put(o);
	free(rec->json);
	free(rec->json_key);
	rec->json = text;
	rec->json_len = (size_t)(t - text);
	rec->json_key = TAKE_PTR(key);
	rec->json_key_len = klen;
	return 0;
fail:
	rec->touched = true; /* its JSON is still the old one */
	return r;
}

/*
 * The same text as json-c would print for state_to_json(): the head
 * (version, updated, counters) from json-c, the devices spliced in from
 * each record's kept JSON.  test-state compares the two byte for byte.
 */
int state_write(struct state *st, const char *path)
{
	static const char devices[] = ",\n  \"devices\":[\n", end[] = "  ]\n}\n";
	_cleanup_free_ char *text = NULL;
	json_object *head;
	size_t hlen = 0, len;
	const char *h;
	char *t;
	int r;

	for (size_t i = 0; i < st->ndev; i++) {
		r = record_text(&st->dev[i]);
		if (r < 0)
			return r;
	}
	head = state_head_json(st);
	if (!head)
		return -ENOMEM;
	h = json_object_to_json_string_length(
		head, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &hlen);
	/* json-c's text of the head ends in "\n}": the devices go before that */
	if (!h || hlen < 2 || memcmp(h + hlen - 2, "\n}", 2)) {
		json_object_put(head);
		return -ENOMEM;
	}
	len = hlen - 2 + strlen(devices) + strlen(end);
	for (size_t i = 0; i < st->ndev; i++)
		len += st->dev[i].json_len + 2;
	text = malloc(len + 1);
	if (!text) {
		json_object_put(head);
		return -ENOMEM;
	}
	t = mempcpy(text, h, hlen - 2);
	json_object_put(head);
	t = mempcpy(t, devices, strlen(devices));
	for (size_t i = 0; i < st->ndev; i++) {
		t = mempcpy(t, st->dev[i].json, st->dev[i].json_len);
		t = mempcpy(t, i + 1 < st->ndev ? ",\n" : "\n", i + 1 < st->ndev ? 2 : 1);
	}
	t = mempcpy(t, end, strlen(end));
	return write_file_atomic(path, text, (size_t)(t - text));
}

/* ---- reading ---- */

struct reader {
	const char *path;
	char *msg;
	size_t msglen;
};

static int __printf(3, 4) bad(struct reader *rd, const char *field, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (field && *field)
		snprintf(rd->msg, rd->msglen, "%s: %s: %s", rd->path, field, what);
	else
		snprintf(rd->msg, rd->msglen, "%s: %s", rd->path, what);
	return -EINVAL;
}

/*
 * Look up key in obj.  Returns 1 with *v set, 0 if absent and optional,
 * -EINVAL if absent and required.  A JSON null is present (and then fails
 * the type check of the caller).
 */
static int field(struct reader *rd, json_object *obj, const char *key, const char *name,
		 bool required, json_object **v)
{
	if (json_object_object_get_ex(obj, key, v))
		return 1;
	if (required)
		return bad(rd, name, "missing");
	return 0;
}

static int get_u64(struct reader *rd, json_object *obj, const char *key, const char *prefix,
		   bool required, uint64_t max, uint64_t *out)
{
	char name[96];
	json_object *v;
	int r;

	snprintf(name, sizeof(name), "%s%s", prefix, key);
	r = field(rd, obj, key, name, required, &v);
	if (r <= 0)
		return r;
	if (!json_object_is_type(v, json_type_int))
		return bad(rd, name, "expected integer");
	if (json_object_get_int64(v) < 0)
		return bad(rd, name, "expected a non-negative integer, got %" PRId64,
			   json_object_get_int64(v));
	if (json_object_get_uint64(v) > max)
		return bad(rd, name, "%" PRIu64 " is out of range (at most %" PRIu64 ")",
			   json_object_get_uint64(v), max);
	*out = json_object_get_uint64(v);
	return 0;
}

static int get_uint(struct reader *rd, json_object *obj, const char *key, const char *prefix,
		    unsigned *out)
{
	uint64_t v = *out;
	int r;

	r = get_u64(rd, obj, key, prefix, false, UINT_MAX, &v);
	*out = (unsigned)v;
	return r;
}

static int check_string(struct reader *rd, json_object *v, const char *name, size_t size)
{
	size_t len = 0;

	if (!json_object_is_type(v, json_type_string))
		return bad(rd, name, "expected string");
	len = (size_t)json_object_get_string_len(v);
	if (strlen(json_object_get_string(v)) != len)
		return bad(rd, name, "string contains a NUL byte");
	if (size && len >= size)
		return bad(rd, name, "string longer than %zu bytes", size - 1);
	return 0;
}

static int get_str(struct reader *rd, json_object *obj, const char *key, const char *prefix,
		   bool required, char *dst, size_t size)
{
	char name[96];
	json_object *v;
	int r;

	snprintf(name, sizeof(name), "%s%s", prefix, key);
	r = field(rd, obj, key, name, required, &v);
	if (r <= 0)
		return r;
	r = check_string(rd, v, name, size);
	if (r < 0)
		return r;
	strscpy_safe(dst, json_object_get_string(v), size);
	return 0;
}

static int get_bool(struct reader *rd, json_object *obj, const char *key, const char *prefix,
		    bool *out)
{
	char name[96];
	json_object *v;
	int r;

	snprintf(name, sizeof(name), "%s%s", prefix, key);
	r = field(rd, obj, key, name, false, &v);
	if (r <= 0)
		return r;
	if (!json_object_is_type(v, json_type_boolean))
		return bad(rd, name, "expected boolean");
	*out = json_object_get_boolean(v);
	return 0;
}

static int read_reasons(struct reader *rd, json_object *obj, const char *prefix, struct strv *out)
{
	char name[96];
	json_object *v;
	size_t n;
	int r;

	snprintf(name, sizeof(name), "%sreasons", prefix);
	r = field(rd, obj, "reasons", name, false, &v);
	if (r <= 0)
		return r;
	if (!json_object_is_type(v, json_type_array))
		return bad(rd, name, "expected array");
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(v, i);

		snprintf(name, sizeof(name), "%sreasons[%zu]", prefix, i);
		r = check_string(rd, s, name, 0);
		if (r < 0)
			return r;
		if (strv_push(out, json_object_get_string(s)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* "handled_blocks": "32-39,41" (optional: files from before it existed) */
static int read_handled(struct reader *rd, json_object *obj, const char *prefix,
			struct idxset *out)
{
	char name[96];
	json_object *v;
	int r;

	snprintf(name, sizeof(name), "%shandled_blocks", prefix);
	r = field(rd, obj, "handled_blocks", name, false, &v);
	if (r <= 0)
		return r;
	if (!json_object_is_type(v, json_type_string))
		return bad(rd, name, "expected string");
	r = idxset_parse(json_object_get_string(v), out);
	if (r == -EINVAL)
		return bad(rd, name, "expected block ranges like \"32-39,41\"");
	return r;
}

static int read_record(struct reader *rd, json_object *o, size_t idx, struct state *st)
{
	char prefix[48], name[64], type[32];
	struct dev_record rec = { 0 };
	int r;

	snprintf(prefix, sizeof(prefix), "devices[%zu].", idx);
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(name, sizeof(name), "devices[%zu]", idx);
		return bad(rd, name, "expected object");
	}

	r = get_str(rd, o, "id", prefix, true, rec.id, sizeof(rec.id));
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%sid", prefix);
	if (!rec.id[0])
		return bad(rd, name, "empty device id");
	if (state_find(st, rec.id))
		return bad(rd, name, "duplicate device \"%s\"", rec.id);
	r = get_str(rd, o, "type", prefix, true, type, sizeof(type));
	if (r < 0)
		return r;
	if (parse_device_type(type, &rec.type) < 0) {
		snprintf(name, sizeof(name), "%stype", prefix);
		return bad(rd, name, "unknown device type \"%s\"", type);
	}

	r = get_str(rd, o, "decision", prefix, false, rec.decision, sizeof(rec.decision));
	if (r >= 0)
		r = get_str(rd, o, "zone", prefix, false, rec.zone, sizeof(rec.zone));
	if (r >= 0)
		r = get_str(rd, o, "memmap", prefix, false, rec.memmap, sizeof(rec.memmap));
	if (r >= 0)
		r = get_bool(rd, o, "memmap_chosen", prefix, &rec.memmap_chosen);
	if (r >= 0)
		r = read_reasons(rd, o, prefix, &rec.reasons);
	if (r >= 0)
		r = get_u64(rd, o, "decided_at", prefix, false, UINT64_MAX, &rec.decided_at);
	if (r >= 0)
		r = get_u64(rd, o, "applied_at", prefix, false, UINT64_MAX, &rec.applied_at);
	if (r >= 0)
		r = get_uint(rd, o, "onlined", prefix, &rec.onlined);
	if (r >= 0)
		r = get_uint(rd, o, "by_other", prefix, &rec.by_other);
	if (r >= 0)
		r = get_uint(rd, o, "failed", prefix, &rec.failed);
	if (r >= 0)
		r = get_str(rd, o, "last_error", prefix, false, rec.last_error,
			    sizeof(rec.last_error));
	if (r >= 0)
		r = get_u64(rd, o, "memmap_on_device_bytes", prefix, false, UINT64_MAX,
			    &rec.memmap_on_device_bytes);
	if (r >= 0)
		r = get_u64(rd, o, "memmap_in_ram_bytes", prefix, false, UINT64_MAX,
			    &rec.memmap_in_ram_bytes);
	if (r >= 0)
		r = read_handled(rd, o, prefix, &rec.handled);
	if (r >= 0)
		r = grow_array((void **)&st->dev, &st->cap, st->ndev + 1, sizeof(*st->dev));
	if (r < 0) {
		record_free(&rec);
		return r;
	}
	st->dev[st->ndev++] = rec; /* seen stays false until reconciled */
	return 0;
}

static int parse_state(struct reader *rd, const char *text, size_t len, struct state *st)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *root, *v;
	enum json_tokener_error jerr;
	uint64_t u;
	size_t end;
	int r;

	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* text[len] is a NUL: handing it over tells the tokener the input ends there */
	root = json_tokener_parse_ex(tok, text, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root) {
		if (jerr == json_tokener_success) /* a JSON null */
			return bad(rd, NULL, "expected a JSON object at the top level");
		if (jerr == json_tokener_continue || jerr == json_tokener_error_parse_eof)
			return bad(rd, NULL, "truncated JSON (unexpected end of file)");
		return bad(rd, NULL, "invalid JSON at offset %zu: %s", end,
			   json_tokener_error_desc(jerr));
	}
	while (end < len && strchr(" \t\r\n", text[end]) && text[end])
		end++;
	if (end < len) {
		r = bad(rd, NULL,
			"invalid JSON at offset %zu: trailing data after the top-level value", end);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		r = bad(rd, NULL, "expected a JSON object at the top level");
		goto out;
	}

	r = get_u64(rd, root, "version", "", true, UINT64_MAX, &u);
	if (r < 0)
		goto out;
	if (u != STATE_VERSION) {
		r = bad(rd, "version", "unsupported version %" PRIu64 " (this memhpd reads %d)", u,
			STATE_VERSION);
		goto out;
	}
	r = get_u64(rd, root, "updated", "", false, UINT64_MAX, &u);
	if (r < 0)
		goto out;

	r = field(rd, root, "counters", "counters", true, &v);
	if (r < 0)
		goto out;
	if (!json_object_is_type(v, json_type_object)) {
		r = bad(rd, "counters", "expected object");
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(counter_fields); i++) {
		r = get_u64(rd, v, counter_fields[i].name, "counters.", false, UINT64_MAX,
			    counter_ptr(&st->cnt, i));
		if (r < 0)
			goto out;
	}

	r = field(rd, root, "devices", "devices", true, &v);
	if (r < 0)
		goto out;
	if (!json_object_is_type(v, json_type_array)) {
		r = bad(rd, "devices", "expected array");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		r = read_record(rd, json_object_array_get_idx(v, i), i, st);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	json_object_put(root);
	return r;
}

static int read_text(struct reader *rd, char **out, size_t *outlen)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap;
	struct stat sb;

	fd = open(rd->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int r = -errno;

		snprintf(rd->msg, rd->msglen, "%s: %s", rd->path, strerror(-r));
		return r;
	}
	if (fstat(fd, &sb) < 0) {
		int r = -errno;

		snprintf(rd->msg, rd->msglen, "%s: %s", rd->path, strerror(-r));
		return r;
	}
	if (!S_ISREG(sb.st_mode))
		return bad(rd, NULL, "not a regular file");
	if ((uint64_t)sb.st_size > STATE_MAX_BYTES)
		goto too_big;

	cap = (size_t)sb.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			/* the file grew since fstat */
			char *nb;

			if (cap > STATE_MAX_BYTES)
				goto too_big;
			cap = cap * 2 > STATE_MAX_BYTES + 1 ? STATE_MAX_BYTES + 1 : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			int r = -errno;

			if (r == -EINTR)
				continue;
			snprintf(rd->msg, rd->msglen, "%s: %s", rd->path, strerror(-r));
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > STATE_MAX_BYTES)
		goto too_big;
	buf[len] = '\0';
	*out = TAKE_PTR(buf);
	*outlen = len;
	return 0;

too_big:
	snprintf(rd->msg, rd->msglen, "%s: larger than %llu MiB; not a memhpd state file", rd->path,
		 STATE_MAX_BYTES / MiB);
	return -EFBIG;
}

int state_read(struct state *st, const char *path, char *msg, size_t msglen)
{
	struct reader rd = { .path = path, .msg = msg, .msglen = msglen };
	_cleanup_free_ char *text = NULL;
	struct state tmp = { 0 };
	size_t len = 0;
	int r;

	if (msglen)
		msg[0] = '\0';
	r = read_text(&rd, &text, &len);
	if (r < 0)
		return r;
	r = parse_state(&rd, text, len, &tmp);
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(msg, msglen, "%s: out of memory", path);
		state_free(&tmp);
		return r;
	}
	state_free(st);
	*st = tmp;
	st->dirty = false;
	return 0;
}

/* ---- reconciling with sysfs ---- */

static int compare_bytes(struct state *st, struct dev_record *rec, const char *what,
			 uint64_t *recorded, uint64_t now)
{
	if (*recorded == now)
		return 0;
	log_msg(LOG_NOTICE, rec->id, NULL, NULL,
		"state: %s: memmap %s was %" PRIu64 " bytes, sysfs says %" PRIu64 " now", rec->id,
		what, *recorded, now);
	*recorded = now;
	st->dirty = true;
	return 1;
}

int state_reconcile(struct state *st, const struct machine *m)
{
	int n = 0;

	for (size_t i = 0; i < st->ndev;) {
		struct dev_record *rec = &st->dev[i];
		const struct mem_device *dev = machine_find_device(m, rec->id);
		const struct dax_device *dax = machine_find_dax(m, rec->id);
		uint64_t on_dev = dev ? dev->memmap_on_device_bytes : 0;
		uint64_t in_ram = dev ? dev->memmap_in_ram_bytes : 0;

		if (!dev && !dax) {
			log_msg(LOG_NOTICE, rec->id, NULL, NULL,
				"state: device %s is gone; forgetting it", rec->id);
			state_drop(st, i);
			n++;
			continue;
		}
		rec->seen = true;
		rec->touched = true; /* once, at start: compare_bytes() may change it */
		if (dev && dev->type != rec->type) {
			log_msg(LOG_NOTICE, rec->id, NULL, NULL,
				"state: %s: recorded as a %s device, sysfs says %s", rec->id,
				device_type_name(rec->type), device_type_name(dev->type));
			rec->type = dev->type;
			st->dirty = true;
			n++;
		}
		n += compare_bytes(st, rec, "on the device", &rec->memmap_on_device_bytes, on_dev);
		n += compare_bytes(st, rec, "in RAM", &rec->memmap_in_ram_bytes, in_ram);
		if (streq(rec->decision, "online")) {
			if (dev && dev->online_blocks < dev->nblocks) {
				log_msg(LOG_NOTICE, rec->id, NULL, "online",
					"state: %s: decided online, but %zu of %zu blocks are "
					"offline now (offlined by someone, or still pending)",
					rec->id, dev->nblocks - dev->online_blocks, dev->nblocks);
				n++;
			} else if (!dev) {
				log_msg(LOG_NOTICE, rec->id, NULL, "online",
					"state: %s: decided online, but it is not system RAM now "
					"(driver \"%s\")",
					rec->id, dax->driver);
				n++;
			}
		}
		i++;
	}
	return n;
}

size_t state_forget_missing(struct state *st, const struct machine *m)
{
	size_t n = 0;

	for (size_t i = 0; i < st->ndev; i++) {
		struct idxset *h = &st->dev[i].handled;

		for (size_t j = h->n; j-- > 0;) {
			if (machine_block_by_index(m, h->v[j]))
				continue;
			idxset_del(h, h->v[j]);
			st->dev[i].touched = true;
			n++;
		}
	}
	if (n)
		st->dirty = true;
	return n;
}
