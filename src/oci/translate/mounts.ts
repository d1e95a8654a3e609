// mounts → pxoci's mount hook, in config.json's order (docs/DESIGN.md "Mounts, devices, masked
// paths"). Propagation is set after LXC's pivot_root (ct-setup), which would otherwise turn every
// mount shared.
//
// LXC makes /dev (autodev), /proc and /sys (lxc.mount.auto) for every CT before anything of the
// config, its cgroup mounts after lxc.mount.entry, and its own devpts at /dev/pts after the mount hook
// (LXC 5.0 conf.c lxc_setup). What a container reads in its mountinfo is the order of creation, so the
// config's entries for these are placed as follows, keeping what LXC's own mounts protect:
//   /dev (tmpfs)  goes into LXC's fstab (lxc.mount.fstab), which LXC mounts after /proc and /sys and
//                 before it opens /dev (rootfs.dfd_dev) to fill it: LXC's nodes, devpts, console and
//                 ttys then go into the config's tmpfs. A mount hook's /dev would hide them all.
//   /proc, /sys   LXC's (proc:mixed, sys:mixed: read-only /proc/sys, /proc/sysrq-trigger, /sys, ...),
//                 and where the config orders them after one of its own mounts, the hook binds LXC's
//                 tree onto itself, recursively, at that point: a copy keeps every read-only flag.
//   /dev/pts      the config's devpts, by the hook in its place; LXC then detaches whatever is on top
//                 of /dev/pts and mounts its own instance over it, the one its console, ttys and
//                 lxc-attach use: the hook puts a bind of the config's devpts on top for LXC to detach.
import type { OciSpec } from '../bundle.js';
import { ConfigError } from '../errors.js';
import { lxcFstabLine, MS, parseMountOptions } from '../mount-plan.js';
import type { TranslateContext } from '../translate.js';
import { checkPath, mountEntryTarget, type CtConfig } from './ct-config.js';
import type { MountPlans } from './mount-plans.js';
import { refuseReservedPath } from './runtime-dir.js';

/** The file systems LXC mounts itself, in the order it mounts them. */
const LXC_AUTO_MOUNTS: Record<string, { type: string; order: number }> = {
  '/proc': { type: 'proc', order: 0 },
  '/sys': { type: 'sysfs', order: 1 },
};

const FS_TYPES = ['tmpfs', 'mqueue', 'devpts', 'proc', 'sysfs'];

type HostFacts = Required<Pick<TranslateContext, 'pathKind' | 'realPath'>>;

export function translateMounts(mounts: NonNullable<OciSpec['mounts']>, ct: CtConfig, plans: MountPlans, host: HostFacts): void {
  let cgroupMount: 'ro' | 'mixed' | undefined;
  // Whether a mount of the config already comes after LXC's /proc and /sys, and which of those the
  // order used last.
  let madeByPxoci = false;
  let lastLxcAuto = -1;
  mounts.forEach((m, i) => {
    const field = `mounts[${i}]`;
    const dest = checkPath(`${field}.destination`, m.destination);
    refuseReservedPath(`${field}.destination`, dest);
    if (m.uidMappings || m.gidMappings) throw new ConfigError(`${field}.uidMappings`, 'idmapped mounts are not supported by pxoci');
    const o = parseMountOptions(`${field}.options`, m.options ?? []);
    const isBind = m.type === 'bind' || (o.flags & MS.BIND) !== 0;
    if (o.propagation) plans.mountPropagation.push({ op: 'propagation', field, path: dest, flags: o.propagation });
    if (o.tmpcopyup && (isBind || m.type !== 'tmpfs')) throw new ConfigError(`${field}.options`, 'tmpcopyup applies to tmpfs mounts only');
    const auto = isBind ? undefined : LXC_AUTO_MOUNTS[dest];
    if (auto && auto.type === m.type) {
      if (madeByPxoci || auto.order <= lastLxcAuto) plans.hook.push({ op: 'rebind', field, path: dest });
      else lastLxcAuto = auto.order;
      return;
    }
    if (!isBind && dest === '/sys/fs/cgroup' && (m.type === 'cgroup' || m.type === 'cgroup2')) {
      cgroupMount = o.flags & MS.RDONLY ? 'ro' : 'mixed';
      return;
    }
    madeByPxoci = true;
    if (!isBind && dest === '/dev' && m.type === 'tmpfs') {
      if (plans.fstab.length) throw new ConfigError(`${field}.destination`, 'a second tmpfs at /dev');
      // runc remounts a read-only /dev once its nodes are made; LXC makes its nodes, console and ttys in
      // it after every mount pxoci can make.
      if (o.flags & MS.RDONLY) throw new ConfigError(`${field}.options`, 'a read-only /dev is not supported by pxoci: LXC makes the device nodes, the console and the ttys in it after the mounts');
      if (o.tmpcopyup) throw new ConfigError(`${field}.options`, "tmpcopyup on /dev is not supported by pxoci: LXC mounts /dev before pxoci's mount hook runs");
      plans.fstab.push(lxcFstabLine(field, m.source && /^[\w-]+$/.test(m.source) ? m.source : 'tmpfs', dest, 'tmpfs', o));
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
    if (dest === '/dev/pts' && type === 'devpts') plans.hook.push({ op: 'rebind', field, path: dest });
  });

  // LXC leaves /sys/fs/cgroup empty when the CT keeps CAP_SYS_ADMIN (it expects the CT's init to
  // mount it); an OCI config that lists the mount gets it regardless.
  if (cgroupMount) ct.raw('lxc.mount.auto', `cgroup:${cgroupMount}:force`);
}
