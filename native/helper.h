#ifndef PXOCI_HELPER_H
#define PXOCI_HELPER_H

#include <stddef.h>
#include <sys/types.h>

int write_all(int fd, const void *buf, size_t len);
int cmd_lock(int argc, char **argv);
int cmd_keeper(int argc, char **argv);
int cmd_sendfd(int argc, char **argv);

#endif
