// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Replace a file atomically: readers (memhpctl, node_exporter's textfile
 * collector, the next memhpd start) see either the old or the new content,
 * never a half-written file, even across a crash.
 *
 * The temporary file is "<path>.tmp.XXXXXX" in the same directory (rename
 * only is atomic within one filesystem); its name does not end in ".prom",
 * so the textfile collector never reads it.
 */
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

#include "memhpd.h"

/* mkdir -p of dir, each new component 0755. */
static int mkdir_parents(const char *dir)
{
	_cleanup_free_ char *p = strdup(dir);
	char c;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = c;
		if (!c)
			return 0;
	}
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

int write_file_atomic(const char *path, const char *data, size_t len)
{
	_cleanup_free_ char *tmp = NULL, *dircopy = NULL;
	const char *dir;
	int fd, r;

	if (!path || !*path)
		return -EINVAL;
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return -ENOMEM;
	dircopy = strdup(path);
	if (!dircopy)
		return -ENOMEM;
	dir = dirname(dircopy);

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		r = mkdir_parents(dir);
		if (r < 0)
			return r;
		/* a failed mkostemp may have filled in the XXXXXX */
		strcpy(tmp + strlen(tmp) - 6, "XXXXXX");
		fd = mkostemp(tmp, O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;

	/* mkstemp makes 0600; memhpctl users and node_exporter read these */
	if (fchmod(fd, 0644) < 0)
		r = -errno;
	else
		r = write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	/* make the rename itself durable */
	return fsync_dir(dir);
}
