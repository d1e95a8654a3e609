#ifndef PXOCI_HELPER_H
#define PXOCI_HELPER_H

#include <stddef.h>
#include <sys/types.h>

int cmd_lock(int argc, char **argv);
int cmd_keeper(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_nsexec(int argc, char **argv);

#endif
