/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * render_machine_print() streams `memhpctl list --json` block by block; its
 * text must be byte for byte what printing the whole render_machine() tree
 * gives, for every selection of sections, with and without blocks, devices,
 * nodes and errors, and with values that need escaping.
 */
#include <errno.h>
#include <stdlib.h>

#include "render.h"
#include "check.h"

#define BS (128ull << 20)
#define FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

static struct mem_block blocks[4];
static struct mem_device devices[1];
static size_t devblocks[2] = { 1, 2 };
static struct numa_node nodes[2];
static struct scan_error errors[2];

static void build(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	m->block_size = BS;
	m->page_size = 4096;
	m->struct_page_size = 64;
	m->params.auto_movable_ratio = -1;
	m->is_numa = true;
	for (size_t i = 0; i < 4; i++) {
		struct mem_block *b = &blocks[i];

		memset(b, 0, sizeof(*b));
		snprintf(b->name, sizeof(b->name), "memory%zu", i + 30);
		b->index = i + 30;
		b->start = b->index * BS;
		b->size = BS;
		b->state = i ? BLOCK_OFFLINE : BLOCK_ONLINE;
		b->valid_zones = ZONE_BIT(ZONE_ID_NORMAL) | ZONE_BIT(ZONE_ID_MOVABLE);
		b->zone_default = ZONE_ID_NORMAL;
		b->zone = i ? ZONE_ID_NONE : ZONE_ID_NORMAL;
		b->node = i == 3 ? -1 : 0;
		b->removable = 1;
		b->kernel_memmap_pages = i == 2 ? 512 : -1;
		b->fw_config = -1;
		b->fw_memmap_on_memory = -1;
		b->memmap = i == 2 ? MEMMAP_ON_MEMORY : MEMMAP_RAM;
		b->memmap_bytes = 2u << 20;
		b->device = i == 1 || i == 2 ? 0 : -1;
		b->error = i == 3 ? -EIO : 0;
	}
	snprintf(blocks[1].firmware_node, sizeof(blocks[1].firmware_node), "PNP0C80:00");
	memset(devices, 0, sizeof(devices));
	snprintf(devices[0].id, sizeof(devices[0].id), "PNP0C80:00");
	devices[0].type = DEV_ACPI_DIMM;
	devices[0].blocks = devblocks;
	devices[0].nblocks = 2;
	devices[0].dax = -1;
	memset(nodes, 0, sizeof(nodes));
	nodes[1].id = 1;
	snprintf(errors[0].path, sizeof(errors[0].path),
		 "sys/devices/system/memory/memory33/state");
	errors[0].err = -EIO;
	snprintf(errors[0].msg, sizeof(errors[0].msg), "cannot read \"state\"\tof memory33\\");
	errors[1] = errors[0];
	errors[1].err = -ENOENT;
	m->blocks = blocks;
	m->nblocks = 4;
	m->devices = devices;
	m->ndevices = 1;
	m->nodes = nodes;
	m->nnodes = 2;
	m->errors = errors;
	m->nerrors = 2;
}

static void compare(const struct machine *m, unsigned what, const char *label)
{
	json_object *o = render_machine(m, what);
	const char *want = json_object_to_json_string_ext(o, FLAGS);
	char *got = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&got, &len);
	int r;

	CHECK(f != NULL, "open_memstream");
	if (!f) {
		json_object_put(o);
		return;
	}
	r = render_machine_print(f, m, what, FLAGS);
	fclose(f);
	CHECK_EQ_INT(r, 0);
	CHECK(got && strcmp(got, want) == 0, "%s (what %#x): streamed text differs:\n%s\n---\n%s",
	      label, what, got ? got : "(null)", want);
	json_object_put(o);
	free(got);
}

int main(void)
{
	struct machine m;
	FILE *f;

	build(&m);
	for (unsigned what = 0; what <= RENDER_ALL; what++)
		compare(&m, what, "4 blocks, a device, 2 nodes, 2 errors");
	m.nerrors = 0;
	m.ndevices = 0;
	blocks[1].device = blocks[2].device = -1;
	compare(&m, RENDER_ALL, "no devices, no errors");

	/* what the direct block writer must hand to json-c or spell like it */
	build(&m);
	snprintf(blocks[1].firmware_node, sizeof(blocks[1].firmware_node), "PNP0C80:\t\x01");
	snprintf(devices[0].id, sizeof(devices[0].id), "dimm/\"0\"");
	blocks[0].valid_zones = 0;
	blocks[0].zone_default = ZONE_ID_NONE;
	blocks[1].valid_zones =
		ZONE_BIT(ZONE_ID_MOVABLE) | ZONE_BIT(ZONE_ID_DMA32) | ZONE_BIT(ZONE_ID_NORMAL);
	blocks[1].zone_default = ZONE_ID_MOVABLE;
	blocks[2].valid_zones = ZONE_BIT(ZONE_ID_NORMAL);
	blocks[2].zone_default = ZONE_ID_NONE;
	blocks[1].removable = 0;
	blocks[2].removable = -1;
	blocks[1].fw_config = 0;
	blocks[2].fw_config = 1;
	blocks[3].index = UINT64_MAX >> 1;
	blocks[3].start = UINT64_MAX;
	blocks[3].memmap_bytes = 0;
	blocks[3].kernel_memmap_pages = 0;
	blocks[0].state = BLOCK_STATE_UNKNOWN;
	blocks[2].state = BLOCK_ONLINE;
	blocks[2].zone = ZONE_ID_NONE;
	blocks[2].error = -ENOTDIR;
	compare(&m, RENDER_ALL, "escapes, zone orders, optional members, extremes");
	compare(&m, RENDER_BLOCKS, "the same, blocks only");
	snprintf(blocks[1].firmware_node, sizeof(blocks[1].firmware_node), "\xc3\xa9\x7f");
	compare(&m, RENDER_BLOCKS, "bytes above ASCII");
	snprintf(devices[0].id, sizeof(devices[0].id), "dimm\\1");
	compare(&m, RENDER_BLOCKS, "a backslash");
	m.nerrors = 0;
	m.ndevices = 0;
	blocks[1].device = blocks[2].device = -1;
	blocks[1].firmware_node[0] = '\0';
	compare(&m, RENDER_ALL, "no devices, no errors, again");
	m.nblocks = 1;
	compare(&m, RENDER_ALL, "one block");
	m.nblocks = 0;
	m.nnodes = 0;
	compare(&m, RENDER_ALL, "nothing at all");
	compare(&m, RENDER_BLOCKS, "no blocks, only the block list");

	/* only pretty output can be streamed */
	f = fopen("/dev/null", "w");
	CHECK(f != NULL, "open /dev/null");
	if (f) {
		CHECK_EQ_INT(render_machine_print(f, &m, RENDER_ALL, JSON_C_TO_STRING_SPACED),
			     -EINVAL);
		fclose(f);
	}
	/* a write error is reported, not swallowed */
	f = fopen("/dev/full", "w");
	if (f) {
		setvbuf(f, NULL, _IONBF, 0);
		build(&m);
		CHECK_EQ_INT(render_machine_print(f, &m, RENDER_ALL, FLAGS), -EIO);
		fclose(f);
	}
	return check_exit();
}
