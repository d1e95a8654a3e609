#!/bin/sh
# Builds a minimal rootfs from Debian's busybox-static: enough for a shell, coreutils-like applets,
# /etc/passwd and /etc/group, so tests and the demo run a real container without any registry.
# Usage: make-busybox-rootfs.sh DIR   (idempotent)
set -eu
dir=${1:?usage: make-busybox-rootfs.sh DIR}
busybox=$(command -v busybox || true)
[ -x /bin/busybox ] && busybox=/bin/busybox
if [ -z "$busybox" ]; then
  echo "make-busybox-rootfs: busybox not found (apt-get install busybox-static)" >&2
  exit 1
fi
mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root home var/tmp run
chmod 1777 tmp var/tmp
cp "$busybox" bin/busybox
for applet in $(bin/busybox --list); do
  case "$applet" in busybox) continue ;; esac
  [ -e "bin/$applet" ] || ln -s busybox "bin/$applet"
done
cat > etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > etc/group <<'G'
root:x:0:
daemon:x:1:
users:x:100:
nogroup:x:65534:
G
: > etc/hostname
: > etc/hosts
: > etc/resolv.conf
