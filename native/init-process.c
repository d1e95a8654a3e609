/* Applying a process spec: see init-process.h. */
#include "init-process.h"
#include "init-hooks.h"
#include "init-keeper.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *env_lookup(struct process_spec *p, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < p->nenv; i++)
		if (strncmp(p->env[i], name, n) == 0 && p->env[i][n] == '=')
			return p->env[i] + n + 1;
	return NULL;
}

char *resolve_executable(struct process_spec *p)
{
	static char found[PATH_MAX];
	const char *name = p->args[0];
	struct stat st;
	if (strchr(name, '/')) {
		if (stat(name, &st) != 0)
			fail("exec: \"%s\": stat: no such file or directory", name);
		return (char *)name;
	}
	const char *path = env_lookup(p, "PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t dirlen = end ? (size_t)(end - path) : strlen(path);
		snprintf(found, sizeof found, "%.*s/%s", (int)dirlen, dirlen ? path : ".", name);
		if (stat(found, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return found;
		path += dirlen;
		if (*path == ':')
			path++;
	}
	fail("exec: \"%s\": executable file not found in $PATH", name);
	return NULL;
}

void apply_limits(struct process_spec *p)
{
	if (p->oom_score_adj) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, p->oom_score_adj, strlen(p->oom_score_adj)) < 0)
			fail("cannot set oom_score_adj: %s", strerror(errno));
		close(fd);
	}
	for (int i = 0; i < p->nrlimits; i++)
		if (setrlimit(p->rlimits[i].resource, &p->rlimits[i].value) != 0)
			fail("setrlimit: %s", strerror(errno));
}

/* While still root, before the uid changes: narrow the bounding set to the process's own (lxc.cap.keep
 * already did for the container process; an exec'd one may ask for less), and keep the permitted set
 * across setuid so the sets asked for can be laid down afterwards. */
static void prepare_capabilities(struct process_spec *p)
{
	if (!p->have_caps)
		return;
	for (int cap = 0; cap < 64; cap++) {
		if (p->cap_bounding & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue; /* unknown to this kernel, or already out of the bounding set */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
			fprintf(stderr, "pxoci-init: cannot drop capability %d from the bounding set: %s\n", cap, strerror(errno));
			_exit(127);
		}
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "pxoci-init: keepcaps: %s\n", strerror(errno));
		_exit(127);
	}
}

/* After the uid change (which clears the effective set): the sets exactly as asked, then ambient. */
static void apply_capabilities(struct process_spec *p)
{
	if (!p->have_caps)
		return;
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(p->cap_effective >> (32 * i));
		data[i].permitted = (uint32_t)(p->cap_permitted >> (32 * i));
		data[i].inheritable = (uint32_t)(p->cap_inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &header, data) != 0) {
		fprintf(stderr, "pxoci-init: capset: %s\n", strerror(errno));
		_exit(127);
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
		fprintf(stderr, "pxoci-init: keepcaps: %s\n", strerror(errno));
		_exit(127);
	}
	for (int cap = 0; cap < 64; cap++) {
		if (!(p->cap_ambient & (1ULL << cap)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
			fprintf(stderr, "pxoci-init: cannot raise ambient capability %d (it must also be permitted and inheritable): %s\n",
				cap, strerror(errno));
			_exit(127);
		}
	}
}

void become_process(struct process_spec *p, char *exe)
{
	if (p->have_umask)
		umask(p->umask_value);
	prepare_capabilities(p);
	if (setgroups((size_t)p->ngroups, p->groups) != 0 && p->have_groups) {
		fprintf(stderr, "pxoci-init: setgroups: %s\n", strerror(errno));
		_exit(127);
	}
	if (setgid(p->gid) != 0 || setuid(p->uid) != 0) {
		fprintf(stderr, "pxoci-init: cannot become %u:%u: %s\n", (unsigned)p->uid, (unsigned)p->gid,
			strerror(errno));
		_exit(127);
	}
	apply_capabilities(p);
	if (chdir(p->cwd) != 0) {
		fprintf(stderr, "pxoci-init: chdir %s: %s\n", p->cwd, strerror(errno));
		_exit(127);
	}
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "pxoci-init: no_new_privs: %s\n", strerror(errno));
		_exit(127);
	}
	run_start_hooks(p);
	execve(exe, p->args, p->env);
	int err = errno;
	fprintf(stderr, "pxoci-init: exec %s: %s\n", p->args[0], strerror(err));
	_exit(err == EACCES || err == ENOEXEC ? 126 : 127);
}
