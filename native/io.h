/* Whole reads and writes: a signal or a short count must not leave a report line, a lock's answer or
 * a state view half done. Shared by the helper, the front and procfacts. */
#ifndef PXOCI_IO_H
#define PXOCI_IO_H

#include <stddef.h>
#include <sys/types.h>

/* All of buf, retrying after EINTR and short writes; 0, or -1 with errno set. */
int write_all(int fd, const void *buf, size_t len);

/* One line, printf-formatted, written whole: the report lines helpers send their callers. A newline
 * inside the text would split it, so it becomes a space. 0, or -1 with errno set. */
int write_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* At most size - 1 bytes of a file, NUL-terminated; the byte count, or -1 if it cannot be read. */
ssize_t read_small(const char *path, char *buf, size_t size);

#endif
