// SPDX-License-Identifier: GPL-2.0-or-later
/* Table tests for src/lib/util.c */
#include <limits.h>

#include "check.h"
#include "util.h"

static void test_strscpy(void)
{
	char buf[4];

	CHECK_EQ_INT(strscpy_safe(buf, "abc", sizeof(buf)), 0);
	CHECK_STREQ(buf, "abc");
	CHECK_EQ_INT(strscpy_safe(buf, "abcd", sizeof(buf)), -ENAMETOOLONG);
	CHECK_STREQ(buf, "abc");
	CHECK_EQ_INT(strscpy_safe(buf, "", sizeof(buf)), 0);
	CHECK_STREQ(buf, "");
	CHECK_EQ_INT(strscpy_safe(buf, "x", 0), -ENAMETOOLONG);
}

static void test_strstrip(void)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "", "" },	      { "   ", "" },	{ "a", "a" },
		{ "  a b  ", "a b" }, { "\tx\n", "x" }, { "online\n", "online" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char buf[32];

		strcpy(buf, t[i].in);
		CHECK_STREQ(strstrip(buf), t[i].out);
	}
}

static void test_parse_u64(void)
{
	static const struct {
		const char *s;
		int base;
		int ret;
		uint64_t val;
	} t[] = {
		{ "0", 10, 0, 0 },
		{ "123", 10, 0, 123 },
		{ " 42\n", 10, 0, 42 },
		{ "18446744073709551615", 10, 0, UINT64_MAX },
		{ "18446744073709551616", 10, -ERANGE, 0 },
		{ "99999999999999999999999", 10, -ERANGE, 0 },
		{ "", 10, -EINVAL, 0 },
		{ "   ", 10, -EINVAL, 0 },
		{ "-1", 10, -EINVAL, 0 },
		{ "+1", 10, -EINVAL, 0 },
		{ "12a", 10, -EINVAL, 0 },
		{ "1 2", 10, -EINVAL, 0 },
		{ "0x10", 10, -EINVAL, 0 },
		{ "0x10", 0, 0, 16 },
		{ "010", 0, 0, 10 },
		{ "10", 0, 0, 10 },
		{ "0x", 0, -EINVAL, 0 },
		{ "8000000", 16, 0, 0x8000000 },
		{ "0x8000000", 16, 0, 0x8000000 },
		{ "ffffffffffffffff", 16, 0, UINT64_MAX },
		{ "1ffffffffffffffff", 16, -ERANGE, 0 },
		{ "0xg", 16, -EINVAL, 0 },
		{ "g", 16, -EINVAL, 0 },
		{ "1", 7, -EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		uint64_t v = 0xdead;
		int r = parse_u64(t[i].s, t[i].base, &v);

		CHECK(r == t[i].ret, "parse_u64(\"%s\", %d) = %d, want %d", t[i].s, t[i].base, r,
		      t[i].ret);
		if (r == 0 && t[i].ret == 0)
			CHECK(v == t[i].val, "parse_u64(\"%s\") = %" PRIu64, t[i].s, v);
		if (r < 0)
			CHECK(v == 0xdead, "parse_u64(\"%s\") touched output on error", t[i].s);
	}
	CHECK_EQ_INT(parse_u64(NULL, 10, NULL), -EINVAL);
}

static void test_parse_int(void)
{
	static const struct {
		const char *s;
		int ret;
		int val;
	} t[] = {
		{ "0", 0, 0 },
		{ "-1", 0, -1 },
		{ "+7", 0, 7 },
		{ " 12 ", 0, 12 },
		{ "2147483647", 0, INT_MAX },
		{ "-2147483648", 0, INT_MIN },
		{ "2147483648", -ERANGE, 0 },
		{ "-2147483649", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "-", -EINVAL, 0 },
		{ "1x", -EINVAL, 0 },
		{ "0x1", -EINVAL, 0 },
		{ "--1", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		int v = 12345;
		int r = parse_int(t[i].s, &v);

		CHECK(r == t[i].ret, "parse_int(\"%s\") = %d, want %d", t[i].s, r, t[i].ret);
		if (r == 0 && t[i].ret == 0)
			CHECK_EQ_INT(v, t[i].val);
		if (r < 0)
			CHECK_EQ_INT(v, 12345);
	}
}

static void test_parse_size(void)
{
	static const struct {
		const char *s;
		int ret;
		uint64_t val;
	} t[] = {
		{ "4096", 0, 4096 },
		{ "0", 0, 0 },
		{ "4096B", 0, 4096 },
		{ "1K", 0, KiB },
		{ "128M", 0, 128 * MiB },
		{ "128MiB", 0, 128 * MiB },
		{ "128MB", 0, 128 * MiB },
		{ "128m", 0, 128 * MiB },
		{ "128 M", 0, 128 * MiB },
		{ " 2G\n", 0, 2 * GiB },
		{ "1T", 0, TiB },
		{ "1P", 0, 1024 * TiB },
		{ "1.5G", 0, 3 * GiB / 2 },
		{ "0.5K", 0, 512 },
		{ "0x8000000", 0, 0x8000000 },
		{ "16383P", 0, 16383 * 1024 * TiB },
		{ "16384P", -ERANGE, 0 },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "0.1K", -EINVAL, 0 }, /* not a whole number of bytes */
		{ "1.5", -EINVAL, 0 }, /* fraction without unit */
		{ "1.G", -EINVAL, 0 },
		{ ".5G", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "M", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "-128M", -EINVAL, 0 },
		{ "128X", -EINVAL, 0 },
		{ "128MiBs", -EINVAL, 0 },
		{ "128Mi", -EINVAL, 0 },
		{ "128MM", -EINVAL, 0 },
		{ "0x10M", -EINVAL, 0 },
		{ "0x", -EINVAL, 0 },
		{ "12 34", -EINVAL, 0 },
		{ "1.0000000001G", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		uint64_t v = 0xdead;
		int r = parse_size(t[i].s, &v);

		CHECK(r == t[i].ret, "parse_size(\"%s\") = %d, want %d", t[i].s, r, t[i].ret);
		if (r == 0 && t[i].ret == 0)
			CHECK(v == t[i].val, "parse_size(\"%s\") = %" PRIu64 ", want %" PRIu64,
			      t[i].s, v, t[i].val);
		if (r < 0)
			CHECK(v == 0xdead, "parse_size(\"%s\") touched output", t[i].s);
	}
}

static void test_format_size(void)
{
	static const struct {
		uint64_t v;
		const char *s;
	} t[] = {
		{ 0, "0" },
		{ 512, "512" },
		{ 4097, "4097" },
		{ KiB, "1K" },
		{ 4096, "4K" },
		{ 512 * KiB, "512K" },
		{ 2 * MiB, "2M" },
		{ 128 * MiB, "128M" },
		{ 2 * GiB, "2G" },
		{ 3 * GiB / 2, "1.5G" },
		{ GiB + 128 * MiB, "1152M" },
		{ 16318060 * KiB, "15.6G" },
		{ TiB, "1T" },
		{ 1024 * TiB, "1P" },
		{ UINT64_MAX, "16384.0P" },
	};
	char buf[32];

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		CHECK_STREQ(format_size(t[i].v, buf, sizeof(buf)), t[i].s);
	/* round trip for the exact ones */
	for (size_t i = 0; i < ARRAY_SIZE(t) - 2; i++) {
		uint64_t back;

		if (t[i].v == 16318060 * KiB)
			continue;
		CHECK(parse_size(format_size(t[i].v, buf, sizeof(buf)), &back) == 0 &&
			      back == t[i].v,
		      "round trip of %" PRIu64 " via \"%s\"", t[i].v, buf);
	}
	/* truncation never overflows the buffer */
	char small[3];

	format_size(128 * MiB, small, sizeof(small));
	CHECK_STREQ(small, "12");
}

static void test_parse_bool(void)
{
	static const struct {
		const char *s;
		int ret;
		bool val;
	} t[] = {
		{ "yes", 0, true },
		{ "YES", 0, true },
		{ "no", 0, false },
		{ "true", 0, true },
		{ "False", 0, false },
		{ "1", 0, true },
		{ "0", 0, false },
		{ "on", 0, true },
		{ "OFF", 0, false },
		{ " yes\n", 0, true },
		{ "", -EINVAL, 0 },
		{ "2", -EINVAL, 0 },
		{ "yess", -EINVAL, 0 },
		{ "o", -EINVAL, 0 },
		{ "yes please it is very long", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		bool v = !t[i].val;
		int r = parse_bool(t[i].s, &v);

		CHECK(r == t[i].ret, "parse_bool(\"%s\") = %d", t[i].s, r);
		if (r == 0)
			CHECK(v == t[i].val, "parse_bool(\"%s\") value", t[i].s);
	}
}

static void test_time(void)
{
	uint64_t a = now_ms(), b;

	sleep_ms(20);
	b = now_ms();
	CHECK(b >= a + 19, "slept %" PRIu64 " ms", b - a);
	CHECK(b < a + 5000, "slept way too long");
}

static void test_strv(void)
{
	struct strv l = { 0 };

	CHECK_EQ_INT(strv_push(&l, "a"), 0);
	CHECK_EQ_INT(strv_pushf(&l, "zone %s block %d", "Movable", 42), 0);
	CHECK_EQ_INT(l.n, 2);
	CHECK_STREQ(l.v[0], "a");
	CHECK_STREQ(l.v[1], "zone Movable block 42");
	CHECK(l.v[2] == NULL, "strv is NULL terminated");
	for (int i = 0; i < 100; i++)
		CHECK_EQ_INT(strv_pushf(&l, "%d", i), 0);
	CHECK_EQ_INT(l.n, 102);
	CHECK_STREQ(l.v[101], "99");
	CHECK_EQ_INT(strv_push(&l, NULL), -EINVAL);
	strv_clear(&l);
	CHECK(l.v == NULL && l.n == 0, "cleared");
	strv_clear(&l);
}

static void test_grow_array(void)
{
	int *v = NULL;
	size_t cap = 0;

	CHECK_EQ_INT(grow_array((void **)&v, &cap, 1, sizeof(*v)), 0);
	CHECK(cap >= 1, "cap %zu", cap);
	v[0] = 7;
	CHECK_EQ_INT(grow_array((void **)&v, &cap, 100, sizeof(*v)), 0);
	CHECK(cap >= 100, "cap %zu", cap);
	CHECK_EQ_INT(v[0], 7);
	bool zero = true;

	for (size_t i = 1; i < cap; i++)
		zero &= v[i] == 0;
	CHECK(zero, "new space is zeroed");
	size_t old = cap;

	CHECK_EQ_INT(grow_array((void **)&v, &cap, 10, sizeof(*v)), 0);
	CHECK_EQ_INT(cap, old);
	CHECK_EQ_INT(grow_array((void **)&v, &cap, SIZE_MAX, sizeof(*v)), -ENOMEM);
	CHECK_EQ_INT(grow_array((void **)&v, &cap, SIZE_MAX / 2, 16), -ENOMEM);
	CHECK_EQ_INT(cap, old);
	CHECK_EQ_INT(v[0], 7);
	free(v);

	/* the same growth without zeroing: what is there stays, the limits hold */
	v = NULL;
	cap = 0;
	CHECK_EQ_INT(grow_array_uninit((void **)&v, &cap, 3, sizeof(*v)), 0);
	CHECK(cap >= 3, "cap %zu", cap);
	for (int i = 0; i < 3; i++)
		v[i] = i + 1;
	CHECK_EQ_INT(grow_array_uninit((void **)&v, &cap, 5000, sizeof(*v)), 0);
	CHECK(cap >= 5000, "cap %zu", cap);
	CHECK(v[0] == 1 && v[1] == 2 && v[2] == 3, "kept");
	old = cap;
	CHECK_EQ_INT(grow_array_uninit((void **)&v, &cap, SIZE_MAX, sizeof(*v)), -ENOMEM);
	CHECK_EQ_INT(cap, old);
	CHECK_EQ_INT(grow_array_uninit(NULL, &cap, 1, sizeof(*v)), -EINVAL);
	free(v);
}

int main(void)
{
	test_strscpy();
	test_strstrip();
	test_parse_u64();
	test_parse_int();
	test_parse_size();
	test_format_size();
	test_parse_bool();
	test_time();
	test_strv();
	test_grow_array();
	return check_exit();
}
