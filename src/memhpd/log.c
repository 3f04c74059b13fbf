// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Logging: to the journal with structured fields when systemd connected our
 * stderr to it (JOURNAL_STREAM), to stderr otherwise.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "memhpd.h"

static int max_level = LOG_INFO;
static bool use_journal;

static const char *const prio_names[] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

void log_setup(int level, bool force_stderr)
{
	max_level = level;
	use_journal = !force_stderr && getenv("JOURNAL_STREAM");
}

void log_set_level(int level)
{
	max_level = level;
}

static void add_field(struct iovec *iov, size_t *n, char *buf, size_t size, const char *key,
		      const char *val)
{
	if (!val || !*val)
		return;
	snprintf(buf, size, "%s=%s", key, val);
	iov[*n].iov_base = buf;
	iov[*n].iov_len = strlen(buf);
	(*n)++;
}

void log_msg(int prio, const char *device, const char *block, const char *decision,
	     const char *fmt, ...)
{
	char msg[1024], f[5][1100];
	struct iovec iov[5];
	size_t n = 0;
	va_list ap;

	if (prio > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (!use_journal) {
		fprintf(stderr, "memhpd: %s: %s\n", prio_names[prio & 7], msg);
		return;
	}
	add_field(iov, &n, f[0], sizeof(f[0]), "MESSAGE", msg);
	snprintf(f[1], sizeof(f[1]), "PRIORITY=%d", prio & 7);
	iov[n].iov_base = f[1];
	iov[n++].iov_len = strlen(f[1]);
	add_field(iov, &n, f[2], sizeof(f[2]), "MEMHPD_DEVICE", device);
	add_field(iov, &n, f[3], sizeof(f[3]), "MEMHPD_BLOCK", block);
	add_field(iov, &n, f[4], sizeof(f[4]), "MEMHPD_DECISION", decision);
	if (sd_journal_sendv(iov, (int)n) < 0)
		fprintf(stderr, "memhpd: %s: %s\n", prio_names[prio & 7], msg);
}
