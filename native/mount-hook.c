/* pxoci-helper mount-hook CT-DIR   (LXC appends: <name> lxc mount)
 *
 * lxc.hook.mount: LXC runs it in the CT's namespaces once its own mounts are made (rootfs, /proc,
 * /sys, /dev, lxc.mount.entry) and before pivot_root, with the CT's tree at $LXC_ROOTFS_MOUNT. It makes
 * what config.json asks of that tree, in this order, as runc does before it pivots:
 *   mount <field> <dest> <d|f> <source|-> <fstype|-> <flags> <remount-flags> <data|-> <tmpcopyup 0|1>
 *   rebind <field> <path>      the mount at path (LXC's /proc, /sys; the config's /dev/pts) bound
 *                              onto itself with what is below it: it shows again at this point of the
 *                              order, and every read-only flag of LXC's tree is copied with it
 *   node <field> <path>        a placeholder a device node is bound onto later (ct-setup)
 *   readonly <field> <path>    the container's own path, bound onto itself read-only
 *   mask <field> <path>        the container's own path made unreadable
 *   root-readonly              the root, last, once every mount point exists
 * one per line of CT-DIR/mounts. Every path is resolved inside the tree (in-root.c); a bind's source
 * is the host path config.json names. LXC keeps a hook's output to its debug log only, so a failure
 * is also written to CT-DIR/mount-error, which pxoci create reports. */
#include "helper-commands.h"
#include "in-root.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static char error_file[IN_ROOT_PATH_MAX];

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	char msg[2 * IN_ROOT_PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "pxoci mount hook: %s\n", msg);
	/* Made by pxoci create, owned by the CT's root: never created or followed here. */
	int fd = open(error_file, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		dprintf(fd, "%s\n", msg);
		close(fd);
	}
	return 1;
}

/* Copies the tree below src into dst with owners, modes and times: tmpcopyup, the image's files at a
 * path shown in the tmpfs mounted over it. */
static int copy_tree(int src, int dst, const char *where)
{
	int dupfd = dup(src);
	DIR *d = dupfd >= 0 ? fdopendir(dupfd) : NULL;
	if (!d)
		return fail("tmpcopyup %s: %s", where, strerror(errno));
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d))) {
		const char *n = e->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(src, n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = fail("tmpcopyup %s/%s: %s", where, n, strerror(errno));
			break;
		}
		mode_t perm = st.st_mode & 07777;
		int ok = 0;
		if (S_ISDIR(st.st_mode)) {
			int s = -1, t = -1;
			ok = mkdirat(dst, n, 0700) == 0 && (s = openat(src, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
			     (t = openat(dst, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0;
			if (ok) {
				char sub[IN_ROOT_PATH_MAX];
				snprintf(sub, sizeof sub, "%s/%s", where, n);
				rc = copy_tree(s, t, sub);
				ok = rc == 0 && fchown(t, st.st_uid, st.st_gid) == 0 && fchmod(t, perm) == 0 &&
				     futimens(t, (struct timespec[]){st.st_atim, st.st_mtim}) == 0;
			}
			if (s >= 0)
				close(s);
			if (t >= 0)
				close(t);
			if (rc)
				break;
		} else if (S_ISREG(st.st_mode)) {
			int s = openat(src, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			int t = openat(dst, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			ok = s >= 0 && t >= 0;
			for (off_t left = st.st_size; ok && left > 0;) {
				ssize_t w = sendfile(t, s, NULL, (size_t)(left > (1 << 30) ? (1 << 30) : left));
				if (w <= 0)
					ok = 0;
				else
					left -= w;
			}
			ok = ok && fchown(t, st.st_uid, st.st_gid) == 0 && fchmod(t, perm) == 0 &&
			     futimens(t, (struct timespec[]){st.st_atim, st.st_mtim}) == 0;
			if (s >= 0)
				close(s);
			if (t >= 0)
				close(t);
		} else if (S_ISLNK(st.st_mode)) {
			char target[IN_ROOT_PATH_MAX];
			ssize_t len = readlinkat(src, n, target, sizeof target - 1);
			if (len >= 0)
				target[len] = '\0';
			ok = len >= 0 && symlinkat(target, dst, n) == 0 && fchownat(dst, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) == 0 &&
			     utimensat(dst, n, (struct timespec[]){st.st_atim, st.st_mtim}, AT_SYMLINK_NOFOLLOW) == 0;
		} else if (S_ISSOCK(st.st_mode)) {
			ok = 1; /* a socket is bound by a process; there is nothing to copy */
		} else {
			ok = mknodat(dst, n, st.st_mode, st.st_rdev) == 0 && fchownat(dst, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) == 0 &&
			     fchmodat(dst, n, perm, 0) == 0;
		}
		if (!ok && rc == 0)
			rc = fail("tmpcopyup %s/%s: %s", where, n, strerror(errno));
	}
	closedir(d);
	return rc;
}

/* The fields of one line, split at single spaces (pxoci writes no empty field: "-" stands for none). */
static int split(char *line, char **f, int max)
{
	int n = 0;
	for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	return n;
}

static int do_mount(int root, char **f)
{
	const char *field = f[1], *dest = f[2], *source = f[4], *fstype = f[5], *data = f[8];
	int as_dir = f[3][0] == 'd', copyup = f[9][0] == '1';
	unsigned long flags = strtoul(f[6], NULL, 10), remount = strtoul(f[7], NULL, 10);
	char resolved[IN_ROOT_PATH_MAX], p[32], q[32];
	if (resolve_in_root(root, dest, resolved, sizeof resolved) != 0)
		return fail("%s: destination %s: %s", field, dest, strerror(errno));
	int target = make_resolved(root, resolved, as_dir);
	if (target < 0)
		return fail("%s: cannot make the mount point %s: %s", field, dest, strerror(errno));
	int lower = copyup ? open_resolved(root, resolved, O_RDONLY | O_DIRECTORY) : -1;
	if (copyup && lower < 0)
		return fail("%s: tmpcopyup: cannot open %s: %s", field, dest, strerror(errno));
	int is_bind = strcmp(fstype, "-") == 0;
	/* A read-only tmpfs is filled first and made read-only after. */
	unsigned long first = copyup ? flags & ~(unsigned long)MS_RDONLY : flags;
	if (mount(is_bind ? source : strcmp(source, "-") ? source : fstype, fd_path(target, p), is_bind ? NULL : fstype, first,
		  strcmp(data, "-") ? data : NULL) != 0)
		return fail("%s: cannot mount %s on %s: %s", field, is_bind ? source : fstype, dest, strerror(errno));
	close(target);
	if (!remount && !copyup)
		return 0;
	/* What is there now is the new mount, not the directory under it. */
	int mounted = open_resolved(root, resolved, copyup ? O_RDONLY | O_DIRECTORY : O_PATH);
	if (mounted < 0)
		return fail("%s: cannot open the new mount %s: %s", field, dest, strerror(errno));
	if (copyup) {
		struct stat st;
		if (copy_tree(lower, mounted, dest) != 0)
			return 1;
		/* The tmpfs's top takes the directory's owner, and its mode unless mode= gave one. */
		int given_mode = strncmp(data, "mode=", 5) == 0 || strstr(data, ",mode=") != NULL;
		if (fstat(lower, &st) != 0 || fchown(mounted, st.st_uid, st.st_gid) != 0 || (!given_mode && fchmod(mounted, st.st_mode & 07777) != 0))
			return fail("%s: tmpcopyup %s: %s", field, dest, strerror(errno));
		close(lower);
		if ((flags & MS_RDONLY) && mount(NULL, fd_path(mounted, q), NULL, MS_REMOUNT | flags, strcmp(data, "-") ? data : NULL) != 0)
			return fail("%s: cannot make %s read-only: %s", field, dest, strerror(errno));
	}
	if (remount && remount_bind(mounted, remount) != 0)
		return fail("%s: cannot apply the options of %s: %s", field, dest, strerror(errno));
	close(mounted);
	return 0;
}

/* A path of the container's own tree, or -1 (errno ENOENT) when it has none: masked and read-only paths
 * the container lacks are left alone, as runc leaves them. */
static int existing(int root, const char *path, char *resolved)
{
	if (resolve_in_root(root, path, resolved, IN_ROOT_PATH_MAX) != 0)
		return -1;
	return open_resolved(root, resolved, O_PATH);
}

/* What is at fd bound onto itself with what is below it, a mount of its own at this point of the
 * order; closes fd. */
static int bind_onto_itself(int fd, const char *field, const char *path)
{
	char p[32];
	if (mount(fd_path(fd, p), fd_path(fd, p), NULL, MS_BIND | MS_REC, NULL) != 0)
		return fail("%s: cannot bind %s onto itself: %s", field, path, strerror(errno));
	close(fd);
	return 0;
}

static int do_readonly(int root, const char *field, const char *path)
{
	char resolved[IN_ROOT_PATH_MAX];
	int fd = existing(root, path, resolved);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : fail("%s: %s: %s", field, path, strerror(errno));
	if (bind_onto_itself(fd, field, path) != 0)
		return 1;
	int mounted = open_resolved(root, resolved, O_PATH);
	if (mounted < 0 || remount_bind(mounted, MS_RDONLY) != 0)
		return fail("%s: cannot make %s read-only: %s", field, path, strerror(errno));
	close(mounted);
	return 0;
}

static int do_rebind(int root, const char *field, const char *path)
{
	char resolved[IN_ROOT_PATH_MAX];
	int fd = existing(root, path, resolved);
	if (fd < 0)
		return fail("%s: %s: %s", field, path, strerror(errno));
	return bind_onto_itself(fd, field, path);
}

static int do_mask(int root, const char *field, const char *path)
{
	char resolved[IN_ROOT_PATH_MAX], p[32];
	int fd = existing(root, path, resolved);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : fail("%s: %s: %s", field, path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0)
		return fail("%s: %s: %s", field, path, strerror(errno));
	/* As runc: an empty read-only tmpfs over a directory, the null device over anything else. Before
	 * pivot_root the null device is the host's /dev/null, the node the container's own would be. */
	int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", fd_path(fd, p), "tmpfs", MS_RDONLY, NULL) : mount("/dev/null", fd_path(fd, p), NULL, MS_BIND, NULL);
	if (rc != 0)
		return fail("%s: cannot mask %s: %s", field, path, strerror(errno));
	close(fd);
	return 0;
}

int cmd_mount_hook(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: pxoci-helper mount-hook CT-DIR\n");
		return 2;
	}
	snprintf(error_file, sizeof error_file, "%s/mount-error", argv[1]);
	const char *rootfs = getenv("LXC_ROOTFS_MOUNT");
	if (!rootfs || !*rootfs)
		return fail("LXC_ROOTFS_MOUNT is not set: not run as LXC's mount hook");
	char plan_path[IN_ROOT_PATH_MAX];
	snprintf(plan_path, sizeof plan_path, "%s/mounts", argv[1]);
	FILE *plan = fopen(plan_path, "re");
	if (!plan)
		return fail("cannot read %s: %s", plan_path, strerror(errno));
	int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return fail("cannot open the container's root %s: %s", rootfs, strerror(errno));
	umask(022);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	while (rc == 0 && (len = getline(&line, &cap, plan)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		char *f[10];
		int n = split(line, f, 10);
		if (n == 0)
			continue;
		if (strcmp(f[0], "mount") == 0 && n == 10)
			rc = do_mount(root, f);
		else if (strcmp(f[0], "node") == 0 && n == 3) {
			char resolved[IN_ROOT_PATH_MAX];
			int fd = resolve_in_root(root, f[2], resolved, sizeof resolved) == 0 ? make_resolved(root, resolved, 0) : -1;
			rc = fd < 0 ? fail("%s: cannot make %s: %s", f[1], f[2], strerror(errno)) : 0;
			if (fd >= 0)
				close(fd);
		} else if (strcmp(f[0], "readonly") == 0 && n == 3)
			rc = do_readonly(root, f[1], f[2]);
		else if (strcmp(f[0], "rebind") == 0 && n == 3)
			rc = do_rebind(root, f[1], f[2]);
		else if (strcmp(f[0], "mask") == 0 && n == 3)
			rc = do_mask(root, f[1], f[2]);
		else if (strcmp(f[0], "root-readonly") == 0 && n == 1)
			rc = remount_bind(root, MS_RDONLY) == 0 ? 0 : fail("root.readonly: cannot make the root read-only: %s", strerror(errno));
		else
			rc = fail("%s: unknown instruction: %s", plan_path, f[0]);
	}
	free(line);
	fclose(plan);
	return rc;
}
