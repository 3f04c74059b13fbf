// SPDX-License-Identifier: GPL-2.0-or-later
/* memhpctl status / reload: talk to a running memhpd over its control socket. */
#include <inttypes.h>

#include "control.h"
#include "memhpctl.h"

#define CTL_CALL_TIMEOUT_MS 30000

/* --socket, else the configuration's control_socket, else the built-in default. */
static int socket_path(const struct ctl *c, char *buf, size_t size)
{
	struct config cfg;
	int r;

	if (c->socket)
		return strscpy_safe(buf, c->socket, size) < 0 ? EXIT_FAILURE : 0;
	r = ctl_config(c, &cfg);
	if (r)
		return r;
	strscpy_safe(buf, cfg.control_socket[0] ? cfg.control_socket : CONTROL_SOCKET_DEFAULT,
		     size);
	config_free(&cfg);
	return 0;
}

/*
 * Send one request and parse the reply; prints every failure itself.
 * Returns 0 with *out set (the daemon's answer, ok or not) or an exit code.
 */
static int daemon_call(const struct ctl *c, const char *request, json_object **out)
{
	_cleanup_free_ char *reply = NULL;
	char path[256];
	json_object *o, *ok;
	int r;

	*out = NULL;
	r = socket_path(c, path, sizeof(path));
	if (r)
		return r;
	r = control_call(path, request, &reply, CTL_CALL_TIMEOUT_MS);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		ctl_err("memhpd is not running (no socket at %s)", path);
		return EXIT_FAILURE;
	}
	if (r == -EACCES) {
		ctl_err("cannot connect to %s: %s", path, strerror(-r));
		return EXIT_FAILURE;
	}
	if (r < 0) {
		ctl_err("no reply from memhpd on %s: %s", path,
			r == -ECONNRESET ? "connection closed" : strerror(-r));
		return EXIT_FAILURE;
	}
	o = json_tokener_parse(reply);
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean)) {
		ctl_err("malformed reply from memhpd on %s", path);
		json_object_put(o);
		return EXIT_FAILURE;
	}
	*out = o;
	return 0;
}

static const char *str_field(json_object *o, const char *key, const char *dflt)
{
	json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return dflt;
}

static uint64_t u64_field(json_object *o, const char *key)
{
	json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
		return json_object_get_uint64(v);
	return 0;
}

/* Print the daemon's error and return 1 if the reply is not ok. */
static int reply_failed(json_object *o)
{
	json_object *ok;

	json_object_object_get_ex(o, "ok", &ok);
	if (json_object_get_boolean(ok))
		return 0;
	ctl_err("%s", str_field(o, "error", "memhpd reported an unspecified error"));
	return EXIT_FAILURE;
}

static void print_status(json_object *st)
{
	static const char *const hdr[] = { "DEVICE", "TYPE",	      "DECISION",
					   "ZONE",   "ONLINED",	      "BY-OTHER",
					   "FAILED", "MEMMAP-ON-DEV", "MEMMAP-RAM" };
	json_object *files, *cnt, *devs, *inner;
	struct table *t;
	char s1[32], s2[32];
	bool first = true;

	printf("memhpd %s: %s\n", str_field(st, "version", "?"), str_field(st, "text", ""));
	if (json_object_object_get_ex(st, "config_files", &files) &&
	    json_object_is_type(files, json_type_array)) {
		printf("config:");
		for (size_t i = 0; i < json_object_array_length(files); i++)
			printf(" %s", json_object_get_string(json_object_array_get_idx(files, i)));
		printf("%s\n", json_object_array_length(files) ? "" : " (built-in defaults)");
	}
	if (json_object_object_get_ex(st, "counters", &cnt) &&
	    json_object_is_type(cnt, json_type_object)) {
		int col = printf("counters:");

		json_object_object_foreach(cnt, key, v)
		{
			char item[96];
			int n = snprintf(item, sizeof(item), "%s=%" PRIu64, key,
					 json_object_get_uint64(v));

			if (!first && col + n + 2 > 100)
				col = printf(",\n ") - 2;
			else if (!first)
				col += printf(",");
			col += printf(" %s", item);
			first = false;
		}
		printf("\n");
	}

	if (!json_object_object_get_ex(st, "devices", &devs))
		devs = NULL;
	/* state_to_json may wrap the list: {"devices":[...], ...} */
	if (devs && json_object_is_type(devs, json_type_object) &&
	    json_object_object_get_ex(devs, "devices", &inner))
		devs = inner;
	if (!devs || !json_object_is_type(devs, json_type_array) ||
	    !json_object_array_length(devs)) {
		printf("devices: none recorded\n");
		return;
	}

	t = table_new(ARRAY_SIZE(hdr), hdr);
	if (!t) {
		ctl_err("out of memory");
		return;
	}
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		json_object *d = json_object_array_get_idx(devs, i);
		char on[16], other[16], failed[16];
		const char *decision = str_field(d, "decision", "");
		const char *zone = str_field(d, "zone", "");

		snprintf(on, sizeof(on), "%" PRIu64, u64_field(d, "onlined"));
		snprintf(other, sizeof(other), "%" PRIu64, u64_field(d, "by_other"));
		snprintf(failed, sizeof(failed), "%" PRIu64, u64_field(d, "failed"));
		table_add(t, str_field(d, "id", "?"), str_field(d, "type", "?"),
			  decision[0] ? decision : "-", zone[0] ? zone : "-", on, other, failed,
			  format_size(u64_field(d, "memmap_on_device_bytes"), s1, sizeof(s1)),
			  format_size(u64_field(d, "memmap_in_ram_bytes"), s2, sizeof(s2)));
	}
	table_print(t, stdout);
	table_free(t);
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		json_object *d = json_object_array_get_idx(devs, i);
		const char *e = str_field(d, "last_error", "");

		if (e[0])
			printf("%s: last error: %s\n", str_field(d, "id", "?"), e);
	}
}

int cmd_status(struct ctl *c)
{
	json_object *o, *st;
	int r;

	if (c->argc) {
		ctl_err("status takes no arguments");
		return EXIT_FAILURE;
	}
	r = daemon_call(c, "{\"cmd\":\"status\"}", &o);
	if (r)
		return r;
	if (c->json) {
		ctl_print_json(o);
		r = reply_failed(o) ? EXIT_FAILURE : EXIT_SUCCESS;
	} else if (reply_failed(o)) {
		r = EXIT_FAILURE;
	} else if (!json_object_object_get_ex(o, "status", &st) ||
		   !json_object_is_type(st, json_type_object)) {
		ctl_err("malformed reply from memhpd: no status");
		r = EXIT_FAILURE;
	} else {
		print_status(st);
		r = EXIT_SUCCESS;
	}
	json_object_put(o);
	return r;
}

int cmd_reload(struct ctl *c)
{
	json_object *o;
	int r;

	if (c->argc) {
		ctl_err("reload takes no arguments");
		return EXIT_FAILURE;
	}
	r = daemon_call(c, "{\"cmd\":\"reload\"}", &o);
	if (r)
		return r;
	if (c->json)
		ctl_print_json(o);
	r = reply_failed(o);
	if (!r && !c->json)
		printf("memhpd reloaded its configuration\n");
	json_object_put(o);
	return r;
}
