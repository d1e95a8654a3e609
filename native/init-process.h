/* Turning the calling process into the OCI process a spec describes, for both of the init's
 * processes: the container process (init-pid1.c) and a `pxoci exec`'d one (init-exec.c). */
#ifndef PXOCI_INIT_PROCESS_H
#define PXOCI_INIT_PROCESS_H

#include "init-spec.h"

/* Like runc: resolve args[0] against the process's own PATH before `created`, so a missing
 * executable fails `create` (engines map "no such file or directory" to exit 127). */
char *resolve_executable(struct process_spec *p);

/* While still root: oom_score_adj and the rlimits, which only root may raise. */
void apply_limits(struct process_spec *p);

/* Everything after the start signal: umask, groups, uid/gid, capabilities, cwd, no_new_privs, the
 * startContainer hooks, then exec of exe with the spec's args and env. Never returns. */
void become_process(struct process_spec *p, char *exe) __attribute__((noreturn));

#endif
