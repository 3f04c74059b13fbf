// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memhpctl: inspect and change memory hotplug state, daxctl/chmem style.
 * Works without the daemon; every path goes through --sysroot.
 */
#include <getopt.h>
#include <stdarg.h>

#include "control.h"
#include "memhpctl.h"
#include "render.h"

void ctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("memhpctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int ctl_scan(const struct ctl *c, struct sysroot **srp, struct machine **mp)
{
	_cleanup_sysroot_ struct sysroot *sr = NULL;
	_cleanup_machine_ struct machine *m = NULL;
	int r;

	r = sysroot_open(c->sysroot, &sr);
	if (r < 0) {
		ctl_err("cannot open sysroot %s: %s", c->sysroot ? c->sysroot : "/", strerror(-r));
		return EXIT_FAILURE;
	}
	r = machine_scan(sr, &m);
	if (r < 0) {
		ctl_err("cannot scan memory of %s: %s", sysroot_path(sr),
			m && m->nerrors ? m->errors[0].msg : strerror(-r));
		return EXIT_FAILURE;
	}
	for (size_t i = 0; c->verbose && !c->json && i < m->nerrors; i++)
		fprintf(stderr, "memhpctl: warning: %s: %s\n", m->errors[i].path, m->errors[i].msg);
	if (m->nerrors && !c->verbose && !c->json)
		fprintf(stderr,
			"memhpctl: warning: %zu problem(s) while scanning (-v shows them)\n",
			m->nerrors);
	*srp = TAKE_PTR(sr);
	*mp = TAKE_PTR(m);
	return 0;
}

int ctl_config_load(const struct ctl *c, struct config *cfg)
{
	char file[512], dir[512];
	int r;

	config_init(cfg);
	config_default_paths(c->sysroot, file, sizeof(file), dir, sizeof(dir));
	/* an explicit --config without --config-dir means exactly that file */
	r = config_load(cfg, c->config ? c->config : file,
			c->config_dir ? c->config_dir
			: c->config   ? NULL
				      : dir);
	if (r >= 0)
		r = config_validate(cfg);
	if (r >= 0)
		r = config_rebase_defaults(cfg, c->sysroot);
	return r < 0 ? r : cfg->errors.n ? -EINVAL : 0;
}

int ctl_config(const struct ctl *c, struct config *cfg)
{
	if (ctl_config_load(c, cfg) < 0) {
		for (size_t i = 0; i < cfg->errors.n; i++)
			fprintf(stderr, "%s\n", cfg->errors.v[i]);
		ctl_err("invalid configuration");
		config_free(cfg);
		return EXIT_FAILURE;
	}
	return 0;
}

void ctl_print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, CTL_JSON_FLAGS));
}

static void usage(FILE *f)
{
	fputs("Usage: memhpctl [OPTIONS] COMMAND [ARGS]\n"
	      "\n"
	      "Commands:\n"
	      "  list [--blocks] [--devices] [--nodes] [--dax]\n"
	      "                          show memory blocks, devices, nodes, dax devices\n"
	      "  explain NAME            the decision memhpd's policy takes for a device or block\n"
	      "  online TARGET [--zone movable|kernel] [--timeout S]\n"
	      "  offline TARGET [--timeout S]\n"
	      "                          change block state (highest block first when offlining)\n"
	      "  check-config [FILE...]  validate configuration files\n"
	      "  status                  what the running memhpd did, per device\n"
	      "  reload                  make memhpd re-read its configuration (root)\n"
	      "  standby list            s390 standby memory increments\n"
	      "  standby configure SIZE|RANGE|--blocks A[-B] [--memmap on-memory|ram]\n"
	      "          [--zone movable|kernel] [--no-online] [--timeout S]\n"
	      "  standby deconfigure SIZE|RANGE|--blocks A[-B] [--timeout S]\n"
	      "                          assign / give back standby memory (chmem -c/-g)\n"
	      "\n"
	      "TARGET: memoryN, memoryA-memoryB, 0xSTART-0xEND, a device id or a dax name.\n"
	      "\n"
	      "Options:\n"
	      "  -r, --sysroot DIR       use DIR instead of / for /sys and /proc\n"
	      "  -c, --config FILE       configuration file (default " MEMHPD_CONF_DEFAULT ")\n"
	      "      --config-dir DIR    drop-in directory (default " MEMHPD_CONF_DIR_DEFAULT ")\n"
	      "      --socket PATH       memhpd's control socket (default: control_socket\n"
	      "                          of the configuration, " CONTROL_SOCKET_DEFAULT ")\n"
	      "  -J, --json              JSON output\n"
	      "  -v, --verbose           show scan warnings\n"
	      "  -h, --help              this text\n"
	      "  -V, --version           version\n"
	      "\n"
	      "Exit status: 0 success, 1 failure, 64 partial success.\n",
	      f);
}

enum {
	OPT_CONFIG_DIR = 256,
	OPT_BLOCKS,
	OPT_DEVICES,
	OPT_NODES,
	OPT_DAX,
	OPT_ZONE,
	OPT_TIMEOUT,
	OPT_SOCKET,
	OPT_MEMMAP,
	OPT_NO_ONLINE,
};

static const struct {
	const char *name;
	int (*fn)(struct ctl *c);
} commands[] = {
	{ "list", cmd_list },	    { "explain", cmd_explain },		  { "online", cmd_online },
	{ "offline", cmd_offline }, { "check-config", cmd_check_config }, { "status", cmd_status },
	{ "reload", cmd_reload },   { "standby", cmd_standby },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "sysroot", required_argument, NULL, 'r' },
					      { "config", required_argument, NULL, 'c' },
					      { "config-dir", required_argument, NULL,
						OPT_CONFIG_DIR },
					      { "json", no_argument, NULL, 'J' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "help", no_argument, NULL, 'h' },
					      { "version", no_argument, NULL, 'V' },
					      { "blocks", no_argument, NULL, OPT_BLOCKS },
					      { "devices", no_argument, NULL, OPT_DEVICES },
					      { "nodes", no_argument, NULL, OPT_NODES },
					      { "dax", no_argument, NULL, OPT_DAX },
					      { "zone", required_argument, NULL, OPT_ZONE },
					      { "timeout", required_argument, NULL, OPT_TIMEOUT },
					      { "socket", required_argument, NULL, OPT_SOCKET },
					      { "memmap", required_argument, NULL, OPT_MEMMAP },
					      { "no-online", no_argument, NULL, OPT_NO_ONLINE },
					      {} };
	struct ctl c = { .timeout_ms = 30000 };
	uint64_t v;
	int o;

	while ((o = getopt_long(argc, argv, "r:c:JvhV", opts, NULL)) >= 0) {
		switch (o) {
		case 'r':
			c.sysroot = optarg;
			break;
		case 'c':
			c.config = optarg;
			break;
		case OPT_CONFIG_DIR:
			c.config_dir = optarg;
			break;
		case OPT_SOCKET:
			c.socket = optarg;
			break;
		case 'J':
			c.json = true;
			break;
		case 'v':
			c.verbose++;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			puts("memhpctl " MEMHP_VERSION);
			return EXIT_SUCCESS;
		case OPT_BLOCKS:
			c.what |= RENDER_BLOCKS;
			break;
		case OPT_DEVICES:
			c.what |= RENDER_DEVICES;
			break;
		case OPT_NODES:
			c.what |= RENDER_NODES;
			break;
		case OPT_DAX:
			c.what |= RENDER_DAX;
			break;
		case OPT_ZONE:
			if (!streq(optarg, "movable") && !streq(optarg, "kernel")) {
				ctl_err("--zone: \"%s\" is not movable or kernel", optarg);
				return EXIT_FAILURE;
			}
			c.zone = optarg;
			break;
		case OPT_TIMEOUT:
			if (parse_u64(optarg, 10, &v) < 0 || v == 0 || v > 86400) {
				ctl_err("--timeout: \"%s\" is not a number of seconds (1-86400)",
					optarg);
				return EXIT_FAILURE;
			}
			c.timeout_ms = (unsigned)v * 1000;
			break;
		case OPT_MEMMAP:
			if (!streq(optarg, "on-memory") && !streq(optarg, "ram") &&
			    !streq(optarg, "auto")) {
				ctl_err("--memmap: \"%s\" is not on-memory, ram or auto", optarg);
				return EXIT_FAILURE;
			}
			c.memmap = optarg;
			break;
		case OPT_NO_ONLINE:
			c.no_online = true;
			break;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	c.argc = argc - optind - 1;
	c.argv = argv + optind + 1;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (streq(argv[optind], commands[i].name))
			return commands[i].fn(&c);
	ctl_err("unknown command \"%s\" (see memhpctl --help)", argv[optind]);
	return EXIT_FAILURE;
}
