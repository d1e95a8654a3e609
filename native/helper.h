#ifndef PXOCI_HELPER_H
#define PXOCI_HELPER_H

#include <stddef.h>
#include <sys/types.h>

int cmd_lock(int argc, char **argv);
int cmd_keeper(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_nsexec(int argc, char **argv);
int open_console(const char *socket_path);
void exit_like(int status) __attribute__((noreturn));
void exit_like_child(pid_t child) __attribute__((noreturn));

#endif
