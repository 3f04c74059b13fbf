// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tests for the daemon's state file (src/memhpd/state.c), its metrics file
 * (metrics.c) and the atomic writer both use (atomic_file.c): round trip of
 * every field, atomic replacement and its failure paths, every way a state
 * file can be corrupt (with the exact message), reconciliation against a
 * hand-built machine, and the exact metrics text.
 */
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "memhpd.h"
#include "check.h"

#define BS (128 * MiB)
#define S(x) ((x) ? (x) : "(null)")
/* CHECK_EQ_INT evaluates its arguments twice: call once */
#define CHECK_RC(call, want)                                                            \
	do {                                                                            \
		long long _rc = (call);                                                 \
		CHECK(_rc == (long long)(want), "%s = %lld, expected %lld", #call, _rc, \
		      (long long)(want));                                               \
	} while (0)

static char tmpdir[] = "/tmp/memhp-test-state-XXXXXX";

static const char *tpath(const char *name)
{
	static char bufs[8][512];
	static unsigned next;
	char *b = bufs[next++ % ARRAY_SIZE(bufs)];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tmpdir, name);
	return b;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void rm_rf(const char *p)
{
	nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL, "fopen %s", path);
	if (!f)
		return;
	CHECK(fwrite(text, 1, len, f) == len, "fwrite %s", path);
	fclose(f);
}

/* Whole file, NUL-terminated; NULL if it cannot be read. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

/* Number of entries in dir whose name contains ".tmp." */
static int count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".tmp."))
			n++;
	closedir(d);
	return n;
}

/* ---- round trip ---- */

static void fill_counters(struct counters *c)
{
	uint64_t *p = (uint64_t *)c;

	/* distinct values, one of them beyond INT64_MAX */
	for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		p[i] = 1000 + i * 7;
	c->blocks_onlined = UINT64_MAX - 5;
}

static void fill_state(struct state *st)
{
	struct dev_record *r;

	memset(st, 0, sizeof(*st));
	fill_counters(&st->cnt);

	r = state_record(st, "PNP0C80:00", DEV_ACPI_DIMM);
	strscpy_safe(r->decision, "online", sizeof(r->decision));
	strscpy_safe(r->zone, "movable", sizeof(r->zone));
	strscpy_safe(r->memmap, "on-memory", sizeof(r->memmap));
	r->memmap_chosen = true;
	strv_push(&r->reasons, "rule \"dimms\" (test.conf:3) matched");
	strv_push(&r->reasons, "back\\slash, tab\t, newline\n, slash /, unicode \xc3\xa9");
	r->decided_at = 1700000000;
	r->applied_at = 1700000001;
	r->onlined = 7;
	r->by_other = 1;
	r->failed = 4294967295u;
	strscpy_safe(r->last_error, "memory40: online_movable: Device or resource busy",
		     sizeof(r->last_error));
	r->memmap_on_device_bytes = 16 * MiB;
	r->memmap_in_ram_bytes = UINT64_MAX;
	for (uint64_t i = 40; i < 48; i++)
		if (i != 44)
			idxset_add(&r->handled, i);

	r = state_record(st, "dax0.0", DEV_DAX);
	strscpy_safe(r->decision, "leave", sizeof(r->decision));
	/* everything else empty / zero: must survive as such */
}

static void check_same(const struct state *a, const struct state *b)
{
	CHECK(memcmp(&a->cnt, &b->cnt, sizeof(a->cnt)) == 0, "counters differ");
	CHECK_EQ_INT(a->ndev, b->ndev);
	for (size_t i = 0; i < a->ndev && i < b->ndev; i++) {
		const struct dev_record *x = &a->dev[i], *y = &b->dev[i];

		CHECK_STREQ(x->id, y->id);
		CHECK_EQ_INT(x->type, y->type);
		CHECK_STREQ(x->decision, y->decision);
		CHECK_STREQ(x->zone, y->zone);
		CHECK_STREQ(x->memmap, y->memmap);
		CHECK_EQ_INT(x->memmap_chosen, y->memmap_chosen);
		CHECK_EQ_INT(x->reasons.n, y->reasons.n);
		for (size_t j = 0; j < x->reasons.n && j < y->reasons.n; j++)
			CHECK_STREQ(x->reasons.v[j], y->reasons.v[j]);
		CHECK_EQ_U64(x->decided_at, y->decided_at);
		CHECK_EQ_U64(x->applied_at, y->applied_at);
		CHECK_EQ_INT(x->onlined, y->onlined);
		CHECK_EQ_INT(x->by_other, y->by_other);
		CHECK_EQ_INT(x->failed, y->failed);
		CHECK_STREQ(x->last_error, y->last_error);
		CHECK_EQ_U64(x->memmap_on_device_bytes, y->memmap_on_device_bytes);
		CHECK_EQ_U64(x->memmap_in_ram_bytes, y->memmap_in_ram_bytes);
		CHECK_EQ_INT(x->handled.n, y->handled.n);
		for (size_t j = 0; j < x->handled.n && j < y->handled.n; j++)
			CHECK_EQ_U64(x->handled.v[j], y->handled.v[j]);
	}
}

static void test_records(void)
{
	struct state st = { 0 };
	struct dev_record *r;

	r = state_record(&st, "virtio0", DEV_VIRTIO_MEM);
	CHECK(r != NULL);
	CHECK(r && r->seen && st.dirty && streq(r->id, "virtio0") && r->type == DEV_VIRTIO_MEM);
	st.dirty = false;
	r->seen = false;
	r = state_record(&st, "virtio0", DEV_VIRTIO_MEM);
	CHECK(r && r->seen, "found again and marked seen");
	CHECK(!st.dirty, "finding an unchanged record does not dirty the state");
	CHECK_EQ_INT(st.ndev, 1);
	for (int i = 0; i < 40; i++) {
		char id[16];

		snprintf(id, sizeof(id), "dev%d", i);
		CHECK(state_record(&st, id, DEV_ACPI_DIMM) != NULL);
	}
	CHECK_EQ_INT(st.ndev, 41);
	r = state_record(&st, "dev7", DEV_UNKNOWN);
	CHECK(r && r == state_find(&st, "dev7") && r->type == DEV_UNKNOWN, "type updated");
	CHECK(state_find(&st, "dev40") == NULL);
	CHECK(state_find(&st, "virtio") == NULL, "no prefix match");
	CHECK(state_record(&st, "0123456789012345678901234567890123456789012345678901234567890123",
			   DEV_DAX) == NULL,
	      "an id longer than DEVICE_ID_MAX - 1 is refused, not truncated");
	state_free(&st);
	CHECK(st.dev == NULL && st.ndev == 0 && st.cap == 0);
	state_free(&st); /* twice is fine */
}

static void test_round_trip(void)
{
	struct state a, b = { 0 };
	const char *p = tpath("rt/state.json");
	char msg[256];
	struct stat sb;
	json_object *o;
	char *text;
	int r;

	fill_state(&a);
	r = state_write(&a, p);
	CHECK_EQ_INT(r, 0);
	CHECK(stat(tpath("rt"), &sb) == 0 && S_ISDIR(sb.st_mode), "missing parent created");
	CHECK(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0644, "mode %o", sb.st_mode & 07777);
	CHECK_RC(count_tmp(tpath("rt")), 0);

	text = slurp(p);
	CHECK(text && text[strlen(text) - 1] == '\n', "ends with a newline");
	CHECK(text && strstr(text, "\"version\":1"), "version 1: %s", S(text));
	CHECK(text && strstr(text, "\"updated\":"));
	free(text);

	r = state_read(&b, p, msg, sizeof(msg));
	CHECK_EQ_INT(r, 0);
	CHECK_STREQ(msg, "");
	check_same(&a, &b);
	CHECK(!b.dirty);
	for (size_t i = 0; i < b.ndev; i++)
		CHECK(!b.dev[i].seen, "records read from the file are not seen until reconciled");

	/* state_to_json has every field the reader knows */
	o = state_to_json(&a);
	CHECK(o != NULL);
	if (o) {
		json_object *c, *d, *d0;

		CHECK(json_object_object_get_ex(o, "counters", &c));
		CHECK_EQ_INT(json_object_object_length(c), sizeof(struct counters) / 8);
		CHECK(json_object_object_get_ex(o, "devices", &d));
		d0 = json_object_array_get_idx(d, 0);
		CHECK_EQ_INT(json_object_object_length(d0), 16);
		CHECK_STREQ(json_object_get_string(json_object_object_get(d0, "handled_blocks")),
			    "40-43,45-47");
		CHECK_STREQ(json_object_get_string(json_object_object_get(d0, "type")),
			    "acpi-dimm");
		json_object_put(o);
	}

	/* a read replaces whatever the state held */
	state_free(&b);
	state_record(&b, "old", DEV_BOOT);
	b.cnt.events = 99;
	CHECK_RC(state_read(&b, p, msg, sizeof(msg)), 0);
	CHECK(state_find(&b, "old") == NULL);
	check_same(&a, &b);

	/* empty state */
	state_free(&a);
	CHECK_RC(state_write(&a, p), 0);
	CHECK_RC(state_read(&b, p, msg, sizeof(msg)), 0);
	check_same(&a, &b);
	state_free(&a);
	state_free(&b);
}

/* ---- atomic replacement ---- */

static void test_atomic(void)
{
	struct state a, b = { 0 };
	const char *p = tpath("at/state.json");
	char msg[256];
	char *text;
	int r;

	fill_state(&a);
	CHECK_RC(state_write(&a, p), 0);
	a.cnt.events = 4242;
	state_record(&a, "virtio3", DEV_VIRTIO_MEM);
	CHECK_RC(state_write(&a, p), 0);
	CHECK_RC(count_tmp(tpath("at")), 0);
	CHECK_RC(state_read(&b, p, msg, sizeof(msg)), 0);
	check_same(&a, &b);
	state_free(&b);

	/* the raw helper: exact bytes, replaced, no temp left */
	CHECK_RC(write_file_atomic(tpath("at/raw"), "one\n", 4), 0);
	CHECK_RC(write_file_atomic(tpath("at/raw"), "two", 3), 0);
	text = slurp(tpath("at/raw"));
	CHECK(text && streq(text, "two"), "raw = %s", S(text));
	free(text);
	CHECK_RC(write_file_atomic(tpath("at/empty"), "", 0), 0);
	text = slurp(tpath("at/empty"));
	CHECK(text && !*text);
	free(text);
	CHECK_RC(write_file_atomic("", "x", 1), -EINVAL);
	CHECK_RC(count_tmp(tpath("at")), 0);

	/* parent is a regular file: cannot be created, the file there is untouched */
	write_text(tpath("at/regular"), "keep me", 7);
	r = state_write(&a, tpath("at/regular/state.json"));
	CHECK_EQ_INT(r, -ENOTDIR);
	r = state_write(&a, tpath("at/regular/sub/state.json"));
	CHECK_EQ_INT(r, -ENOTDIR);
	text = slurp(tpath("at/regular"));
	CHECK(text && streq(text, "keep me"));
	free(text);

	/* the target is a non-empty directory: rename fails, temp removed, old content kept */
	CHECK(mkdir(tpath("at/isdir"), 0755) == 0);
	write_text(tpath("at/isdir/inside"), "old", 3);
	r = state_write(&a, tpath("at/isdir"));
	CHECK(r == -EISDIR || r == -ENOTEMPTY || r == -EEXIST, "r = %d", r);
	CHECK_RC(count_tmp(tpath("at")), 0);
	text = slurp(tpath("at/isdir/inside"));
	CHECK(text && streq(text, "old"));
	free(text);

	/* a read-only directory: only meaningful when we are not root */
	CHECK(mkdir(tpath("ro"), 0755) == 0);
	write_text(tpath("ro/state.json"), "old", 3);
	chmod(tpath("ro"), 0555);
	if (geteuid() != 0) {
		r = state_write(&a, tpath("ro/state.json"));
		CHECK(r == -EACCES || r == -EROFS, "r = %d", r);
		text = slurp(tpath("ro/state.json"));
		CHECK(text && streq(text, "old"));
		free(text);
		CHECK_RC(count_tmp(tpath("ro")), 0);
	}
	chmod(tpath("ro"), 0755);

	/* metrics: "" is off and writes nothing */
	CHECK_RC(metrics_write("", NULL, &a), 0);
	CHECK_RC(metrics_write(tpath("at/regular/m.prom"), NULL, &a), -ENOTDIR);
	state_free(&a);
}

/* ---- corrupt files ---- */

struct bad_case {
	const char *text;
	const char *msg; /* after "PATH: " */
};

#define DEV_OK "{\"id\":\"virtio0\",\"type\":\"virtio-mem\"}"
#define HEAD "{\"version\":1,\"counters\":{},\"devices\":["
#define D(x) HEAD "{\"id\":\"d0\",\"type\":\"dax\"," x "}]}"

/* clang-format off */
static const struct bad_case bad_cases[] = {
	{ "", "truncated JSON (unexpected end of file)" },
	{ "   \n", "truncated JSON (unexpected end of file)" },
	{ "{\"version\":1,", "truncated JSON (unexpected end of file)" },
	{ HEAD DEV_OK, "truncated JSON (unexpected end of file)" },
	{ "{\"version\":1,,}", "invalid JSON at offset 13: quoted object property name expected" },
	{ "{\"version\":1,}", "invalid JSON at offset 13: unexpected character" },
	{ "{\"version\":1 \"counters\":{}}", "invalid JSON at offset 13: object value separator "
	  "',' expected" },
	{ "\xff", "invalid JSON at offset 0: unexpected character" },
	{ HEAD "]} x", "invalid JSON at offset 41: unexpected character" },
	{ HEAD "]}{}", "invalid JSON at offset 40: unexpected character" },
	{ "[1]", "expected a JSON object at the top level" },
	{ "42", "expected a JSON object at the top level" },
	{ "null", "expected a JSON object at the top level" },
	{ "\"state\"", "expected a JSON object at the top level" },
	{ "{}", "version: missing" },
	{ "{\"version\":\"1\",\"counters\":{},\"devices\":[]}", "version: expected integer" },
	{ "{\"version\":1.0,\"counters\":{},\"devices\":[]}", "version: expected integer" },
	{ "{\"version\":null,\"counters\":{},\"devices\":[]}", "version: expected integer" },
	{ "{\"version\":2,\"counters\":{},\"devices\":[]}",
	  "version: unsupported version 2 (this memhpd reads 1)" },
	{ "{\"version\":0,\"counters\":{},\"devices\":[]}",
	  "version: unsupported version 0 (this memhpd reads 1)" },
	{ "{\"version\":-1,\"counters\":{},\"devices\":[]}",
	  "version: expected a non-negative integer, got -1" },
	{ "{\"version\":1,\"updated\":\"now\",\"counters\":{},\"devices\":[]}",
	  "updated: expected integer" },
	{ "{\"version\":1,\"devices\":[]}", "counters: missing" },
	{ "{\"version\":1,\"counters\":[],\"devices\":[]}", "counters: expected object" },
	{ "{\"version\":1,\"counters\":{\"events\":\"3\"},\"devices\":[]}",
	  "counters.events: expected integer" },
	{ "{\"version\":1,\"counters\":{\"reload_failures\":-2},\"devices\":[]}",
	  "counters.reload_failures: expected a non-negative integer, got -2" },
	{ "{\"version\":1,\"counters\":{\"failures_node_timeout\":true},\"devices\":[]}",
	  "counters.failures_node_timeout: expected integer" },
	{ "{\"version\":1,\"counters\":{}}", "devices: missing" },
	{ "{\"version\":1,\"counters\":{},\"devices\":{}}", "devices: expected array" },
	{ HEAD "1]}", "devices[0]: expected object" },
	{ HEAD DEV_OK ",[]]}", "devices[1]: expected object" },
	{ HEAD "{\"type\":\"dax\"}]}", "devices[0].id: missing" },
	{ HEAD "{\"id\":\"a\",\"type\":\"dax\",\"handled_blocks\":7}]}",
	  "devices[0].handled_blocks: expected string" },
	{ HEAD "{\"id\":\"a\",\"type\":\"dax\",\"handled_blocks\":\"9-3\"}]}",
	  "devices[0].handled_blocks: expected block ranges like \"32-39,41\"" },
	{ HEAD "{\"id\":5,\"type\":\"dax\"}]}", "devices[0].id: expected string" },
	{ HEAD "{\"id\":\"\",\"type\":\"dax\"}]}", "devices[0].id: empty device id" },
	{ HEAD "{\"id\":\"0123456789012345678901234567890123456789012345678901234567890123\","
	       "\"type\":\"dax\"}]}",
	  "devices[0].id: string longer than 63 bytes" },
	{ HEAD "{\"id\":\"a\\u0000b\",\"type\":\"dax\"}]}",
	  "devices[0].id: string contains a NUL byte" },
	{ HEAD DEV_OK "," DEV_OK "]}", "devices[1].id: duplicate device \"virtio0\"" },
	{ HEAD "{\"id\":\"d0\"}]}", "devices[0].type: missing" },
	{ HEAD "{\"id\":\"d0\",\"type\":3}]}", "devices[0].type: expected string" },
	{ HEAD "{\"id\":\"d0\",\"type\":\"floppy\"}]}",
	  "devices[0].type: unknown device type \"floppy\"" },
	{ D("\"decision\":1"), "devices[0].decision: expected string" },
	{ D("\"decision\":\"online-and-then-some\""),
	  "devices[0].decision: string longer than 15 bytes" },
	{ D("\"zone\":null"), "devices[0].zone: expected string" },
	{ D("\"memmap\":[]"), "devices[0].memmap: expected string" },
	{ D("\"memmap_chosen\":\"yes\""), "devices[0].memmap_chosen: expected boolean" },
	{ D("\"memmap_chosen\":1"), "devices[0].memmap_chosen: expected boolean" },
	{ D("\"reasons\":\"x\""), "devices[0].reasons: expected array" },
	{ D("\"reasons\":[\"a\",5]"), "devices[0].reasons[1]: expected string" },
	{ D("\"decided_at\":\"1\""), "devices[0].decided_at: expected integer" },
	{ D("\"applied_at\":-3"), "devices[0].applied_at: expected a non-negative integer, got -3" },
	{ D("\"onlined\":1.5"), "devices[0].onlined: expected integer" },
	{ D("\"by_other\":4294967296"),
	  "devices[0].by_other: 4294967296 is out of range (at most 4294967295)" },
	{ D("\"failed\":true"), "devices[0].failed: expected integer" },
	{ D("\"last_error\":{}"), "devices[0].last_error: expected string" },
	{ D("\"memmap_on_device_bytes\":[]"),
	  "devices[0].memmap_on_device_bytes: expected integer" },
	{ D("\"memmap_in_ram_bytes\":\"0\""), "devices[0].memmap_in_ram_bytes: expected integer" },
	/* the example from the design: the fourth device is the broken one */
	{ HEAD DEV_OK ",{\"id\":\"a\",\"type\":\"dax\"},{\"id\":\"b\",\"type\":\"dax\"},"
	       "{\"id\":\"c\",\"type\":\"dax\",\"onlined\":\"3\"}]}",
	  "devices[3].onlined: expected integer" },
};
/* clang-format on */

static void test_corrupt(void)
{
	const char *p = tpath("bad.json");
	char msg[256], want[512];
	struct state st = { 0 };
	int r;

	/* the state must be untouched by every failed read */
	state_record(&st, "keep", DEV_ACPI_DIMM);
	st.cnt.events = 5;

	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];

		write_text(p, c->text, strlen(c->text));
		snprintf(want, sizeof(want), "%s: %s", p, c->msg);
		msg[0] = '\0';
		r = state_read(&st, p, msg, sizeof(msg));
		CHECK(r == -EINVAL, "case %zu (%s): r = %d", i, c->text, r);
		CHECK(streq(msg, want), "case %zu (%s):\n   got: %s\n  want: %s", i, c->text, msg,
		      want);
	}
	CHECK(st.ndev == 1 && state_find(&st, "keep") && st.cnt.events == 5,
	      "a failed read leaves the state alone");

	/* a NUL byte after a valid document is trailing data, not the end */
	write_text(p, "{\"version\":1,\"counters\":{},\"devices\":[]}\0", 42);
	snprintf(want, sizeof(want),
		 "%s: invalid JSON at offset 40: trailing data after the top-level value", p);
	CHECK_RC(state_read(&st, p, msg, sizeof(msg)), -EINVAL);
	CHECK_STREQ(msg, want);

	/* huge: refused before reading it */
	{
		int fd = open(p, O_WRONLY | O_TRUNC);

		CHECK(fd >= 0 && ftruncate(fd, 64 * MiB + 1) == 0);
		close(fd);
	}
	snprintf(want, sizeof(want), "%s: larger than 64 MiB; not a memhpd state file", p);
	CHECK_RC(state_read(&st, p, msg, sizeof(msg)), -EFBIG);
	CHECK_STREQ(msg, want);

	/* not a regular file: a directory, a FIFO (must not hang) */
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	CHECK_RC(state_read(&st, tmpdir, msg, sizeof(msg)), -EINVAL);
	CHECK_STREQ(msg, want);
	CHECK(mkfifo(tpath("fifo"), 0600) == 0);
	snprintf(want, sizeof(want), "%s: not a regular file", tpath("fifo"));
	CHECK_RC(state_read(&st, tpath("fifo"), msg, sizeof(msg)), -EINVAL);
	CHECK_STREQ(msg, want);

	/* absent */
	CHECK_RC(state_read(&st, tpath("absent.json"), msg, sizeof(msg)), -ENOENT);
	CHECK(strstr(msg, "absent.json: No such file or directory") != NULL, "%s", msg);

	/* a tiny message buffer is never overrun */
	write_text(p, "[]", 2);
	CHECK_RC(state_read(&st, p, msg, 8), -EINVAL);
	CHECK_EQ_INT(strlen(msg), 7);

	CHECK(st.ndev == 1 && state_find(&st, "keep") && st.cnt.events == 5);
	state_free(&st);
}

static void test_compatible(void)
{
	const char *p = tpath("compat.json");
	const char *text =
		"{\"version\":1,\"future_top\":{\"x\":[1,2]},\"counters\":{\"events\":3,"
		"\"future_counter\":\"whatever\"},\"devices\":[{\"id\":\"virtio0\","
		"\"type\":\"virtio-mem\",\"future\":null,\"onlined\":2},"
		"{\"id\":\"big\",\"type\":\"dax\",\"decided_at\":18446744073709551615}]}";
	struct state st = { 0 };
	char msg[256];

	write_text(p, text, strlen(text));
	CHECK_RC(state_read(&st, p, msg, sizeof(msg)), 0);
	CHECK_STREQ(msg, "");
	CHECK_EQ_U64(st.cnt.events, 3);
	CHECK_EQ_U64(st.cnt.rescans, 0);
	CHECK_EQ_INT(st.ndev, 2);
	if (st.ndev == 2) {
		CHECK_STREQ(st.dev[0].id, "virtio0");
		CHECK_EQ_INT(st.dev[0].type, DEV_VIRTIO_MEM);
		CHECK_EQ_INT(st.dev[0].onlined, 2);
		CHECK_STREQ(st.dev[0].decision, "");
		CHECK_EQ_INT(st.dev[0].reasons.n, 0);
		CHECK_EQ_U64(st.dev[1].decided_at, UINT64_MAX);
	}
	state_free(&st);
}

/* ---- a machine built by hand ---- */

#define MAXB 16
#define MAXD 6

struct tmach {
	struct machine m;
	struct mem_block blocks[MAXB];
	struct mem_device devices[MAXD];
	size_t devblocks[MAXD][MAXB];
	struct dax_device dax[3];
	struct numa_node nodes[3];
};

static void tm_init(struct tmach *t)
{
	memset(t, 0, sizeof(*t));
	t->m.block_size = BS;
	t->m.page_size = 4096;
	t->m.struct_page_size = 64;
	t->m.blocks = t->blocks;
	t->m.devices = t->devices;
	t->m.dax = t->dax;
	t->m.nodes = t->nodes;
}

static struct numa_node *add_node(struct tmach *t, int id, uint64_t on_dev, uint64_t in_ram)
{
	struct numa_node *n = &t->nodes[t->m.nnodes++];

	n->id = id;
	n->memmap_on_device_bytes = on_dev;
	n->memmap_in_ram_bytes = in_ram;
	return n;
}

static void add_block(struct tmach *t, struct mem_device *dev, int node, enum block_state st,
		      enum zone_id zone)
{
	size_t bi = t->m.nblocks++;
	struct mem_block *b = &t->blocks[bi];

	snprintf(b->name, sizeof(b->name), "memory%zu", bi);
	b->index = bi;
	b->start = bi * BS;
	b->size = BS;
	b->state = st;
	b->zone = zone;
	b->node = node;
	b->device = (int)(dev - t->devices);
	dev->blocks[dev->nblocks++] = bi;
	if (st == BLOCK_ONLINE)
		dev->online_blocks++;
	dev->size += BS;
}

static struct mem_device *add_dev(struct tmach *t, const char *id, enum device_type type,
				  uint64_t on_dev, uint64_t in_ram)
{
	size_t d = t->m.ndevices++;
	struct mem_device *dev = &t->devices[d];

	snprintf(dev->id, sizeof(dev->id), "%s", id);
	dev->type = type;
	dev->blocks = t->devblocks[d];
	dev->dax = -1;
	dev->memmap_on_device_bytes = on_dev;
	dev->memmap_in_ram_bytes = in_ram;
	return dev;
}

static void add_dax(struct tmach *t, const char *name, const char *driver, int device)
{
	struct dax_device *x = &t->dax[t->m.ndax++];

	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->driver, sizeof(x->driver), "%s", driver);
	x->device = device;
	x->target_node = x->numa_node = 1;
	x->memmap_on_memory = -1;
}

static struct dev_record *rec(struct state *st, const char *id, enum device_type type,
			      const char *decision, uint64_t on_dev, uint64_t in_ram)
{
	struct dev_record *r = state_record(st, id, type);

	strscpy_safe(r->decision, decision, sizeof(r->decision));
	r->memmap_on_device_bytes = on_dev;
	r->memmap_in_ram_bytes = in_ram;
	r->seen = false;
	return r;
}

/* Run fn with stderr going to a file; returns what it logged. */
static char *capture_stderr(int (*fn)(struct state *, const struct machine *), struct state *st,
			    const struct machine *m, int *ret)
{
	const char *p = tpath("stderr.log");
	int saved = dup(2), fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	fflush(stderr);
	dup2(fd, 2);
	close(fd);
	*ret = fn(st, m);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	return slurp(p);
}

static void check_written_as_jsonc(const struct state *st, const char *path, const char *what);

static void test_reconcile(void)
{
	struct tmach t;
	struct state st = { 0 };
	struct mem_device *dev;
	char *log;
	int n;

	tm_init(&t);
	dev = add_dev(&t, "virtio0", DEV_VIRTIO_MEM, 0, 4 * MiB);
	add_block(&t, dev, 1, BLOCK_ONLINE, ZONE_ID_MOVABLE);
	add_block(&t, dev, 1, BLOCK_ONLINE, ZONE_ID_MOVABLE);
	dev = add_dev(&t, "dax0.0", DEV_DAX, 4 * MiB, 0);
	add_block(&t, dev, 1, BLOCK_ONLINE, ZONE_ID_MOVABLE);
	add_block(&t, dev, 1, BLOCK_OFFLINE, ZONE_ID_NONE);
	dev->dax = 0;
	dev = add_dev(&t, "PNP0C80:00", DEV_ACPI_DIMM, 0, 4 * MiB);
	add_block(&t, dev, 0, BLOCK_OFFLINE, ZONE_ID_NONE);
	add_block(&t, dev, 0, BLOCK_OFFLINE, ZONE_ID_NONE);
	add_dax(&t, "dax0.0", "kmem", 1);
	add_dax(&t, "dax1.0", "device_dax", -1);
	add_dax(&t, "dax2.0", "device_dax", -1);

	/* all in agreement */
	rec(&st, "virtio0", DEV_VIRTIO_MEM, "online", 0, 4 * MiB);
	rec(&st, "PNP0C80:00", DEV_ACPI_DIMM, "leave", 0, 4 * MiB);
	rec(&st, "dax1.0", DEV_DAX, "leave", 0, 0);
	st.dirty = false;
	log = capture_stderr(state_reconcile, &st, &t.m, &n);
	CHECK_EQ_INT(n, 0);
	CHECK(log && !*log, "nothing logged: %s", S(log));
	free(log);
	CHECK(!st.dirty);
	CHECK(st.dev[0].seen && st.dev[1].seen && st.dev[2].seen);

	/* every kind of discrepancy */
	state_free(&st);
	rec(&st, "virtio1", DEV_VIRTIO_MEM, "online", 0, 2 * MiB); /* gone */
	rec(&st, "virtio0", DEV_VIRTIO_MEM, "online", 0, 4 * MiB); /* fine */
	rec(&st, "dax0.0", DEV_DAX, "online", 0, 0); /* bytes on device, 1 offline block */
	rec(&st, "PNP0C80:00", DEV_ACPI_DIMM, "leave", 2 * MiB, 8 * MiB); /* both bytes */
	rec(&st, "dax1.0", DEV_DAX, "leave", 0, 0); /* devdax, left: fine */
	rec(&st, "dax2.0", DEV_DAX, "online", 0, 0); /* decided online, still devdax */
	rec(&st, "memory99", DEV_UNKNOWN, "", 0, 0); /* gone */
	/* written before: what reconciling changes must reach the next write */
	CHECK_RC(state_write(&st, tpath("reconcile/state.json")), 0);
	st.dirty = false;
	log = capture_stderr(state_reconcile, &st, &t.m, &n);
	CHECK_EQ_INT(n, 2 + 2 + 1 + 2);
	CHECK(st.dirty);
	CHECK_RC(state_write(&st, tpath("reconcile/state.json")), 0);
	check_written_as_jsonc(&st, tpath("reconcile/state.json"), "after reconciling");
	CHECK_EQ_INT(st.ndev, 5);
	CHECK(!state_find(&st, "virtio1") && !state_find(&st, "memory99"), "gone ones dropped");
	CHECK(state_find(&st, "virtio0") && state_find(&st, "dax1.0") && state_find(&st, "dax2.0"));
	CHECK_EQ_U64(state_find(&st, "dax0.0")->memmap_on_device_bytes, 4 * MiB);
	CHECK_EQ_U64(state_find(&st, "PNP0C80:00")->memmap_on_device_bytes, 0);
	CHECK_EQ_U64(state_find(&st, "PNP0C80:00")->memmap_in_ram_bytes, 4 * MiB);
	for (size_t i = 0; i < st.ndev; i++)
		CHECK(st.dev[i].seen, "%s seen", st.dev[i].id);
	CHECK(log != NULL);
	if (log) {
		static const char *const want[] = {
			"memhpd: notice: state: device virtio1 is gone; forgetting it\n",
			"memhpd: notice: state: device memory99 is gone; forgetting it\n",
			"memhpd: notice: state: dax0.0: memmap on the device was 0 bytes, sysfs "
			"says 4194304 now\n",
			"memhpd: notice: state: dax0.0: decided online, but 1 of 2 blocks are "
			"offline now (offlined by someone, or still pending)\n",
			"memhpd: notice: state: PNP0C80:00: memmap on the device was 2097152 "
			"bytes, sysfs says 0 now\n",
			"memhpd: notice: state: PNP0C80:00: memmap in RAM was 8388608 bytes, "
			"sysfs says 4194304 now\n",
			"memhpd: notice: state: dax2.0: decided online, but it is not system RAM "
			"now (driver \"device_dax\")\n",
		};
		for (size_t i = 0; i < ARRAY_SIZE(want); i++)
			CHECK(strstr(log, want[i]), "log lacks: %s", want[i]);
		CHECK(!strstr(log, "virtio0"), "virtio0 is fine: %s", S(log));
		CHECK(!strstr(log, "dax1.0"), "dax1.0 is fine: %s", S(log));
	}
	free(log);

	/* byte counts fixed; what sysfs still disagrees with is reported again */
	st.dirty = false;
	log = capture_stderr(state_reconcile, &st, &t.m, &n);
	CHECK_EQ_INT(n, 2);
	CHECK(!st.dirty);
	free(log);

	/* a type change is sysfs's word too */
	state_find(&st, "virtio0")->type = DEV_ACPI_DIMM;
	log = capture_stderr(state_reconcile, &st, &t.m, &n);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(state_find(&st, "virtio0")->type, DEV_VIRTIO_MEM);
	CHECK(log && strstr(log, "state: virtio0: recorded as a acpi-dimm device, sysfs says "
				 "virtio-mem"),
	      "%s", S(log));
	free(log);

	/* an empty machine forgets everything */
	tm_init(&t);
	log = capture_stderr(state_reconcile, &st, &t.m, &n);
	CHECK_EQ_INT(n, 5);
	CHECK_EQ_INT(st.ndev, 0);
	free(log);
	state_free(&st);
}

/* ---- metrics ---- */

static const char expected_metrics[] =
	"# HELP memhpd_blocks Memory blocks by NUMA node, zone and state (zone \"none\": offline).\n"
	"# TYPE memhpd_blocks gauge\n"
	"memhpd_blocks{node=\"0\",zone=\"Normal\",state=\"online\"} 2\n"
	"memhpd_blocks{node=\"1\",zone=\"none\",state=\"offline\"} 1\n"
	"memhpd_blocks{node=\"1\",zone=\"Movable\",state=\"online\"} 2\n"
	"memhpd_blocks{node=\"1\",zone=\"Movable\",state=\"going-offline\"} 1\n"
	"memhpd_blocks{node=\"unknown\",zone=\"none\",state=\"offline\"} 1\n"
	"# HELP memhpd_memory_bytes Bytes of memory blocks by NUMA node and zone (zone \"none\": "
	"offline).\n"
	"# TYPE memhpd_memory_bytes gauge\n"
	"memhpd_memory_bytes{node=\"0\",zone=\"Normal\"} 268435456\n"
	"memhpd_memory_bytes{node=\"1\",zone=\"none\"} 134217728\n"
	"memhpd_memory_bytes{node=\"1\",zone=\"Movable\"} 402653184\n"
	"memhpd_memory_bytes{node=\"unknown\",zone=\"none\"} 134217728\n"
	"# HELP memhpd_memmap_bytes Bytes of memmap (struct pages) by NUMA node and where it "
	"lives: on the hot-added memory itself (device) or in other RAM (ram).\n"
	"# TYPE memhpd_memmap_bytes gauge\n"
	"memhpd_memmap_bytes{node=\"0\",location=\"device\"} 0\n"
	"memhpd_memmap_bytes{node=\"0\",location=\"ram\"} 4194304\n"
	"memhpd_memmap_bytes{node=\"1\",location=\"device\"} 6291456\n"
	"memhpd_memmap_bytes{node=\"1\",location=\"ram\"} 0\n"
	"# HELP memhpd_device_memmap_bytes Bytes of memmap (struct pages) of each memory device "
	"by where it lives.\n"
	"# TYPE memhpd_device_memmap_bytes gauge\n"
	"memhpd_device_memmap_bytes{device=\"boot-node0\",type=\"boot\",location=\"device\"} 0\n"
	"memhpd_device_memmap_bytes{device=\"boot-node0\",type=\"boot\",location=\"ram\"} "
	"4194304\n"
	"memhpd_device_memmap_bytes{device=\"dax0.0\",type=\"dax\",location=\"device\"} "
	"6291456\n"
	"memhpd_device_memmap_bytes{device=\"dax0.0\",type=\"dax\",location=\"ram\"} 0\n"
	"memhpd_device_memmap_bytes{device=\"we\\\"ird\\\\dev\\nice\",type=\"unknown\","
	"location=\"device\"} 0\n"
	"memhpd_device_memmap_bytes{device=\"we\\\"ird\\\\dev\\nice\",type=\"unknown\","
	"location=\"ram\"} 2097152\n"
	"# HELP memhpd_decisions_total Decisions memhpd made for devices, by action.\n"
	"# TYPE memhpd_decisions_total counter\n"
	"memhpd_decisions_total{action=\"online\"} 5\n"
	"memhpd_decisions_total{action=\"leave\"} 6\n"
	"# HELP memhpd_blocks_onlined_total Memory blocks memhpd onlined.\n"
	"# TYPE memhpd_blocks_onlined_total counter\n"
	"memhpd_blocks_onlined_total 18446744073709551615\n"
	"# HELP memhpd_blocks_offlined_total Memory blocks memhpd offlined on request.\n"
	"# TYPE memhpd_blocks_offlined_total counter\n"
	"memhpd_blocks_offlined_total 8\n"
	"# HELP memhpd_conflicts_total Memory blocks found onlined by someone else before memhpd "
	"got to them.\n"
	"# TYPE memhpd_conflicts_total counter\n"
	"memhpd_conflicts_total 9\n"
	"# HELP memhpd_failures_total Memory blocks or devices memhpd could not bring online, by "
	"reason.\n"
	"# TYPE memhpd_failures_total counter\n"
	"memhpd_failures_total{reason=\"ebusy\"} 10\n"
	"memhpd_failures_total{reason=\"einval\"} 11\n"
	"memhpd_failures_total{reason=\"node_timeout\"} 13\n"
	"memhpd_failures_total{reason=\"other\"} 12\n"
	"# HELP memhpd_events_total Memory and dax uevents received.\n"
	"# TYPE memhpd_events_total counter\n"
	"memhpd_events_total 1\n"
	"# HELP memhpd_batches_total Batches of events processed.\n"
	"# TYPE memhpd_batches_total counter\n"
	"memhpd_batches_total 2\n"
	"# HELP memhpd_batches_early_total Batches processed before the settle time was up: every "
	"DIMM in them fully added.\n"
	"# TYPE memhpd_batches_early_total counter\n"
	"memhpd_batches_early_total 17\n"
	"# HELP memhpd_rescans_total Full rescans of the memory sysfs tree.\n"
	"# TYPE memhpd_rescans_total counter\n"
	"memhpd_rescans_total 3\n"
	"# HELP memhpd_enobufs_total Times the uevent socket overflowed (ENOBUFS) and a rescan was "
	"needed.\n"
	"# TYPE memhpd_enobufs_total counter\n"
	"memhpd_enobufs_total 4\n"
	"# HELP memhpd_dax_reconfigured_total dax devices memhpd handed to kmem as system RAM.\n"
	"# TYPE memhpd_dax_reconfigured_total counter\n"
	"memhpd_dax_reconfigured_total 14\n"
	"# HELP memhpd_reloads_total Configuration reloads.\n"
	"# TYPE memhpd_reloads_total counter\n"
	"memhpd_reloads_total 15\n"
	"# HELP memhpd_reload_failures_total Configuration reloads that failed (the old "
	"configuration stays active).\n"
	"# TYPE memhpd_reload_failures_total counter\n"
	"memhpd_reload_failures_total 16\n"
	"# HELP memhpd_last_update_timestamp_seconds Unix time memhpd last wrote this file.\n"
	"# TYPE memhpd_last_update_timestamp_seconds gauge\n"
	"memhpd_last_update_timestamp_seconds 1700000000\n";

static void metrics_machine(struct tmach *t, struct state *st)
{
	struct mem_device *dev;

	tm_init(t);
	add_node(t, 0, 0, 4 * MiB);
	add_node(t, 1, 6 * MiB, 0);
	dev = add_dev(t, "boot-node0", DEV_BOOT, 0, 4 * MiB);
	add_block(t, dev, 0, BLOCK_ONLINE, ZONE_ID_NORMAL);
	add_block(t, dev, 0, BLOCK_ONLINE, ZONE_ID_NORMAL);
	dev = add_dev(t, "dax0.0", DEV_DAX, 6 * MiB, 0);
	add_block(t, dev, 1, BLOCK_ONLINE, ZONE_ID_MOVABLE);
	add_block(t, dev, 1, BLOCK_OFFLINE, ZONE_ID_NONE);
	add_block(t, dev, 1, BLOCK_GOING_OFFLINE, ZONE_ID_MOVABLE);
	add_block(t, dev, 1, BLOCK_ONLINE, ZONE_ID_MOVABLE);
	dev = add_dev(t, "we\"ird\\dev\nice", DEV_UNKNOWN, 0, 2 * MiB);
	add_block(t, dev, -1, BLOCK_OFFLINE, ZONE_ID_NONE);

	memset(st, 0, sizeof(*st));
	st->cnt = (struct counters){
		.events = 1,
		.batches = 2,
		.rescans = 3,
		.enobufs = 4,
		.decisions_online = 5,
		.decisions_leave = 6,
		.blocks_onlined = UINT64_MAX,
		.blocks_offlined = 8,
		.conflicts = 9,
		.failures_ebusy = 10,
		.failures_einval = 11,
		.failures_other = 12,
		.failures_node_timeout = 13,
		.dax_reconfigured = 14,
		.reloads = 15,
		.reload_failures = 16,
		.batches_early = 17,
	};
}

static void diff_lines(const char *got, const char *want)
{
	size_t line = 1;

	while (*got && *want && *got == *want) {
		if (*got == '\n')
			line++;
		got++;
		want++;
	}
	fprintf(stderr, "metrics differ at line %zu:\n   got: %.120s\n  want: %.120s\n", line, got,
		want);
}

static void test_metrics(void)
{
	struct tmach t;
	struct state st;
	char *text, *file, *ts;
	uint64_t before, after, stamp;

	metrics_machine(&t, &st);
	text = metrics_render(&t.m, &st, 1700000000);
	CHECK(text && streq(text, expected_metrics), "exact metrics text");
	if (text && !streq(text, expected_metrics))
		diff_lines(text, expected_metrics);
	free(text);

	/* without a machine: only the counters and the timestamp */
	text = metrics_render(NULL, &st, 5);
	CHECK(text && !strstr(text, "memhpd_blocks{") &&
		      strstr(text, "memhpd_decisions_total{action=\"leave\"} 6\n") &&
		      strstr(text, "\nmemhpd_last_update_timestamp_seconds 5\n"),
	      "%s", S(text));
	free(text);

	/* the file: same text, a current timestamp, atomically in place */
	before = (uint64_t)time(NULL);
	CHECK_RC(metrics_write(tpath("prom/memhpd.prom"), &t.m, &st), 0);
	after = (uint64_t)time(NULL);
	CHECK_RC(count_tmp(tpath("prom")), 0);
	file = slurp(tpath("prom/memhpd.prom"));
	CHECK(file != NULL);
	ts = file ? strstr(file, "\nmemhpd_last_update_timestamp_seconds ") : NULL;
	CHECK(ts != NULL);
	if (ts) {
		size_t head = (size_t)(ts - file) + 1;

		stamp = strtoull(ts + strlen("\nmemhpd_last_update_timestamp_seconds "), NULL, 10);
		CHECK(stamp >= before && stamp <= after, "timestamp %" PRIu64, stamp);
		CHECK(strncmp(file, expected_metrics, head) == 0, "file = rendered text");
		CHECK(file[strlen(file) - 1] == '\n');
	}
	free(file);
}

/* What json-c prints for state_to_json(), "updated" as in `written`'s text. */
static char *jsonc_text(const struct state *st, const char *written)
{
	const char *u = written ? strstr(written, "\"updated\":") : NULL;
	json_object *o = state_to_json(st);
	char *text = NULL;

	if (!o || !u)
		return NULL;
	json_object_object_add(o, "updated", json_object_new_uint64(strtoull(u + 10, NULL, 10)));
	if (asprintf(&text, "%s\n",
		     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		text = NULL;
	json_object_put(o);
	return text;
}

static void check_written_as_jsonc(const struct state *st, const char *path, const char *what)
{
	_cleanup_free_ char *got = slurp(path), *want = jsonc_text(st, got);

	CHECK(got && want && streq(got, want), "%s: state file differs from json-c's text:\n%s\n--\n%s",
	      what, S(got), S(want));
}

/*
 * state_write() keeps each record's JSON and splices the file together:
 * the bytes must be json-c's for the whole state, also after records
 * change, appear and go (a record kept too long would be a stale story).
 */
static void test_write_kept_json(void)
{
	const char *p = tpath("kept/state.json");
	struct state st = { 0 };
	struct dev_record *r;

	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "no devices");

	fill_state(&st);
	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "filled");

	/*
	 * Every kind of field changes once, written after each change.  A
	 * pointer is for changes until the next write (memhpd.h): each change
	 * looks the record up again, as the engine does per device.
	 */
	r = state_find(&st, "PNP0C80:00");
	CHECK(r != NULL);
	if (!r) {
		state_free(&st);
		return;
	}
	r->onlined++;
	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "onlined");
	r = state_find(&st, "PNP0C80:00");
	idxset_add(&r->handled, 44);
	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "handled");
	r = state_find(&st, "PNP0C80:00");
	idxset_del(&r->handled, 44);
	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "handled, a block removed");
	r = state_find(&st, "PNP0C80:00");
	idxset_add(&r->handled, 44);
	idxset_del(&r->handled, r->handled.v[0]);
	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "handled, as many blocks but others");
	r = state_find(&st, "PNP0C80:00");
	CHECK_RC(idxset_parse("32-39", &r->handled), 0);
	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "handled, parsed anew");
	r = state_find(&st, "PNP0C80:00");
	strv_push(&r->reasons, "one more reason");
	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "reasons");
	r = state_find(&st, "PNP0C80:00");
	strscpy_safe(r->zone, "kernel", sizeof(r->zone));
	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "zone");
	r = state_find(&st, "PNP0C80:00");
	r->memmap_in_ram_bytes = 0;
	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "memmap_in_ram_bytes");
	st.cnt.events++;
	state_record(&st, "virtio0", DEV_VIRTIO_MEM);
	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "counter and a new record");
	r = state_find(&st, "dax0.0");
	if (r)
		strscpy_safe(r->last_error, "dax0.0: gone", sizeof(r->last_error));
	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "last_error");
	/*
	 * the last field that varies in length grows past the end of the
	 * kept key (the comparison must stop there: the ASan run checks)
	 */
	r = state_find(&st, "dax0.0");
	if (r) {
		char big[400];

		strv_push(&r->reasons, "short");
		CHECK_RC(state_write(&st, p), 0);
		r = state_find(&st, "dax0.0");
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		free(r->reasons.v[r->reasons.n - 1]);
		r->reasons.v[r->reasons.n - 1] = strdup(big);
		CHECK_RC(state_write(&st, p), 0);
		check_written_as_jsonc(&st, p, "a reason longer than the kept key");
	}
	state_free(&st);
}

/*
 * In the sanitizer pass (MEMHP_SELF_CHECK) a write checks that records
 * nobody looked up did not change: a change through a pointer kept across
 * a write must abort there, not go unwritten.
 */
static void test_self_check(void)
{
#ifdef MEMHP_SELF_CHECK
	const char *p = tpath("selfcheck/state.json");
	int status = 0;
	char *log;
	pid_t pid;

	CHECK(mkdir(tpath("selfcheck"), 0700) == 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct state st = { 0 };
		struct dev_record *r;
		int fd = open(tpath("selfcheck/stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(3);
		fill_state(&st);
		r = state_find(&st, "PNP0C80:00");
		if (!r || state_write(&st, p) < 0)
			_exit(2);
		r->onlined++; /* the pointer outlived the write */
		state_write(&st, p);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	      "a change without a lookup was not caught (status 0x%x)", status);
	log = slurp(tpath("selfcheck/stderr"));
	CHECK(log && strstr(log, "BUG: state record PNP0C80:00 changed without a lookup"),
	      "the abort says why: %s", S(log));
	free(log);
#endif
}

/* Blocks gone from the machine leave the handled sets, and the next write says so. */
static void test_forget_missing(void)
{
	const char *p = tpath("forget/state.json");
	struct state st = { 0 };
	struct mem_device *dev;
	struct dev_record *r;
	struct tmach t;

	tm_init(&t);
	dev = add_dev(&t, "virtio0", DEV_VIRTIO_MEM, 0, 0);
	add_block(&t, dev, 0, BLOCK_ONLINE, ZONE_ID_MOVABLE); /* memory0 */
	add_block(&t, dev, 0, BLOCK_ONLINE, ZONE_ID_MOVABLE); /* memory1 */
	r = state_record(&st, "virtio0", DEV_VIRTIO_MEM);
	CHECK_RC(idxset_parse("0-3", &r->handled), 0);
	r = state_record(&st, "PNP0C80:00", DEV_ACPI_DIMM);
	CHECK_RC(idxset_parse("0", &r->handled), 0);
	state_record(&st, "dax0.0", DEV_DAX);
	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "before");

	st.dirty = false;
	CHECK_EQ_INT((int)state_forget_missing(&st, &t.m), 2);
	CHECK(st.dirty);
	CHECK_RC(state_write(&st, p), 0);
	check_written_as_jsonc(&st, p, "blocks 2 and 3 forgotten");
	r = state_find(&st, "virtio0");
	CHECK(r && r->handled.n == 2 && idxset_has(&r->handled, 0) && idxset_has(&r->handled, 1));
	state_free(&st);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	log_setup(LOG_DEBUG, true);
	test_records();
	test_round_trip();
	test_write_kept_json();
	test_forget_missing();
	test_self_check();
	test_atomic();
	test_corrupt();
	test_compatible();
	test_reconcile();
	test_metrics();
	if (!check_failures)
		rm_rf(tmpdir);
	else
		fprintf(stderr, "test files kept in %s\n", tmpdir);
	return check_exit();
}
