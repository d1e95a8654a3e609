// The PVE CT config a translation builds, and the checks every value from the bundle passes before it
// goes in: nothing in config.json may add a line, a key or a property to the file PVE reads.
import { NUMBERED_OPTION_COUNT, PVE_RELEASE_LATEST, checkOption, checkRawLxcKey, rawKeySince, type PveConfig, type PveRelease } from '../../pve/config.js';
import { ConfigError } from '../errors.js';

export class CtConfig {
  readonly options: Record<string, string> = {};
  readonly lxc: Array<[string, string]> = [];
  /** The OCI field each raw line came from, where the caller said (same index as `lxc`). */
  readonly lxcFields: Array<string | undefined> = [];

  /** `release` tells the node's PVE release; asked only for a key that not every release accepts. */
  constructor(private readonly release: () => PveRelease = () => PVE_RELEASE_LATEST) {}

  /** A PVE option, checked as PVE's API checks it (type, range, format), so that no value PVE would
   *  refuse or misread reaches the file; `field` is the OCI field it comes from. */
  option(key: string, value: string, field: string): void {
    const numbered = /^(mp|dev|net|unused)(\d+)$/.exec(key);
    if (numbered) {
      const count = NUMBERED_OPTION_COUNT[numbered[1] as keyof typeof NUMBERED_OPTION_COUNT];
      if (Number(numbered[2]) >= count) throw new ConfigError(field, `a PVE CT has ${numbered[1]}0…${numbered[1]}${count - 1} only, so no ${key} for this one`);
    }
    const refused = checkOption(key, value);
    if (refused) throw new ConfigError(field, `becomes PVE's ${key}: ${value}, which PVE refuses: ${refused}`);
    this.options[key] = value;
  }

  /** A raw lxc.* line, refused (naming the key) when the node's PVE would not keep it exactly as given; `field`
   *  is the OCI field it comes from, for later messages about it. */
  raw(key: string, value: string, field?: string): void {
    const check = checkRawLxcKey(key, rawKeySince(key) > 8 ? this.release() : PVE_RELEASE_LATEST);
    if (!check.ok) throw new ConfigError(key, `PVE does not accept this raw key (${check.msg})`);
    if (/[\n\r\0]/.test(value)) throw new ConfigError(field ?? key, 'value contains a control character');
    // PVE's parser drops it, so the CT would get another value than the one asked for.
    if (value !== value.trim()) throw new ConfigError(field ?? key, `value "${value}" has leading or trailing white space`);
    this.lxc.push([key, value]);
    this.lxcFields.push(field);
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
