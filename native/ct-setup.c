/* pxoci-helper ct-setup --pid P --ct-dir DIR   (instructions on stdin)
 *
 * What config.json asks of a CT that can only be done once LXC has finished it, run by pxoci create
 * while the container process waits for `start`: in the mount namespace of P (the CT's init, proven
 * this container's by DIR, its runtime dir, being what P has at /.pxoci), as the host's root (as PVE's
 * own mount hotplug does), one instruction per line:
 *   device <field> <path> <c|b|p> <major> <minor> <mode> <uid> <gid>
 *       a node made here, in a tmpfs of our own (a user namespace cannot make usable nodes), and bound
 *       onto the placeholder the mount hook made; uid/gid are the container's, mapped through P's maps
 *   ptmx                          /dev/ptmx becomes the symlink to pts/ptmx (LXC binds it instead)
 *   propagation <field> <path> <flags>   a mount's propagation (LXC turns the whole tree rshared at
 *                                        its pivot_root, after the mount hook)
 *   root-propagation <flags>      linux.rootfsPropagation, last, as runc applies it after its pivot
 * Paths are resolved inside the CT's root (in-root.c). Errors name the field; exit 1. */
#include "ct-join.h"
#include "helper-commands.h"
#include "in-root.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_LINES 4096

/* The host id of a container id through /proc/P/{uid,gid}_map; -1 when it has no mapping. */
static long long host_id(const char *pid, const char *map, unsigned long id)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%s/%s", pid, map);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	unsigned long inside, outside, count;
	long long found = -1;
	while (fscanf(f, "%lu %lu %lu", &inside, &outside, &count) == 3)
		if (id >= inside && id - inside < count)
			found = (long long)(outside + (id - inside));
	fclose(f);
	return found;
}

/* Our /proc is not the CT's once in its mount namespace: no /proc/self/fd paths there, the mount API
 * on descriptors instead. MS_REC in `flags` makes it recursive. */
static int set_propagation(int fd, unsigned long flags)
{
	struct mount_attr attr = {.propagation = flags & (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)};
	return mount_setattr(fd, "", AT_EMPTY_PATH | (flags & MS_REC ? AT_RECURSIVE : 0), &attr, sizeof attr);
}

static int split(char *line, char **f, int max)
{
	int n = 0;
	for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	return n;
}

/* A pidfd of P once P is shown to be this container's init: what it has at /.pxoci is ct_dir itself
 * (another CT, or a process that took P's number after the CT ended, has something else there). -1
 * with a message otherwise. Every later step acts on the pidfd, or checks it is still that process. */
static int open_init(const char *pid, const char *ct_dir)
{
	char *end;
	long n = strtol(pid, &end, 10);
	int pidfd = *pid && !*end && n > 1 ? pidfd_open_pid((pid_t)n) : -1;
	if (pidfd < 0) {
		fprintf(stderr, "cannot open the container's init %s: %s\n", pid, strerror(errno));
		return -1;
	}
	char mounted[64];
	snprintf(mounted, sizeof mounted, "/proc/%ld/root/.pxoci", n);
	struct stat want, have;
	if (stat(ct_dir, &want) != 0 || stat(mounted, &have) != 0 || want.st_dev != have.st_dev || want.st_ino != have.st_ino ||
	    pidfd_alive(pidfd) != 0) {
		fprintf(stderr, "pid %s is not the init of the container whose runtime dir is %s\n", pid, ct_dir);
		close(pidfd);
		return -1;
	}
	return pidfd;
}

int cmd_ct_setup(int argc, char **argv)
{
	if (argc != 5 || strcmp(argv[1], "--pid") != 0 || strcmp(argv[3], "--ct-dir") != 0) {
		fprintf(stderr, "usage: pxoci-helper ct-setup --pid P --ct-dir DIR < instructions\n");
		return 2;
	}
	const char *pid = argv[2];
	int init = open_init(pid, argv[4]);
	if (init < 0)
		return 1;
	static char *lines[MAX_LINES];
	int nlines = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (!*line)
			continue;
		if (nlines == MAX_LINES) {
			fprintf(stderr, "ct-setup: more than %d instructions\n", MAX_LINES);
			return 1;
		}
		lines[nlines++] = strdup(line);
	}
	free(line);

	long long root_uid = host_id(pid, "uid_map", 0), root_gid = host_id(pid, "gid_map", 0);
	if (root_uid < 0 || root_gid < 0) {
		fprintf(stderr, "cannot read the user maps of the container's init %s: %s\n", pid, strerror(errno));
		return 1;
	}
	/* Device nodes are made before entering the CT: in a tmpfs mounted by the host's root, detached
	 * and never reachable from the host's tree, so they are usable in a user-namespaced CT too. */
	int devices = -1;
	for (int i = 0; i < nlines; i++) {
		char copy[2 * IN_ROOT_PATH_MAX], *f[10];
		snprintf(copy, sizeof copy, "%s", lines[i]);
		if (split(copy, f, 10) != 9 || strcmp(f[0], "device") != 0)
			continue;
		if (devices < 0) {
			/* Its top belongs to the CT's root, as whom the nodes are reached once in the CT. */
			char uid[24], gid[24];
			snprintf(uid, sizeof uid, "%lld", root_uid);
			snprintf(gid, sizeof gid, "%lld", root_gid);
			int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
			if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0) != 0 || fsconfig(fs, FSCONFIG_SET_STRING, "uid", uid, 0) != 0 ||
			    fsconfig(fs, FSCONFIG_SET_STRING, "gid", gid, 0) != 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0 ||
			    (devices = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSUID)) < 0) {
				fprintf(stderr, "cannot make a tmpfs for device nodes: %s\n", strerror(errno));
				return 1;
			}
			close(fs);
		}
		const char *field = f[1], *path = f[2];
		mode_t type = f[3][0] == 'b' ? S_IFBLK : f[3][0] == 'p' ? S_IFIFO : S_IFCHR;
		mode_t mode = (mode_t)strtoul(f[6], NULL, 8) & 07777;
		long long uid = host_id(pid, "uid_map", strtoul(f[7], NULL, 10)), gid = host_id(pid, "gid_map", strtoul(f[8], NULL, 10));
		if (uid < 0 || gid < 0) {
			fprintf(stderr, "%s: uid %s or gid %s has no mapping in the container's user namespace\n", field, f[7], f[8]);
			return 1;
		}
		char name[16];
		snprintf(name, sizeof name, "%d", i);
		dev_t dev = type == S_IFIFO ? 0 : makedev(strtoul(f[4], NULL, 10), strtoul(f[5], NULL, 10));
		if (mknodat(devices, name, type | mode, dev) != 0 || fchownat(devices, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) != 0 ||
		    fchmodat(devices, name, mode, 0) != 0) {
			fprintf(stderr, "%s: cannot make the device node %s: %s\n", field, path, strerror(errno));
			return 1;
		}
	}

	/* Still alive, so the maps read above were the init's: its pid cannot have been taken meanwhile. */
	if (pidfd_alive(init) != 0 || setns(init, CLONE_NEWNS) != 0) {
		fprintf(stderr, "cannot enter the mount namespace of the container's init %s: %s\n", pid, strerror(errno));
		return 1;
	}
	close(init);
	/* What we make in the CT is its root's: a file system of a user-namespaced CT refuses owners it
	 * cannot map (EOVERFLOW), and its root owns what PVE and LXC made there too. */
	setfsgid((gid_t)root_gid);
	setfsuid((uid_t)root_uid);
	/* setns made the CT's root our root and working directory. */
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		fprintf(stderr, "cannot open the container's root: %s\n", strerror(errno));
		return 1;
	}
	char staging[] = "dev/.pxoci-devices";
	if (devices >= 0) {
		/* Attached for as long as the binds take, where only the CT could see it. */
		int devdir = open_resolved(root, "dev", O_PATH | O_DIRECTORY);
		if (devdir < 0 || mkdirat(devdir, ".pxoci-devices", 0700) != 0 ||
		    move_mount(devices, "", devdir, ".pxoci-devices", MOVE_MOUNT_F_EMPTY_PATH) != 0) {
			fprintf(stderr, "cannot attach the device nodes in the container: %s\n", strerror(errno));
			return 1;
		}
		close(devdir);
	}
	for (int i = 0; i < nlines; i++) {
		char *f[10], resolved[IN_ROOT_PATH_MAX];
		int n = split(lines[i], f, 10);
		if (strcmp(f[0], "device") == 0 && n == 9) {
			char node[64];
			snprintf(node, sizeof node, "%s/%d", staging, i);
			int from = open_resolved(root, node, O_PATH);
			int tree = from >= 0 ? open_tree(from, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH) : -1;
			int to = resolve_in_root(root, f[2], resolved, sizeof resolved) == 0 ? open_resolved(root, resolved, O_PATH) : -1;
			if (tree < 0 || to < 0 || move_mount(tree, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
				fprintf(stderr, "%s: cannot bind the device node onto %s: %s\n", f[1], f[2], strerror(errno));
				return 1;
			}
			close(from);
			close(tree);
			close(to);
		} else if (strcmp(f[0], "ptmx") == 0 && n == 1) {
			int dev = open_resolved(root, "dev", O_PATH | O_DIRECTORY);
			/* LXC's bind of pts/ptmx; without one there is a plain file or nothing. Our root is the CT's,
			 * so the plain path stays in it. */
			if (umount2("/dev/ptmx", MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL && errno != ENOENT) {
				fprintf(stderr, "cannot remove LXC's /dev/ptmx: %s\n", strerror(errno));
				return 1;
			}
			if (dev < 0 || (unlinkat(dev, "ptmx", 0) != 0 && errno != ENOENT) || symlinkat("pts/ptmx", dev, "ptmx") != 0) {
				fprintf(stderr, "cannot make /dev/ptmx a symlink to pts/ptmx: %s\n", strerror(errno));
				return 1;
			}
			close(dev);
		} else if (strcmp(f[0], "propagation") == 0 && n == 4) {
			int fd = resolve_in_root(root, f[2], resolved, sizeof resolved) == 0 ? open_resolved(root, resolved, O_PATH) : -1;
			if (fd < 0 || set_propagation(fd, strtoul(f[3], NULL, 10)) != 0) {
				fprintf(stderr, "%s: cannot set the propagation of %s: %s\n", f[1], f[2], strerror(errno));
				return 1;
			}
			close(fd);
		} else if (strcmp(f[0], "root-propagation") == 0 && n == 2) {
			if (set_propagation(root, strtoul(f[1], NULL, 10)) != 0) {
				fprintf(stderr, "linux.rootfsPropagation: cannot set the root's propagation: %s\n", strerror(errno));
				return 1;
			}
		} else if (strcmp(f[0], "device") != 0) {
			fprintf(stderr, "ct-setup: unknown instruction: %s\n", f[0]);
			return 1;
		}
	}
	if (devices >= 0) {
		int devdir = open_resolved(root, "dev", O_PATH | O_DIRECTORY);
		if (devdir < 0 || umount2("/dev/.pxoci-devices", MNT_DETACH | UMOUNT_NOFOLLOW) != 0 || unlinkat(devdir, ".pxoci-devices", AT_REMOVEDIR) != 0) {
			fprintf(stderr, "cannot remove the staging directory of the device nodes: %s\n", strerror(errno));
			return 1;
		}
		close(devdir);
	}
	return 0;
}
