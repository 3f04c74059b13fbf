// SPDX-License-Identifier: GPL-2.0-or-later
/* Tests for src/lib/sysroot.c against a mkdtemp() fixture tree. */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "check.h"
#include "sysroot.h"
#include "tree.h"
#include "util.h"

static char root[] = "/tmp/memhp-test-sysroot-XXXXXX";

/*
 * qemu-user with -L (scripts/cross-s390x) maps "/" to the target's library
 * prefix, so the host-root checks cannot see the real /proc and /dev there.
 */
static bool under_qemu_user(void)
{
	return getenv("QEMU_LD_PREFIX") != NULL;
}

/*
 * The escape tests aim symlinks at this path.  It must not exist on the
 * host: should confinement ever fail, reads and writes (never O_CREAT) then
 * fail with ENOENT instead of touching a real file.
 */
#define PROBE_DIR "memhp-escape-probe"
#define PROBE PROBE_DIR "/passwd"

static void slurp(const char *rel, char *buf, size_t size)
{
	char p[PATH_MAX];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	buf[0] = '\0';
	f = fopen(p, "r");
	if (!f)
		return;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

struct fault_ctl {
	enum sysroot_op op;
	const char *path;
	int ret;
	unsigned calls;
};

static int fault_fn(void *data, enum sysroot_op op, const char *path)
{
	struct fault_ctl *c = data;

	c->calls++;
	if (op == c->op && streq(path, c->path))
		return c->ret;
	return 0;
}

#define MEM "sys/devices/system/memory"

static void build_fixture(void)
{
	CHECK(mkdtemp(root) != NULL, "mkdtemp");
	tree_root = root;
	mkpath(MEM "/memory32");
	mkpath("sys/devices/system/node/node1");
	mkpath("proc");
	mkpath(PROBE_DIR);
	put(MEM "/block_size_bytes", "8000000\n");
	put(MEM "/memory32/state", "offline\n");
	put(MEM "/memory32/valid_zones", "Normal Movable\n");
	put(MEM "/memory32/nonl", "online");
	put(MEM "/memory32/twonl", "online\n\n");
	put(MEM "/memory32/empty", "");
	put("proc/zoneinfo", "");
	put(PROBE, "fixture-passwd\n");
	/* relative link like real sysfs */
	link_at("../../node/node1", MEM "/memory32/node1");
	/* absolute links: must resolve inside the fixture, never on the host */
	link_at("/" PROBE, MEM "/memory32/abs");
	link_at("/sys/devices/system/node", "sys/nodes");
	link_at("../../../../../../../../../../" PROBE, MEM "/memory32/dotdot");
	/* block directories that are links (sysroot_dir_open_entry) */
	link_at("/" PROBE_DIR, MEM "/memory40");
	link_at("../../../../../../../../../../" PROBE_DIR, MEM "/memory41");
	link_at("memory32", MEM "/memory42");
	link_at("../fw/PNP0C80:07", PROBE_DIR "/firmware_node");
}

static void test_open(void)
{
	struct sysroot *sr = NULL;

	CHECK_EQ_INT(sysroot_open(NULL, &sr), 0);
	CHECK(sysroot_is_host(sr), "NULL is host");
	CHECK_STREQ(sysroot_path(sr), "/");
	sysroot_free(sr);
	CHECK_EQ_INT(sysroot_open("", &sr), 0);
	CHECK(sysroot_is_host(sr), "\"\" is host");
	sysroot_free(sr);
	CHECK_EQ_INT(sysroot_open("/", &sr), 0);
	CHECK(sysroot_is_host(sr), "/ is host");
	sysroot_free(sr);
	CHECK_EQ_INT(sysroot_open(root, &sr), 0);
	CHECK(!sysroot_is_host(sr), "fixture is not host");
	CHECK_STREQ(sysroot_path(sr), root);
	sysroot_free(sr);
	sr = NULL;
	CHECK_EQ_INT(sysroot_open("/nonexistent/memhp/root", &sr), -ENOENT);
	CHECK(sr == NULL, "no handle on error");
	CHECK_EQ_INT(sysroot_open("/etc/hostname", &sr) < 0, 1);
	sysroot_free(NULL);
}

/*
 * A value that arrives in two reads (a POSIX short read: a FIFO whose writer
 * pauses mid-value): read on until the newline, not taken for EOF.
 */
static void test_read_attr_short(struct sysroot *sr)
{
	char path[PATH_MAX], buf[SYSFS_ATTR_MAX];
	int status = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/" MEM "/memory32/fifo", root);
	unlink(path);
	CHECK_EQ_INT(mkfifo(path, 0600), 0);
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_WRONLY);

		if (fd < 0 || write(fd, "onl", 3) != 3)
			_exit(1);
		usleep(100 * 1000);
		_exit(write(fd, "ine\n", 4) == 4 ? 0 : 1);
	}
	CHECK(pid > 0, "fork: %s", strerror(errno));
	if (pid <= 0)
		return;
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/fifo", buf, sizeof(buf)), 6);
	CHECK_STREQ(buf, "online");
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "FIFO writer failed");
	unlink(path);
}

static void test_read_attr(struct sysroot *sr)
{
	char buf[SYSFS_ATTR_MAX], small[8];

	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/block_size_bytes", buf, sizeof(buf)), 7);
	CHECK_STREQ(buf, "8000000");
	/* leading slash is tolerated */
	CHECK_EQ_INT(sysroot_read_attr(sr, "/" MEM "/memory32/state", buf, sizeof(buf)), 7);
	CHECK_STREQ(buf, "offline");
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/nonl", buf, sizeof(buf)), 6);
	CHECK_STREQ(buf, "online");
	/* only one newline is stripped */
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/twonl", buf, sizeof(buf)), 7);
	CHECK_STREQ(buf, "online\n");
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/empty", buf, sizeof(buf)), 0);
	CHECK_STREQ(buf, "");
	CHECK_EQ_INT(sysroot_read_attrf(sr, buf, sizeof(buf), MEM "/memory%d/valid_zones", 32), 14);
	CHECK_STREQ(buf, "Normal Movable");

	/* "offline\n" is 8 bytes: fits in 8 once the newline goes */
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/state", small, sizeof(small)), 7);
	CHECK_STREQ(small, "offline");
	/* "online" is 6 bytes, fits exactly into 7 */
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/nonl", small, 7), 6);
	/* too long */
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/valid_zones", small, sizeof(small)),
		     -EFBIG);
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/state", small, 7), -EFBIG);
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/twonl", small, 7), -EFBIG);
	CHECK(strlen(small) < 7, "NUL-terminated on EFBIG");

	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory99/state", buf, sizeof(buf)), -ENOENT);
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32", buf, sizeof(buf)), -EISDIR);
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/block_size_bytes/x", buf, sizeof(buf)), -ENOTDIR);

	/* relative symlink dir traversal */
	CHECK_EQ_INT(sysroot_exists(sr, MEM "/memory32/node1"), 1);

	test_read_attr_short(sr);
}

static void test_escape(struct sysroot *sr)
{
	char buf[256];

	/* absolute symlink lands on the fixture's file, not the host's */
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/abs", buf, sizeof(buf)), 14);
	CHECK_STREQ(buf, "fixture-passwd");
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/dotdot", buf, sizeof(buf)), 14);
	CHECK_STREQ(buf, "fixture-passwd");
	/* absolute link in the middle of a path */
	CHECK_EQ_INT(sysroot_exists(sr, "sys/nodes/node1"), 1);
	CHECK_EQ_INT(sysroot_exists(sr, "sys/nodes/node7"), 0);
	/* ".." in the API path cannot climb out either */
	CHECK_EQ_INT(sysroot_read_attr(sr, "../../../../../../" PROBE, buf, sizeof(buf)), 14);
	CHECK_STREQ(buf, "fixture-passwd");
}

static void test_read_file(struct sysroot *sr)
{
	_cleanup_free_ char *text = NULL;
	char *big;
	size_t len = 99;
	char p[PATH_MAX];
	int fd;

	/* regular file with an empty st_size, like procfs */
	CHECK_EQ_INT(sysroot_read_file(sr, "proc/zoneinfo", &text, &len), 0);
	CHECK(text && text[0] == '\0', "empty file gives empty string");
	CHECK_EQ_INT(len, 0);
	free(TAKE_PTR(text));

	/* real procfs file with st_size 0 through the host root */
	if (!under_qemu_user()) {
		struct sysroot *host = NULL;

		CHECK_EQ_INT(sysroot_open("/", &host), 0);
		CHECK_EQ_INT(sysroot_read_file(host, "proc/self/status", &text, &len), 0);
		CHECK(text && len > 0 && strstr(text, "Name:"), "procfs read");
		CHECK(text && strlen(text) == len, "NUL-terminated at len");
		free(TAKE_PTR(text));
		sysroot_free(host);
	}

	/* larger than the first buffer: exercises growth */
	big = malloc(100000);
	memset(big, 'x', 99999);
	big[99999] = '\0';
	put("proc/big", big);
	CHECK_EQ_INT(sysroot_read_file(sr, "proc/big", &text, &len), 0);
	CHECK_EQ_INT(len, 99999);
	CHECK(text && memcmp(text, big, 99999) == 0 && text[99999] == '\0', "big content");
	free(TAKE_PTR(text));
	free(big);

	/* exactly the cap is fine, one more byte is -EFBIG (sparse files) */
	snprintf(p, sizeof(p), "%s/proc/capped", root);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, SYSROOT_FILE_MAX) == 0, "sparse file");
	CHECK_EQ_INT(sysroot_read_file(sr, "proc/capped", &text, &len), 0);
	CHECK_EQ_INT(len, SYSROOT_FILE_MAX);
	free(TAKE_PTR(text));
	CHECK(ftruncate(fd, SYSROOT_FILE_MAX + 1) == 0, "grow");
	close(fd);
	CHECK_EQ_INT(sysroot_read_file(sr, "proc/capped", &text, &len), -EFBIG);
	CHECK(text == NULL, "no buffer on error");
	unlink(p);

	CHECK_EQ_INT(sysroot_read_file(sr, "proc/iomem", &text, &len), -ENOENT);
	CHECK_EQ_INT(sysroot_read_file(sr, "proc", &text, NULL), -EISDIR);
}

static void test_write_attr(struct sysroot *sr)
{
	char buf[64];

	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "/memory32/state", "online_movable"), 0);
	slurp(MEM "/memory32/state", buf, sizeof(buf));
	/* no O_TRUNC: like sysfs, the file is overwritten from offset 0 */
	CHECK_STREQ(buf, "online_movable");
	put(MEM "/memory32/state", "offline\n");
	/* no O_CREAT */
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "/memory32/nosuch", "1"), -ENOENT);
	CHECK_EQ_INT(sysroot_exists(sr, MEM "/memory32/nosuch"), 0);
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "/memory32", "1"), -EISDIR);
	/* writes through an absolute link stay inside the root */
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "/memory32/abs", "written-in-root"), 0);
	slurp(PROBE, buf, sizeof(buf));
	CHECK_STREQ(buf, "written-in-root");
	put(PROBE, "fixture-passwd\n");
	/* /dev/full style kernel answer: write(2) error is passed on */
	if (!under_qemu_user()) {
		struct sysroot *host = NULL;

		CHECK_EQ_INT(sysroot_open("/", &host), 0);
		if (access("/dev/full", W_OK) == 0)
			CHECK_EQ_INT(sysroot_write_attr(host, "dev/full", "x"), -ENOSPC);
		sysroot_free(host);
	}
}

static void test_readlink(struct sysroot *sr)
{
	char buf[PATH_MAX], small[4];

	CHECK_EQ_INT(sysroot_readlink(sr, MEM "/memory32/node1", buf, sizeof(buf)), 16);
	CHECK_STREQ(buf, "../../node/node1");
	CHECK_EQ_INT(sysroot_link_basename(sr, MEM "/memory32/node1", buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "node1");
	CHECK_EQ_INT(sysroot_link_basename(sr, "sys/nodes", buf, sizeof(buf)), 4);
	CHECK_STREQ(buf, "node");
	/* the link itself is read, not followed, even through an absolute link dir */
	CHECK_EQ_INT(sysroot_readlink(sr, MEM "/memory32/abs", buf, sizeof(buf)), (int)strlen("/" PROBE));
	CHECK_STREQ(buf, "/" PROBE);
	CHECK_EQ_INT(sysroot_readlink(sr, "sys/nodes/node1", buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(sysroot_readlink(sr, MEM "/memory32/state", buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(sysroot_readlink(sr, MEM "/memory32/missing", buf, sizeof(buf)), -ENOENT);
	CHECK_EQ_INT(sysroot_readlink(sr, MEM "/memory32/node1", small, sizeof(small)),
		     -ENAMETOOLONG);
	CHECK_EQ_INT(sysroot_link_basename(sr, MEM "/memory32/node1", small, sizeof(small)),
		     -ENAMETOOLONG);
}

static void test_opendir(struct sysroot *sr)
{
	DIR *d = NULL;
	struct dirent *de;
	bool found = false;

	CHECK_EQ_INT(sysroot_opendir(sr, MEM, &d), 0);
	while (d && (de = readdir(d)))
		found |= streq(de->d_name, "memory32");
	CHECK(found, "memory32 listed");
	if (d)
		closedir(d);
	d = NULL;
	CHECK_EQ_INT(sysroot_opendir(sr, "sys/nodes", &d), 0);
	if (d)
		closedir(d);
	d = NULL;
	CHECK_EQ_INT(sysroot_opendir(sr, "/", &d), 0);
	if (d)
		closedir(d);
	d = NULL;
	CHECK_EQ_INT(sysroot_opendir(sr, "sys/nope", &d), -ENOENT);
	CHECK_EQ_INT(sysroot_opendir(sr, MEM "/block_size_bytes", &d), -ENOTDIR);
	CHECK(d == NULL, "no DIR on error");
}

/* The per-directory API: same answers as the path API, same confinement, same hook. */
static void test_dir(struct sysroot *sr)
{
	struct fault_ctl c = { SYSROOT_OP_READ, MEM "/memory32/valid_zones", -EIO, 0 };
	_cleanup_sysroot_dir_ struct sysroot_dir d = { .fd = -1 };
	struct sysroot_dir gone = { .fd = -1 };
	char buf[64];
	struct dirent *de;
	bool seen = false;
	DIR *l = NULL;

	CHECK_EQ_INT(sysroot_dir_open(sr, "/" MEM "/memory32", &d), 0);
	CHECK_STREQ(d.path, MEM "/memory32");
	CHECK_EQ_INT(sysroot_dir_read_attr(&d, "state", buf, sizeof(buf)), 7);
	CHECK_STREQ(buf, "offline");
	CHECK_EQ_INT(sysroot_dir_read_attr(&d, "nonl", buf, sizeof(buf)), 6);
	CHECK_EQ_INT(sysroot_dir_read_attr(&d, "missing", buf, sizeof(buf)), -ENOENT);
	/* one component only: no way up or across */
	CHECK_EQ_INT(sysroot_dir_read_attr(&d, "../memory32/state", buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(sysroot_dir_read_attr(&d, "..", buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(sysroot_dir_read_attr(&d, "", buf, sizeof(buf)), -EINVAL);
	/* an entry that is a symlink resolves inside the root, never on the host */
	CHECK_EQ_INT(sysroot_dir_read_attr(&d, "abs", buf, sizeof(buf)), 14);
	CHECK_STREQ(buf, "fixture-passwd");
	CHECK_EQ_INT(sysroot_dir_read_attr(&d, "dotdot", buf, sizeof(buf)), 14);
	CHECK_STREQ(buf, "fixture-passwd");
	CHECK_EQ_INT(sysroot_dir_link_basename(&d, "node1", buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "node1");
	CHECK_EQ_INT(sysroot_dir_link_basename(&d, "firmware_node", buf, sizeof(buf)), -ENOENT);
	CHECK_EQ_INT(sysroot_dir_link_basename(&d, "../memory32/node1", buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(sysroot_dir_list(&d, &l), 0);
	while (l && (de = readdir(l)))
		seen |= streq(de->d_name, "valid_zones");
	CHECK(seen, "listing of memory32 has valid_zones");
	if (l)
		closedir(l);

	/* the hook sees each entry's whole path, for every kind of operation */
	sysroot_set_fault(sr, fault_fn, &c);
	CHECK_EQ_INT(sysroot_dir_read_attr(&d, "valid_zones", buf, sizeof(buf)), -EIO);
	c.ret = 1;
	CHECK_EQ_INT(sysroot_dir_read_attr(&d, "valid_zones", buf, sizeof(buf)), 7);
	CHECK_STREQ(buf, "Normal ");
	c.op = SYSROOT_OP_READLINK;
	c.path = MEM "/memory32/node1";
	c.ret = -EACCES;
	CHECK_EQ_INT(sysroot_dir_link_basename(&d, "node1", buf, sizeof(buf)), -EACCES);
	c.op = SYSROOT_OP_OPENDIR;
	c.path = MEM "/memory32";
	c.ret = -ENOMEM;
	CHECK_EQ_INT(sysroot_dir_list(&d, &l), -ENOMEM);
	sysroot_set_fault(sr, NULL, NULL);

	/* a file is not a directory; a missing one is ENOENT; a closed handle is EBADF */
	CHECK_EQ_INT(sysroot_dir_open(sr, MEM "/memory32/state", &gone), -ENOTDIR);
	CHECK_EQ_INT(sysroot_dir_open(sr, MEM "/memory99", &gone), -ENOENT);
	CHECK_EQ_INT(sysroot_dir_read_attr(&gone, "state", buf, sizeof(buf)), -EBADF);
	sysroot_dir_close(&gone);
}

/* An entry of an open directory opened as a directory: one component, confined. */
static void test_dir_entry(struct sysroot *sr)
{
	_cleanup_sysroot_dir_ struct sysroot_dir mem = { .fd = -1 };
	struct sysroot_dir e = { .fd = -1 }, closed = { .sr = sr, .fd = -1 };
	char buf[64];

	CHECK_EQ_INT(sysroot_dir_open(sr, MEM, &mem), 0);
	CHECK_EQ_INT(sysroot_dir_open_entry(&mem, "memory32", &e), 0);
	CHECK_STREQ(e.path, MEM "/memory32");
	CHECK_EQ_INT(sysroot_dir_read_attr(&e, "state", buf, sizeof(buf)), 7);
	CHECK_STREQ(buf, "offline");
	sysroot_dir_close(&e);
	/* links, absolute or climbing, resolve inside the root */
	for (int i = 40; i <= 41; i++) {
		char name[16];

		snprintf(name, sizeof(name), "memory%d", i);
		CHECK_EQ_INT(sysroot_dir_open_entry(&mem, name, &e), 0);
		CHECK_EQ_INT(sysroot_dir_read_attr(&e, "passwd", buf, sizeof(buf)), 14);
		CHECK_STREQ(buf, "fixture-passwd");
		sysroot_dir_close(&e);
	}
	CHECK_EQ_INT(sysroot_dir_open_entry(&mem, "memory42", &e), 0);
	CHECK_EQ_INT(sysroot_dir_read_attr(&e, "state", buf, sizeof(buf)), 7);
	sysroot_dir_close(&e);
	/* not a directory, missing, more than one component, a closed parent */
	CHECK_EQ_INT(sysroot_dir_open_entry(&mem, "block_size_bytes", &e), -ENOTDIR);
	CHECK_EQ_INT(sysroot_dir_open_entry(&mem, "memory99", &e), -ENOENT);
	CHECK_EQ_INT(sysroot_dir_open_entry(&mem, "memory32/../memory32", &e), -EINVAL);
	CHECK_EQ_INT(sysroot_dir_open_entry(&mem, "..", &e), -EINVAL);
	CHECK_EQ_INT(sysroot_dir_open_entry(&mem, "", &e), -EINVAL);
	CHECK_EQ_INT(sysroot_dir_open_entry(&closed, "memory32", &e), -EBADF);
	CHECK(e.fd < 0, "no fd on error");
}

static bool have_openat2(void)
{
	errno = 0;
	return syscall(SYS_openat2, AT_FDCWD, ".", NULL, 0) >= 0 || errno != ENOSYS;
}

/*
 * A lazy entry (sysroot_dir_entry): its files are opened from the parent in
 * one lookup that follows no link; a block directory that is a link still
 * resolves inside the root, and errors come from the first access.
 */
static void test_dir_entry_lazy(struct sysroot *sr)
{
	_cleanup_sysroot_dir_ struct sysroot_dir mem = { .fd = -1 };
	struct sysroot_dir e = { .fd = -1 }, closed = { .sr = sr, .fd = -1 };
	struct fault_ctl c = { SYSROOT_OP_READ, MEM "/memory32/valid_zones", -EIO, 0 };
	char buf[64];
	DIR *l = NULL;

	CHECK_EQ_INT(sysroot_dir_open(sr, MEM, &mem), 0);
	CHECK_EQ_INT(sysroot_dir_entry(&mem, "memory32", &e), 0);
	CHECK_STREQ(e.path, MEM "/memory32");
	CHECK_EQ_INT(sysroot_dir_read_attr(&e, "state", buf, sizeof(buf)), 7);
	CHECK_STREQ(buf, "offline");
	CHECK_EQ_INT(sysroot_dir_link_basename(&e, "node1", buf, sizeof(buf)), 5);
	CHECK_STREQ(buf, "node1");
	CHECK_EQ_INT(sysroot_dir_link_basename(&e, "firmware_node", buf, sizeof(buf)), -ENOENT);
	CHECK_EQ_INT(sysroot_dir_read_attr(&e, "missing", buf, sizeof(buf)), -ENOENT);
	/* without openat2 every access opens the directory first */
	CHECK(e.fd < 0 || !have_openat2(), "reads through the parent leave the directory unopened");
	/* an entry that is itself a link: confined like any other */
	CHECK_EQ_INT(sysroot_dir_read_attr(&e, "abs", buf, sizeof(buf)), 14);
	CHECK_STREQ(buf, "fixture-passwd");
	/* the fault hook sees the whole path, as for an opened directory */
	sysroot_set_fault(sr, fault_fn, &c);
	CHECK_EQ_INT(sysroot_dir_read_attr(&e, "valid_zones", buf, sizeof(buf)), -EIO);
	sysroot_set_fault(sr, NULL, NULL);
	CHECK_EQ_INT(sysroot_dir_list(&e, &l), 0);
	if (l)
		closedir(l);
	CHECK(e.fd >= 0, "a listing opens the directory");
	CHECK_EQ_INT(sysroot_dir_read_attr(&e, "valid_zones", buf, sizeof(buf)), 14);
	sysroot_dir_close(&e);

	/* block directories that are links, absolute or climbing: inside the root */
	for (int i = 40; i <= 41; i++) {
		char name[16];

		snprintf(name, sizeof(name), "memory%d", i);
		CHECK_EQ_INT(sysroot_dir_entry(&mem, name, &e), 0);
		CHECK_EQ_INT(sysroot_dir_link_basename(&e, "firmware_node", buf, sizeof(buf)), 10);
		CHECK_STREQ(buf, "PNP0C80:07");
		sysroot_dir_close(&e);
		CHECK_EQ_INT(sysroot_dir_entry(&mem, name, &e), 0);
		CHECK_EQ_INT(sysroot_dir_read_attr(&e, "passwd", buf, sizeof(buf)), 14);
		CHECK_STREQ(buf, "fixture-passwd");
		CHECK_EQ_INT(sysroot_dir_link_basename(&e, "firmware_node", buf, sizeof(buf)), 10);
		sysroot_dir_close(&e);
	}
	CHECK_EQ_INT(sysroot_dir_entry(&mem, "memory42", &e), 0);
	CHECK_EQ_INT(sysroot_dir_read_attr(&e, "state", buf, sizeof(buf)), 7);
	sysroot_dir_close(&e);

	/* errors: from the first access for what is not there, at once for bad names */
	CHECK_EQ_INT(sysroot_dir_entry(&mem, "memory99", &e), 0);
	CHECK_EQ_INT(sysroot_dir_read_attr(&e, "state", buf, sizeof(buf)), -ENOENT);
	CHECK_EQ_INT(sysroot_dir_link_basename(&e, "node1", buf, sizeof(buf)), -ENOENT);
	sysroot_dir_close(&e);
	CHECK_EQ_INT(sysroot_dir_entry(&mem, "block_size_bytes", &e), 0);
	CHECK_EQ_INT(sysroot_dir_read_attr(&e, "state", buf, sizeof(buf)), -ENOTDIR);
	sysroot_dir_close(&e);
	CHECK_EQ_INT(sysroot_dir_entry(&mem, "memory32/../memory32", &e), -EINVAL);
	CHECK_EQ_INT(sysroot_dir_entry(&mem, "..", &e), -EINVAL);
	CHECK_EQ_INT(sysroot_dir_entry(&mem, "", &e), -EINVAL);
	CHECK_EQ_INT(sysroot_dir_entry(&closed, "memory32", &e), -EBADF);
	CHECK_EQ_INT(sysroot_dir_read_attr(&e, "state", buf, sizeof(buf)), -EBADF);
	sysroot_dir_close(&e);
	CHECK_EQ_INT(sysroot_dir_read_attr(&e, "state", buf, sizeof(buf)), -EBADF);
}

static void test_fault(struct sysroot *sr)
{
	struct fault_ctl c = { SYSROOT_OP_READ, MEM "/memory32/valid_zones", -EIO, 0 };
	char buf[64];
	_cleanup_free_ char *text = NULL;
	DIR *d = NULL;

	sysroot_set_fault(sr, fault_fn, &c);
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/valid_zones", buf, sizeof(buf)), -EIO);
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/state", buf, sizeof(buf)), 7);
	/* the hook sees the relative path even when given a leading slash */
	CHECK_EQ_INT(sysroot_read_attr(sr, "/" MEM "/memory32/valid_zones", buf, sizeof(buf)),
		     -EIO);
	CHECK_EQ_INT(sysroot_read_file(sr, MEM "/memory32/valid_zones", &text, NULL), -EIO);

	/* short read: first half of "Normal Movable\n" (15 bytes) */
	c.ret = 1;
	CHECK_EQ_INT(sysroot_read_attr(sr, MEM "/memory32/valid_zones", buf, sizeof(buf)), 7);
	CHECK_STREQ(buf, "Normal ");
	CHECK_EQ_INT(sysroot_read_file(sr, MEM "/memory32/valid_zones", &text, NULL), 0);
	CHECK_STREQ(text, "Normal ");

	c.op = SYSROOT_OP_WRITE;
	c.path = MEM "/memory32/state";
	c.ret = -EBUSY;
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "/memory32/state", "online"), -EBUSY);
	slurp(MEM "/memory32/state", buf, sizeof(buf));
	CHECK_STREQ(buf, "offline\n");
	c.ret = 1;
	CHECK_EQ_INT(sysroot_write_attr(sr, MEM "/memory32/state", "online"), -EIO);
	put(MEM "/memory32/state", "offline\n");

	c.op = SYSROOT_OP_READLINK;
	c.path = MEM "/memory32/node1";
	c.ret = -EACCES;
	CHECK_EQ_INT(sysroot_link_basename(sr, MEM "/memory32/node1", buf, sizeof(buf)), -EACCES);

	c.op = SYSROOT_OP_OPENDIR;
	c.path = MEM;
	c.ret = -ENOMEM;
	CHECK_EQ_INT(sysroot_opendir(sr, MEM, &d), -ENOMEM);
	CHECK(c.calls > 0, "hook called");

	sysroot_set_fault(sr, NULL, NULL);
	CHECK_EQ_INT(sysroot_opendir(sr, MEM, &d), 0);
	if (d)
		closedir(d);
}

/* Make openat2() fail with ENOSYS, as on Linux < 5.6 or under qemu-user. */
static int deny_openat2(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -errno;
	return 0;
}

static void run_all(const char *what)
{
	struct sysroot *sr = NULL;

	printf("# %s\n", what);
	CHECK_EQ_INT(sysroot_open(root, &sr), 0);
	if (sr) {
		test_read_attr(sr);
		test_escape(sr);
		test_read_file(sr);
		test_write_attr(sr);
		test_readlink(sr);
		test_opendir(sr);
		test_dir(sr);
		test_dir_entry(sr);
		test_dir_entry_lazy(sr);
		test_fault(sr);
		sysroot_free(sr);
	}
}

int main(void)
{
	char host_probe[] = "/" PROBE_DIR;
	int r;

	if (access(host_probe, F_OK) == 0) {
		fprintf(stderr, "%s exists on this host: refusing to run escape tests\n",
			host_probe);
		return 1;
	}
	build_fixture();
	test_open();
	run_all("openat2(RESOLVE_IN_ROOT)");

	/* the same again through the hand-written fallback walk */
	errno = 0;
	if (syscall(SYS_openat2, AT_FDCWD, ".", NULL, 0) < 0 && errno == ENOSYS) {
		/* no openat2 here (qemu-user): the run above already took the fallback */
		printf("# openat2 is ENOSYS: the fallback was tested above\n");
		r = -1;
	} else {
		r = deny_openat2();
		CHECK_EQ_INT(r, 0);
	}
	if (r == 0) {
		errno = 0;
		CHECK(syscall(SYS_openat2, AT_FDCWD, ".", NULL, 0) < 0 && errno == ENOSYS,
		      "seccomp filter did not take: errno %d", errno);
		run_all("fallback without openat2");
	}
	CHECK(access(host_probe, F_OK) < 0, "something created %s on the host", host_probe);
	tree_remove();
	return check_exit();
}
