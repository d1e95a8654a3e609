/* Joining a running CT: see ct-join.h. */
#include "ct-join.h"
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *out = s;
	for (char *in = s; *in;) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '7' && in[2] >= '0' && in[2] <= '7' && in[3] >= '0' && in[3] <= '7') {
			*out++ = (char)(((in[1] - '0') << 6) | ((in[2] - '0') << 3) | (in[3] - '0'));
			in += 4;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
}

/* Is every comma-separated name of `wanted` one of the comma-separated options `opts`? */
static int all_in(const char *wanted, const char *opts)
{
	char w[256], *save = NULL;
	snprintf(w, sizeof w, "%s", wanted);
	for (char *name = strtok_r(w, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(name);
		int found = 0;
		for (const char *o = opts; o && *o;) {
			const char *end = strchr(o, ',');
			size_t len = end ? (size_t)(end - o) : strlen(o);
			if (len == n && strncmp(o, name, n) == 0) {
				found = 1;
				break;
			}
			o = end ? end + 1 : NULL;
		}
		if (!found)
			return 0;
	}
	return 1;
}

/* Where the hierarchy of `controllers` ("" for cgroup2, else "cpu,cpuacct" or "name=systemd") is
 * mounted in our mount namespace, with the cgroup path of that mount's root. */
static int find_hierarchy(const char *controllers, char *mnt, size_t mntlen, char *root, size_t rootlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int found = -1;
	while (found < 0 && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		/* id parent major:minor root mount-point options [optional...] - fstype source super-options */
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		char fstype[32], super[1024];
		if (sscanf(sep + 3, "%31s %*s %1023s", fstype, super) != 2)
			continue;
		int v2 = *controllers == '\0';
		if (strcmp(fstype, v2 ? "cgroup2" : "cgroup") != 0 || (!v2 && !all_in(controllers, super)))
			continue;
		char mroot[PATH_MAX], mpoint[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", mroot, mpoint) != 2)
			continue;
		unescape_octal(mroot);
		unescape_octal(mpoint);
		snprintf(mnt, mntlen, "%s", mpoint);
		snprintf(root, rootlen, "%s", strcmp(mroot, "/") == 0 ? "" : mroot);
		found = 0;
	}
	free(line);
	fclose(f);
	return found;
}

int ct_join_cgroups(pid_t init, char *err, size_t errlen)
{
	char path[64], text[8192];
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)init);
	if (read_small(path, text, sizeof text) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* hierarchy-id:controllers:path */
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c1 || !c2)
			continue;
		*c2 = '\0';
		const char *controllers = c1 + 1, *cgpath = c2 + 1;
		char mnt[PATH_MAX], root[PATH_MAX];
		if (find_hierarchy(controllers, mnt, sizeof mnt, root, sizeof root) != 0)
			continue;
		size_t rootlen = strlen(root);
		if (rootlen && (strncmp(cgpath, root, rootlen) != 0 || (cgpath[rootlen] != '/' && cgpath[rootlen] != '\0')))
			continue; /* mounted, but not the part of the tree the CT is in */
		char procs[PATH_MAX * 2 + 32], pid[16];
		snprintf(procs, sizeof procs, "%s%s/cgroup.procs", mnt, cgpath + rootlen);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		int n = snprintf(pid, sizeof pid, "%d", (int)getpid());
		if (fd < 0 || write_all(fd, pid, (size_t)n) != 0) {
			snprintf(err, errlen, "cannot join the CT's cgroup %s: %s", procs, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

int ct_namespace_flags(pid_t init, int wanted)
{
	char theirs[64];
	struct stat a, b;
	snprintf(theirs, sizeof theirs, "/proc/%d/ns/user", (int)init);
	int same_user = stat(theirs, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
	return same_user ? wanted & ~CLONE_NEWUSER : wanted;
}

/* The kernel has AppArmor enabled: its module says so. Without it the attr files are absent or refuse
 * every read (EINVAL), and there is no label to take. */
static int apparmor_enabled(void)
{
	char text[8];
	return read_small("/sys/module/apparmor/parameters/enabled", text, sizeof text) > 0 && text[0] == 'Y';
}

int ct_label_prepare(pid_t init, struct ct_label *l, char *err, size_t errlen)
{
	l->attr_fd = -1;
	l->label[0] = '\0';
	if (!apparmor_enabled())
		return 0;
	/* Kernels since 5.8 have a directory per LSM; older ones only the shared files. */
	char path[64];
	const char *attr = "attr/apparmor/current";
	snprintf(path, sizeof path, "/proc/%d/%s", (int)init, attr);
	if (access(path, F_OK) != 0) {
		attr = "attr/current";
		snprintf(path, sizeof path, "/proc/%d/%s", (int)init, attr);
	}
	if (read_small(path, l->label, sizeof l->label) < 0) {
		snprintf(err, errlen, "cannot read the CT's AppArmor label (%s): %s", path, strerror(errno));
		return -1;
	}
	/* "lxc-100_</var/lib/lxc> (enforce)\n": the label is what precedes the mode. */
	l->label[strcspn(l->label, "\n")] = '\0';
	char *mode = strstr(l->label, " (");
	if (mode)
		*mode = '\0';
	if (l->label[0] == '\0' || strcmp(l->label, "unconfined") == 0)
		return 0;
	snprintf(path, sizeof path, "/proc/thread-self/%s", attr);
	l->attr_fd = open(path, O_WRONLY | O_CLOEXEC);
	if (l->attr_fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int ct_label_apply(struct ct_label *l, char *err, size_t errlen)
{
	if (l->attr_fd < 0)
		return 0;
	char cmd[600];
	int n = snprintf(cmd, sizeof cmd, "changeprofile %s", l->label);
	int rc = write(l->attr_fd, cmd, (size_t)n) == n ? 0 : -1;
	if (rc != 0)
		snprintf(err, errlen, "cannot take on the CT's AppArmor label %s: %s", l->label, strerror(errno));
	close(l->attr_fd);
	l->attr_fd = -1;
	return rc;
}
