// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Strict parsers for what the kernel prints in sysfs and procfs.  Anything
 * that is not exactly the documented format (trailing garbage, unknown names,
 * numbers that do not fit) is -EINVAL or -ERANGE; surrounding whitespace is
 * tolerated because it carries no meaning.
 */
#include <ctype.h>
#include <limits.h>

#include "sysfs_parse.h"
#include "util.h"

static const char *const zone_names[ZONE_ID_MAX] = {
	[ZONE_ID_NONE] = "none",     [ZONE_ID_DMA] = "DMA",	    [ZONE_ID_DMA32] = "DMA32",
	[ZONE_ID_NORMAL] = "Normal", [ZONE_ID_HIGHMEM] = "HighMem", [ZONE_ID_MOVABLE] = "Movable",
	[ZONE_ID_DEVICE] = "Device",
};

static const char *const block_state_names[] = {
	[BLOCK_STATE_UNKNOWN] = "unknown",
	[BLOCK_ONLINE] = "online",
	[BLOCK_OFFLINE] = "offline",
	[BLOCK_GOING_OFFLINE] = "going-offline",
};

static const char *const auto_online_names[] = {
	[AUTO_ONLINE_UNKNOWN] = "unknown",	  [AUTO_ONLINE_OFFLINE] = "offline",
	[AUTO_ONLINE_ONLINE] = "online",	  [AUTO_ONLINE_KERNEL] = "online_kernel",
	[AUTO_ONLINE_MOVABLE] = "online_movable",
};

static const char *const memmap_param_names[] = {
	[MEMMAP_PARAM_UNKNOWN] = "unknown",
	[MEMMAP_PARAM_OFF] = "N",
	[MEMMAP_PARAM_ON] = "Y",
	[MEMMAP_PARAM_FORCE] = "force",
};

/*
 * Compare s, ignoring surrounding whitespace, with word.  Returns true on an
 * exact match of the trimmed text.
 */
static bool trimmed_eq(const char *s, const char *word, bool nocase)
{
	size_t len, wl = strlen(word);

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len != wl)
		return false;
	return nocase ? !strncasecmp(s, word, len) : !strncmp(s, word, len);
}

const char *block_state_name(enum block_state s)
{
	if ((unsigned)s >= ARRAY_SIZE(block_state_names))
		return "unknown";
	return block_state_names[s];
}

const char *zone_name(enum zone_id z)
{
	if ((unsigned)z >= ZONE_ID_MAX)
		return "unknown";
	return zone_names[z];
}

const char *auto_online_name(enum auto_online a)
{
	if ((unsigned)a >= ARRAY_SIZE(auto_online_names))
		return "unknown";
	return auto_online_names[a];
}

const char *memmap_param_name(enum memmap_param p)
{
	if ((unsigned)p >= ARRAY_SIZE(memmap_param_names))
		return "unknown";
	return memmap_param_names[p];
}

int parse_block_state(const char *s, enum block_state *out)
{
	if (!s || !out)
		return -EINVAL;
	for (size_t i = BLOCK_ONLINE; i < ARRAY_SIZE(block_state_names); i++) {
		if (trimmed_eq(s, block_state_names[i], false)) {
			*out = (enum block_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Match a zone name of exactly len bytes at s. */
static int zone_lookup(const char *s, size_t len, enum zone_id *out)
{
	for (int z = ZONE_ID_DMA; z < ZONE_ID_MAX; z++) {
		if (strlen(zone_names[z]) == len && !strncmp(s, zone_names[z], len)) {
			*out = (enum zone_id)z;
			return 0;
		}
	}
	return -EINVAL;
}

int parse_zone_name(const char *s, enum zone_id *out)
{
	size_t len;

	if (!s || !out)
		return -EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return zone_lookup(s, len, out);
}

int parse_valid_zones(const char *s, unsigned *mask, enum zone_id *first)
{
	enum zone_id f = ZONE_ID_NONE, z;
	unsigned m = 0;
	bool any = false;

	if (!s || !mask || !first)
		return -EINVAL;
	if (trimmed_eq(s, "none", false)) {
		*mask = 0;
		*first = ZONE_ID_NONE;
		return 0;
	}
	for (;;) {
		size_t len;

		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		len = strcspn(s, " \t\n");
		/* "none" only ever appears alone; unknown names are garbage */
		if (zone_lookup(s, len, &z) < 0)
			return -EINVAL;
		if (!any) {
			f = z;
			any = true;
		}
		m |= ZONE_BIT(z);
		s += len;
	}
	if (!any)
		return -EINVAL;
	*mask = m;
	*first = f;
	return 0;
}

int parse_block_size(const char *s, uint64_t *out)
{
	uint64_t v;
	int r;

	if (!out)
		return -EINVAL;
	r = parse_u64(s, 16, &v);
	if (r < 0)
		return r;
	if (!v || (v & (v - 1)))
		return -EINVAL;
	if (v < MiB)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_phys_index(const char *s, uint64_t *out)
{
	if (!out)
		return -EINVAL;
	return parse_u64(s, 16, out);
}

/*
 * "<prefix><decimal>" exactly: no sign, no whitespace, no leading zeros
 * (the kernel prints "%u"), so every index has one name.
 */
static int parse_prefixed_index(const char *name, const char *prefix, uint64_t max, uint64_t *out)
{
	const char *p;
	uint64_t v = 0;

	if (!name || !startswith(name, prefix))
		return -EINVAL;
	p = name + strlen(prefix);
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	if (p[0] == '0' && p[1])
		return -EINVAL;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

int parse_block_name(const char *name, uint64_t *index)
{
	uint64_t v;
	int r;

	if (!index)
		return -EINVAL;
	r = parse_prefixed_index(name, "memory", BLOCK_INDEX_MAX, &v);
	if (r < 0)
		return r;
	*index = v;
	return 0;
}

int parse_node_name(const char *name, int *node)
{
	uint64_t v;
	int r;

	if (!node)
		return -EINVAL;
	r = parse_prefixed_index(name, "node", INT_MAX, &v);
	if (r < 0)
		return r;
	*node = (int)v;
	return 0;
}

int parse_hex_addr(const char *s, uint64_t *out)
{
	if (!s || !out)
		return -EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	/* the kernel prints these with "%#llx"; without 0x it is not ours */
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -EINVAL;
	return parse_u64(s, 16, out);
}

int parse_auto_online(const char *s, enum auto_online *out)
{
	if (!s || !out)
		return -EINVAL;
	for (size_t i = AUTO_ONLINE_OFFLINE; i < ARRAY_SIZE(auto_online_names); i++) {
		if (trimmed_eq(s, auto_online_names[i], false)) {
			*out = (enum auto_online)i;
			return 0;
		}
	}
	return -EINVAL;
}

int parse_memmap_param(const char *s, enum memmap_param *out)
{
	if (!s || !out)
		return -EINVAL;
	if (trimmed_eq(s, "Y", true) || trimmed_eq(s, "1", false))
		*out = MEMMAP_PARAM_ON;
	else if (trimmed_eq(s, "N", true) || trimmed_eq(s, "0", false))
		*out = MEMMAP_PARAM_OFF;
	else if (trimmed_eq(s, "force", false))
		*out = MEMMAP_PARAM_FORCE;
	else
		return -EINVAL;
	return 0;
}

/* Next line of text: [*line, *line + *len); returns false at the end. */
static bool next_line(const char **pos, const char **line, size_t *len)
{
	const char *p = *pos, *nl;

	if (!*p)
		return false;
	nl = strchr(p, '\n');
	*line = p;
	*len = nl ? (size_t)(nl - p) : strlen(p);
	*pos = nl ? nl + 1 : p + *len;
	return true;
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

/* Lines longer than this are never ones we need to understand. */
#define PARSE_LINE_MAX 512

/* Parse decimal digits at *p into *v (strict, overflow -ERANGE), advancing *p. */
static int scan_u64(const char **p, uint64_t *v)
{
	char digits[24];
	size_t dl = strspn(*p, "0123456789");

	if (!dl)
		return -EINVAL;
	if (dl >= sizeof(digits))
		return -ERANGE;
	memcpy(digits, *p, dl);
	digits[dl] = '\0';
	*p += dl;
	return parse_u64(digits, 10, v);
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int parse_node_meminfo(const char *text, int node, struct node_meminfo *out)
{
	struct node_meminfo mi = { 0 };
	const char *pos = text, *line;
	size_t len;

	if (!text || !out || node < 0)
		return -EINVAL;
	while (next_line(&pos, &line, &len)) {
		char buf[PARSE_LINE_MAX];
		const char *p, *key;
		size_t keylen;
		uint64_t n, kb, *dst;
		bool *has;
		int r;

		if (blank(line, len))
			continue;
		if (len >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, line, len);
		buf[len] = '\0';
		/* "Node 0 MemTotal:       16318060 kB" */
		if (!startswith(buf, "Node "))
			return -EINVAL;
		p = buf + 5;
		if (scan_u64(&p, &n) < 0 || n != (uint64_t)node)
			return -EINVAL;
		if (*p != ' ')
			return -EINVAL;
		p = skip_blanks(p);
		key = p;
		keylen = strcspn(p, ": \t");
		if (!keylen || p[keylen] != ':')
			return -EINVAL;
		p += keylen + 1;
		if (keylen == 8 && !strncmp(key, "MemTotal", 8)) {
			dst = &mi.total;
			has = &mi.has_total;
		} else if (keylen == 7 && !strncmp(key, "MemFree", 7)) {
			dst = &mi.free;
			has = &mi.has_free;
		} else {
			continue;
		}
		/* strict value: blanks, digits, blanks, "kB", nothing else */
		p = skip_blanks(p);
		r = scan_u64(&p, &kb);
		if (r < 0)
			return r;
		if (*p != ' ' && *p != '\t')
			return -EINVAL;
		p = skip_blanks(p);
		if (!startswith(p, "kB") || !blank(p + 2, strlen(p + 2)))
			return -EINVAL;
		if (kb > UINT64_MAX / KiB)
			return -ERANGE;
		*dst = kb * KiB;
		*has = true;
	}
	if (mi.has_total) {
		out->total = mi.total;
		out->has_total = true;
	}
	if (mi.has_free) {
		out->free = mi.free;
		out->has_free = true;
	}
	return 0;
}

/* "key   <number>" with the key already matched; strict number, nothing after. */
static int parse_count(const char *s, uint64_t *out)
{
	if (!isspace((unsigned char)*s))
		return -EINVAL;
	return parse_u64(s, 10, out);
}

static int parse_zoneinfo_header(const char *buf, struct zoneinfo_zone *z, bool *known)
{
	const char *p = buf + strlen("Node");
	char *end;
	long n;
	size_t len;

	/* "Node 0, zone   Normal" */
	if (*p != ' ')
		return -EINVAL;
	p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	n = strtol(p, &end, 10);
	if (errno || n > INT_MAX || end == p)
		return -EINVAL;
	p = end;
	if (!startswith(p, ", zone "))
		return -EINVAL;
	p += strlen(", zone ");
	while (*p == ' ')
		p++;
	len = strlen(p);
	while (len && isspace((unsigned char)p[len - 1]))
		len--;
	if (!len || memchr(p, ' ', len))
		return -EINVAL;
	memset(z, 0, sizeof(*z));
	z->node = (int)n;
	/* a zone this build does not know (a future kernel's) is skipped, not an error */
	*known = zone_lookup(p, len, &z->zone) == 0;
	return 0;
}

int parse_zoneinfo(const char *text, struct zoneinfo *out)
{
	struct zoneinfo zi = { 0 };
	struct zoneinfo_zone *cur = NULL;
	size_t cap = 0;
	const char *pos = text, *line;
	size_t len;
	int r;

	if (!text || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	while (next_line(&pos, &line, &len)) {
		char buf[PARSE_LINE_MAX];
		const char *p;
		uint64_t *dst = NULL;
		const char *key = NULL;

		if (len >= sizeof(buf)) {
			/* only "protection: (...)" style lines get long; a long header is garbage */
			if (len >= 4 && !strncmp(line, "Node", 4)) {
				r = -EINVAL;
				goto fail;
			}
			continue;
		}
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (startswith(buf, "Node")) {
			struct zoneinfo_zone z;
			bool known;

			r = parse_zoneinfo_header(buf, &z, &known);
			if (r < 0)
				goto fail;
			cur = NULL;
			if (!known)
				continue;
			r = grow_array((void **)&zi.zones, &cap, zi.nzones + 1, sizeof(*zi.zones));
			if (r < 0)
				goto fail;
			cur = &zi.zones[zi.nzones++];
			*cur = z;
			continue;
		}
		if (!cur)
			continue;
		p = buf;
		while (*p == ' ' || *p == '\t')
			p++;
		if (startswith(p, "pages free")) {
			key = "pages free";
			dst = &cur->free;
		} else if (startswith(p, "spanned")) {
			key = "spanned";
			dst = &cur->spanned;
		} else if (startswith(p, "present")) {
			key = "present";
			dst = &cur->present;
		} else if (startswith(p, "managed")) {
			key = "managed";
			dst = &cur->managed;
		}
		if (!dst)
			continue;
		p += strlen(key);
		/* "presentXYZ 5" would be some other counter: only whole words count */
		if (*p && !isspace((unsigned char)*p))
			continue;
		r = parse_count(p, dst);
		if (r < 0) {
			r = -EINVAL;
			goto fail;
		}
	}
	*out = zi;
	return 0;
fail:
	free(zi.zones);
	return r;
}

void zoneinfo_free(struct zoneinfo *zi)
{
	if (!zi)
		return;
	free(zi->zones);
	zi->zones = NULL;
	zi->nzones = 0;
}
