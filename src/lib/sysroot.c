// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sysroot access.  The handle keeps an O_PATH directory fd standing in for
 * "/"; every path is resolved relative to it with openat2(RESOLVE_IN_ROOT) so
 * that an absolute symlink inside a fixture tree ("/sys/devices/...") resolves
 * inside the fixture and can never reach the host's real /sys.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "sysroot.h"
#include "util.h"

struct sysroot {
	int fd;
	char *path;
	bool host;
	sysroot_fault_fn fault;
	void *fault_data;
};

/* API paths are relative to the root; tolerate a leading '/' anyway. */
static const char *rel_path(const char *path)
{
	if (!path)
		return ".";
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

/* Returns < 0 to fail the op, 1 for "short read", 0 for normal. */
static int fault_check(struct sysroot *sr, enum sysroot_op op, const char *path)
{
	if (!sr->fault)
		return 0;
	return sr->fault(sr->fault_data, op, path);
}

#define MAX_SYMLINKS 40
#define MAX_DEPTH 64

static void close_stack(int *stack, int depth)
{
	int saved = errno;

	/* stack[0] is the root fd: not ours to close */
	for (int i = depth; i > 0; i--)
		close(stack[i]);
	errno = saved;
}

/*
 * RESOLVE_IN_ROOT by hand, for kernels without openat2() (before 5.6, or
 * qemu-user): walk one component at a time with O_NOFOLLOW and expand
 * symlinks ourselves, restarting absolute targets at the sysroot and never
 * letting ".." climb above it, so no link in a sysroot can reach the host.
 */
static int open_confined(struct sysroot *sr, const char *path, int flags)
{
	char todo[2 * PATH_MAX], target[PATH_MAX], comp[NAME_MAX + 1];
	int stack[MAX_DEPTH], depth = 0, links = 0, fd;
	char *p = todo;

	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(todo, path);
	stack[0] = sr->fd;
	for (;;) {
		struct stat st;
		size_t len;
		bool last;

		while (*p == '/')
			p++;
		if (!*p) /* the path named a directory we are in */
			break;
		len = strcspn(p, "/");
		if (len > NAME_MAX) {
			close_stack(stack, depth);
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len;
		last = !p[strspn(p, "/")];

		if (streq(comp, "."))
			continue;
		if (streq(comp, "..")) {
			if (depth > 0)
				close(stack[depth--]);
			continue;
		}
		if (fstatat(stack[depth], comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			fd = -errno;
			close_stack(stack, depth);
			return fd;
		}
		if (S_ISLNK(st.st_mode)) {
			ssize_t n;

			if (++links > MAX_SYMLINKS) {
				close_stack(stack, depth);
				return -ELOOP;
			}
			n = readlinkat(stack[depth], comp, target, sizeof(target) - 1);
			if (n < 0 || strlen(p) + (size_t)n + 2 > sizeof(todo)) {
				fd = n < 0 ? -errno : -ENAMETOOLONG;
				close_stack(stack, depth);
				return fd;
			}
			target[n] = '\0';
			/* the rest of the path goes after the link's target */
			memmove(todo + n + 1, p, strlen(p) + 1);
			memcpy(todo, target, (size_t)n);
			todo[n] = '/';
			p = todo;
			if (target[0] == '/') {
				close_stack(stack, depth);
				depth = 0;
			}
			continue;
		}
		if (last) {
			fd = openat(stack[depth], comp, flags | O_NOFOLLOW | O_CLOEXEC);
			fd = fd < 0 ? -errno : fd;
			close_stack(stack, depth);
			return fd;
		}
		if (depth + 1 >= MAX_DEPTH) {
			close_stack(stack, depth);
			return -ENAMETOOLONG;
		}
		fd = openat(stack[depth], comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			fd = -errno;
			close_stack(stack, depth);
			return fd;
		}
		stack[++depth] = fd;
	}
	fd = openat(stack[depth], ".", flags | O_CLOEXEC);
	fd = fd < 0 ? -errno : fd;
	close_stack(stack, depth);
	return fd;
}

/* Open path (already relative) inside the root.  Returns an fd or -errno. */
static int open_in_root(struct sysroot *sr, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd, tries = 0;

	/*
	 * EAGAIN: a rename anywhere in the system raced a ".." in the path (sysfs
	 * links are relative: memoryN/node1 -> ../../node/node1), and the kernel
	 * cannot vouch that the lookup stayed inside the root.  openat2(2) says
	 * to retry; on a busy machine a single try fails now and then.
	 */
	do {
		fd = (int)syscall(SYS_openat2, sr->fd, path, &how, sizeof(how));
	} while (fd < 0 && (errno == EINTR || (errno == EAGAIN && ++tries < 64)));
	if (fd >= 0)
		return fd;
	if (errno != ENOSYS)
		return -errno;
	/*
	 * openat2() is Linux >= 5.6 (and qemu-user lacks it).  For the host
	 * root plain openat() is exactly right; inside a sysroot, confine the
	 * walk by hand so that no symlink can reach the host.
	 */
	if (!sr->host)
		return open_confined(sr, path, flags);
	do {
		fd = openat(sr->fd, path, flags | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

int sysroot_open(const char *path, struct sysroot **out)
{
	_cleanup_free_ struct sysroot *sr = NULL;
	struct stat st, root_st;

	if (!out)
		return -EINVAL;
	sr = calloc(1, sizeof(*sr));
	if (!sr)
		return -ENOMEM;
	if (!path || !*path)
		path = "/";
	sr->path = strdup(path);
	if (!sr->path)
		return -ENOMEM;
	sr->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sr->fd < 0) {
		int r = -errno;

		free(sr->path);
		return r;
	}
	/* "/", "//", "/." ... all mean the host: compare inodes, not strings. */
	if (fstat(sr->fd, &st) == 0 && stat("/", &root_st) == 0)
		sr->host = st.st_dev == root_st.st_dev && st.st_ino == root_st.st_ino;
	else
		sr->host = streq(path, "/");
	*out = TAKE_PTR(sr);
	return 0;
}

void sysroot_free(struct sysroot *sr)
{
	if (!sr)
		return;
	if (sr->fd >= 0)
		close(sr->fd);
	free(sr->path);
	free(sr);
}

const char *sysroot_path(const struct sysroot *sr)
{
	return sr ? sr->path : NULL;
}

bool sysroot_is_host(const struct sysroot *sr)
{
	return sr && sr->host;
}

void sysroot_set_fault(struct sysroot *sr, sysroot_fault_fn fn, void *data)
{
	if (!sr)
		return;
	sr->fault = fn;
	sr->fault_data = data;
}

/*
 * read() that retries EINTR and short reads until n bytes or EOF, or with
 * to_newline until the data read so far ends in a newline.  Every sysfs
 * attribute ends its value with a newline and hands it out in one read(),
 * so for attributes that is one read() instead of a second one that only
 * sees EOF (a scan of every block spends half its reads on that); a short
 * read that stops mid-value has no newline yet and is continued.
 */
static ssize_t read_full(int fd, char *buf, size_t n, bool to_newline)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = read(fd, buf + done, n - done);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		done += (size_t)k;
		if (to_newline && buf[done - 1] == '\n')
			break;
	}
	return (ssize_t)done;
}

/*
 * The common start of every file operation: the fault hook, then the
 * confined open.  *path is made relative to the root; *fault is the hook's
 * verdict (1: deliver a short read / partial write).  Returns the fd or
 * -errno.
 */
static int open_op(struct sysroot *sr, const char **path, enum sysroot_op op, int flags,
		   int *fault)
{
	*path = rel_path(*path);
	*fault = fault_check(sr, op, *path);
	if (*fault < 0)
		return *fault;
	return open_in_root(sr, *path, flags);
}

/* Read an attribute from an open fd: the body of every attribute read. */
static int read_attr_fd(int fd, int fault, char *buf, size_t size)
{
	ssize_t n;
	size_t len;

	n = read_full(fd, buf, size - 1, true);
	if (n < 0)
		return (int)n;
	len = (size_t)n;
	if (len == size - 1) {
		/* Full: the value only fits if what follows is the final newline. */
		char extra[2];
		ssize_t m = read_full(fd, extra, sizeof(extra), false);

		if (m < 0)
			return (int)m;
		if (m > 1 || (m == 1 && extra[0] != '\n')) {
			buf[len] = '\0';
			return -EFBIG;
		}
	}
	if (fault == 1)
		len /= 2;
	buf[len] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return len > INT_MAX ? -EFBIG : (int)len;
}

int sysroot_read_attr(struct sysroot *sr, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	int fault;

	if (!sr || !buf || size < 1)
		return -EINVAL;
	buf[0] = '\0';
	fd = open_op(sr, &path, SYSROOT_OP_READ, O_RDONLY, &fault);
	if (fd < 0)
		return fd;
	return read_attr_fd(fd, fault, buf, size);
}

int sysroot_read_attrf(struct sysroot *sr, char *buf, size_t size, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return sysroot_read_attr(sr, path, buf, size);
}

int sysroot_read_file(struct sysroot *sr, const char *path, char **out, size_t *len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t cap = 0, used = 0;
	int fault;

	if (!sr || !out)
		return -EINVAL;
	fd = open_op(sr, &path, SYSROOT_OP_READ, O_RDONLY, &fault);
	if (fd < 0)
		return fd;
	/* procfs reports st_size 0, so read until EOF instead of trusting fstat. */
	for (;;) {
		ssize_t k;

		if (used == cap) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *p;

			/* one byte beyond the cap so we can tell "exactly max" from "more" */
			if (ncap > SYSROOT_FILE_MAX + 1)
				ncap = SYSROOT_FILE_MAX + 1;
			if (ncap <= cap)
				return -EFBIG;
			p = realloc(buf, ncap + 1);
			if (!p)
				return -ENOMEM;
			buf = p;
			cap = ncap;
		}
		k = read(fd, buf + used, cap - used);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		used += (size_t)k;
		if (used > SYSROOT_FILE_MAX)
			return -EFBIG;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return -ENOMEM;
	}
	if (fault == 1)
		used /= 2;
	buf[used] = '\0';
	if (len)
		*len = used;
	*out = TAKE_PTR(buf);
	return 0;
}

int sysroot_write_attr(struct sysroot *sr, const char *path, const char *val)
{
	_cleanup_close_ int fd = -1;
	size_t len;
	ssize_t n;
	int fault;

	if (!sr || !val)
		return -EINVAL;
	/* sysfs attributes: never create, never truncate, one write() */
	fd = open_op(sr, &path, SYSROOT_OP_WRITE, O_WRONLY, &fault);
	if (fd < 0)
		return fd;
	len = strlen(val);
	/* fault 1 on a write: the kernel accepted only half the value */
	n = write(fd, val, fault == 1 ? len / 2 : len);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

/* Open the directory part of path inside the root, and point *base at the last component. */
static int open_parent(struct sysroot *sr, const char *path, char *dir, size_t dirsize,
		       const char **base)
{
	const char *slash;

	if (strscpy_safe(dir, path, dirsize) < 0)
		return -ENAMETOOLONG;
	/* drop trailing slashes: "a/b/" names b */
	for (size_t l = strlen(dir); l > 1 && dir[l - 1] == '/'; l--)
		dir[l - 1] = '\0';
	slash = strrchr(dir, '/');
	if (!slash) {
		/* *base points into the caller's path, not into dir */
		*base = path;
		return open_in_root(sr, ".", O_PATH | O_DIRECTORY);
	}
	*base = path + (slash - dir) + 1;
	dir[slash - dir] = '\0';
	return open_in_root(sr, dir, O_PATH | O_DIRECTORY);
}

int sysroot_readlink(struct sysroot *sr, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int dfd = -1;
	char dir[PATH_MAX], name[NAME_MAX + 1];
	const char *base;
	ssize_t n;
	int fault;

	if (!sr || !buf || size < 1)
		return -EINVAL;
	buf[0] = '\0';
	path = rel_path(path);
	fault = fault_check(sr, SYSROOT_OP_READLINK, path);
	if (fault < 0)
		return fault;
	dfd = open_parent(sr, path, dir, sizeof(dir), &base);
	if (dfd < 0)
		return dfd;
	/* base may carry trailing slashes: copy just the component */
	if (strscpy_safe(name, base, sizeof(name)) < 0)
		return -ENAMETOOLONG;
	name[strcspn(name, "/")] = '\0';
	n = readlinkat(dfd, name, buf, size);
	if (n < 0)
		return -errno;
	if ((size_t)n >= size) {
		buf[size - 1] = '\0';
		return -ENAMETOOLONG;
	}
	if (fault == 1)
		n /= 2;
	buf[n] = '\0';
	return (int)n;
}

/* The last component of a link target, trailing slashes ignored. */
static int target_basename(char *target, char *buf, size_t size)
{
	size_t l = strlen(target);
	char *base;
	int r;

	while (l > 1 && target[l - 1] == '/')
		target[--l] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base)
		return -EINVAL;
	r = strscpy_safe(buf, base, size);
	return r < 0 ? r : (int)strlen(buf);
}

int sysroot_link_basename(struct sysroot *sr, const char *path, char *buf, size_t size)
{
	char target[PATH_MAX];
	int r;

	if (!buf || size < 1)
		return -EINVAL;
	buf[0] = '\0';
	r = sysroot_readlink(sr, path, target, sizeof(target));
	if (r < 0)
		return r;
	return target_basename(target, buf, size);
}

/* fdopendir(), closing fd when it fails. */
static int opendir_fd(int fd, DIR **out)
{
	DIR *d = fdopendir(fd);

	if (!d) {
		int r = -errno;

		close(fd);
		return r;
	}
	*out = d;
	return 0;
}

int sysroot_opendir(struct sysroot *sr, const char *path, DIR **out)
{
	int fd, fault;

	if (!sr || !out)
		return -EINVAL;
	path = rel_path(path);
	fault = fault_check(sr, SYSROOT_OP_OPENDIR, path);
	if (fault < 0)
		return fault;
	fd = open_in_root(sr, path, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	return opendir_fd(fd, out);
}

int sysroot_exists(struct sysroot *sr, const char *path)
{
	int fd;

	if (!sr)
		return -EINVAL;
	fd = open_in_root(sr, rel_path(path), O_PATH);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (fd == -ENOENT || fd == -ENOTDIR)
		return 0;
	return fd;
}

int sysroot_writable(struct sysroot *sr, const char *path)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (!sr)
		return -EINVAL;
	fd = open_in_root(sr, rel_path(path), O_PATH);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	return (st.st_mode & S_IWUSR) ? 1 : 0;
}

int sysroot_dir_open(struct sysroot *sr, const char *path, struct sysroot_dir *d)
{
	int fd;

	d->sr = sr;
	d->fd = -1;
	d->parent = NULL;
	if (!sr)
		return -EINVAL;
	path = rel_path(path);
	if (strscpy_safe(d->path, path, sizeof(d->path)) < 0)
		return -ENAMETOOLONG;
	fd = open_in_root(sr, path, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return fd;
	d->fd = fd;
	return 0;
}

void sysroot_dir_close(struct sysroot_dir *d)
{
	if (d->fd >= 0) {
		int saved = errno;

		close(d->fd);
		errno = saved;
	}
	d->fd = -1;
	d->parent = NULL;
	d->plain = false;
}

/* name is one component: no way up or across from the directory it is in */
static bool one_component(const char *name)
{
	return *name && !strchr(name, '/') && !streq(name, ".") && !streq(name, "..");
}

/*
 * The common start of an operation on one entry of an open directory: the
 * name must be a single component, and the fault hook sees the whole path
 * (written to full), as for every other operation.  Returns the hook's
 * verdict (0, or 1 for a short read) or -errno.
 */
static int dir_entry_op(struct sysroot_dir *d, const char *name, enum sysroot_op op, char *full,
			size_t size)
{
	int n;

	if (d->fd < 0 && !d->parent)
		return -EBADF;
	if (!one_component(name))
		return -EINVAL;
	n = snprintf(full, size, "%s/%s", d->path, name);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return fault_check(d->sr, op, full);
}

/* d, not open, named as the entry `name` (one component) of parent; the length of its path */
static int entry_init(const struct sysroot_dir *parent, const char *name, struct sysroot_dir *d)
{
	int n;

	d->sr = parent->sr;
	d->fd = -1;
	d->parent = NULL;
	d->plain = false;
	if (parent->fd < 0)
		return -EBADF;
	if (!one_component(name))
		return -EINVAL;
	n = snprintf(d->path, sizeof(d->path), "%s/%s", parent->path, name);
	if (n < 0 || (size_t)n >= sizeof(d->path))
		return -ENAMETOOLONG;
	return n;
}

int sysroot_dir_entry(const struct sysroot_dir *parent, const char *name, struct sysroot_dir *d)
{
	int n = entry_init(parent, name, d);

	if (n < 0)
		return n;
	d->entry_off = (unsigned short)(n - strlen(name));
	d->parent = parent;
	return 0;
}

/* Open a lazy entry's directory after all (sysroot_dir_entry). */
static int dir_materialize(struct sysroot_dir *d)
{
	struct sysroot_dir real;
	int r;

	if (d->fd >= 0 || !d->parent)
		return d->fd >= 0 ? 0 : -EBADF;
	/* cast: open_entry only reads parent */
	r = sysroot_dir_open_entry((struct sysroot_dir *)d->parent, d->path + d->entry_off, &real);
	if (r < 0)
		return r;
	d->fd = real.fd;
	return 0;
}

/* "entry/name" from a lazy entry's parent, in one lookup that follows no link */
static int dir_lazy_path(const struct sysroot_dir *d, const char *name, char *rel, size_t size)
{
	int n = snprintf(rel, size, "%s/%s", d->path + d->entry_off, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int dir_lazy_open(struct sysroot_dir *d, const char *name, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	char rel[PATH_MAX];
	int fd, r;

	r = dir_lazy_path(d, name, rel, sizeof(rel));
	if (r < 0)
		return r;
	do {
		fd = (int)syscall(SYS_openat2, d->parent->fd, rel, &how, sizeof(how));
	} while (fd < 0 && errno == EINTR);
	if (fd >= 0) {
		d->plain = true;
		return fd;
	}
	return -errno;
}

/*
 * Open one entry of an open directory.  The lookup is a single component
 * with O_NOFOLLOW, so it cannot leave the directory; an entry that is a
 * symlink (ELOOP) is resolved like any other path, confined to the root.
 */
static int dir_open_entry(struct sysroot_dir *d, const char *name, enum sysroot_op op, int flags,
			  int *fault)
{
	char full[PATH_MAX];
	int fd;

	*fault = dir_entry_op(d, name, op, full, sizeof(full));
	if (*fault < 0)
		return *fault;
	if (d->fd < 0) {
		int r;

		/*
		 * A lazy entry: one lookup from the parent.  ELOOP (a link on
		 * the way), ENOTDIR, ENOSYS (no openat2) and the rest: open
		 * the directory and go the confined way, which also gives
		 * the error a directory open would have given.  ENOENT is
		 * the same answer either way.
		 */
		fd = dir_lazy_open(d, name, flags);
		if (fd >= 0 || fd == -ENOENT)
			return fd;
		r = dir_materialize(d);
		if (r < 0)
			return r;
	}
	do {
		fd = openat(d->fd, name, flags | O_NOFOLLOW | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd >= 0)
		return fd;
	if (errno == ELOOP)
		return open_in_root(d->sr, full, flags);
	return -errno;
}

/*
 * A scan opens 65,536 block directories; from the memory directory each is
 * one component to look up instead of five from the root.
 */
int sysroot_dir_open_entry(struct sysroot_dir *parent, const char *name, struct sysroot_dir *d)
{
	int fd, r = entry_init(parent, name, d);

	if (r < 0)
		return r;
	do {
		fd = openat(parent->fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	/* a symlink (O_PATH|O_NOFOLLOW opens the link: ENOTDIR) is resolved in the root */
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		fd = open_in_root(d->sr, d->path, O_PATH | O_DIRECTORY);
	else if (fd < 0)
		fd = -errno;
	if (fd < 0)
		return fd;
	d->fd = fd;
	return 0;
}

int sysroot_dir_read_attr(struct sysroot_dir *d, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	int fault;

	if (!buf || size < 1)
		return -EINVAL;
	buf[0] = '\0';
	fd = dir_open_entry(d, name, SYSROOT_OP_READ, O_RDONLY, &fault);
	if (fd < 0)
		return fd;
	return read_attr_fd(fd, fault, buf, size);
}

int sysroot_dir_link_basename(struct sysroot_dir *d, const char *name, char *buf, size_t size)
{
	char full[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	int fault;

	if (!buf || size < 1)
		return -EINVAL;
	buf[0] = '\0';
	fault = dir_entry_op(d, name, SYSROOT_OP_READLINK, full, sizeof(full));
	if (fault < 0)
		return fault;
	if (d->fd < 0 && d->plain) {
		/*
		 * An earlier open through the parent found the entry a real
		 * directory.  Should it have become a link since, readlinkat
		 * would follow it: that only reads a link's name, never
		 * writes, and sysfs directories do not turn into links.
		 */
		int r = dir_lazy_path(d, name, full, sizeof(full));

		if (r < 0)
			return r;
		n = readlinkat(d->parent->fd, full, target, sizeof(target));
	} else {
		int r = dir_materialize(d);

		if (r < 0)
			return r;
		n = readlinkat(d->fd, name, target, sizeof(target));
	}
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(target))
		return -ENAMETOOLONG;
	if (fault == 1)
		n /= 2;
	target[n] = '\0';
	return target_basename(target, buf, size);
}

int sysroot_dir_list(struct sysroot_dir *d, DIR **out)
{
	int fd, fault;

	if (d->fd < 0 && !d->parent)
		return -EBADF;
	fault = fault_check(d->sr, SYSROOT_OP_OPENDIR, d->path);
	if (fault < 0)
		return fault;
	fd = dir_materialize(d);
	if (fd < 0)
		return fd;
	do {
		fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	return opendir_fd(fd, out);
}
