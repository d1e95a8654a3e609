#include "in-root.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_SYMLINKS 40

static int openat2_(int dirfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC), .mode = 0, .resolve = resolve};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* Drops the last component of a relative path ("a/b" → "a", "a" → ""). */
static void drop_last(char *path)
{
	char *slash = strrchr(path, '/');
	if (slash)
		*slash = '\0';
	else
		path[0] = '\0';
}

static int append(char *path, size_t size, const char *name, size_t len)
{
	size_t have = strlen(path);
	if (have + 1 + len + 1 > size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (have)
		path[have++] = '/';
	memcpy(path + have, name, len);
	path[have + len] = '\0';
	return 0;
}

int resolve_in_root(int rootfd, const char *path, char *out, size_t size)
{
	/* `rest` holds what is still to walk; a symlink's target is put in front of it. */
	char rest[2 * IN_ROOT_PATH_MAX], next[2 * IN_ROOT_PATH_MAX], target[IN_ROOT_PATH_MAX];
	char done[IN_ROOT_PATH_MAX] = "";
	int links = 0;
	if (strlen(path) >= IN_ROOT_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(rest, path);
	const char *p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		const char *name = p;
		p = end;
		if (len == 1 && name[0] == '.')
			continue;
		if (len == 2 && name[0] == '.' && name[1] == '.') {
			drop_last(done);
			continue;
		}
		char candidate[IN_ROOT_PATH_MAX];
		strcpy(candidate, done);
		if (append(candidate, sizeof candidate, name, len) != 0)
			return -1;
		/* The components before it have no symlink (they were resolved), so this looks at one name. A
		 * missing one is kept as a directory to be made; a '..' may lead back to existing ones. */
		struct stat st;
		if (fstatat(rootfd, candidate, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
			if (++links > MAX_SYMLINKS) {
				errno = ELOOP;
				return -1;
			}
			ssize_t n = readlinkat(rootfd, candidate, target, sizeof target - 1);
			if (n < 0)
				return -1;
			target[n] = '\0';
			if (target[0] == '/')
				done[0] = '\0';
			if ((size_t)n + 1 + strlen(p) + 1 > sizeof next) {
				errno = ENAMETOOLONG;
				return -1;
			}
			size_t tlen = (size_t)n, plen = strlen(p);
			memcpy(next, target, tlen);
			next[tlen] = '/';
			memcpy(next + tlen + 1, p, plen + 1);
			memcpy(rest, next, tlen + 1 + plen + 1);
			p = rest;
			continue;
		}
		strcpy(done, candidate);
	}
	if (strlen(done) + 1 > size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(out, done);
	return 0;
}

int open_resolved(int rootfd, const char *resolved, int flags)
{
	return openat2_(rootfd, resolved[0] ? resolved : ".", flags, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

int make_resolved(int rootfd, const char *resolved, int last_is_dir)
{
	int dirfd = openat2_(rootfd, ".", O_PATH | O_DIRECTORY, RESOLVE_BENEATH);
	if (dirfd < 0)
		return -1;
	const char *p = resolved;
	while (*p) {
		const char *end = strchrnul(p, '/');
		char name[256];
		size_t len = (size_t)(end - p);
		if (len == 0 || len >= sizeof name) {
			close(dirfd);
			errno = len ? ENAMETOOLONG : EINVAL;
			return -1;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		int last = *end == '\0';
		p = last ? end : end + 1;
		/* One component at a time from the directory already reached: no symlink, no '..', no mount
		 * that moved in between can take the walk elsewhere. */
		int fd = openat2_(dirfd, name, O_PATH, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if (fd < 0 && errno == ENOENT) {
			int made;
			if (last && !last_is_dir) {
				made = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
				if (made >= 0)
					close(made);
			} else {
				made = mkdirat(dirfd, name, 0755);
			}
			if (made < 0 && errno != EEXIST) {
				close(dirfd);
				return -1;
			}
			fd = openat2_(dirfd, name, O_PATH, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		}
		int saved = errno;
		close(dirfd);
		if (fd < 0) {
			errno = saved;
			return -1;
		}
		dirfd = fd;
	}
	return dirfd;
}

const char *fd_path(int fd, char buf[32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

static unsigned long current_flags(int fd)
{
	struct statvfs sv;
	char p[32];
	if (statvfs(fd_path(fd, p), &sv) != 0)
		return 0;
	static const struct {
		unsigned long st, ms;
	} map[] = {
		{ST_RDONLY, MS_RDONLY},	    {ST_NOSUID, MS_NOSUID},	  {ST_NODEV, MS_NODEV},	    {ST_NOEXEC, MS_NOEXEC},
		{ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
	};
	unsigned long flags = 0;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (sv.f_flag & map[i].st)
			flags |= map[i].ms;
	return flags;
}

int remount_bind(int fd, unsigned long flags)
{
	char p[32];
	if (mount(NULL, fd_path(fd, p), NULL, MS_REMOUNT | MS_BIND | flags, NULL) == 0)
		return 0;
	if (errno != EPERM)
		return -1;
	unsigned long have = current_flags(fd);
	/* An atime mode given replaces the locked one; without one, the locked one stays. */
	if (flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME))
		have &= ~(unsigned long)(MS_NOATIME | MS_RELATIME);
	return mount(NULL, fd_path(fd, p), NULL, MS_REMOUNT | MS_BIND | flags | have, NULL);
}
