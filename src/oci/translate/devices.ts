// linux.devices → nodes pxoci makes itself (ct-setup, in a tmpfs of its own, bound onto a placeholder
// the mount hook made) plus lxc.cgroup2.devices.allow. Not PVE's devN: PVE 8.1 … 9.x refuse devN in a
// privileged CT ("Device /dev/<x> does not exist", a stale errno in PVE's own code), devN needs the
// host's node, and PVE's hooks would bind it after pxoci's mount hook. The nodes LXC sets up itself
// stay LXC's.
import type { OciSpec } from '../bundle.js';
import { ConfigError } from '../errors.js';
import { checkPath, mountEntryTarget, type CtConfig } from './ct-config.js';
import type { MountPlans } from './mount-plans.js';
import { refuseReservedPath } from './runtime-dir.js';

/** The nodes LXC's autodev makes in every CT, with their numbers: a config asking for the same gets
 *  LXC's. */
const LXC_NODES: Record<string, [number, number]> = {
  '/dev/null': [1, 3],
  '/dev/zero': [1, 5],
  '/dev/full': [1, 7],
  '/dev/random': [1, 8],
  '/dev/urandom': [1, 9],
  '/dev/tty': [5, 0],
};

/** LXC's in any case: its console, its devpts and the /dev/ptmx of it (the spec asks for one of the
 *  container's own devpts, which a host node is not). */
const lxcOwns = (path: string) => path === '/dev/console' || path === '/dev/ptmx' || path === '/dev/pts' || path.startsWith('/dev/pts/');

export function translateDevices(devices: NonNullable<NonNullable<OciSpec['linux']>['devices']>, ct: CtConfig, plans: MountPlans): void {
  // LXC's own ttys (/dev/tty1 …, PVE's `tty`, 2 by default) would be bound over a node a config names
  // there, and nothing in an OCI container uses them.
  ct.option('tty', '0', 'linux.devices');
  devices.forEach((d, i) => {
    const field = `linux.devices[${i}]`;
    const path = checkPath(`${field}.path`, d.path);
    refuseReservedPath(`${field}.path`, path);
    mountEntryTarget(`${field}.path`, path);
    const type = d.type === 'u' ? 'c' : d.type;
    if (type !== 'c' && type !== 'b' && type !== 'p') throw new ConfigError(`${field}.type`, `"${d.type}" is not a device type (c, b, u or p)`);
    if (lxcOwns(path)) return;
    const lxc = LXC_NODES[path];
    if (lxc && type === 'c' && lxc[0] === d.major && lxc[1] === d.minor) return;
    const major = type === 'p' ? 0 : d.major ?? -1;
    const minor = type === 'p' ? 0 : d.minor ?? -1;
    if (major < 0 || minor < 0) throw new ConfigError(field, `a "${type}" device needs major and minor`);
    plans.hook.push({ op: 'node', field, path });
    // As runc: 0666 and root's unless the config says otherwise.
    plans.devices.push({ op: 'device', field, path, type, major, minor, mode: (d.fileMode ?? 0o666) & 0o7777, uid: d.uid ?? 0, gid: d.gid ?? 0 });
    // PVE's devN let the CT use its node; these do the same, before linux.resources.devices, whose
    // rules come after and so can still deny it.
    if (type !== 'p') ct.raw('lxc.cgroup2.devices.allow', `${type} ${major}:${minor} rwm`);
  });
}
