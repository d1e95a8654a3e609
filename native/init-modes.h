/* The two ways pxoci-init runs, each in its own file; init-main.c picks one from its arguments. */
#ifndef PXOCI_INIT_MODES_H
#define PXOCI_INIT_MODES_H

/* init-pid1.c: PID 1 of the CT, the container process its child. */
int init_pid1(void);

/* init-exec.c: `init exec SPEC`, the process of a `pxoci exec`, entered into the CT by lxc-attach. */
int init_exec(const char *spec_path);

#endif
