// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libmemhp-faultinject.so: an LD_PRELOAD shim that makes the sysfs reads and
 * writes of memhpd and memhpctl fail on purpose, from outside the process, so
 * production code carries no test hooks and reads no test variables.
 *
 * Active only when MEMHP_FAULTS names a spec file and MEMHP_FAULT_ROOT names
 * an existing absolute directory other than "/" (the sysroot); otherwise every
 * call passes straight through.  Paths in the spec are relative to the root.
 *
 * Spec: one rule per line, '#' starts a comment:
 *
 *     OP GLOB ERROR [COUNT] [skip=N]
 *
 *   OP     open      any open inside the root (openat2 via syscall(), openat,
 *                    open, their 64/_2 variants), also O_PATH and O_DIRECTORY
 *          read      read() on an fd opened inside the root
 *          write     write() on an fd opened inside the root
 *          readlink  readlinkat() inside the root
 *          opendir   fdopendir() of a directory inside the root
 *          readdir   readdir() of such a directory (returns NULL, errno set)
 *          any       all of the above
 *   GLOB   fnmatch(3) pattern without FNM_PATHNAME ('*' also matches '/'),
 *          matched against the path as the caller named it (relative to the
 *          root, "." and ".." folded) and against where it resolved to, e.g.
 *          sys/devices/system/memory/memory4[0-9]/state or "*" "/valid_zones"
 *          (written without the quotes).
 *   ERROR  EBUSY, EINVAL, EIO, EAGAIN, ENOMEM, ENOENT, ENODEV, EPERM,
 *          EOPNOTSUPP;
 *          "short": read -> at most half of what was asked for, the rest on
 *          the next read (a POSIX short read: callers must loop); write ->
 *          returns half the byte count and passes nothing on (a store that
 *          took only part of the value);
 *          "truncate": read -> the first half of the data, then EOF (a
 *          truncated attribute).
 *   COUNT  fire this many times, then let the operation through (default:
 *          always).  Counts are per process.
 *   skip=N let the first N matching operations through first.
 *
 * The first rule that matches an operation and still has shots left decides
 * it.  A failing open/readlink/opendir/write is not passed on at all, so with
 * the fake kernel (tests/fakekernel) after this shim in LD_PRELOAD
 * ("LD_PRELOAD=faultinject.so:fakekernel.so") a refused write never reaches
 * the fake kernel and is not in its log.
 *
 * Every injected fault appends "<pid> <op> <path> <ERROR>" to the file named
 * by MEMHP_FAULT_LOG, if set, so a test can prove its fault fired.  A spec
 * that cannot be read or parsed is reported on stderr and the process exits
 * with status 125 at its first call: a broken test must not pass.
 *
 * Crash points (tests/reliability/test-crash.py), independent of the spec:
 *   MEMHP_CRASH_AT_CALL=N    raise(SIGKILL) at the Nth interposed call;
 *   MEMHP_CRASH_AFTER_US=T   raise(SIGKILL) at the first interposed call T
 *                            microseconds or more after the first one;
 *   MEMHP_CRASH_COUNT=FILE   at exit, write "CALLS US FIRST_CALL FIRST_US": the
 *                            number of interposed calls, the microseconds
 *                            since the first, and both of these at the first
 *                            write() inside MEMHP_FAULT_ROOT (0 0 if none).
 * MEMHP_FAULT_ROOT alone (no MEMHP_FAULTS) injects nothing.
 * Calls made while a write() is inside the next library (the fake kernel
 * applying a store) are not counted and never crash: a real sysfs store is
 * done or not done when a process dies, never half done.
 *
 * Limits (test infrastructure, single-threaded callers): fds up to
 * FI_MAX_FDS; dup()ed fds and stdio are not tracked.  memhpd and memhpctl
 * read the blocks of a machine with 4096 blocks or more on several threads
 * (src/lib/machine.c): rule counts and crash points are only deterministic
 * on smaller fixtures, which is what the fault and crash tests use.
 */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FI_MAX_FDS 4096
#define FI_MAX_RULES 256
#define FI_EXPORT __attribute__((visibility("default")))
#define FI_SHORT 1000 /* pseudo errno: short read/write */
#define FI_TRUNC 1001 /* pseudo errno: truncated read */

enum fi_op { OP_OPEN, OP_READ, OP_WRITE, OP_READLINK, OP_OPENDIR, OP_READDIR, OP_ANY };
static const char *const op_names[] = { "open",	   "read",    "write", "readlink",
					"opendir", "readdir", "any" };

struct rule {
	enum fi_op op;
	char *glob;
	int err;
	long count; /* < 0: always */
	long skip;
};

struct fdinfo {
	char *asked; /* path as named, relative to the root */
	char *resolved; /* where it resolved to, relative to the root (or NULL) */
	bool eof; /* after a truncated read: EOF from now on */
};

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static long (*real_syscall)(long, ...);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_readlinkat)(int, const char *, char *, size_t);
static DIR *(*real_fdopendir)(int);
static struct dirent *(*real_readdir)(DIR *);
static struct dirent64 *(*real_readdir64)(DIR *);
static int (*real_closedir)(DIR *);
static int (*real_close)(int);

static int active = -1; /* -1: not initialised yet */
static char root[PATH_MAX];
static size_t rootlen;
static struct rule rules[FI_MAX_RULES];
static int nrules;
static struct fdinfo fds[FI_MAX_FDS];
static const char *logpath;
static bool spec_broken;

/* crash points */
static bool crash_armed;
static unsigned long crash_at_call; /* 0: off */
static unsigned long long crash_after_us; /* 0: off */
static unsigned long long crash_t0_us;
static unsigned long ncalls;
static int depth; /* > 0 while the next library handles a write() */
static const char *count_path;
static unsigned long first_store_call; /* call number of the first write() inside the root */
static unsigned long long first_store_us;

static const struct {
	const char *name;
	int err;
} errs[] = {
	{ "EBUSY", EBUSY },    { "EINVAL", EINVAL },	 { "EIO", EIO },
	{ "EAGAIN", EAGAIN },  { "ENOMEM", ENOMEM },	 { "ENOENT", ENOENT },
	{ "ENODEV", ENODEV },  { "EPERM", EPERM },	 { "EOPNOTSUPP", EOPNOTSUPP },
	{ "short", FI_SHORT }, { "truncate", FI_TRUNC },
};

static const char *err_name(int err)
{
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (errs[i].err == err)
			return errs[i].name;
	return "?";
}

static void spec_error(const char *file, int line, const char *msg, const char *word)
{
	fprintf(stderr, "faultinject: %s:%d: %s%s%s%s\n", file, line, msg, word ? " \"" : "",
		word ? word : "", word ? "\"" : "");
	spec_broken = true;
}

static void parse_spec(const char *file)
{
	char buf[PATH_MAX + 256];
	int lineno = 0;
	FILE *f = fopen(file, "re");

	if (!f) {
		fprintf(stderr, "faultinject: cannot read MEMHP_FAULTS=%s: %s\n", file,
			strerror(errno));
		spec_broken = true;
		return;
	}
	while (fgets(buf, sizeof(buf), f)) {
		char *w[5], *save = NULL, *p;
		struct rule r = { .count = -1 };
		int n = 0, i;

		lineno++;
		p = strchr(buf, '#');
		if (p)
			*p = '\0';
		for (p = strtok_r(buf, " \t\r\n", &save); p && n < 5;
		     p = strtok_r(NULL, " \t\r\n", &save))
			w[n++] = p;
		if (n == 0)
			continue;
		if (n < 3 || strtok_r(NULL, " \t\r\n", &save)) {
			spec_error(file, lineno, "expected OP GLOB ERROR [COUNT] [skip=N]", NULL);
			continue;
		}
		for (i = 0; i <= OP_ANY; i++)
			if (strcmp(w[0], op_names[i]) == 0)
				break;
		if (i > OP_ANY) {
			spec_error(file, lineno, "unknown operation", w[0]);
			continue;
		}
		r.op = (enum fi_op)i;
		r.err = 0;
		for (size_t k = 0; k < sizeof(errs) / sizeof(errs[0]); k++)
			if (strcmp(w[2], errs[k].name) == 0)
				r.err = errs[k].err;
		if (!r.err) {
			spec_error(file, lineno, "unknown error", w[2]);
			continue;
		}
		for (i = 3; i < n; i++) {
			char *end;
			bool skip = strncmp(w[i], "skip=", 5) == 0;
			long v = strtol(skip ? w[i] + 5 : w[i], &end, 10);

			if (*end || end == (skip ? w[i] + 5 : w[i]) || v < 0) {
				spec_error(file, lineno, "bad count", w[i]);
				break;
			}
			if (skip)
				r.skip = v;
			else
				r.count = v;
		}
		if (i < n)
			continue;
		if (nrules == FI_MAX_RULES) {
			spec_error(file, lineno, "too many rules", NULL);
			break;
		}
		r.glob = strdup(w[1]);
		if (!r.glob) {
			spec_broken = true;
			break;
		}
		rules[nrules++] = r;
	}
	fclose(f);
}

static unsigned long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000;
}

static void write_count(void)
{
	char buf[96];
	int fd, n;

	n = snprintf(buf, sizeof(buf), "%lu %llu %lu %llu\n", ncalls, now_us() - crash_t0_us,
		     first_store_call, first_store_us);
	fd = real_open(count_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (real_write(fd, buf, (size_t)n) < 0) {
		/* the harness notices a missing count */
	}
	real_close(fd);
}

static void crash_init(void)
{
	const char *at = getenv("MEMHP_CRASH_AT_CALL"), *after = getenv("MEMHP_CRASH_AFTER_US");

	if (at && *at)
		crash_at_call = strtoul(at, NULL, 10);
	if (after && *after)
		crash_after_us = strtoull(after, NULL, 10);
	count_path = getenv("MEMHP_CRASH_COUNT");
	if (count_path && !*count_path)
		count_path = NULL;
	crash_armed = crash_at_call || crash_after_us || count_path;
	crash_t0_us = now_us();
	if (count_path)
		atexit(write_count);
}

/* Every interposed call: count it, and die here if this is the crash point. */
static void crash_point(void)
{
	if (!crash_armed || depth)
		return;
	ncalls++;
	if ((crash_at_call && ncalls >= crash_at_call) ||
	    (crash_after_us && now_us() - crash_t0_us >= crash_after_us))
		raise(SIGKILL);
}

static void fi_init(void)
{
	const char *spec, *env;

	if (active >= 0) {
		if (spec_broken)
			_exit(125);
		return;
	}
	real_open = dlsym(RTLD_NEXT, "open");
	real_open64 = dlsym(RTLD_NEXT, "open64");
	real_openat = dlsym(RTLD_NEXT, "openat");
	real_openat64 = dlsym(RTLD_NEXT, "openat64");
	real_syscall = dlsym(RTLD_NEXT, "syscall");
	real_read = dlsym(RTLD_NEXT, "read");
	real_write = dlsym(RTLD_NEXT, "write");
	real_readlinkat = dlsym(RTLD_NEXT, "readlinkat");
	real_fdopendir = dlsym(RTLD_NEXT, "fdopendir");
	real_readdir = dlsym(RTLD_NEXT, "readdir");
	real_readdir64 = dlsym(RTLD_NEXT, "readdir64");
	real_closedir = dlsym(RTLD_NEXT, "closedir");
	real_close = dlsym(RTLD_NEXT, "close");
	if (!real_open64)
		real_open64 = real_open;
	if (!real_openat64)
		real_openat64 = real_openat;
	if (!real_readdir64)
		real_readdir64 = (struct dirent64 * (*)(DIR *)) real_readdir;

	active = 0;
	crash_init();
	spec = getenv("MEMHP_FAULTS");
	env = getenv("MEMHP_FAULT_ROOT");
	if ((!spec || !*spec) && (!env || !*env))
		return;
	if (!env || env[0] != '/' || !realpath(env, root) || strcmp(root, "/") == 0) {
		fprintf(stderr,
			"faultinject: MEMHP_FAULT_ROOT=%s is not an absolute directory "
			"other than /\n",
			env ? env : "(unset)");
		spec_broken = true;
		_exit(125);
	}
	rootlen = strlen(root);
	if (spec && *spec)
		parse_spec(spec);
	if (spec_broken)
		_exit(125);
	logpath = getenv("MEMHP_FAULT_LOG");
	active = 1;
}

/* Absolute path -> relative to the root; false if outside it. */
static bool in_root(const char *abs, char *rel, size_t size)
{
	if (strncmp(abs, root, rootlen) != 0)
		return false;
	if (abs[rootlen] == '\0')
		return snprintf(rel, size, ".") < (int)size;
	if (abs[rootlen] != '/')
		return false;
	return snprintf(rel, size, "%s", abs + rootlen + 1) < (int)size;
}

static bool fd_abs_path(int fd, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* Fold "." and ".." lexically; in place; result relative, "." if empty. */
static void fold(char *p)
{
	char *out = p, *seg = p;

	while (*seg) {
		char *end = strchrnul(seg, '/');
		size_t len = (size_t)(end - seg);

		if (len == 0 || (len == 1 && seg[0] == '.')) {
			/* skip */
		} else if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > p && out[-1] != '/')
				out--;
			if (out > p)
				out--;
		} else {
			if (out > p)
				*out++ = '/';
			memmove(out, seg, len);
			out += len;
		}
		seg = *end ? end + 1 : end;
	}
	if (out == p)
		*out++ = '.';
	*out = '\0';
}

/*
 * The path an *at() call names, relative to the root: false if it is outside.
 * Absolute paths are taken as given (the sysroot only uses relative ones).
 */
static bool asked_path(int dirfd, const char *path, char *rel, size_t size)
{
	char abs[PATH_MAX * 2];

	if (!path)
		return false;
	if (path[0] == '/') {
		snprintf(abs, sizeof(abs), "%s", path);
	} else {
		char dir[PATH_MAX];

		if (dirfd == AT_FDCWD) {
			if (!getcwd(dir, sizeof(dir)))
				return false;
		} else if (!fd_abs_path(dirfd, dir, sizeof(dir))) {
			return false;
		}
		if (snprintf(abs, sizeof(abs), "%s/%s", dir, path) >= (int)sizeof(abs))
			return false;
	}
	fold(abs + 1);
	if (strcmp(abs + 1, ".") == 0)
		abs[1] = '\0';
	return in_root(abs, rel, size);
}

static void log_fault(enum fi_op op, const char *path, int err)
{
	char line[PATH_MAX + 128];
	int fd, n;

	if (!logpath)
		return;
	n = snprintf(line, sizeof(line), "%d %s %s %s\n", (int)getpid(), op_names[op], path,
		     err_name(err));
	fd = real_open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (real_write(fd, line, (size_t)n) < 0) {
		/* nothing to do: the log is a convenience */
	}
	real_close(fd);
}

/* The error to inject for op on a (asked) / b (resolved, may be NULL), or 0. */
static int decide(enum fi_op op, const char *a, const char *b)
{
	if (active != 1)
		return 0;
	for (int i = 0; i < nrules; i++) {
		struct rule *r = &rules[i];

		if (r->op != op && r->op != OP_ANY)
			continue;
		if (r->count == 0)
			continue;
		if (!(a && fnmatch(r->glob, a, 0) == 0) && !(b && fnmatch(r->glob, b, 0) == 0))
			continue;
		if (r->skip > 0) {
			r->skip--;
			return 0;
		}
		if (r->count > 0)
			r->count--;
		/* "short" only means something to read and write, "truncate" to read */
		if ((r->err == FI_SHORT && op != OP_READ && op != OP_WRITE) ||
		    (r->err == FI_TRUNC && op != OP_READ))
			return 0;
		log_fault(op, a ? a : b, r->err);
		return r->err;
	}
	return 0;
}

static void untrack(int fd)
{
	if (fd >= 0 && fd < FI_MAX_FDS) {
		free(fds[fd].asked);
		free(fds[fd].resolved);
		fds[fd] = (struct fdinfo){ 0 };
	}
}

/* Before an open: the error to inject for the path as asked, or 0. */
static int pre_open(int dirfd, const char *path, char *asked, size_t size)
{
	asked[0] = '\0';
	if (active != 1)
		return 0;
	if (!asked_path(dirfd, path, asked, size)) {
		asked[0] = '\0';
		return 0;
	}
	return decide(OP_OPEN, asked, NULL);
}

/* After a successful open: remember the fd; inject on the resolved path too. */
static int post_open(int fd, const char *asked)
{
	char abs[PATH_MAX], rel[PATH_MAX];
	int saved = errno, err;

	if (fd < 0 || active != 1)
		return fd;
	untrack(fd);
	if (!asked[0])
		return fd;
	if (!fd_abs_path(fd, abs, sizeof(abs)) || !in_root(abs, rel, sizeof(rel)))
		rel[0] = '\0';
	if (rel[0] && strcmp(rel, asked) != 0) {
		err = decide(OP_OPEN, NULL, rel);
		if (err) {
			real_close(fd);
			errno = err;
			return -1;
		}
	}
	if (fd < FI_MAX_FDS) {
		fds[fd].asked = strdup(asked);
		fds[fd].resolved = rel[0] ? strdup(rel) : NULL;
	}
	errno = saved;
	return fd;
}

static int fail(int err)
{
	errno = err;
	return -1;
}

/* ---- interposed entry points ---- */

static void fi_enter(void)
{
	fi_init();
	crash_point();
}

/* write() of the next library (the fake kernel): not a crash point inside */
static ssize_t next_write(int fd, const void *buf, size_t n)
{
	ssize_t r;

	depth++;
	r = real_write(fd, buf, n);
	depth--;
	return r;
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

#define OPEN_BODY(dirfd, call)                                     \
	do {                                                       \
		char asked[PATH_MAX];                              \
		va_list ap;                                        \
		mode_t mode;                                       \
		int err;                                           \
                                                                   \
		fi_enter();                                        \
		va_start(ap, flags);                               \
		mode = open_mode(flags, ap);                       \
		va_end(ap);                                        \
		err = pre_open(dirfd, path, asked, sizeof(asked)); \
		if (err)                                           \
			return fail(err);                          \
		return post_open(call, asked);                     \
	} while (0)

FI_EXPORT int open(const char *path, int flags, ...)
{
	OPEN_BODY(AT_FDCWD, real_open(path, flags, mode));
}

FI_EXPORT int open64(const char *path, int flags, ...)
{
	OPEN_BODY(AT_FDCWD, real_open64(path, flags, mode));
}

FI_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY(dirfd, real_openat(dirfd, path, flags, mode));
}

FI_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY(dirfd, real_openat64(dirfd, path, flags, mode));
}

/* _FORTIFY_SOURCE variants (no O_CREAT, so no mode) */
FI_EXPORT int __open_2(const char *path, int flags);
FI_EXPORT int __open64_2(const char *path, int flags);
FI_EXPORT int __openat_2(int dirfd, const char *path, int flags);
FI_EXPORT int __openat64_2(int dirfd, const char *path, int flags);

int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

int __open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

int __openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	return openat64(dirfd, path, flags);
}

/* syscall(2) takes at most six register arguments; forward them all. */
FI_EXPORT long syscall(long nr, ...)
{
	char asked[PATH_MAX] = "";
	long a[6];
	va_list ap;
	long r;

	fi_enter();
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_openat2) {
		int err = pre_open((int)a[0], (const char *)a[1], asked, sizeof(asked));

		if (err)
			return fail(err);
	}
	r = real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (nr == SYS_openat2 && r >= 0)
		return post_open((int)r, asked);
	return r;
}

static struct fdinfo *tracked(int fd)
{
	if (active != 1 || fd < 0 || fd >= FI_MAX_FDS || !fds[fd].asked)
		return NULL;
	return &fds[fd];
}

FI_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	struct fdinfo *t;
	ssize_t k;
	int err;

	fi_enter();
	t = tracked(fd);
	if (!t)
		return real_read(fd, buf, n);
	if (t->eof)
		return 0;
	err = decide(OP_READ, t->asked, t->resolved);
	if (err == FI_SHORT)
		return real_read(fd, buf, n > 1 ? n / 2 : n);
	if (err && err != FI_TRUNC)
		return fail(err);
	k = real_read(fd, buf, n);
	if (err == FI_TRUNC && k > 0) {
		t->eof = true;
		k /= 2;
	}
	return k;
}

FI_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	struct fdinfo *t;
	int err;

	fi_enter();
	t = tracked(fd);
	if (!t)
		return next_write(fd, buf, n);
	if (!first_store_call) {
		first_store_call = ncalls;
		first_store_us = now_us() - crash_t0_us;
	}
	err = decide(OP_WRITE, t->asked, t->resolved);
	if (err == FI_SHORT)
		return (ssize_t)(n / 2); /* not passed on: the store did nothing */
	if (err)
		return fail(err);
	return next_write(fd, buf, n);
}

FI_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
	char asked[PATH_MAX];
	int err;

	fi_enter();
	if (active == 1 && asked_path(dirfd, path, asked, sizeof(asked))) {
		err = decide(OP_READLINK, asked, NULL);
		if (err)
			return fail(err);
	}
	return real_readlinkat(dirfd, path, buf, size);
}

FI_EXPORT DIR *fdopendir(int fd)
{
	struct fdinfo *t;
	int err;

	fi_enter();
	t = tracked(fd);
	if (t) {
		err = decide(OP_OPENDIR, t->asked, t->resolved);
		if (err) {
			errno = err;
			return NULL;
		}
	}
	return real_fdopendir(fd);
}

static struct dirent *readdir_fault(DIR *d, bool *faulted)
{
	struct fdinfo *t = tracked(dirfd(d));
	int err;

	*faulted = false;
	if (!t)
		return NULL;
	err = decide(OP_READDIR, t->asked, t->resolved);
	if (!err)
		return NULL;
	*faulted = true;
	errno = err;
	return NULL;
}

FI_EXPORT struct dirent *readdir(DIR *d)
{
	bool faulted;

	fi_enter();
	readdir_fault(d, &faulted);
	if (faulted)
		return NULL;
	return real_readdir(d);
}

FI_EXPORT struct dirent64 *readdir64(DIR *d)
{
	bool faulted;

	fi_enter();
	readdir_fault(d, &faulted);
	if (faulted)
		return NULL;
	return real_readdir64(d);
}

/* closedir() closes its fd inside libc, where close() is not interposed. */
FI_EXPORT int closedir(DIR *d)
{
	fi_enter();
	untrack(dirfd(d));
	return real_closedir(d);
}

FI_EXPORT int close(int fd)
{
	fi_enter();
	untrack(fd);
	return real_close(fd);
}
