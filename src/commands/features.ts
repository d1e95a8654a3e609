// pxoci features: what this runtime really supports (runtime-spec features.md), for CRI-O and others.
import { SPEC_VERSION } from '../version.js';

export function features(): void {
  const doc = {
    ociVersionMin: '1.0.0',
    ociVersionMax: SPEC_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: ['bind', 'rbind', 'ro', 'rw', 'nosuid', 'nodev', 'noexec', 'noatime', 'relatime', 'strictatime', 'mode', 'size'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      capabilities: [] as string[],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      // What src/oci/seccomp.ts can write in LXC's policy format.
      seccomp: {
        enabled: true,
        actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP'],
        operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'],
        knownFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
        supportedFlags: ['SECCOMP_FILTER_FLAG_TSYNC'],
      },
      apparmor: { enabled: true },
      selinux: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    // runc's annotation (crun's too): engines that read it learn there is no checkpoint/restore here.
    annotations: { 'org.opencontainers.runc.checkpoint.enabled': 'false' },
  };
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}
