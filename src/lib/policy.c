/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy engine: config + machine snapshot + one device -> a decision.
 *
 * Pure: no I/O, no clock, no globals, no printing.  Every step of a decision
 * is explained by a human sentence in decision.reasons, in the order the
 * steps were taken, naming the numbers that drove it.
 *
 * Semantics
 * =========
 *
 * 1. Rule matching (policy_match_rule).  A rule matches a device when every
 *    key in rule->match matches:
 *      RM_TYPE   dev->type == rule->type
 *      RM_NAME   fnmatch(rule->dev_name) against dev->id, or for a device
 *                backed by a dax device also against the dax name ("dax0.0")
 *      RM_NODE   dev->node; for a dax-backed device the dax target_node
 *                (falling back to dev->node when the target node is unknown)
 *      RM_SIZE   size_min <= size <= size_max
 *      RM_UUID   the dax uuid, case-insensitive (non-dax devices never match)
 *      RM_REGION the dax region (non-dax devices never match)
 *      RM_RANGE  [start, end - 1] lies inside [range_start, range_end]
 *    For a dax-backed device, RM_SIZE and RM_RANGE use the dax device's own
 *    size and start (when known), so that a rule matches the same device
 *    before kmem hot-adds it (policy_decide_dax) and after (policy_decide),
 *    even when alignment strands part of it.
 *    The matching rule with the highest rule->match value wins (the RM_*
 *    values are weights: uuid > name > range > region > size > node > type).
 *    A second matching rule with the same value is a tie: policy_decide then
 *    sets config_error, leaves the device and says which rules tie.
 *
 * 2. Action.  LEAVE for boot memory (the kernel manages it); LEAVE when the
 *    rule says ignore, or when there is no rule action and [policy] online is
 *    off (a rule action=online overrides online = no); LEAVE when every block
 *    is already online.  Blocks already online keep their zone (ZC_UNSET).
 *    An offline block without a node link yet leaves the whole device (the
 *    ratio guard needs the node; the daemon retries after node_wait_ms).
 *    Blocks going offline or in an unknown state are left alone (ZC_UNSET).
 *
 * 3. Zone.  rule->zone if set, else cfg->zone[dev->type], else movable.
 *    Never a zone absent from valid_zones: per block, when the chosen kind
 *    (movable = ZONE_ID_MOVABLE bit; kernel = any ZONE_MASK_KERNEL bit) is not
 *    listed, the other kind is used if listed, else the block is left alone.
 *
 * 4. Ratio guard (cfg->movable_ratio >= 0; blocks headed to movable).  Per
 *    node, with the node's kernel_usable_bytes K, movable_usable_bytes M and
 *    movable_memmap_in_ram_bytes R, the guard holds while
 *        M * 100 <= ratio * (K - R)      (K < R fails; 128-bit math)
 *    A movable block adds (size - memmap on the block) to M and, when its
 *    memmap lives in RAM, its memmap bytes to R: blocks with an on-memory
 *    memmap cost the kernel zones nothing.  A block going to kernel adds
 *    (size - memmap on the block) to K.  Blocks are in ascending address
 *    order; the lowest go to kernel and the highest to movable so that
 *    ZONE_NORMAL stays below ZONE_MOVABLE: the largest k (from all down to 0)
 *    for which the top k movable-headed blocks can be movable with the
 *    lower ones in kernel wins.  A lower block whose valid_zones has no
 *    kernel zone is left alone instead.  A node with no kernel memory of its
 *    own can only get movable blocks paid for by blocks of the same device
 *    going to kernel; the reason says so and names the overrides.
 *    An explicit RULE zone = movable bypasses the guard (the operator asked
 *    for that zone for that device); the per-type default zone does not, nor
 *    do blocks a rule sent to kernel that can only be movable.
 *    movable_ratio = none (-1) disables the guard.
 *
 * 5. Memmap.  memhpd can choose the memmap placement only (a) for a dax
 *    device not bound to kmem whose memmap_on_memory attribute exists, when
 *    the decision hands it to kmem (dax_to_system_ram); (b) for an ACPI DIMM
 *    with no blocks yet when memory_hotplug.memmap_on_memory is writable;
 *    (c) for s390 standby memory whose every block is deconfigured
 *    (fw_config == 0) with a firmware memmap_on_memory attribute.  Otherwise
 *    the placement is fixed: decision.memmap = dev->memmap, with the evidence.
 *    When choosable: rule->memmap, else cfg->memmap (unset = auto).
 *    on-memory is impossible ("unsupported") while memory_hotplug.
 *    memmap_on_memory is off or unknown on a stock kernel (it rejects it
 *    then; the companion series, seen as a writable parameter, does not): forced
 *    on-memory becomes ram with a reason.  auto picks: ram for a rule with
 *    hugepages_1g (an on-memory memmap takes the first pages of every block,
 *    so no block holds an aligned 1 GiB page); ram when unsupported;
 *    on-memory when the device's memmap (size / page_size * struct_page_size)
 *    exceeds memmap_ram_max_percent of the node's free kernel memory (an
 *    unknown free amount is reported and skipped); else memmap_auto_default
 *    (anything but on-memory means ram).  The result feeds the ratio guard.
 *
 * 6. dax (policy_decide_dax).  A dax device bound to kmem is decided through
 *    its memory device with policy_decide (memmap fixed).  Otherwise the
 *    dax_mode is rule->dax_mode, else cfg->dax_mode (unset = devdax, which
 *    is left alone).  system-ram: dax_to_system_ram, ONLINE, memmap per 5a,
 *    zone per rule / cfg->zone[DEV_DAX], and the ratio guard on a
 *    pseudo-device of the memory blocks kmem will add (the range aligned to
 *    block_size; stranded bytes are reported), node = target_node, every
 *    block valid for both zone kinds.  An unknown target node leaves the
 *    device.
 *
 * policy_decide and policy_decide_dax overwrite *out (decision_init) without
 * freeing it; call decision_free afterwards, also after an error return.
 * policy_decide_dax returns -EINVAL for a dax device not inside m->dax.
 */
#include <fnmatch.h>
#include <inttypes.h>
#include <strings.h>

#include "policy.h"

void decision_init(struct decision *d)
{
	memset(d, 0, sizeof(*d));
}

void decision_free(struct decision *d)
{
	free(d->block_zone);
	d->block_zone = NULL;
	d->nblocks = 0;
	strv_clear(&d->reasons);
}

/* ---- rule matching ---------------------------------------------------- */

static const struct dax_device *dev_dax(const struct machine *m, const struct mem_device *dev)
{
	if (dev->dax < 0 || (size_t)dev->dax >= m->ndax)
		return NULL;
	return &m->dax[dev->dax];
}

static bool rule_matches(const struct rule *r, const struct machine *m,
			 const struct mem_device *dev)
{
	const struct dax_device *dax = dev_dax(m, dev);
	uint64_t size = dev->size, start = dev->start, end = dev->end;

	if (dax && dax->size) {
		size = dax->size;
		if (dax->start) {
			start = dax->start;
			end = dax->start + dax->size;
		}
	}

	if ((r->match & RM_TYPE) && r->type != dev->type)
		return false;
	if (r->match & RM_NAME) {
		bool ok = fnmatch(r->dev_name, dev->id, 0) == 0;

		if (!ok && dax)
			ok = fnmatch(r->dev_name, dax->name, 0) == 0;
		if (!ok)
			return false;
	}
	if (r->match & RM_NODE) {
		int node = dax && dax->target_node >= 0 ? dax->target_node : dev->node;

		if (node < 0 || node != r->node)
			return false;
	}
	if ((r->match & RM_SIZE) && (size < r->size_min || size > r->size_max))
		return false;
	if ((r->match & RM_UUID) && (!dax || !dax->uuid[0] || strcasecmp(dax->uuid, r->uuid)))
		return false;
	if ((r->match & RM_REGION) && (!dax || !dax->region[0] || strcmp(dax->region, r->region)))
		return false;
	if (r->match & RM_RANGE) {
		if (end <= start || start < r->range_start || end - 1 > r->range_end)
			return false;
	}
	return true;
}

const struct rule *policy_match_rule(const struct config *cfg, const struct machine *m,
				     const struct mem_device *dev, const struct rule **tie)
{
	const struct rule *best = NULL, *second = NULL;

	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct rule *r = &cfg->rules[i];

		if (!rule_matches(r, m, dev))
			continue;
		if (!best || r->match > best->match) {
			best = r;
			second = NULL;
		} else if (r->match == best->match && !second) {
			second = r;
		}
	}
	if (tie)
		*tie = second;
	return best;
}

/* ---- decision context ------------------------------------------------- */

struct ctx {
	const struct config *cfg;
	const struct machine *m;
	struct decision *out;
	const char *id; /* device name for sentences */
	int err;
};

static __printf(2, 3) void say(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strv_vpushf(&c->out->reasons, fmt, ap);
	va_end(ap);
	if (r < 0 && !c->err)
		c->err = r;
}

#define SZ(v, buf) format_size((v), (buf), sizeof(buf))
#define PL(n) ((n) == 1 ? "" : "s")

static const char *rule_where(const struct rule *r, char *buf, size_t size)
{
	if (r->file[0])
		snprintf(buf, size, "rule '%s' (%s:%d)", r->name, r->file, r->line);
	else
		snprintf(buf, size, "rule '%s'", r->name);
	return buf;
}

static const struct numa_node *find_node(const struct machine *m, int id)
{
	for (size_t i = 0; i < m->nnodes; i++)
		if (m->nodes[i].id == id)
			return &m->nodes[i];
	return NULL;
}

static uint64_t memmap_bytes_for(const struct machine *m, uint64_t size)
{
	if (!m->page_size)
		return 0;
	return size / m->page_size * m->struct_page_size;
}

/* Rule lookup with its reason; returns false (decision made) on a tie. */
static bool match_rule(struct ctx *c, const struct mem_device *dev, const struct rule **out_rule)
{
	const struct rule *tie = NULL, *r;
	char w[sizeof(((struct rule *)0)->file) + 96];

	r = policy_match_rule(c->cfg, c->m, dev, &tie);
	*out_rule = NULL;
	c->out->rule = r;
	if (r && tie) {
		c->out->config_error = true;
		c->out->action = DECIDE_LEAVE;
		say(c, "rules '%s' and '%s' tie for %s; make one more specific", r->name, tie->name,
		    c->id);
		return false;
	}
	if (r)
		say(c, "%s matches %s", rule_where(r, w, sizeof(w)), c->id);
	else
		say(c, "no rule matches %s; using the [policy] defaults", c->id);
	*out_rule = r;
	return true;
}

/* Ignore / online=no; returns false when the device is left. */
static bool wants_online(struct ctx *c, const struct rule *r)
{
	if (r && r->action == RA_IGNORE) {
		say(c, "rule '%s' ignores %s", r->name, c->id);
		return false;
	}
	if (r && r->action == RA_ONLINE) {
		if (!c->cfg->online)
			say(c, "rule '%s' onlines %s although online = no in [policy]", r->name,
			    c->id);
		return true;
	}
	if (!c->cfg->online) {
		say(c, "online = no in [policy] and no rule onlines %s", c->id);
		return false;
	}
	return true;
}

static enum zone_choice pick_zone(struct ctx *c, const struct rule *r, enum device_type type,
				  bool *from_rule)
{
	enum zone_choice z = ZC_UNSET;

	*from_rule = false;
	if (r && r->zone != ZC_UNSET) {
		*from_rule = true;
		say(c, "zone %s from rule '%s'", zone_choice_name(r->zone), r->name);
		return r->zone;
	}
	if ((unsigned)type < DEV_TYPE_MAX)
		z = c->cfg->zone[type];
	if (z != ZC_UNSET) {
		say(c, "zone %s: the [policy] default for %s devices", zone_choice_name(z),
		    device_type_name(type));
		return z;
	}
	say(c, "no zone configured for %s devices; defaulting to movable", device_type_name(type));
	return ZC_MOVABLE;
}

/* ---- memmap ----------------------------------------------------------- */

/*
 * Stock kernels refuse an on-memory memmap unless the boot parameter is on.
 * The companion series (detected by its runtime-writable parameter) accepts
 * it per device whenever the architecture supports it.
 */
static bool memmap_supported(const struct machine *m)
{
	return m->params.memmap_on_memory == MEMMAP_PARAM_ON ||
	       m->params.memmap_on_memory == MEMMAP_PARAM_FORCE ||
	       m->params.memmap_param_writable;
}

/*
 * Whether memhpd may choose; *why gets the sentence either way (NULL =
 * "fixed" by evidence of the device).
 */
static bool memmap_choosable(const struct machine *m, const struct mem_device *dev,
			     bool dax_to_system_ram, const char **why)
{
	const struct dax_device *dax = dev_dax(m, dev);

	*why = NULL;
	if (dax && dax_to_system_ram && strcmp(dax->driver, "kmem") != 0) {
		if (dax->memmap_on_memory >= 0) {
			*why = "its memmap_on_memory attribute is written before kmem binds";
			return true;
		}
		*why = "this kernel has no dax memmap_on_memory attribute (before 6.8); kmem "
		       "keeps the memmap in RAM";
		return false;
	}
	if (dev->type == DEV_ACPI_DIMM && m->params.memmap_param_writable && dev->nblocks == 0) {
		*why = "memory_hotplug.memmap_on_memory is writable and no block is added yet";
		return true;
	}
	if (dev->type == DEV_S390_STANDBY && dev->nblocks > 0) {
		for (size_t i = 0; i < dev->nblocks; i++) {
			const struct mem_block *b = &m->blocks[dev->blocks[i]];

			if (b->fw_memmap_on_memory < 0 || b->fw_config != 0)
				return false;
		}
		*why = "every block is deconfigured standby memory with a firmware "
		       "memmap_on_memory attribute";
		return true;
	}
	return false;
}

static enum memmap_place memmap_from_choice(enum memmap_choice mc)
{
	return mc == MC_ON_MEMORY ? MEMMAP_ON_MEMORY : MEMMAP_RAM;
}

/*
 * Decide out->memmap / memmap_choosable.  size is the memory that will be
 * added (for the memmap-size check), node where it lands.
 */
static void apply_memmap_choice(struct ctx *c, const struct rule *r, enum memmap_choice mc,
				const char *src, uint64_t size, int node);

static void decide_memmap(struct ctx *c, const struct rule *r, const struct mem_device *dev,
			  bool dax_to_system_ram, uint64_t size, int node)
{
	const struct config *cfg = c->cfg;
	const struct machine *m = c->m;
	struct decision *out = c->out;
	enum memmap_choice mc;
	const char *why, *src;

	if (!memmap_choosable(m, dev, dax_to_system_ram, &why)) {
		out->memmap_choosable = false;
		if (why) {
			out->memmap = MEMMAP_RAM;
			say(c, "memmap placement is fixed: %s", why);
		} else {
			out->memmap = dev->memmap;
			say(c, "memmap placement is fixed (%s): %s", memmap_place_name(dev->memmap),
			    memmap_evidence_text(dev->memmap_evidence));
		}
		return;
	}
	out->memmap_choosable = true;
	say(c, "memmap placement of %s is choosable: %s", c->id, why);

	if (r && r->memmap != MC_UNSET) {
		mc = r->memmap;
		src = "the rule";
	} else {
		mc = cfg->memmap == MC_UNSET ? MC_AUTO : cfg->memmap;
		src = "[policy]";
	}
	apply_memmap_choice(c, r, mc, src, size, node);
}

/* out->memmap from a choice (src names where it came from), auto resolved. */
static void apply_memmap_choice(struct ctx *c, const struct rule *r, enum memmap_choice mc,
				const char *src, uint64_t size, int node)
{
	const struct config *cfg = c->cfg;
	const struct machine *m = c->m;
	struct decision *out = c->out;
	bool supported = memmap_supported(m);
	char b1[32], b2[32];

	if (mc == MC_RAM) {
		out->memmap = MEMMAP_RAM;
		say(c, "memmap = ram from %s", src);
		return;
	}
	if (mc == MC_ON_MEMORY) {
		if (supported) {
			out->memmap = MEMMAP_ON_MEMORY;
			say(c, "memmap = on-memory from %s", src);
		} else {
			out->memmap = MEMMAP_RAM;
			say(c,
			    "memmap = on-memory from %s, but memory_hotplug.memmap_on_memory is "
			    "%s so the kernel would refuse it; using ram",
			    src, memmap_param_name(m->params.memmap_on_memory));
		}
		return;
	}

	/* auto */
	if (r && r->hugepages_1g) {
		out->memmap = MEMMAP_RAM;
		say(c,
		    "memmap auto: ram, because rule '%s' wants 1 GiB pages: 1 GiB pages need "
		    "whole aligned gigabytes; an on-memory memmap takes the first pages of "
		    "every block",
		    r->name);
		return;
	}
	if (!supported) {
		out->memmap = MEMMAP_RAM;
		say(c,
		    "memmap auto: ram, because memory_hotplug.memmap_on_memory is %s "
		    "(on-memory unsupported)",
		    memmap_param_name(m->params.memmap_on_memory));
		return;
	}
	{
		const struct numa_node *n = node >= 0 ? find_node(m, node) : NULL;
		uint64_t mm = memmap_bytes_for(m, size);

		if (n && n->kernel_free_known) {
			unsigned __int128 lhs = (unsigned __int128)mm * 100;
			unsigned __int128 rhs = (unsigned __int128)cfg->memmap_ram_max_percent *
						n->kernel_free_bytes;

			if (lhs > rhs) {
				out->memmap = MEMMAP_ON_MEMORY;
				say(c,
				    "memmap auto: on-memory, because the %s memmap of %s exceeds "
				    "%u%% of the %s free kernel memory of node %d",
				    SZ(mm, b1), c->id, cfg->memmap_ram_max_percent,
				    SZ(n->kernel_free_bytes, b2), node);
				return;
			}
			say(c,
			    "memmap auto: the %s memmap of %s is within %u%% of the %s free "
			    "kernel memory of node %d",
			    SZ(mm, b1), c->id, cfg->memmap_ram_max_percent,
			    SZ(n->kernel_free_bytes, b2), node);
		} else {
			say(c,
			    "memmap auto: free kernel memory of node %d is unknown; cannot apply "
			    "memmap_ram_max_percent = %u to the %s memmap",
			    node, cfg->memmap_ram_max_percent, SZ(mm, b1));
		}
	}
	out->memmap = memmap_from_choice(cfg->memmap_auto_default);
	say(c, "memmap auto: %s (memmap_auto_default)", memmap_place_name(out->memmap));
}

/* ---- zones and the ratio guard ---------------------------------------- */

struct cand {
	const char *name; /* block name, NULL for a pseudo block */
	uint64_t size;
	int node;
	unsigned valid; /* ZONE_BIT mask, for reasons */
	bool can_movable, can_kernel;
	bool active; /* to be onlined */
	enum zone_choice z; /* current plan */
	uint64_t memmap_dev; /* memmap bytes on the block itself */
	uint64_t memmap_ram; /* memmap bytes in RAM */
};

static const char *zones_text(unsigned mask, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	for (int z = ZONE_ID_DMA; z < ZONE_ID_MAX && len < size; z++) {
		if (!(mask & ZONE_BIT(z)))
			continue;
		len += snprintf(buf + len, size - len, "%s%s", len ? " " : "",
				zone_name((enum zone_id)z));
	}
	if (!buf[0])
		snprintf(buf, size, "none");
	return buf;
}

/* One sentence for the run of blocks [from, to] that share an outcome. */
static void say_valid_run(struct ctx *c, const struct cand *cs, size_t from, size_t to, int code,
			  enum zone_choice want)
{
	char zb[64], names[80];
	const char *other = want == ZC_MOVABLE ? "kernel" : "movable";

	if (from == to)
		snprintf(names, sizeof(names), "%s", cs[from].name ? cs[from].name : c->id);
	else
		snprintf(names, sizeof(names), "%zu blocks %s..%s", to - from + 1,
			 cs[from].name ? cs[from].name : "?", cs[to].name ? cs[to].name : "?");
	zones_text(cs[from].valid, zb, sizeof(zb));
	if (code == 1)
		say(c, "%s: %s is not in valid_zones (%s); onlining to %s instead", names,
		    zone_choice_name(want), zb, other);
	else
		say(c, "%s: valid_zones (%s) has neither a movable nor a kernel zone; leaving %s",
		    names, zb, from == to ? "it" : "them");
}

static void apply_valid_zones(struct ctx *c, struct cand *cs, size_t n, enum zone_choice want)
{
	size_t run_from = 0;
	int run_code = 0;

	for (size_t i = 0; i <= n; i++) {
		int code = 0;

		if (i < n && cs[i].active) {
			bool ok = want == ZC_MOVABLE ? cs[i].can_movable : cs[i].can_kernel;
			bool alt = want == ZC_MOVABLE ? cs[i].can_kernel : cs[i].can_movable;

			if (ok) {
				cs[i].z = want;
			} else if (alt) {
				cs[i].z = want == ZC_MOVABLE ? ZC_KERNEL : ZC_MOVABLE;
				code = 1;
			} else {
				cs[i].z = ZC_UNSET;
				cs[i].active = false;
				code = 2;
			}
		}
		if (code != run_code || i == n) {
			if (run_code)
				say_valid_run(c, cs, run_from, i - 1, run_code, want);
			run_from = i;
			run_code = code;
		}
	}
}

static bool guard_holds(uint64_t M, uint64_t K, uint64_t R, int ratio)
{
	if (K < R)
		return false;
	return (unsigned __int128)M * 100 <= (unsigned __int128)(unsigned)ratio * (K - R);
}

static void say_ratio(struct ctx *c, int node, uint64_t M, uint64_t K, uint64_t R, size_t k,
		      size_t cnt, size_t to_kernel, size_t left)
{
	int ratio = c->cfg->movable_ratio;
	char bm[32], bk[32], br[32], after[80], pct[48], tail[96];
	bool holds = guard_holds(M, K, R, ratio);

	if (K < R)
		snprintf(pct, sizeof(pct), "%s", "");
	else if (K - R == 0)
		snprintf(pct, sizeof(pct), "%s", M ? " (no kernel memory)" : "");
	else
		snprintf(pct, sizeof(pct), " = %llu%%",
			 (unsigned long long)((unsigned __int128)M * 100 / (K - R)));
	tail[0] = 0;
	if (left)
		snprintf(tail, sizeof(tail), "; %zu left offline (no kernel zone in valid_zones)",
			 left);
	if (K < R) {
		say(c,
		    "node %d: kernel %s cannot even hold the %s memmap of movable memory; "
		    "%zu of %zu block%s movable, %zu to kernel%s",
		    node, SZ(K, bk), SZ(R, br), k, cnt, PL(cnt), to_kernel, tail);
		return;
	}
	if (R)
		snprintf(after, sizeof(after), " (after %s memmap of movable memory)", SZ(R, br));
	else
		after[0] = 0;
	say(c,
	    "node %d: movable %s / kernel %s%s%s %s %d%% limit with %zu of %zu block%s "
	    "movable; %zu block%s to kernel%s",
	    node, SZ(M, bm), SZ(K - R, bk), after, pct, holds ? "<=" : ">", ratio, k, cnt, PL(cnt),
	    to_kernel, PL(to_kernel), tail);
}

/* Split the movable-headed active blocks of one node. */
static int ratio_split(struct ctx *c, struct cand *cs, size_t n, int node)
{
	const struct numa_node *ns = find_node(c->m, node);
	uint64_t K0 = 0, M = 0, R = 0, K;
	size_t *mov, cnt = 0, k, left = 0, to_kernel = 0;
	int ratio = c->cfg->movable_ratio;

	mov = calloc(n, sizeof(*mov));
	if (!mov)
		return -ENOMEM;
	if (ns) {
		K0 = ns->kernel_usable_bytes;
		M = ns->movable_usable_bytes;
		R = ns->movable_memmap_in_ram_bytes;
	} else {
		say(c, "node %d is not in the machine model; counting it as empty", node);
	}
	K = K0;
	for (size_t i = 0; i < n; i++) {
		if (!cs[i].active || cs[i].node != node)
			continue;
		if (cs[i].z == ZC_KERNEL) {
			K += cs[i].size - cs[i].memmap_dev;
		} else if (cs[i].z == ZC_MOVABLE) {
			mov[cnt++] = i;
			M += cs[i].size - cs[i].memmap_dev;
			R += cs[i].memmap_ram;
		}
	}
	if (!cnt) {
		free(mov);
		return 0;
	}
	/* k = cnt: everything movable; then hand the lowest to kernel one by one */
	k = cnt;
	while (k > 0 && !guard_holds(M, K, R, ratio)) {
		const struct cand *b = &cs[mov[cnt - k]];

		M -= b->size - b->memmap_dev;
		R -= b->memmap_ram;
		if (b->can_kernel)
			K += b->size - b->memmap_dev;
		k--;
	}
	for (size_t j = 0; j < cnt - k; j++) {
		struct cand *b = &cs[mov[j]];

		if (b->can_kernel) {
			b->z = ZC_KERNEL;
			to_kernel++;
		} else {
			b->z = ZC_UNSET;
			b->active = false;
			left++;
		}
	}
	free(mov);

	say_ratio(c, node, M, K, R, k, cnt, to_kernel, left);
	if (K0 == 0 && k < cnt) {
		if (k == 0)
			say(c,
			    "node %d has no kernel memory; set movable_ratio = none or a rule "
			    "zone to override",
			    node);
		else
			say(c,
			    "node %d has no kernel memory of its own: the lowest blocks pay for "
			    "the movable ones; set movable_ratio = none or a rule zone to "
			    "override",
			    node);
	}
	return 0;
}

/*
 * Zones for the active candidates: valid_zones, then the ratio guard, then
 * fill out->block_zone / counts / action.
 */
static int decide_zones(struct ctx *c, struct cand *cs, size_t n, enum zone_choice want,
			bool zone_from_rule, const struct rule *r)
{
	struct decision *out = c->out;
	bool any_movable = false;

	apply_valid_zones(c, cs, n, want);
	for (size_t i = 0; i < n; i++)
		if (cs[i].active && cs[i].z == ZC_MOVABLE)
			any_movable = true;

	if (any_movable) {
		if (c->cfg->movable_ratio < 0) {
			say(c, "movable_ratio = none: no movable:kernel ratio guard");
		} else if (zone_from_rule && want == ZC_MOVABLE) {
			say(c,
			    "zone movable set by rule '%s' bypasses the %d%% movable_ratio guard",
			    r->name, c->cfg->movable_ratio);
		} else {
			/* every distinct node, in block order */
			for (size_t i = 0; i < n; i++) {
				bool seen = false;
				int rv;

				if (!cs[i].active || cs[i].z != ZC_MOVABLE)
					continue;
				for (size_t j = 0; j < i; j++)
					if (cs[j].active && cs[j].z == ZC_MOVABLE &&
					    cs[j].node == cs[i].node)
						seen = true;
				if (seen)
					continue;
				rv = ratio_split(c, cs, n, cs[i].node);
				if (rv < 0)
					return rv;
			}
		}
	}

	out->n_movable = out->n_kernel = 0;
	for (size_t i = 0; i < n; i++) {
		enum zone_choice z = cs[i].active ? cs[i].z : ZC_UNSET;

		out->block_zone[i] = z;
		if (z == ZC_MOVABLE)
			out->n_movable++;
		else if (z == ZC_KERNEL)
			out->n_kernel++;
	}
	if (out->n_movable + out->n_kernel) {
		out->action = DECIDE_ONLINE;
		size_t total = out->n_movable + out->n_kernel;

		say(c, "online %zu block%s of %s: %zu movable, %zu kernel", total, PL(total), c->id,
		    out->n_movable, out->n_kernel);
	} else {
		out->action = DECIDE_LEAVE;
		say(c, "no block of %s can be onlined", c->id);
	}
	return 0;
}

/* Per-block memmap split for the guard. */
static void cand_memmap(const struct machine *m, struct cand *cd, enum memmap_place place,
			uint64_t bytes)
{
	if (!bytes)
		bytes = memmap_bytes_for(m, cd->size);
	if (bytes > cd->size)
		bytes = cd->size;
	cd->memmap_dev = cd->memmap_ram = 0;
	if (place == MEMMAP_ON_MEMORY)
		cd->memmap_dev = bytes;
	else /* ram, unknown (assume the costlier case for the guard) */
		cd->memmap_ram = bytes;
}

/* ---- policy_decide ---------------------------------------------------- */

int policy_decide(const struct config *cfg, const struct machine *m, const struct mem_device *dev,
		  struct decision *out)
{
	struct ctx c = { .cfg = cfg, .m = m, .out = out, .id = dev->id };
	_cleanup_free_ struct cand *cs = NULL;
	const struct rule *r;
	enum zone_choice want;
	bool zone_from_rule;
	size_t online = 0, active = 0;
	int rv;

	decision_init(out);
	out->memmap = dev->memmap;
	if (dev->nblocks) {
		out->block_zone = calloc(dev->nblocks, sizeof(*out->block_zone));
		cs = calloc(dev->nblocks, sizeof(*cs));
		if (!out->block_zone || !cs)
			return -ENOMEM;
		out->nblocks = dev->nblocks;
	}

	if (dev->type == DEV_BOOT) {
		say(&c, "%s: boot memory is managed by the kernel", dev->id);
		return c.err;
	}
	if (dev->type == DEV_S390_STANDBY && cfg->standby.enabled) {
		say(&c, "%s: s390 standby memory is managed by [standby] (enabled = yes)", dev->id);
		return c.err;
	}
	if (!match_rule(&c, dev, &r) || !wants_online(&c, r))
		return c.err;

	for (size_t i = 0; i < dev->nblocks; i++) {
		if (dev->blocks[i] >= m->nblocks) {
			say(&c,
			    "%s: block %zu refers to a block the machine model does not have; "
			    "leaving the device",
			    dev->id, i);
			return c.err;
		}
		if (m->blocks[dev->blocks[i]].state == BLOCK_ONLINE)
			online++;
	}
	if (!dev->nblocks) {
		/* an ACPI DIMM whose blocks are not added yet may still get a memmap choice */
		decide_memmap(&c, r, dev, false, dev->size, dev->node);
		say(&c, "%s has no memory blocks yet; nothing to online", dev->id);
		return c.err;
	}
	if (online == dev->nblocks) {
		say(&c, "all %zu blocks of %s are already online (%s)", online, dev->id,
		    dev->zone_mixed ? "mixed zones" : zone_name(dev->zone));
		return c.err;
	}
	for (size_t i = 0; i < dev->nblocks; i++) {
		const struct mem_block *b = &m->blocks[dev->blocks[i]];

		if (b->state != BLOCK_ONLINE && b->node < 0) {
			say(&c, "waiting for node link of %s", b->name);
			return c.err;
		}
	}
	if (online)
		say(&c, "%zu of %zu blocks of %s are already online; they keep their zone", online,
		    dev->nblocks, dev->id);

	want = pick_zone(&c, r, dev->type, &zone_from_rule);
	out->zone = want;
	decide_memmap(&c, r, dev, false, dev->size, dev->node);

	for (size_t i = 0; i < dev->nblocks; i++) {
		const struct mem_block *b = &m->blocks[dev->blocks[i]];
		struct cand *cd = &cs[i];

		cd->name = b->name;
		cd->size = b->size;
		cd->node = b->node;
		cd->valid = b->valid_zones;
		cd->can_movable = b->valid_zones & ZONE_BIT(ZONE_ID_MOVABLE);
		cd->can_kernel = b->valid_zones & ZONE_MASK_KERNEL;
		cand_memmap(m, cd, out->memmap_choosable ? out->memmap : b->memmap,
			    b->memmap_bytes);
		switch (b->state) {
		case BLOCK_OFFLINE:
			cd->active = true;
			active++;
			break;
		case BLOCK_ONLINE:
			break;
		case BLOCK_GOING_OFFLINE:
			say(&c, "%s is going-offline; leaving it alone", b->name);
			break;
		default:
			say(&c, "state of %s is unknown; leaving it alone", b->name);
			break;
		}
	}
	if (!active) {
		say(&c, "no offline block of %s to online", dev->id);
		return c.err;
	}
	rv = decide_zones(&c, cs, dev->nblocks, want, zone_from_rule, r);
	return rv < 0 ? rv : c.err;
}

/* ---- policy_decide_dax ------------------------------------------------ */

int policy_decide_dax(const struct config *cfg, const struct machine *m,
		      const struct dax_device *dax, struct decision *out)
{
	struct ctx c = { .cfg = cfg, .m = m, .out = out, .id = dax->name };
	_cleanup_free_ struct cand *cs = NULL;
	struct mem_device pd = { 0 };
	const struct rule *r;
	enum dax_mode mode;
	enum zone_choice want;
	bool zone_from_rule;
	uint64_t bs = m->block_size, first, last, nb, usable, stranded;
	int rv;
	char b1[32], b2[32], b3[32];

	decision_init(out);
	if (!m->dax || dax < m->dax || dax >= m->dax + m->ndax)
		return -EINVAL;

	if (!strcmp(dax->driver, "kmem")) {
		/* its memory exists: decide it as a device (memmap fixed) */
		if (dax->device >= 0 && (size_t)dax->device < m->ndevices)
			return policy_decide(cfg, m, &m->devices[dax->device], out);
		out->memmap = MEMMAP_UNKNOWN;
		say(&c,
		    "%s is bound to kmem but its memory blocks are not in the machine model yet",
		    dax->name);
		return c.err;
	}

	out->memmap = MEMMAP_UNKNOWN;
	snprintf(pd.id, sizeof(pd.id), "%s", dax->name);
	pd.type = DEV_DAX;
	pd.node = dax->target_node;
	pd.start = dax->start;
	pd.size = dax->size;
	pd.end = dax->start + dax->size;
	pd.dax = (int)(dax - m->dax);
	pd.zone = ZONE_ID_NONE;
	pd.memmap = MEMMAP_UNKNOWN;

	if (!match_rule(&c, &pd, &r) || !wants_online(&c, r))
		return c.err;

	if (r && r->dax_mode != DAX_MODE_UNSET) {
		mode = r->dax_mode;
		if (mode != DAX_MODE_SYSTEM_RAM) {
			say(&c, "rule '%s' keeps %s as devdax", r->name, dax->name);
			return c.err;
		}
		say(&c, "rule '%s' hands %s to kmem as system RAM", r->name, dax->name);
	} else {
		mode = cfg->dax_mode;
		if (mode != DAX_MODE_SYSTEM_RAM) {
			say(&c, "dax_mode = devdax%s in [policy] keeps %s as devdax",
			    mode == DAX_MODE_UNSET ? " (default)" : "", dax->name);
			return c.err;
		}
		say(&c, "dax_mode = system-ram in [policy] hands %s to kmem", dax->name);
	}

	if (dax->target_node < 0) {
		say(&c, "target node of %s is unknown; leaving it as devdax", dax->name);
		return c.err;
	}
	if (!bs) {
		say(&c, "memory block size unknown; cannot plan %s", dax->name);
		return c.err;
	}
	if (dax->size > UINT64_MAX - dax->start) {
		say(&c, "%s: range start %#llx + size %llu overflows; leaving it as devdax",
		    dax->name, (unsigned long long)dax->start, (unsigned long long)dax->size);
		return c.err;
	}
	/* kmem adds only whole memory blocks of the range */
	if (dax->start) {
		first = (dax->start + bs - 1) / bs;
		last = (dax->start + dax->size) / bs;
		nb = last > first ? last - first : 0;
	} else {
		nb = dax->size / bs;
	}
	usable = nb * bs;
	stranded = dax->size - usable;
	if (stranded)
		say(&c, "%s: %s of %s is not aligned to %s memory blocks and stays unused",
		    dax->name, SZ(stranded, b1), SZ(dax->size, b2), SZ(bs, b3));
	if (!nb) {
		say(&c, "%s holds no whole memory block; leaving it as devdax", dax->name);
		return c.err;
	}

	out->dax_to_system_ram = true;
	want = pick_zone(&c, r, DEV_DAX, &zone_from_rule);
	out->zone = want;
	decide_memmap(&c, r, &pd, true, usable, dax->target_node);

	out->block_zone = calloc(nb, sizeof(*out->block_zone));
	cs = calloc(nb, sizeof(*cs));
	if (!out->block_zone || !cs)
		return -ENOMEM;
	out->nblocks = nb;
	for (size_t i = 0; i < nb; i++) {
		cs[i].size = bs;
		cs[i].node = dax->target_node;
		cs[i].valid = ZONE_BIT(ZONE_ID_NORMAL) | ZONE_BIT(ZONE_ID_MOVABLE);
		cs[i].can_movable = cs[i].can_kernel = cs[i].active = true;
		cand_memmap(m, &cs[i], out->memmap, 0);
	}
	rv = decide_zones(&c, cs, nb, want, zone_from_rule, r);
	return rv < 0 ? rv : c.err;
}

/* ---- s390 standby ------------------------------------------------------ */

int policy_decide_standby(const struct config *cfg, const struct machine *m, uint64_t start,
			  uint64_t size, bool memmap_choosable, enum memmap_place fixed,
			  struct decision *out)
{
	struct mem_device pseudo = { .type = DEV_S390_STANDBY, .start = start, .end = start + size,
				     .size = size, .dax = -1, .zone = ZONE_ID_NONE };
	struct ctx c = { .cfg = cfg, .m = m, .out = out, .id = pseudo.id };
	const struct rule *r;
	bool from_rule;
	int node = m->nnodes ? m->nodes[0].id : 0;

	decision_init(out);
	pseudo.node = node;
	snprintf(pseudo.id, sizeof(pseudo.id), "standby %#" PRIx64 "-%#" PRIx64, start,
		 start + size - 1);
	if (!match_rule(&c, &pseudo, &r))
		return c.err;
	if (r && r->action == RA_IGNORE) {
		say(&c, "rule '%s' ignores %s", r->name, c.id);
		return c.err;
	}
	out->action = DECIDE_ONLINE;

	if (r && r->zone != ZC_UNSET) {
		out->zone = r->zone;
		say(&c, "zone %s from rule '%s'", zone_choice_name(r->zone), r->name);
	} else if (cfg->standby.zone != ZC_UNSET) {
		out->zone = cfg->standby.zone;
		say(&c, "zone %s from [standby]", zone_choice_name(out->zone));
	} else {
		out->zone = pick_zone(&c, NULL, DEV_S390_STANDBY, &from_rule);
	}

	if (!memmap_choosable) {
		out->memmap_choosable = false;
		out->memmap = fixed;
		say(&c,
		    "memmap placement is fixed (%s): before Linux 6.19, or once configured, the "
		    "kernel decides it",
		    memmap_place_name(fixed));
		return c.err;
	}
	out->memmap_choosable = true;
	say(&c, "memmap placement of %s is choosable: deconfigured increments with a firmware "
		"memmap_on_memory attribute",
	    c.id);
	if (r && r->memmap != MC_UNSET)
		apply_memmap_choice(&c, r, r->memmap, "the rule", size, node);
	else
		apply_memmap_choice(&c, r,
				    cfg->standby.memmap == MC_UNSET ? MC_AUTO : cfg->standby.memmap,
				    "[standby]", size, node);
	return c.err;
}
