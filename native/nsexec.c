/* pxoci-helper nsexec --pid P -- PATH ARGV...
 *
 * Runs PATH, found in the caller's (the runtime's) mount namespace, in the other namespaces of host
 * process P: user, cgroup, ipc, uts, net and pid. That is how pxoci runs OCI createContainer hooks:
 * LXC has already pivoted into the CT's root when pxoci gets control, so the only view in which the
 * container's rootfs is still at its host path (as a runtime shows it before pivot_root) is the host's
 * mount namespace. stdio is inherited; the exit status is PATH's, a death by signal re-raised.
 */
#include "exit-status.h"
#include "helper-commands.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct {
	const char *name;
	int type;
} namespaces[] = {
	{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
	{"net", CLONE_NEWNET},	     {"pid", CLONE_NEWPID}, {"user", CLONE_NEWUSER},
};

/* setns into a namespace we are already in fails for a user namespace: skip those. */
static int same_namespace(const char *name, int fd)
{
	char self[64];
	struct stat a, b;
	snprintf(self, sizeof self, "/proc/self/ns/%s", name);
	return fstat(fd, &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

int cmd_nsexec(int argc, char **argv)
{
	if (argc < 5 || strcmp(argv[1], "--pid") != 0 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: pxoci-helper nsexec --pid P -- PATH ARGV...\n");
		return 2;
	}
	const char *pid = argv[2], *path = argv[4];
	char **child_argv = argc > 5 ? argv + 5 : argv + 4;
	int fds[sizeof namespaces / sizeof namespaces[0]];
	int n = (int)(sizeof namespaces / sizeof namespaces[0]);
	/* Open every namespace before joining any: after joining the pid namespace's owner, P's /proc
	 * entries may no longer be ours to open. */
	for (int i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof p, "/proc/%s/ns/%s", pid, namespaces[i].name);
		fds[i] = open(p, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			fprintf(stderr, "cannot open %s: %s\n", p, strerror(errno));
			return 1;
		}
	}
	int joined_user = 0;
	for (int i = 0; i < n; i++) {
		if (same_namespace(namespaces[i].name, fds[i]))
			continue;
		if (setns(fds[i], namespaces[i].type) != 0) {
			fprintf(stderr, "cannot join the container's %s namespace: %s\n", namespaces[i].name, strerror(errno));
			return 1;
		}
		joined_user |= namespaces[i].type == CLONE_NEWUSER;
	}
	/* Like a hook a runtime runs from the container's init: as the container's root. */
	if (joined_user && (setgroups(0, NULL) != 0 || setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)) {
		fprintf(stderr, "cannot become root in the container's user namespace: %s\n", strerror(errno));
		return 1;
	}
	pid_t child = fork(); /* only a child enters the pid namespace */
	if (child < 0) {
		fprintf(stderr, "fork: %s\n", strerror(errno));
		return 1;
	}
	if (child == 0) {
		/* A hook whose runner was killed (its timeout) must not outlive it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(path, child_argv);
		fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	exit_like_child(child);
}
