// The PVE CT config a translation builds, and the checks every value from the bundle passes before it
// goes in: nothing in config.json may add a line, a key or a property to the file PVE reads.
import { checkRawLxcKey, type PveConfig } from '../../pve/config.js';
import { ConfigError } from '../errors.js';

export class CtConfig {
  readonly options: Record<string, string> = {};
  readonly lxc: Array<[string, string]> = [];

  /** A raw lxc.* line, refused (naming the key) when PVE would not keep it exactly as given. */
  raw(key: string, value: string): void {
    const check = checkRawLxcKey(key);
    if (!check.ok) throw new ConfigError(key, `PVE does not accept this raw key (${check.msg})`);
    if (/[\n\r\0]/.test(value)) throw new ConfigError(key, 'value contains a control character');
    // PVE's parser drops it, so the CT would get another value than the one asked for.
    if (value !== value.trim()) throw new ConfigError(key, `value "${value}" has leading or trailing white space`);
    this.lxc.push([key, value]);
  }

  /** The finished config; the CT's notes (description) are only written when there are some. */
  pveConfig(notes: string[]): PveConfig {
    const config: PveConfig = { options: this.options, lxc: this.lxc };
    if (notes.length) config.description = notes.join('\n');
    return config;
  }
}

/** A host or container path that can go into a PVE value or an lxc.mount.entry field. */
export function checkPath(field: string, p: string, { absolute = true } = {}): string {
  if (/[\0\n\r]/.test(p)) throw new ConfigError(field, 'contains a control character');
  if (/[\s,=;]/.test(p)) throw new ConfigError(field, `"${p}" contains whitespace, ',', '=' or ';', which a PVE config cannot carry`);
  if (absolute && !p.startsWith('/')) throw new ConfigError(field, `"${p}" must be an absolute path`);
  if (p.split('/').some((c) => c === '..' || c === '.')) throw new ConfigError(field, `"${p}" must not contain '.' or '..' components`);
  return p.replace(/\/+$/, '') || '/';
}

/** A path that goes into a command LXC runs through `sh -c` (lxc.hook.*): nothing the shell would
 *  read as more than one plain word. */
export function shellWord(field: string, p: string): string {
  if (!/^[A-Za-z0-9_./+:@-]+$/.test(p)) throw new ConfigError(field, `"${p}" has characters a shell would interpret (LXC runs hooks through sh -c)`);
  return p;
}

/** A mount target as lxc.mount.entry wants it; '/' would leave an empty field and shift the others. */
export function mountEntryTarget(field: string, p: string): string {
  const rel = p.replace(/^\/+/, '');
  if (rel === '') throw new ConfigError(field, 'cannot be / (the rootfs is root.path)');
  return rel;
}
