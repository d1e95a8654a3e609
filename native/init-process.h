/* Turning the calling process into the OCI process a spec describes, for both of the init's
 * processes: the container process (init-pid1.c) and a `pxoci exec`'d one (init-exec.c). */
#ifndef PXOCI_INIT_PROCESS_H
#define PXOCI_INIT_PROCESS_H

#include "init-spec.h"

/* Like runc's exec.LookPath: args[0], or its first match on the process's own PATH, must be a regular
 * file the calling uid may execute. Called after assume_process, so a missing or forbidden executable
 * fails `create` (engines map "no such file or directory" to 127, "permission denied" to 126). */
char *resolve_executable(struct process_spec *p);

/* While still root: oom_score_adj and the rlimits, which only root may raise. */
void apply_limits(struct process_spec *p);

/* The container process's cwd, made if missing, as runc's init makes it (MkdirAll, as root, inside the
 * container's root) before it changes to it; `runc exec` makes none. */
void make_cwd(const char *cwd);

/* Everything runc's init does before it waits for `start`: umask, the cwd, the capability sets (checked against the bounding set first, so a set the CT cannot grant is
 * named), groups, gid, uid, no_new_privs. Every failure goes to fail(): for the container process
 * that fails `create` with the reason. */
void assume_process(struct process_spec *p);

/* After the start signal: the startContainer hooks, then exec of exe with the spec's args and env.
 * Never returns. */
void exec_process(struct process_spec *p, char *exe) __attribute__((noreturn));

/* assume_process then exec_process: for a process that has no `created` state to wait in. */
void become_process(struct process_spec *p, char *exe) __attribute__((noreturn));

#endif
