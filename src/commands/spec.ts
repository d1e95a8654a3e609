// pxoci spec [--bundle B] [--rootless]: a default config.json, like `runc spec`, that pxoci itself accepts.
import { createExclusive } from '../lib/atomic-files.js';
import { join, resolve } from 'node:path';
import { specExists } from '../runtime/errors.js';
import { SPEC_VERSION } from '../version.js';

export function defaultSpec(rootless: boolean) {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const spec: Record<string, unknown> = {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'pxoci',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  if (rootless) {
    const linux = spec.linux as Record<string, unknown>;
    linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    linux.namespaces = [...(linux.namespaces as object[]), { type: 'user' }];
  }
  return spec;
}

export function spec(o: { bundle?: string; rootless?: boolean }): void {
  const path = join(resolve(o.bundle ?? '.'), 'config.json');
  // Created exclusively: an existing file, or a link someone left at that name, is never written through.
  if (!createExclusive(path, JSON.stringify(defaultSpec(o.rootless === true), null, '\t') + '\n', 0o666)) throw specExists();
}
