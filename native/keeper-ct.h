/* The keeper proper: the process an engine gets in --pid-file, living in the CT's namespaces and
 * cgroups (keeper.c put it there). It hands the caller's stdio to the CT's init over init.sock, relays
 * what the launcher must pass on (the console, the container process being ready, errors), writes the
 * state files of its container instance, and ends exactly as the container process ended. */
#ifndef PXOCI_KEEPER_CT_H
#define PXOCI_KEEPER_CT_H

struct keeper_ct {
	int nfds;                      /* the caller's stdio and preserved fds: 0..nfds-1 */
	int state_fd;                  /* the container's state dir, opened by the launcher */
	const char *exit_name;         /* where in it the container process's wait status goes */
	const char *start_result_name; /* where the startContainer hooks' outcome goes, or NULL */
	int report_fd;                 /* pipe to the launcher: one line per event */
	int ack_fd;                    /* pipe from the launcher: a byte, or EOF, once the console is passed on */
	const int *ns_fds;             /* namespaces the CT's init is to join (the launcher opened and checked them) */
	int nns;
};

/* Lines on report_fd: "console FD NAME" (the pty master is our fd FD; wait for the ack before closing
 * it), "ready PID" (the container process waits at start.fifo; PID in the CT's pid namespace), or
 * "error MSG". */
void keeper_in_ct(const struct keeper_ct *k) __attribute__((noreturn));

#endif
