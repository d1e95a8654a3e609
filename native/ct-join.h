/* Joining a running CT from the host the way lxc-attach does: the CT init's cgroups, its namespaces
 * and its LSM label (docs/DESIGN.md, "The keeper"). The keeper's bridge (keeper.c) uses all three;
 * the sysctl writer only the namespaces. Functions returning int give 0, or -1 with a message in err.
 */
#ifndef PXOCI_CT_JOIN_H
#define PXOCI_CT_JOIN_H

#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* glibc's wrappers came late (2.36 for two of them): the system calls themselves are what we need. */
static inline int pidfd_open_pid(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}
static inline int pidfd_get_fd(int pidfd, int targetfd)
{
	return (int)syscall(SYS_pidfd_getfd, pidfd, targetfd, 0);
}
/* A pidfd names one process for good: 0 while that very process is alive. */
static inline int pidfd_alive(int pidfd)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0);
}

/* Writes the calling process into every cgroup hierarchy the init is in (each line of
 * /proc/<init>/cgroup, at that hierarchy's mount point in our mount namespace). Must run while we are
 * still host root, before setns. A hierarchy that is not mounted here cannot be joined and is skipped. */
int ct_join_cgroups(pid_t init, char *err, size_t errlen);

/* CLONE_NEW* flags for setns(pidfd, ...) into the init's namespaces among `wanted`; the user namespace
 * only when it is not ours already (setns into one's own user namespace fails). */
int ct_namespace_flags(pid_t init, int wanted);

/* The init's AppArmor label, to be taken on after setns. Preparing opens our own attr file while our
 * /proc still shows us (after joining the CT's mount namespace it shows the CT's processes only). */
struct ct_label {
	int attr_fd; /* -1: nothing to change (no AppArmor, or the init is unconfined) */
	char label[512];
};
int ct_label_prepare(pid_t init, struct ct_label *l, char *err, size_t errlen);
int ct_label_apply(struct ct_label *l, char *err, size_t errlen);

#endif
