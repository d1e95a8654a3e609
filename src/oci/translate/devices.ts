// linux.devices → devN: PVE passes a host device node through, so the host must have the one asked
// for, with the same major:minor.
import type { OciSpec } from '../bundle.js';
import { printPropertyString } from '../../pve/config.js';
import { ConfigError } from '../errors.js';
import type { TranslateContext } from '../translate.js';
import { checkPath, type CtConfig } from './ct-config.js';

export function translateDevices(devices: NonNullable<NonNullable<OciSpec['linux']>['devices']>, ct: CtConfig, deviceNumbers: TranslateContext['deviceNumbers']): void {
  devices.forEach((d, i) => {
    const field = `linux.devices[${i}]`;
    const path = checkPath(`${field}.path`, d.path);
    if (!path.startsWith('/dev/')) throw new ConfigError(`${field}.path`, 'PVE passes through device nodes below /dev only');
    const host = deviceNumbers?.(path);
    if (!host || host.major !== d.major || host.minor !== d.minor) {
      throw new ConfigError(field, `PVE passes through host device nodes: the host has no ${path} with ${d.major}:${d.minor}`);
    }
    const props: Record<string, string> = { path };
    if (d.fileMode !== undefined) props.mode = '0' + (d.fileMode & 0o777).toString(8).padStart(3, '0');
    if (d.uid !== undefined) props.uid = String(d.uid);
    if (d.gid !== undefined) props.gid = String(d.gid);
    ct.option(`dev${i}`, printPropertyString('dev', props), field);
  });
}
