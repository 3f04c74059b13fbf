// SPDX-License-Identifier: GPL-2.0-or-later
/* Tests for src/lib/iomem.c with realistic /proc/iomem samples */
#include "check.h"
#include "iomem.h"
#include "util.h"

/*
 * x86-64 guest with a kmem-onlined device-dax range (dax0.0) and a
 * virtio-mem device (virtio0) whose plugged memory shows as System RAM.
 */
static const char iomem_text[] = "00000000-00000fff : Reserved\n"
				 "00001000-0009fbff : System RAM\n"
				 "0009fc00-0009ffff : Reserved\n"
				 "000a0000-000bffff : PCI Bus 0000:00\n"
				 "000f0000-000fffff : Reserved\n"
				 "  000f0000-000fffff : System ROM\n"
				 "00100000-bffdffff : System RAM\n"
				 "  0a000000-0b001fff : Kernel code\n"
				 "  0b200000-0b9fffff : Kernel rodata\n"
				 "  0ba00000-0bc7f4ff : Kernel data\n"
				 "  0c2d5000-0c7fffff : Kernel bss\n"
				 "bffe0000-bfffffff : Reserved\n"
				 "c0000000-febfffff : PCI Bus 0000:00\n"
				 "  fd000000-fdffffff : 0000:00:01.0\n"
				 "    fd000000-fdffffff : bochs-drm\n"
				 "  feb80000-febbffff : 0000:00:03.0\n"
				 "fec00000-fec003ff : IOAPIC 0\n"
				 "fed00000-fed003ff : HPET 0\n"
				 "  fed00000-fed003ff : PNP0103:00\n"
				 "fee00000-fee00fff : Local APIC\n"
				 "fffc0000-ffffffff : Reserved\n"
				 "100000000-23fffffff : System RAM\n"
				 "240000000-43fffffff : Persistent Memory\n"
				 "  240000000-43fffffff : namespace0.0\n"
				 "    240000000-43fffffff : dax0.0\n"
				 "      240000000-43fffffff : System RAM (kmem)\n"
				 "440000000-83fffffff : virtio0\n"
				 "  440000000-47fffffff : System RAM (virtio_mem)\n"
				 "  480000000-4bfffffff : System RAM (virtio_mem)\n"
				 "8000000000-80ffffffff : PCI Bus 0000:00\n"
				 "  8000000000-8000003fff : 0000:00:04.0\n"
				 "    8000000000-8000003fff : virtio-pci-modern\n";

/* The same file as a non-root reader sees it: kptr_restrict-style zeros. */
static const char iomem_hidden[] = "00000000-00000000 : Reserved\n"
				   "00000000-00000000 : System RAM\n"
				   "  00000000-00000000 : Kernel code\n"
				   "00000000-00000000 : dax0.0\n"
				   "  00000000-00000000 : System RAM (kmem)\n"
				   "00000000-00000000 : virtio0\n"
				   "  00000000-00000000 : System RAM (virtio_mem)\n";

static int find_name(const struct iomem *io, const char *name, int nth)
{
	for (size_t i = 0; i < io->nres; i++)
		if (streq(io->res[i].name, name) && nth-- == 0)
			return (int)i;
	return -1;
}

static void test_parse(void)
{
	struct iomem io;
	unsigned bad = 99, first = 99;
	int i, p;

	CHECK_EQ_INT(iomem_parse(iomem_text, &io, &bad, &first), 0);
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(first, 0);
	CHECK_EQ_INT(io.nres, 32);
	CHECK(!io.addresses_hidden, "addresses visible");

	CHECK_EQ_INT(io.res[0].depth, 0);
	CHECK_EQ_INT(io.res[0].parent, -1);
	CHECK_STREQ(io.res[3].name, "PCI Bus 0000:00");

	i = find_name(&io, "System RAM (kmem)", 0);
	CHECK(i >= 0, "kmem found");
	if (i >= 0) {
		CHECK_EQ_U64(io.res[i].start, 0x240000000ULL);
		CHECK_EQ_U64(io.res[i].end, 0x43fffffffULL);
		CHECK_EQ_INT(io.res[i].depth, 3);
		p = iomem_parent(&io, i);
		CHECK(p >= 0 && streq(io.res[p].name, "dax0.0"), "kmem under dax0.0");
		p = iomem_parent(&io, p);
		CHECK(p >= 0 && streq(io.res[p].name, "namespace0.0"), "dax under namespace");
		p = iomem_parent(&io, p);
		CHECK(p >= 0 && streq(io.res[p].name, "Persistent Memory"), "pmem root");
		CHECK_EQ_INT(iomem_parent(&io, p), -1);
	}
	i = find_name(&io, "System RAM (virtio_mem)", 1);
	CHECK(i >= 0, "second virtio_mem range");
	if (i >= 0) {
		CHECK_EQ_U64(io.res[i].start, 0x480000000ULL);
		p = iomem_parent(&io, i);
		CHECK(p >= 0 && streq(io.res[p].name, "virtio0"), "virtio_mem under virtio0");
	}
	/* going back up a level after a deep chain */
	i = find_name(&io, "0000:00:03.0", 0);
	CHECK(i >= 0 && io.res[i].depth == 1 &&
		      streq(io.res[io.res[i].parent].name, "PCI Bus 0000:00"),
	      "sibling after a deeper child");
	i = find_name(&io, "virtio-pci-modern", 0);
	CHECK(i >= 0 && io.res[i].start == 0x8000000000ULL, "wide addresses");
	CHECK_EQ_INT(iomem_parent(&io, -1), -1);
	CHECK_EQ_INT(iomem_parent(&io, 1000), -1);
	iomem_free(&io);
	CHECK(io.res == NULL && io.nres == 0, "freed");
	iomem_free(&io);
}

static void test_find(void)
{
	struct iomem io;
	int i;

	CHECK_EQ_INT(iomem_parse(iomem_text, &io, NULL, NULL), 0);

	/* a 128 MiB block inside the kmem range: deepest match is the kmem node */
	i = iomem_find_containing(&io, 0x248000000ULL, 0x24fffffffULL, NULL);
	CHECK(i >= 0 && streq(io.res[i].name, "System RAM (kmem)"), "deepest any-name");
	i = iomem_find_containing(&io, 0x248000000ULL, 0x24fffffffULL, "dax*");
	CHECK(i >= 0 && streq(io.res[i].name, "dax0.0"), "dax prefix");
	i = iomem_find_containing(&io, 0x248000000ULL, 0x24fffffffULL, "System RAM*");
	CHECK(i >= 0 && streq(io.res[i].name, "System RAM (kmem)"), "System RAM prefix");
	i = iomem_find_containing(&io, 0x248000000ULL, 0x24fffffffULL, "System RAM");
	CHECK_EQ_INT(i, -ENOENT);
	i = iomem_find_containing(&io, 0x248000000ULL, 0x24fffffffULL, "Persistent Memory");
	CHECK(i >= 0 && io.res[i].depth == 0, "exact top-level name");

	/* virtio_mem blocks */
	i = iomem_find_containing(&io, 0x480000000ULL, 0x487ffffffULL, "virtio*");
	CHECK(i >= 0 && streq(io.res[i].name, "virtio0"), "virtio0 owns it");
	i = iomem_find_containing(&io, 0x480000000ULL, 0x487ffffffULL, NULL);
	CHECK(i >= 0 && streq(io.res[i].name, "System RAM (virtio_mem)") &&
		      io.res[i].start == 0x480000000ULL,
	      "second virtio_mem child");
	/* range spanning two children: only the parent contains it */
	i = iomem_find_containing(&io, 0x470000000ULL, 0x48fffffffULL, NULL);
	CHECK(i >= 0 && streq(io.res[i].name, "virtio0"), "straddling range");
	/* boot memory */
	i = iomem_find_containing(&io, 0x100000000ULL, 0x107ffffffULL, "System RAM");
	CHECK(i >= 0 && io.res[i].depth == 0, "boot RAM");
	/* exact boundaries are inclusive */
	i = iomem_find_containing(&io, 0x240000000ULL, 0x43fffffffULL, "dax0.0");
	CHECK(i >= 0, "exact bounds");
	i = iomem_find_containing(&io, 0x240000000ULL, 0x440000000ULL, "dax0.0");
	CHECK_EQ_INT(i, -ENOENT);
	/* a hole */
	CHECK_EQ_INT(iomem_find_containing(&io, 0x9000000000ULL, 0x9000000fffULL, NULL), -ENOENT);
	CHECK_EQ_INT(iomem_find_containing(&io, 2, 1, NULL), -EINVAL);
	CHECK_EQ_INT(iomem_find_containing(NULL, 1, 2, NULL), -EINVAL);
	/* "*" alone matches anything */
	i = iomem_find_containing(&io, 0x248000000ULL, 0x24fffffffULL, "*");
	CHECK(i >= 0 && streq(io.res[i].name, "System RAM (kmem)"), "star");
	iomem_free(&io);
}

static void test_hidden(void)
{
	struct iomem io;
	unsigned bad = 99;

	CHECK_EQ_INT(iomem_parse(iomem_hidden, &io, &bad, NULL), 0);
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(io.nres, 7);
	CHECK(io.addresses_hidden, "hidden detected");
	if (io.nres == 7) {
		CHECK_STREQ(io.res[4].name, "System RAM (kmem)");
		CHECK_EQ_INT(io.res[4].parent, 3);
	}
	iomem_free(&io);

	/* one real address means not hidden (0-0xfff "Reserved" starts at 0) */
	CHECK_EQ_INT(iomem_parse("00000000-00000fff : Reserved\n", &io, NULL, NULL), 0);
	CHECK(!io.addresses_hidden, "zero start alone is not hiding");
	iomem_free(&io);
	/* empty text: nothing, and not "hidden" */
	CHECK_EQ_INT(iomem_parse("", &io, &bad, NULL), 0);
	CHECK(io.nres == 0 && !io.addresses_hidden && bad == 0, "empty");
	iomem_free(&io);
}

static void test_malformed(void)
{
	static const struct {
		const char *text;
		unsigned nres, bad, first;
	} t[] = {
		{ "zzzz-ffff : bad hex\n00000000-00000fff : ok\n", 1, 1, 1 },
		{ "00001000-00000fff : start > end\n", 0, 1, 1 },
		{ "00000000-00000fff Reserved\n", 0, 1, 1 }, /* no " : " */
		{ "00000000 : no end\n", 0, 1, 1 },
		{ "00000000- : empty end\n", 0, 1, 1 },
		{ "-00000fff : empty start\n", 0, 1, 1 },
		{ " 00000000-00000fff : odd indent\n", 0, 1, 1 },
		{ "\t00000000-00000fff : tab\n", 0, 1, 1 },
		{ "  00000000-00000fff : child without parent\n", 0, 1, 1 },
		{ "00000000-0000ffff : a\n    00000000-00000fff : jumps two levels\n"
		  "  00000000-00000fff : fine child\n",
		  2, 1, 2 },
		{ "10000000000000000-1ffffffffffffffff : overflow\n", 0, 1, 1 },
		{ "00000000-0000ffff : a\nrandom junk\n\n00010000-0001ffff : b\nmore junk\n", 2, 2,
		  2 },
		{ "00000000-0000ffff : a\r\n", 1, 0, 0 },
		{ "00000000-0000ffff : no newline at end", 1, 0, 0 },
	};

	for (size_t k = 0; k < ARRAY_SIZE(t); k++) {
		struct iomem io;
		unsigned bad = 99, first = 99;

		CHECK_EQ_INT(iomem_parse(t[k].text, &io, &bad, &first), 0);
		CHECK(io.nres == t[k].nres, "case %zu: nres %zu want %u", k, io.nres, t[k].nres);
		CHECK(bad == t[k].bad, "case %zu: bad %u want %u", k, bad, t[k].bad);
		CHECK(first == t[k].first, "case %zu: first %u want %u", k, first, t[k].first);
		iomem_free(&io);
	}

	/* a bad line's children are orphans and are skipped too; later siblings are fine */
	{
		struct iomem io;
		unsigned bad, first;

		CHECK_EQ_INT(iomem_parse("0000-ffff : root\n"
					 "  zzzz-ffff : broken\n"
					 "    1000-1fff : orphan\n"
					 "  2000-2fff : sibling\n",
					 &io, &bad, &first),
			     0);
		/* orphan is at depth 2 after a depth 0 line: skipped */
		CHECK_EQ_INT(io.nres, 2);
		CHECK_EQ_INT(bad, 2);
		CHECK_EQ_INT(first, 2);
		if (io.nres == 2)
			CHECK(streq(io.res[1].name, "sibling") && io.res[1].parent == 0, "sibling");
		iomem_free(&io);
	}

	/* long names are truncated, never overflow */
	{
		char line[256];
		struct iomem io;

		snprintf(line, sizeof(line), "00000000-00000fff : %0200d\n", 7);
		CHECK_EQ_INT(iomem_parse(line, &io, NULL, NULL), 0);
		CHECK_EQ_INT(io.nres, 1);
		if (io.nres == 1)
			CHECK_EQ_INT(strlen(io.res[0].name), IOMEM_NAME_MAX - 1);
		iomem_free(&io);
	}

	/* names keep their colons, spaces and parentheses */
	{
		struct iomem io;

		CHECK_EQ_INT(iomem_parse("fd000000-fdffffff : 0000:00:01.0 : odd (x)  \n", &io,
					 NULL, NULL),
			     0);
		if (io.nres == 1)
			CHECK_STREQ(io.res[0].name, "0000:00:01.0 : odd (x)");
		iomem_free(&io);
	}
	{
		struct iomem io = { 0 };

		CHECK_EQ_INT(iomem_parse(NULL, &io, NULL, NULL), -EINVAL);
	}
}

static void test_live(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	char *text;
	size_t n;
	struct iomem io;
	unsigned bad = 99;

	if (!f)
		return;
	text = calloc(1, 1 << 20);
	n = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	text[n] = '\0';
	CHECK_EQ_INT(iomem_parse(text, &io, &bad, NULL), 0);
	CHECK_EQ_INT(bad, 0);
	CHECK(io.nres > 0, "live iomem has entries");
	iomem_free(&io);
	free(text);
}

/* What iomem_find_containing() must answer, by looking at every resource. */
static int brute_find(const struct iomem *io, uint64_t start, uint64_t end, const char *name)
{
	int best = -ENOENT;
	size_t len = name ? strlen(name) : 0;

	for (size_t i = 0; i < io->nres; i++) {
		const struct iomem_res *r = &io->res[i];
		bool match =
			!name || (len && name[len - 1] == '*' ? strncmp(r->name, name, len - 1) == 0
							      : streq(r->name, name));

		if (r->start <= start && r->end >= end && match &&
		    (best < 0 || r->depth > io->res[best].depth))
			best = (int)i;
	}
	return best;
}

/*
 * The lookup walks ancestors of a binary-search hit on trees the kernel
 * would print and looks at everything otherwise: both must give what a
 * look at every resource gives, on generated trees of DIMMs with kmem,
 * virtio-mem and dax children, for ranges inside, across and between them.
 */
static void test_find_fast(void)
{
	static const char *const names[] = { "System RAM", "System RAM (kmem)",
					     "dax0.0",	   "System RAM (virtio_mem)",
					     NULL,	   "System RAM*",
					     "Reserved" };
	static const char *const kids[] = { "System RAM", "dax0.0", "System RAM (kmem)",
					    "Reserved" };
	unsigned seed = 12345, mismatches = 0, queries = 0;
	char *text = NULL;
	size_t len = 0;
	struct iomem io;
	FILE *f;

	f = open_memstream(&text, &len);
	CHECK(f != NULL, "open_memstream");
	if (!f)
		return;
	for (uint64_t t = 0; t < 300; t++) {
		uint64_t base = t << 33; /* 8 GiB apart, 4 GiB each */

		fprintf(f, "%" PRIx64 "-%" PRIx64 " : %s\n", base,
			base + (uint64_t)(4ull << 30) - 1, t % 3 ? "PNP0C80:00" : "virtio0");
		for (uint64_t c = 0; c < (t % 4); c++) {
			uint64_t cs = base + (c << 30);

			fprintf(f, "  %" PRIx64 "-%" PRIx64 " : %s\n", cs,
				cs + (uint64_t)(1ull << 30) - 1, kids[(t + c) % 4]);
			if ((t + c) % 2)
				fprintf(f, "    %" PRIx64 "-%" PRIx64 " : System RAM (kmem)\n", cs,
					cs + (uint64_t)(512ull << 20) - 1);
		}
	}
	fclose(f);
	CHECK_EQ_INT(iomem_parse(text, &io, NULL, NULL), 0);
	CHECK(io.nested, "a generated kernel-style tree is nested");
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned q = 0; q < 20000; q++) {
			uint64_t start, size;
			const char *name;
			int got, want;

			seed = seed * 1103515245u + 12345u;
			start = ((uint64_t)(seed >> 4) % (301ull << 5)) << 28; /* 256 MiB steps */
			seed = seed * 1103515245u + 12345u;
			size = (((seed >> 8) % 6) + 1) << 27; /* 128 MiB .. 768 MiB */
			name = names[(seed >> 16) % ARRAY_SIZE(names)];
			got = iomem_find_containing(&io, start, start + size - 1, name);
			want = brute_find(&io, start, start + size - 1, name);
			queries++;
			if (got != want && mismatches++ < 5)
				CHECK(got == want,
				      "[%#" PRIx64 ", +%#" PRIx64 "] %s: got %d, want %d", start,
				      size, name ? name : "(any)", got, want);
		}
		/* the same queries on a tree out of order: the fallback must agree too */
		if (pass == 0 && io.nres > 4) {
			struct iomem_res tmp = io.res[1];

			io.res[1] = io.res[io.nres - 2];
			io.res[io.nres - 2] = tmp;
			io.res[1].parent = io.res[io.nres - 2].parent = -1;
			io.res[1].depth = io.res[io.nres - 2].depth = 0;
			io.nested = false;
			seed = 12345;
		}
	}
	CHECK(mismatches == 0, "%u of %u lookups differ from a look at every resource", mismatches,
	      queries);
	iomem_free(&io);
	free(text);

	/*
	 * A file whose siblings overlap or go backwards, or whose child leaves
	 * its parent, is not taken for a tree (and is still searched right).
	 */
	static const struct {
		const char *what, *text;
		bool nested;
		uint64_t start, end;
		int want; /* iomem_find_containing(start, end, any name); end 0: not asked */
	} shapes[] = {
		{ "descending starts", "200000000-2ffffffff : A\n100000000-1ffffffff : B\n", false,
		  0x100000000, 0x10fffffff, 1 },
		{ "overlapping siblings", "100000000-2ffffffff : A\n200000000-3ffffffff : B\n",
		  false, 0x280000000, 0x28fffffff, 0 },
		{ "child outside its parent",
		  "100000000-1ffffffff : A\n  180000000-27fffffff : B\n", false, 0, 0, 0 },
		{ "the sample /proc/iomem", iomem_text, true, 0, 0, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
		CHECK_EQ_INT(iomem_parse(shapes[i].text, &io, NULL, NULL), 0);
		CHECK(io.nested == shapes[i].nested, "%s: nested %d", shapes[i].what, io.nested);
		if (shapes[i].end)
			CHECK_EQ_INT(
				iomem_find_containing(&io, shapes[i].start, shapes[i].end, NULL),
				shapes[i].want);
		iomem_free(&io);
	}
}

/* Whether a and b are the same parse, field by field. */
static bool same_parse(const struct iomem *a, const struct iomem *b)
{
	if (a->nres != b->nres || a->addresses_hidden != b->addresses_hidden ||
	    a->nested != b->nested || a->bad_lines != b->bad_lines)
		return false;
	for (size_t i = 0; i < a->nres; i++) {
		const struct iomem_res *x = &a->res[i], *y = &b->res[i];

		if (x->start != y->start || x->end != y->end || !streq(x->name, y->name) ||
		    x->depth != y->depth || x->parent != y->parent || x->line != y->line ||
		    x->next != y->next)
			return false;
	}
	return true;
}

/* iomem_parse_from(text, prev_text) must be iomem_parse(text), whatever changed. */
static void check_from(const char *what, const char *prev_text, const char *text)
{
	struct iomem prev, full, from;
	unsigned pbad, fbad, ffirst, bad = 99, first = 99;

	CHECK_EQ_INT(iomem_parse(prev_text, &prev, &pbad, NULL), 0);
	CHECK_EQ_INT(iomem_parse(text, &full, &fbad, &ffirst), 0);
	CHECK_EQ_INT(iomem_parse_from(text, prev_text, &prev, &from, &bad, &first), 0);
	CHECK(same_parse(&full, &from), "%s: the parse from the previous text differs", what);
	CHECK(bad == fbad && first == ffirst, "%s: bad lines %u (first %u), want %u (%u)", what,
	      bad, first, fbad, ffirst);
	iomem_free(&prev);
	iomem_free(&full);
	iomem_free(&from);
}

/* text with its line `line` replaced, or with a line before it (keep_line) */
static char *text_edit(const char *text, size_t line, const char *replace, bool keep_line)
{
	size_t n = 0, cap = strlen(text) + strlen(replace) + 1;
	char *out = calloc(1, cap);
	const char *p = text;
	size_t k = 0;

	for (; *p; k++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (k == line) {
			n += (size_t)sprintf(out + n, "%s", replace);
			if (keep_line) {
				memcpy(out + n, p, len);
				n += len;
			}
		} else {
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
	}
	if (line >= k) /* after the last line */
		sprintf(out + n, "%s", replace);
	return out;
}

static void test_parse_from(void)
{
	static const struct {
		const char *what, *prev, *text;
	} t[] = {
		{ "same text", iomem_text, iomem_text },
		{ "no previous lines", "", iomem_text },
		{ "all lines gone", iomem_text, "" },
		{ "a hot-added DIMM at the end", "100000000-13fffffff : System RAM\n",
		  "100000000-13fffffff : System RAM\n140000000-17fffffff : System RAM\n" },
		{ "a last line without newline goes on", "100000000-13fffffff : System R",
		  "100000000-13fffffff : System RAM\n" },
		{ "a last line without newline, then more", "0-fff : A",
		  "0-fff : A\n  0-ff : B\n" },
		{ "a child of the last line", "0-ffff : A\n  0-fff : B\n",
		  "0-ffff : A\n  0-fff : B\n    0-ff : C\n  1000-1fff : D\n2000-2fff : E\n" },
		{ "deeper than allowed after the common lines", "0-ffff : A\n  0-fff : B\n",
		  "0-ffff : A\n  0-fff : B\n        0-f : C\n" },
		{ "a malformed line before", "0-ffff : A\nbogus\n1-2 : B\n",
		  "0-ffff : A\nbogus\n1-2 : B\n3-4 : C\n" },
		{ "a malformed line after", "0-ffff : A\n", "0-ffff : A\nbogus\n1-2 : B\n" },
		{ "blank lines among the common ones", "0-ffff : A\n\n  \n1-2 : B\n",
		  "0-ffff : A\n\n  \n1-2 : B\n\n3-4 : C\n" },
		{ "addresses hidden before, shown now", iomem_hidden, iomem_text },
		{ "hidden, and a zero line more", "00000000-00000000 : A\n",
		  "00000000-00000000 : A\n00000000-00000000 : B\n" },
		{ "shown, then a zero line more", "00000000-00000fff : A\n",
		  "00000000-00000fff : A\n00000000-00000000 : B\n" },
		{ "no longer nested", "100-1ff : A\n", "100-1ff : A\n0-ff : B\n" },
	};
	const char *ins[] = { "1-2 : New\n", "  1-2 : New\n", "    1-2 : New\n", "garbage\n",
			      "\n" };
	size_t lines = 0;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		check_from(t[i].what, t[i].prev, t[i].text);
	/* every line of the sample removed, changed, or with a line before it */
	for (const char *p = iomem_text; *p; p++)
		lines += *p == '\n';
	for (size_t k = 0; k <= lines; k++) {
		char what[64];
		char *v[2 + ARRAY_SIZE(ins)];

		v[0] = text_edit(iomem_text, k, "", false);
		v[1] = text_edit(iomem_text, k, "00000000-00000001 : Changed\n", false);
		for (size_t j = 0; j < ARRAY_SIZE(ins); j++)
			v[2 + j] = text_edit(iomem_text, k, ins[j], true);
		for (size_t j = 0; j < ARRAY_SIZE(v); j++) {
			snprintf(what, sizeof(what), "line %zu, edit %zu", k, j);
			check_from(what, iomem_text, v[j]);
			snprintf(what, sizeof(what), "line %zu, edit %zu undone", k, j);
			check_from(what, v[j], iomem_text);
			free(v[j]);
		}
	}
}

int main(void)
{
	test_parse();
	test_find_fast();
	test_find();
	test_hidden();
	test_malformed();
	test_live();
	test_parse_from();
	return check_exit();
}
