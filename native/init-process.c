/* Applying a process spec: see init-process.h. */
#include "init-process.h"
#include "init-hooks.h"
#include "init-keeper.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* fail() with a formatted message. */
static void failf(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fail("%s", msg);
}

/* An errno in Go's words ("no such file or directory"), as runc's messages have them. */
static const char *go_error(int err)
{
	static char text[128];
	snprintf(text, sizeof text, "%s", strerror(err));
	text[0] = (char)tolower((unsigned char)text[0]);
	return text;
}

/* The kernel's names (include/uapi/linux/capability.h), for messages only: the spec arrives as masks. */
static const char *const capability_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
	"LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
	"MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
	"CHECKPOINT_RESTORE",
};

static const char *capability_name(int cap)
{
	static char unnamed[32];
	if (cap >= 0 && cap < (int)(sizeof capability_names / sizeof capability_names[0])) {
		snprintf(unnamed, sizeof unnamed, "CAP_%s", capability_names[cap]);
		return unnamed;
	}
	snprintf(unnamed, sizeof unnamed, "capability %d", cap);
	return unnamed;
}

static const char *env_lookup(struct process_spec *p, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < p->nenv; i++)
		if (strncmp(p->env[i], name, n) == 0 && p->env[i][n] == '=')
			return p->env[i] + n + 1;
	return NULL;
}

/* Go's exec.LookPath (runc's check): a regular file with an execute bit that the process's own uid
 * may execute; called once that uid is in place, so access() asks for the right user. */
static int executable(const char *path, int *err)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		*err = errno;
		return 0;
	}
	/* EPERM or ENOSYS from access() is a seccomp policy's doing: the mode bits decide then, as in Go. */
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111) ||
	    (access(path, X_OK) != 0 && errno != EPERM && errno != ENOSYS)) {
		*err = EACCES;
		return 0;
	}
	return 1;
}

char *resolve_executable(struct process_spec *p)
{
	static char found[PATH_MAX];
	const char *name = p->args[0];
	int err = 0;
	if (strchr(name, '/')) {
		if (!executable(name, &err))
			failf("exec: \"%s\": %s", name, go_error(err));
		return (char *)name;
	}
	const char *path = env_lookup(p, "PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t dirlen = end ? (size_t)(end - path) : strlen(path);
		snprintf(found, sizeof found, "%.*s/%s", (int)dirlen, dirlen ? path : ".", name);
		if (executable(found, &err))
			return found;
		path += dirlen;
		if (*path == ':')
			path++;
	}
	failf("exec: \"%s\": executable file not found in $PATH", name);
}

void apply_limits(struct process_spec *p)
{
	if (p->oom_score_adj) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, p->oom_score_adj, strlen(p->oom_score_adj)) < 0)
			failf("cannot set oom_score_adj: %s", strerror(errno));
		close(fd);
	}
	for (int i = 0; i < p->nrlimits; i++)
		if (setrlimit(p->rlimits[i].resource, &p->rlimits[i].value) != 0)
			failf("setrlimit: %s", strerror(errno));
}

/* Checks the sets against what capset will allow, so that a set the CT cannot grant is named rather
 * than a bare EPERM, and trims them as runc's outcome has them. Run before the bounding set narrows. */
static void check_capabilities(struct process_spec *p)
{
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct held[2];
	/* A seccomp policy may deny capget: then capset alone says what it refuses. */
	uint64_t permitted = ~0ULL;
	if (syscall(SYS_capget, &header, held) == 0)
		permitted = (uint64_t)held[1].permitted << 32 | held[0].permitted;
	for (int cap = 0; cap < 64; cap++) {
		uint64_t bit = 1ULL << cap;
		int in_node_bounding = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (in_node_bounding < 0) {
			/* Unknown to this kernel: runc leaves it out with a warning. */
			p->cap_bounding &= ~bit;
			p->cap_permitted &= ~bit;
			p->cap_effective &= ~bit;
			p->cap_inheritable &= ~bit;
			p->cap_ambient &= ~bit;
			continue;
		}
		/* Permitted or effective beyond the process's own bounding set: runc sets them, and exec drops
		 * them (what a process gains at exec is bounded). Kept out here, so that the CT, whose
		 * lxc.cap.keep is that bounding set, need not hold them. */
		if (!(p->cap_bounding & bit)) {
			p->cap_permitted &= ~bit;
			p->cap_effective &= ~bit;
		}
		if ((p->cap_inheritable & bit) && !(p->cap_bounding & bit))
			failf("unable to apply caps: process.capabilities.inheritable: %s is not in process.capabilities.bounding: "
			      "operation not permitted", capability_name(cap));
		if ((p->cap_effective & bit) && !(p->cap_permitted & bit))
			failf("unable to apply caps: process.capabilities.effective: %s is not in process.capabilities.permitted: "
			      "operation not permitted", capability_name(cap));
		const char *set = p->cap_permitted & bit ? "permitted" : p->cap_inheritable & bit ? "inheritable" : NULL;
		if (set && (!(permitted & bit) || !in_node_bounding))
			failf("unable to apply caps: process.capabilities.%s: %s is outside the capabilities the node gives this "
			      "CT: operation not permitted", set, capability_name(cap));
	}
}

/* While still root, before the uid changes: narrow the bounding set to the process's own (lxc.cap.keep
 * already did for the container process; an exec'd one may ask for less), and keep the permitted set
 * across setuid so the sets asked for can be laid down afterwards. */
static void prepare_capabilities(struct process_spec *p)
{
	if (!p->have_caps)
		return;
	check_capabilities(p);
	for (int cap = 0; cap < 64; cap++) {
		if (p->cap_bounding & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue; /* unknown to this kernel, or already out of the bounding set */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
			failf("unable to apply bounding set: cannot drop %s: %s", capability_name(cap), go_error(errno));
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		failf("keepcaps: %s", go_error(errno));
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
	if (syscall(SYS_capset, &header, data) != 0)
		failf("unable to apply caps: %s", go_error(errno));
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
		failf("keepcaps: %s", go_error(errno));
	/* The kernel raises an ambient capability only if it is permitted and inheritable too. runc (through
	 * gocapability) ignores a raise that fails, and `runc spec` relies on it: its ambient set is not in
	 * its inheritable one. So here too such a capability is simply not ambient. */
	for (int cap = 0; cap < 64; cap++)
		if (p->cap_ambient & (1ULL << cap))
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
}

void make_cwd(const char *cwd)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s", cwd) >= (int)sizeof path)
		failf("chdir to cwd (\"%s\") set in config.json failed: %s", cwd, go_error(ENAMETOOLONG));
	for (char *slash = path + 1;; slash++) {
		char c = *slash;
		if (c != '/' && c != '\0')
			continue;
		*slash = '\0';
		struct stat st;
		if (stat(path, &st) != 0 && mkdir(path, 0755) != 0 && errno != EEXIST)
			failf("mkdir %s: %s", path, go_error(errno));
		*slash = c;
		if (c == '\0')
			break;
	}
}

static void id_failed(const char *which, unsigned id, int err) __attribute__((noreturn));
static void id_failed(const char *which, unsigned id, int err)
{
	/* EINVAL: the id has no mapping in the CT's user namespace. */
	failf("unable to setup user: process.user.%s %u: %s%s", which, id, go_error(err),
	      err == EINVAL ? " (not mapped in the CT's user namespace)" : "");
}

void assume_process(struct process_spec *p)
{
	if (p->have_umask)
		umask(p->umask_value);
	/* As root first, as runc does: a cwd only root may enter still works for a process of another uid. */
	int in_cwd = chdir(p->cwd) == 0;
	prepare_capabilities(p);
	if (setgroups((size_t)p->ngroups, p->groups) != 0 && p->have_groups)
		failf("unable to setup user: setgroups: %s", go_error(errno));
	if (setgid(p->gid) != 0)
		id_failed("gid", p->gid, errno);
	if (setuid(p->uid) != 0)
		id_failed("uid", p->uid, errno);
	if (!in_cwd && chdir(p->cwd) != 0)
		failf("chdir to cwd (\"%s\") set in config.json failed: %s", p->cwd, go_error(errno));
	apply_capabilities(p);
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		failf("no_new_privs: %s", go_error(errno));
}

void exec_process(struct process_spec *p, char *exe)
{
	run_start_hooks(p);
	execve(exe, p->args, p->env);
	int err = errno;
	fprintf(stderr, "pxoci-init: exec %s: %s\n", p->args[0], strerror(err));
	_exit(err == EACCES || err == ENOEXEC ? 126 : 127);
}

void become_process(struct process_spec *p, char *exe)
{
	assume_process(p);
	exec_process(p, exe);
}
