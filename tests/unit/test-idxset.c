// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "idxset.h"

static void check_roundtrip(const char *text, size_t n)
{
	struct idxset s = { 0 };
	char *out = NULL;

	CHECK_EQ_INT(idxset_parse(text, &s), 0);
	CHECK(s.n == n, "\"%s\": %zu elements, expected %zu", text, s.n, n);
	CHECK_EQ_INT(idxset_format(&s, &out), 0);
	CHECK(out && strcmp(out, text) == 0, "\"%s\" formatted back as \"%s\"", text,
	      out ? out : "(null)");
	free(out);
	idxset_clear(&s);
}

int main(void)
{
	static const char *const bad[] = {
		",",   "1,",    ",1",  "1,,2", "a",   "1-",  "-1",    "3-2", "2-2",
		"5,3", "1,2",   "1-3,4", "1-3,3-5", "0x10", "1-99999999999",
	};
	struct idxset s = { 0 };
	char *out = NULL;

	check_roundtrip("", 0);
	check_roundtrip("7", 1);
	check_roundtrip("32-39", 8);
	check_roundtrip("32-39,41,43-44", 11);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = idxset_parse(bad[i], &s);

		CHECK(r == -EINVAL, "\"%s\" gave %d, expected -EINVAL", bad[i], r);
		CHECK(s.n == 0, "\"%s\" left %zu elements", bad[i], s.n);
	}

	/* add keeps order and ignores duplicates; del removes */
	CHECK_EQ_INT(idxset_add(&s, 40), 1);
	CHECK_EQ_INT(idxset_add(&s, 32), 1);
	CHECK_EQ_INT(idxset_add(&s, 33), 1);
	CHECK_EQ_INT(idxset_add(&s, 40), 0);
	CHECK(idxset_has(&s, 33) && !idxset_has(&s, 34), "membership");
	idxset_del(&s, 33);
	idxset_del(&s, 99);
	CHECK_EQ_INT(idxset_format(&s, &out), 0);
	CHECK_STREQ(out, "32,40");
	free(out);
	idxset_clear(&s);

	/* gen: new after every change of the members, kept by everything else */
	{
		struct idxset a = { 0 }, b = { 0 };
		uint64_t g;

		CHECK(a.gen == 0 && a.n == 0, "a set never changed is empty, gen 0");
		CHECK_EQ_INT(idxset_add(&a, 5), 1);
		g = a.gen;
		CHECK(g != 0, "add gives a gen");
		CHECK_EQ_INT(idxset_add(&a, 5), 0);
		CHECK(!idxset_has(&a, 6));
		CHECK_EQ_INT(idxset_format(&a, &out), 0);
		free(out);
		idxset_del(&a, 99);
		CHECK(a.gen == g, "a duplicate add, a lookup, a format, a no-op del keep gen");
		idxset_del(&a, 5);
		CHECK(a.gen != g, "del changes gen");
		g = a.gen;
		CHECK_EQ_INT(idxset_add(&a, 5), 1);
		CHECK(a.gen != g, "add after del: same members as before, new gen");
		g = a.gen;
		CHECK_EQ_INT(idxset_parse("5", &a), 0);
		CHECK(a.gen != g, "parse changes gen");
		g = a.gen;
		CHECK_EQ_INT(idxset_parse("1,", &a), -EINVAL);
		CHECK(a.gen != g && a.n == 0, "a failed parse empties the set, new gen");
		g = a.gen;
		idxset_clear(&a);
		CHECK(a.gen != g, "clear changes gen");
		/* two sets never share a gen */
		CHECK_EQ_INT(idxset_add(&b, 5), 1);
		CHECK(b.gen != a.gen, "gens are unique across sets");
		idxset_clear(&a);
		idxset_clear(&b);
	}
	return check_exit();
}
