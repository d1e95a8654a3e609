/* Ending with another process's wait status. The keeper, `run` and `nsexec` stand in for a process
 * their caller cannot reap itself, so the caller must see that process's exact status: its exit code,
 * or death by the same signal (a shell then shows 128+N, an engine the signal). */
#ifndef PXOCI_EXIT_STATUS_H
#define PXOCI_EXIT_STATUS_H

#include <sys/types.h>

/* Ends the calling process as a process with this raw wait status ended. */
void exit_like(int status) __attribute__((noreturn));

/* Waits for our one child and ends as it did. */
void exit_like_child(pid_t child) __attribute__((noreturn));

#endif
