// linux.devices → nodes pxoci makes itself, bound in with lxc.mount.entry, plus
// lxc.cgroup2.devices.allow. Not PVE's devN: PVE 8.1 … 9.x refuse devN in a privileged CT, and in one
// with its own seccomp profile (`Device /dev/<x> does not exist`, a stale errno in
// get_device_mode_and_rdev), while LXC's own keys pass on every release. The nodes are made by a
// pre-start hook (host root, in the CT's monitor, whose mount namespace PVE always unshares:
// lxc.monitor.unshare) in a tmpfs of that namespace, which the CT's own namespace is copied from; so
// they have the config's mode and owner, need no node on the host, and never show on the host.
import type { OciSpec } from '../bundle.js';
import { ConfigError } from '../errors.js';
import { shellQuote as quote } from '../../lib/shell-quote.js';
import { checkPath, mountEntryTarget, type CtConfig } from './ct-config.js';
import { hostIdOf } from './namespaces.js';

type Linux = NonNullable<OciSpec['linux']>;

/** Where the hook makes the nodes, and the hook itself: pxoci's, root's, outside the runtime dir the
 *  CT's root may write to. */
export interface DeviceNodesPlace {
  dir: string;
  script: string;
}

/** Returns the hook script to write at `place.script`, when the config lists devices. */
export function translateDevices(linux: Linux, ct: CtConfig, place: DeviceNodesPlace | undefined): string | undefined {
  const devices = linux.devices ?? [];
  if (!devices.length) return undefined;
  if (!place) throw new ConfigError('linux.devices', 'internal error: no place for device nodes');
  const dir = checkPath('device node directory', place.dir);
  const lines = [
    '#!/bin/sh',
    "# pxoci: this CT's linux.devices, made in a tmpfs of the monitor's mount namespace (LXC pre-start hook).",
    'set -e',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    `mount -t tmpfs -o mode=0711,size=64k pxoci-devices ${quote(dir)}`,
  ];
  devices.forEach((d, i) => {
    const field = `linux.devices[${i}]`;
    const path = checkPath(`${field}.path`, d.path);
    const target = mountEntryTarget(`${field}.path`, path);
    if (!path.startsWith('/dev/')) throw new ConfigError(`${field}.path`, 'must be below /dev (PVE passes devices through there only)');
    const type = d.type === 'u' ? 'c' : d.type;
    if (type !== 'c' && type !== 'b' && type !== 'p') throw new ConfigError(`${field}.type`, `"${d.type}" is not a device type (c, b, u or p)`);
    const numbers = type === 'p' ? '' : ` ${d.major ?? -1} ${d.minor ?? -1}`;
    if (type !== 'p' && (d.major === undefined || d.minor === undefined)) throw new ConfigError(field, `a "${d.type}" device needs major and minor`);
    const uid = hostIdOf(linux, 'uid', d.uid ?? 0);
    const gid = hostIdOf(linux, 'gid', d.gid ?? 0);
    if (uid === undefined) throw new ConfigError(`${field}.uid`, `${d.uid} is not mapped in linux.uidMappings`);
    if (gid === undefined) throw new ConfigError(`${field}.gid`, `${d.gid} is not mapped in linux.gidMappings`);
    const node = `${dir}/${i}`;
    // As runc: 0666 and root's unless the config says otherwise.
    const mode = ((d.fileMode ?? 0o666) & 0o777).toString(8).padStart(4, '0');
    lines.push(`mknod ${quote(node)} ${type}${numbers}`, `chown ${uid}:${gid} ${quote(node)}`, `chmod ${mode} ${quote(node)}`);
    ct.raw('lxc.mount.entry', `${node} ${target} none bind,create=file 0 0`, field);
    // As runc, which allows every device the config lists; linux.resources.devices comes after it
    // (translate's order) and so can still deny it, as PVE's devN rules come before a CT's raw keys.
    if (type !== 'p') ct.raw('lxc.cgroup2.devices.allow', `${type} ${d.major}:${d.minor} rwm`, field);
  });
  ct.raw('lxc.hook.pre-start', `/bin/sh ${checkPath('device hook', place.script)}`, 'linux.devices');
  return lines.join('\n') + '\n';
}
