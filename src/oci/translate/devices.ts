// linux.devices → the host's node bound in with lxc.mount.entry, plus lxc.cgroup2.devices.allow. Not
// PVE's devN: PVE 8.1 … 9.x refuse devN in a privileged CT, and in one with its own seccomp profile
// (`Device /dev/<x> does not exist`, a stale errno in get_device_mode_and_rdev), while LXC's own keys
// pass on every release. The CT sees the host's node, with the host's owner and mode.
import type { OciSpec } from '../bundle.js';
import { ConfigError } from '../errors.js';
import type { TranslateContext } from '../translate.js';
import { checkPath, mountEntryTarget, type CtConfig } from './ct-config.js';

export function translateDevices(devices: NonNullable<NonNullable<OciSpec['linux']>['devices']>, ct: CtConfig, deviceNumbers: TranslateContext['deviceNumbers']): void {
  devices.forEach((d, i) => {
    const field = `linux.devices[${i}]`;
    const path = checkPath(`${field}.path`, d.path);
    if (!path.startsWith('/dev/')) throw new ConfigError(`${field}.path`, 'PVE passes through device nodes below /dev only');
    const host = deviceNumbers?.(path);
    const kind = d.type === 'u' ? 'c' : d.type;
    if (!host || host.kind !== kind || host.major !== d.major || host.minor !== d.minor) {
      throw new ConfigError(field, `PVE passes through host device nodes: the host has no ${path} of type ${d.type} with ${d.major}:${d.minor}`);
    }
    ct.raw('lxc.mount.entry', `${path} ${mountEntryTarget(`${field}.path`, path)} none bind,create=file 0 0`, field);
    // As runc, which allows every device the config lists; linux.resources.devices comes after it
    // (translate's order) and so can still deny it, as PVE's devN rules come before a CT's raw keys.
    ct.raw('lxc.cgroup2.devices.allow', `${host.kind} ${host.major}:${host.minor} rwm`, field);
  });
}
