// PVE's CT config format, with pve-container's rules (Config.pm parse_pct_config / write_pct_config and
// the option schema): pure functions, shared by pxoci and the simulated node.

export interface PveConfig {
  options: Record<string, string>;
  description?: string;
  lxc: Array<[string, string]>;
  env?: string[];
  pending?: { options: Record<string, string>; delete?: string[]; lxc: Array<[string, string]> };
  snapshots?: Record<string, PveConfig>;
}

// ---- raw lxc.* keys ----------------------------------------------------------------------------

const ALLOWED_RAW = new Set([
  'lxc.apparmor.profile', 'lxc.apparmor.allow_incomplete', 'lxc.apparmor.allow_nesting', 'lxc.apparmor.raw',
  'lxc.selinux.context', 'lxc.include', 'lxc.arch', 'lxc.uts.name', 'lxc.signal.halt', 'lxc.signal.reboot',
  'lxc.signal.stop', 'lxc.init.cmd', 'lxc.init.cwd', 'lxc.init.uid', 'lxc.init.gid', 'lxc.init.groups',
  'lxc.pty.max', 'lxc.console.logfile', 'lxc.console.path', 'lxc.tty.max', 'lxc.devtty.dir', 'lxc.hook.autodev',
  'lxc.autodev', 'lxc.kmsg', 'lxc.mount.fstab', 'lxc.mount.entry', 'lxc.mount.auto', 'lxc.rootfs.mount',
  'lxc.cap.drop', 'lxc.cap.keep', 'lxc.seccomp.profile', 'lxc.seccomp.notify.proxy', 'lxc.seccomp.notify.cookie',
  'lxc.idmap', 'lxc.hook.pre-start', 'lxc.hook.pre-mount', 'lxc.hook.mount', 'lxc.hook.start', 'lxc.hook.stop',
  'lxc.hook.post-stop', 'lxc.hook.clone', 'lxc.hook.destroy', 'lxc.hook.version', 'lxc.log.level', 'lxc.log.file',
  'lxc.start.auto', 'lxc.start.delay', 'lxc.start.order', 'lxc.group', 'lxc.environment',
  'lxc.environment.runtime', 'lxc.environment.hooks', 'lxc.sysctl.fs.mqueue',
  'lxc.sysctl.kernel.msgmax', 'lxc.sysctl.kernel.msgmnb', 'lxc.sysctl.kernel.msgmni', 'lxc.sysctl.kernel.sem',
  'lxc.sysctl.kernel.shmall', 'lxc.sysctl.kernel.shmmax', 'lxc.sysctl.kernel.shmmni',
  'lxc.sysctl.kernel.shm_rmid_forced',
]);
const ALLOWED_RAW_PREFIXES = ['lxc.cgroup2.', 'lxc.prlimit.', 'lxc.net.'];
const DEPRECATED_RAW_PREFIXES = ['lxc.cgroup.', 'lxc.network.'];
const DEPRECATED_RAW = new Set(['lxc.aa_profile', 'lxc.utsname']);
const FORBIDDEN_RAW: Record<string, string> = {
  'lxc.rootfs.path': 'lxc.rootfs.path is auto generated from rootfs',
  'lxc.rootfs.options': 'lxc.rootfs.options is not supported',
};

export type RawKeyCheck = { ok: true; deprecated?: boolean } | { ok: false; kind: 'forbidden' | 'unknown'; msg: string };

export function checkRawLxcKey(key: string): RawKeyCheck {
  if (FORBIDDEN_RAW[key]) return { ok: false, kind: 'forbidden', msg: FORBIDDEN_RAW[key]! };
  if (ALLOWED_RAW.has(key) || ALLOWED_RAW_PREFIXES.some((p) => key.startsWith(p) && key.length > p.length)) {
    return { ok: true };
  }
  if (DEPRECATED_RAW.has(key) || DEPRECATED_RAW_PREFIXES.some((p) => key.startsWith(p))) return { ok: true, deprecated: true };
  return { ok: false, kind: 'unknown', msg: `unable to parse config: ${key}` };
}

// ---- option schema -----------------------------------------------------------------------------

type OptionType =
  | { type: 'boolean' }
  | { type: 'integer'; min?: number; max?: number }
  | { type: 'number'; min?: number; max?: number }
  | { type: 'enum'; values: string[] }
  | { type: 'string'; format?: 'dns-name' | 'tags' | 'property'; maxLength?: number };

const ARCHES = ['amd64', 'i386', 'arm64', 'armhf', 'riscv32', 'riscv64'];
const OSTYPES = ['debian', 'devuan', 'ubuntu', 'centos', 'fedora', 'opensuse', 'archlinux', 'alpine', 'gentoo', 'nixos', 'unmanaged'];
const LOCKS = ['backup', 'create', 'destroyed', 'disk', 'fstrim', 'migrate', 'mounted', 'rollback', 'snapshot', 'snapshot-delete'];

const OPTIONS: Record<string, OptionType> = {
  arch: { type: 'enum', values: ARCHES },
  ostype: { type: 'enum', values: OSTYPES },
  hostname: { type: 'string', format: 'dns-name', maxLength: 255 },
  memory: { type: 'integer', min: 16 },
  swap: { type: 'integer', min: 0 },
  cores: { type: 'integer', min: 1, max: 8192 },
  cpulimit: { type: 'number', min: 0, max: 8192 },
  cpuunits: { type: 'integer', min: 0, max: 500000 },
  rootfs: { type: 'string', format: 'property' },
  features: { type: 'string', format: 'property' },
  unprivileged: { type: 'boolean' },
  tags: { type: 'string', format: 'tags' },
  onboot: { type: 'boolean' },
  protection: { type: 'boolean' },
  template: { type: 'boolean' },
  console: { type: 'boolean' },
  debug: { type: 'boolean' },
  lock: { type: 'enum', values: LOCKS },
  tty: { type: 'integer', min: 0, max: 6 },
  cmode: { type: 'enum', values: ['shell', 'console', 'tty'] },
  timezone: { type: 'string' },
  hookscript: { type: 'string' },
  entrypoint: { type: 'string' },
  nameserver: { type: 'string' },
  searchdomain: { type: 'string' },
  startup: { type: 'string' },
};

function optionType(key: string): OptionType | undefined {
  const indexed = /^(mp|dev|net|unused)(\d+)$/.exec(key);
  if (indexed) {
    const n = Number(indexed[2]);
    const max = indexed[1] === 'net' ? 31 : 255;
    return n <= max ? { type: 'string', format: 'property' } : undefined;
  }
  return OPTIONS[key];
}

const DNS_NAME = /^(([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)\.)*([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)$/;

export function isValidHostname(name: string): boolean {
  return name.length <= 255 && DNS_NAME.test(name) && name.split('.').every((l) => l.length <= 63);
}

const TAG = /^[a-z0-9_][a-z0-9_\-+.]*$/i;

/** PVE's verification message for one option value, or undefined when it is valid. */
export function checkOption(key: string, value: string): string | undefined {
  const t = optionType(key);
  if (!t) return `unknown setting '${key}'`;
  switch (t.type) {
    case 'boolean':
      return /^(1|on|yes|true|0|off|no|false)$/i.test(value) ? undefined : `type check ('boolean') failed - got '${value}'`;
    case 'integer':
    case 'number': {
      const re = t.type === 'integer' ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/;
      if (!re.test(value)) return `type check ('${t.type}') failed - got '${value}'`;
      const n = Number(value);
      if (t.min !== undefined && n < t.min) return `value must have a minimum value of ${t.min}`;
      if (t.max !== undefined && n > t.max) return `value must have a maximum value of ${t.max}`;
      return undefined;
    }
    case 'enum':
      return t.values.includes(value) ? undefined : `value '${value}' does not have a value in the enumeration '${t.values.join(', ')}'`;
    case 'string':
      if (t.maxLength !== undefined && value.length > t.maxLength) return `value may only be ${t.maxLength} characters long`;
      if (t.format === 'dns-name' && !isValidHostname(value)) return `value does not look like a valid DNS name`;
      if (t.format === 'tags' && !value.split(/[;, ]+/).filter(Boolean).every((x) => TAG.test(x))) {
        return `invalid format - invalid tag`;
      }
      if (t.format === 'property') {
        const format = /^(mp|unused)\d+$/.test(key) ? 'mp' : key.replace(/\d+$/, '');
        try {
          if (['rootfs', 'mp', 'dev', 'net', 'features'].includes(format)) parsePropertyString(format, value);
        } catch (e) {
          return (e as Error).message;
        }
      }
      return undefined;
  }
}

// ---- property strings --------------------------------------------------------------------------

interface PropertyFormat {
  defaultKey?: string;
  required: string[];
  keys: string[];
}

const MOUNT_KEYS = ['volume', 'mp', 'acl', 'backup', 'mountoptions', 'quota', 'replicate', 'ro', 'shared', 'size'];
const FORMATS: Record<string, PropertyFormat> = {
  rootfs: { defaultKey: 'volume', required: [], keys: MOUNT_KEYS.filter((k) => k !== 'mp') },
  mp: { defaultKey: 'volume', required: ['mp'], keys: MOUNT_KEYS },
  dev: { defaultKey: 'path', required: [], keys: ['path', 'deny-write', 'gid', 'mode', 'uid'] },
  features: { required: [], keys: ['force_rw_sys', 'fuse', 'keyctl', 'mknod', 'mount', 'nesting'] },
  net: {
    required: ['name'],
    keys: ['name', 'bridge', 'firewall', 'gw', 'gw6', 'host-managed', 'hwaddr', 'ip', 'ip6', 'link_down', 'mtu', 'rate', 'tag', 'trunks', 'type'],
  },
};

const MOUNT_OPTIONS = ['discard', 'lazytime', 'noatime', 'nodev', 'noexec', 'nosuid'];

function isIllegalPath(p: string): boolean {
  return /(^|\/)\.\.?(\/|$)/.test(p);
}

export function parsePropertyString(format: string, value: string): Record<string, string> {
  const f = FORMATS[format];
  if (!f) throw new Error(`unknown property format '${format}'`);
  const props: Record<string, string> = {};
  for (const part of value.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    let key: string;
    let v: string;
    if (eq < 0) {
      if (!f.defaultKey) throw new Error('value without key, but schema does not define a default key');
      key = f.defaultKey;
      v = part;
    } else {
      key = part.slice(0, eq);
      v = part.slice(eq + 1);
    }
    if (!f.keys.includes(key)) throw new Error(`invalid key in comma-separated list property: ${key}`);
    if (key in props) throw new Error(`duplicate key in comma-separated list property: ${key}`);
    props[key] = v;
  }
  for (const r of f.required) if (!(r in props)) throw new Error(`${r}: property is missing and it is not optional`);
  if (format === 'mp' || format === 'rootfs') {
    if (props.mp !== undefined && isIllegalPath(props.mp)) throw new Error(`${props.mp} contains illegal character sequences`);
    if (props.mountoptions !== undefined) {
      for (const o of props.mountoptions.split(';')) {
        if (!MOUNT_OPTIONS.includes(o)) throw new Error(`mountoptions: value does not match the regex pattern`);
      }
    }
    if (props.size !== undefined && !/^\d+(\.\d+)?([KMGT](iB)?)?$/.test(props.size)) {
      throw new Error('size: value does not match the regex pattern');
    }
  }
  return props;
}

export function printPropertyString(format: string, props: Record<string, string>): string {
  const f = FORMATS[format];
  if (!f) throw new Error(`unknown property format '${format}'`);
  const keys = Object.keys(props);
  for (const k of keys) if (!f.keys.includes(k)) throw new Error(`invalid key in comma-separated list property: ${k}`);
  const first = f.defaultKey && props[f.defaultKey] !== undefined ? [f.defaultKey] : [];
  const required = f.required.filter((k) => props[k] !== undefined && !first.includes(k));
  const rest = keys.filter((k) => !first.includes(k) && !required.includes(k)).sort();
  return [
    ...first.map((k) => props[k]!),
    ...[...required, ...rest].map((k) => `${k}=${props[k]}`),
  ].join(',');
}

// ---- description encoding ----------------------------------------------------------------------

/** PVE's encode_text: URI-escapes control chars, '%', ':' and everything ≥ 0x7f. */
export function encodeText(text: string): string {
  return Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(/[\x00-\x1f%:\x7f-\xff]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

export function decodeText(text: string): string {
  return Buffer.from(text.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
}

// ---- parse / write -----------------------------------------------------------------------------

function emptyConfig(): PveConfig {
  return { options: {}, lxc: [] };
}

export function parsePctConfig(text: string, vmid: number): { config: PveConfig; warnings: string[] } {
  const warnings: string[] = [];
  const root = emptyConfig();
  let section: PveConfig = root;
  let inPending = false;
  let pending: NonNullable<PveConfig['pending']> | undefined;
  const addDescription = (c: PveConfig, d: string) => {
    c.description = (c.description ?? '') + d;
  };
  for (const line of text.split('\n')) {
    if (/^\s*$/.test(line)) continue;
    if (/^\[pve:pending\]\s*$/i.test(line)) {
      inPending = true;
      pending = { options: {}, lxc: [] };
      root.pending = pending;
      continue;
    }
    const snap = /^\[([a-z][a-z0-9_-]+)\]\s*$/i.exec(line);
    if (snap) {
      inPending = false;
      section = emptyConfig();
      root.snapshots = { ...(root.snapshots ?? {}), [snap[1]!]: section };
      continue;
    }
    const target = inPending ? pending! : section;
    const comment = /^#(.*)$/.exec(line);
    if (comment) {
      if (!inPending) addDescription(section, decodeText(comment[1]!) + '\n');
      continue;
    }
    const raw = /^(lxc\.[a-z0-9_\-.]+)(:|\s*=)\s*(.*?)\s*$/.exec(line);
    if (raw) {
      const [, key, , value] = raw as unknown as [string, string, string, string];
      if (key === 'lxc.environment.runtime' && !inPending) {
        section.env = [...(section.env ?? []), value];
        continue;
      }
      const check = checkRawLxcKey(key);
      if (check.ok) target.lxc.push([key, value]);
      else if (check.kind === 'forbidden') warnings.push(`vm ${vmid} - ${key}: ${check.msg}`);
      else warnings.push(`vm ${vmid} - unable to parse config: ${line}`);
      continue;
    }
    const desc = /^(description):\s*(.*\S)\s*$/.exec(line);
    if (desc && !inPending) {
      addDescription(section, decodeText(desc[2]!));
      continue;
    }
    const del = /^delete:\s*(.*\S)\s*$/.exec(line);
    if (del && inPending) {
      pending!.delete = del[1]!.split(/[,;\s]+/).filter(Boolean);
      continue;
    }
    const kv = /^([a-z][a-z_]*\d*):\s*(.+?)\s*$/.exec(line);
    if (kv) {
      const [, key, value] = kv as unknown as [string, string, string];
      if (key === 'snapstate' || key === 'digest' || key === 'snaptime' || key === 'parent') {
        target.options[key] = value;
        continue;
      }
      const err = checkOption(key, value);
      if (err?.startsWith('unknown setting')) {
        warnings.push(`vm ${vmid} - unable to parse value of '${key}' - ${err}`);
        continue;
      }
      if (err) warnings.push(`vm ${vmid} - unable to parse value of '${key}' - ${err}`);
      target.options[key] = value;
      continue;
    }
    warnings.push(`vm ${vmid} - unable to parse config: ${line}`);
  }
  return { config: root, warnings };
}

function writeSection(c: PveConfig, withDescription: boolean): string {
  let out = '';
  if (withDescription && c.description !== undefined && c.description !== '') {
    for (const l of c.description.replace(/\n$/, '').split('\n')) out += `#${encodeText(l)}\n`;
  }
  for (const key of Object.keys(c.options).sort()) {
    if (['digest', 'description', 'pending', 'snapshots', 'snapname', 'env', 'lxc'].includes(key)) continue;
    const value = c.options[key]!;
    if (/[\n\r]/.test(value)) throw new Error(`detected invalid newline inside property '${key}'`);
    out += `${key}: ${value}\n`;
  }
  for (const v of c.env ?? []) {
    if (/[\n\r\0]/.test(v)) throw new Error(`detected invalid newline inside property 'env'`);
    out += `lxc.environment.runtime: ${v}\n`;
  }
  for (const [key, value] of c.lxc) {
    if (!/^lxc\.[a-z0-9_\-.]+$/.test(key)) throw new Error(`invalid raw lxc key '${key.replace(/[^\x20-\x7e]/g, '?')}'`);
    const check = checkRawLxcKey(key);
    if (!check.ok) throw new Error(`${key}: ${check.msg}`);
    if (/[\n\r\0]/.test(value)) throw new Error(`detected invalid newline inside property '${key}'`);
    out += `${key}: ${value}\n`;
  }
  return out;
}

export function writePctConfig(config: PveConfig): string {
  let out = writeSection(config, true);
  if (config.pending) {
    out += '\n[pve:pending]\n';
    out += writeSection({ options: config.pending.options, lxc: config.pending.lxc }, false);
    if (config.pending.delete?.length) out += `delete: ${config.pending.delete.join(',')}\n`;
  }
  for (const name of Object.keys(config.snapshots ?? {}).sort()) {
    out += `\n[${name}]\n` + writeSection(config.snapshots![name]!, true);
  }
  return out;
}
