#!/bin/sh
# Installs what pxoci, its simulator and its tests need on a Debian machine, then the npm packages.
# Idempotent: only missing Debian packages are installed.
set -eu
cd "$(dirname "$0")/.."
packages="lxc busybox-static runc gcc libc6-dev util-linux podman conmon containerd uidmap procps criu"
# podman's networks and pods (test/engine-podman-net.test.ts): its CNI bridge, port publishing and
# firewall plugins need iptables; slirp4netns for --network slirp4netns; catatonit for the pause
# image podman builds for a pod's infra container.
packages="$packages iptables containernetworking-plugins slirp4netns catatonit"
# Pods through containerd's CRI (test/engine-cri.test.ts): the CNI bridge plugin (above) and ip(8),
# which removes the bridge afterwards.
packages="$packages iproute2"
# PVE networking (test/pve-network.test.ts) fetches a page from the simulated node's network namespace
# with GNU wget (busybox's wget faults on some hosts).
packages="$packages wget"
# Host-managed DHCP: PVE 9.1's pve-container depends on isc-dhcp-client and runs /sbin/dhclient for a
# CT's ip=dhcp; pvesim runs the same client (docs/simulator.md, "Host-managed DHCP").
packages="$packages isc-dhcp-client"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
