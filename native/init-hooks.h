/* OCI startContainer hooks: in the container, as the container process is about to exec, each with
 * the state on stdin. A hook without env gets the process's env (as runc does). The first failure
 * ends the container process: it never runs. `pxoci start` waits for their outcome, which goes to the
 * keeper as FRAME_STARTED. */
#ifndef PXOCI_INIT_HOOKS_H
#define PXOCI_INIT_HOOKS_H

#include "init-spec.h"

/* Runs p's hooks, if any; returns only when all succeeded. */
void run_start_hooks(struct process_spec *p);

#endif
