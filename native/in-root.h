/* Paths inside a container's own tree, resolved the way runc's securejoin does: every symlink is
 * followed as if the container's root were /, and '..' stops at its top, so nothing an image contains
 * can lead a mount, a mkdir or a mask out of the container. Shared by the mount hook (before LXC's
 * pivot_root, the tree at $LXC_ROOTFS_MOUNT) and ct-setup (after it, the tree at /). */
#ifndef PXOCI_IN_ROOT_H
#define PXOCI_IN_ROOT_H

#include <stddef.h>

#define IN_ROOT_PATH_MAX 4096

/* Resolves `path` (as the config names it) inside the tree at rootfd into `out`: relative to rootfd,
 * "" for the root itself, without a symlink up to its first missing component (the missing rest is
 * kept, '..' applied to it as to directories). 0, or -1 with errno. */
int resolve_in_root(int rootfd, const char *path, char *out, size_t size);

/* Opens a path resolve_in_root produced, refusing any symlink and any way out of the tree. */
int open_resolved(int rootfd, const char *resolved, int flags);

/* Creates what is missing of a resolved path (directories 0755, the last component a directory or an
 * empty file) as the caller, and returns an O_PATH descriptor of it; -1 with errno. */
int make_resolved(int rootfd, const char *resolved, int last_is_dir);

/* "/proc/self/fd/N": how mount(2) is pointed at what was opened safely. */
const char *fd_path(int fd, char buf[32]);

/* Remounts the bind mount at fd with `flags` (MS_RDONLY, MS_NOSUID, ...). In a user namespace the
 * kernel keeps a mount's nosuid/nodev/noexec/ro/atime flags locked; as runc, on EPERM it tries again
 * with the flags the mount already has. 0, or -1 with errno. */
int remount_bind(int fd, unsigned long flags);

#endif
