// pxoci features: what this runtime really supports (runtime-spec features.md), for CRI-O and others.
import { SPEC_VERSION } from '../version.js';

export function features(): void {
  const doc = {
    ociVersionMin: '1.0.0',
    ociVersionMax: SPEC_VERSION,
    hooks: [],
    mountOptions: ['bind', 'rbind', 'ro', 'rw', 'nosuid', 'nodev', 'noexec', 'noatime', 'relatime', 'strictatime', 'mode', 'size'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      capabilities: [] as string[],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: false },
      apparmor: { enabled: true },
      selinux: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: {},
  };
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}
