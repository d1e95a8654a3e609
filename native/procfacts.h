#ifndef PXOCI_PROCFACTS_H
#define PXOCI_PROCFACTS_H

/* What the host says about a container's processes now, read from /proc and /sys/fs/cgroup. One
 * implementation serves both sides: the native front answers `pxoci state` with it, and the Node side
 * loads it as an addon (pxoci-procfacts.node), so a status is decided by the same code everywhere. */

enum container_status { STATUS_CREATED, STATUS_RUNNING, STATUS_PAUSED, STATUS_STOPPED };

extern const char *const container_status_names[4];

/* Field 22 of /proc/<pid>/stat (clock ticks since boot): with the pid it names a process across pid
 * reuse. Returns 0 and the decimal text in out, or -1 for no such process, a zombie, or a dead one. */
#define START_TIME_MAX 24
int proc_start_time(long pid, char out[START_TIME_MAX]);

/* The process is alive and, when start is non-empty, is the one that had that start time. */
int proc_same_alive(long pid, const char *start);

/* Calls fn for each hierarchy in /proc/<pid>/cgroup: the controller name ("name=" dropped) and the
 * path; controller "" is the unified (v2) hierarchy. Returns -1 if the file cannot be read. */
typedef void (*cgroup_fn)(const char *controller, const char *path, void *arg);
int proc_cgroups(long pid, cgroup_fn fn, void *arg);

/* lxc-freeze freezes the whole CT: paused is what its freezer says. */
int proc_frozen(long pid);

/* A container's status from what pxoci recorded (the exit file the keeper writes when the container
 * process ends, its pid and start time, whether start ran) and from the host. */
enum container_status container_status(const char *exit_file, long pid, const char *pid_start, int started);

#endif
