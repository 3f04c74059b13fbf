// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
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
	return check_exit();
}
