// mounts → pxoci's mount hook, in config.json's order (docs/DESIGN.md "Mounts, devices, masked
// paths"); the mounts LXC makes for every CT anyway are left to it. Propagation is set after LXC's
// pivot_root (ct-setup), which would otherwise turn every mount shared.
import type { OciSpec } from '../bundle.js';
import { ConfigError } from '../errors.js';
import { MS, parseMountOptions } from '../mount-plan.js';
import type { TranslateContext } from '../translate.js';
import { checkPath, mountEntryTarget, type CtConfig } from './ct-config.js';
import type { MountPlans } from './mount-plans.js';
import { refuseReservedPath } from './runtime-dir.js';

const PROVIDED_BY_LXC: Record<string, string[]> = {
  '/proc': ['proc'],
  '/sys': ['sysfs'],
  '/sys/fs/cgroup': ['cgroup', 'cgroup2'],
  '/dev': ['tmpfs'],
  '/dev/pts': ['devpts'],
};

const FS_TYPES = ['tmpfs', 'mqueue', 'devpts', 'proc', 'sysfs'];

type HostFacts = Required<Pick<TranslateContext, 'pathKind' | 'realPath'>>;

export function translateMounts(mounts: NonNullable<OciSpec['mounts']>, ct: CtConfig, plans: MountPlans, host: HostFacts): void {
  let cgroupMount: 'ro' | 'mixed' | undefined;
  mounts.forEach((m, i) => {
    const field = `mounts[${i}]`;
    const dest = checkPath(`${field}.destination`, m.destination);
    refuseReservedPath(`${field}.destination`, dest);
    if (m.uidMappings || m.gidMappings) throw new ConfigError(`${field}.uidMappings`, 'idmapped mounts are not supported by pxoci');
    const o = parseMountOptions(`${field}.options`, m.options ?? []);
    const isBind = m.type === 'bind' || (o.flags & MS.BIND) !== 0;
    if (o.propagation) plans.mountPropagation.push({ op: 'propagation', field, path: dest, flags: o.propagation });
    if (o.tmpcopyup && (isBind || m.type !== 'tmpfs')) throw new ConfigError(`${field}.options`, 'tmpcopyup applies to tmpfs mounts only');
    if (!isBind && PROVIDED_BY_LXC[dest]?.includes(m.type ?? '')) {
      if (dest === '/sys/fs/cgroup') cgroupMount = o.flags & MS.RDONLY ? 'ro' : 'mixed';
      return;
    }
    mountEntryTarget(`${field}.destination`, dest);
    if (isBind) {
      const given = checkPath(`${field}.source`, m.source ?? '');
      // PVE refuses symlinks in the paths it is given; this one is the hook's, but a real path is what
      // the container shows in its mountinfo either way.
      const source = host.realPath(given);
      if (source === undefined) throw new ConfigError(`${field}.source`, `${given}: no such file or directory`);
      checkPath(`${field}.source`, source);
      plans.hook.push({
        op: 'mount',
        field,
        destination: dest,
        mountPoint: host.pathKind(source) === 'dir' ? 'dir' : 'file',
        source,
        flags: MS.BIND | (o.flags & MS.REC),
        // As runc: a second, remounting call applies what a bind itself ignores.
        remountFlags: o.flags & ~(MS.BIND | MS.REC),
        // mount(2) ignores data (mode=, size=, …) for a bind; runc passes it all the same.
        data: o.data,
        tmpcopyup: false,
      });
      return;
    }
    const type = m.type ?? '';
    if (!FS_TYPES.includes(type)) throw new ConfigError(`${field}.type`, `mount type "${type}" is not supported by pxoci`);
    const source = m.source && /^[\w-]+$/.test(m.source) ? m.source : type;
    plans.hook.push({ op: 'mount', field, destination: dest, mountPoint: 'dir', source, fstype: type, flags: o.flags, remountFlags: 0, data: o.data, tmpcopyup: o.tmpcopyup });
  });

  // LXC leaves /sys/fs/cgroup empty when the CT keeps CAP_SYS_ADMIN (it expects the CT's init to
  // mount it); an OCI config that lists the mount gets it regardless.
  if (cgroupMount) ct.raw('lxc.mount.auto', `cgroup:${cgroupMount}:force`);
}
