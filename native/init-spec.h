/* What pxoci-init reads from a process spec file (/.pxoci/process for the container process, another
 * file per `pxoci exec`): the OCI process plus the startContainer hooks. src/oci/initspec.ts writes
 * it, and documents the format: records "<tag>\0<value>\0". */
#ifndef PXOCI_INIT_SPEC_H
#define PXOCI_INIT_SPEC_H

#include <limits.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/types.h>

#define MAX_ITEMS 4096
#define MAX_HOOKS 64
#define MAX_HOOK_ITEMS 256

struct hook {
	const char *path;
	char *args[MAX_HOOK_ITEMS + 1];
	int nargs;
	char *env[MAX_HOOK_ITEMS + 1];
	int nenv;
	int timeout;
};

struct rlimit_item {
	int resource;
	struct rlimit value;
};

struct process_spec {
	char *args[MAX_ITEMS + 1];
	int nargs;
	char *env[MAX_ITEMS + 1];
	int nenv;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t groups[NGROUPS_MAX];
	int ngroups;
	int have_groups;
	mode_t umask_value;
	int have_umask;
	int terminal;
	struct winsize winsize; /* all zero: leave the pty's size alone */
	int no_new_privs;
	struct rlimit_item rlimits[64];
	int nrlimits;
	const char *oom_score_adj;
	/* process.capabilities as masks by capability number; only applied when given. */
	int have_caps;
	uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
	/* The namespaces the container's PID 1 joins (CLONE_NEW* of each, in the keeper's fd order) and
	 * the hostname to set in a joined UTS namespace (NULL: leave it). */
	int joins[8];
	int njoins;
	const char *hostname;
	const char *state_head, *state_tail;
	struct hook hooks[MAX_HOOKS];
	int nhooks;
};

/* Fills p from the file at path; a spec that cannot be read or makes no sense ends the init (fail). */
void read_spec(struct process_spec *p, const char *path);

#endif
