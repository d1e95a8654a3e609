// PVE's CT config format, with pve-container's rules (Config.pm parse_pct_config / write_pct_config and
// the option schema): pure functions, shared by pxoci and the simulated node.

export interface PveConfig {
  options: Record<string, string>;
  description?: string;
  lxc: Array<[string, string]>;
  env?: string[];
  pending?: { options: Record<string, string>; delete?: string[]; lxc: Array<[string, string]>; env?: string[]; description?: string };
  snapshots?: Record<string, PveConfig>;
}

// ---- PVE releases ------------------------------------------------------------------------------

/**
 * The PVE major release whose pve-container rules apply: 8 is PVE 8.4 (pve-container 5.2), 9 is PVE 9.1
 * (pve-container 6.1). PVE 8 knows no `entrypoint`/`env`, no raw `lxc.init.cwd|uid|gid|groups` or
 * `lxc.environment.runtime|hooks`, no `idmap`/`keepattrs` on mount points and no `host-managed` on netN.
 */
export type PveRelease = 8 | 9;
export const PVE_RELEASES: readonly PveRelease[] = [8, 9];
export const PVE_RELEASE_LATEST: PveRelease = 9;

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
/** Added with pve-container 6 (PVE 9): PVE 8 drops a line with one of them as unparsable. */
const RAW_SINCE_PVE9 = new Set(['lxc.init.cwd', 'lxc.init.uid', 'lxc.init.gid', 'lxc.init.groups', 'lxc.environment.runtime', 'lxc.environment.hooks']);
// Removed with lxc 3.0; PVE keeps them with a warning naming the new key.
const DEPRECATED_RAW: Record<string, string> = {
  'lxc.aa_profile': 'lxc.apparmor.profile',
  'lxc.aa_allow_incomplete': 'lxc.apparmor.allow_incomplete',
  'lxc.console': 'lxc.console.path',
  'lxc.devttydir': 'lxc.tty.dir',
  'lxc.haltsignal': 'lxc.signal.halt',
  'lxc.rebootsignal': 'lxc.signal.reboot',
  'lxc.stopsignal': 'lxc.signal.stop',
  'lxc.id_map': 'lxc.idmap',
  'lxc.init_cmd': 'lxc.init.cmd',
  'lxc.loglevel': 'lxc.log.level',
  'lxc.logfile': 'lxc.log.file',
  'lxc.mount': 'lxc.mount.fstab',
  'lxc.network.type': 'lxc.net.INDEX.type',
  'lxc.network.flags': 'lxc.net.INDEX.flags',
  'lxc.network.link': 'lxc.net.INDEX.link',
  'lxc.network.mtu': 'lxc.net.INDEX.mtu',
  'lxc.network.name': 'lxc.net.INDEX.name',
  'lxc.network.hwaddr': 'lxc.net.INDEX.hwaddr',
  'lxc.network.ipv4': 'lxc.net.INDEX.ipv4.address',
  'lxc.network.ipv4.gateway': 'lxc.net.INDEX.ipv4.gateway',
  'lxc.network.ipv6': 'lxc.net.INDEX.ipv6.address',
  'lxc.network.ipv6.gateway': 'lxc.net.INDEX.ipv6.gateway',
  'lxc.network.script.up': 'lxc.net.INDEX.script.up',
  'lxc.network.script.down': 'lxc.net.INDEX.script.down',
  'lxc.pts': 'lxc.pty.max',
  'lxc.se_context': 'lxc.selinux.context',
  'lxc.seccomp': 'lxc.seccomp.profile',
  'lxc.tty': 'lxc.tty.max',
  'lxc.utsname': 'lxc.uts.name',
};
const FORBIDDEN_RAW: Record<string, string> = {
  'lxc.rootfs.path': 'lxc.rootfs.path is auto generated from rootfs',
  'lxc.rootfs.options': 'lxc.rootfs.options is not supported, please use mount point options in the "rootfs" key',
};

/** `warning` is the text PVE warns (without the `vm <vmid> - ` prefix) for a deprecated key it keeps. */
export type RawKeyCheck = { ok: true; warning?: string } | { ok: false; kind: 'forbidden' | 'unknown'; msg: string };

/** The first PVE release whose pve-container accepts a raw key (one it accepts at all). */
export function rawKeySince(key: string): PveRelease {
  return RAW_SINCE_PVE9.has(key) ? 9 : 8;
}

/** pve-container's is_valid_lxc_conf_key, in its order, as the given PVE release has it. */
export function checkRawLxcKey(key: string, pve: PveRelease = PVE_RELEASE_LATEST): RawKeyCheck {
  if (pve < 9 && RAW_SINCE_PVE9.has(key)) return { ok: false, kind: 'unknown', msg: `unable to parse config: ${key}` };
  if (key.startsWith('lxc.limit.')) return { ok: true, warning: `${key}: lxc.limit.* was renamed to lxc.prlimit.*` };
  const renamed = DEPRECATED_RAW[key];
  if (renamed) return { ok: true, warning: `${key} is deprecated and was renamed to ${renamed}` };
  if (ALLOWED_RAW.has(key)) return { ok: true };
  if (FORBIDDEN_RAW[key]) return { ok: false, kind: 'forbidden', msg: FORBIDDEN_RAW[key]! };
  if (key.startsWith('lxc.cgroup.')) return { ok: true, warning: `${key} is deprecated, this will be a hard error in the future!` };
  if (ALLOWED_RAW_PREFIXES.some((p) => key.startsWith(p))) return { ok: true };
  return { ok: false, kind: 'unknown', msg: `unable to parse config: ${key}` };
}

// ---- option schema ($confdesc) ------------------------------------------------------------------

type OptionType =
  | { type: 'boolean' }
  | { type: 'integer'; min?: number; max?: number }
  | { type: 'number'; min?: number; max?: number }
  | { type: 'string'; enum?: string[]; format?: string; pattern?: RegExp; maxLength?: number };

const ARCHES = ['amd64', 'i386', 'arm64', 'armhf', 'riscv32', 'riscv64'];
const OSTYPES = ['debian', 'devuan', 'ubuntu', 'centos', 'fedora', 'opensuse', 'archlinux', 'alpine', 'gentoo', 'nixos', 'unmanaged'];
const LOCKS = ['backup', 'create', 'destroyed', 'disk', 'fstrim', 'migrate', 'mounted', 'rollback', 'snapshot', 'snapshot-delete'];

const OPTIONS = {
  lock: { type: 'string', enum: LOCKS },
  onboot: { type: 'boolean' },
  startup: { type: 'string', format: 'pve-startup-order' },
  template: { type: 'boolean' },
  arch: { type: 'string', enum: ARCHES },
  ostype: { type: 'string', enum: OSTYPES },
  console: { type: 'boolean' },
  tty: { type: 'integer', min: 0, max: 6 },
  cores: { type: 'integer', min: 1, max: 8192 },
  cpulimit: { type: 'number', min: 0, max: 8192 },
  cpuunits: { type: 'integer', min: 0, max: 500000 },
  memory: { type: 'integer', min: 16 },
  swap: { type: 'integer', min: 0 },
  hostname: { type: 'string', format: 'dns-name', maxLength: 255 },
  description: { type: 'string', maxLength: 8192 },
  searchdomain: { type: 'string', format: 'dns-name-list' },
  nameserver: { type: 'string', format: 'lxc-ip-with-ll-iface-list' },
  timezone: { type: 'string', format: 'pve-ct-timezone' },
  rootfs: { type: 'string', format: 'rootfs' },
  parent: { type: 'string', format: 'pve-configid', maxLength: 40 },
  snaptime: { type: 'integer', min: 0 },
  cmode: { type: 'string', enum: ['shell', 'console', 'tty'] },
  // No control characters besides tab (pve-container's own patterns).
  entrypoint: { type: 'string', pattern: /^[^\x00-\x08\x0a-\x1f\x7f]+$/ },
  protection: { type: 'boolean' },
  unprivileged: { type: 'boolean' },
  features: { type: 'string', format: 'features' },
  env: { type: 'string', pattern: /^(?:\w+=[^\x00-\x08\x0a-\x1f\x7f]*)(?:\0\w+=[^\x00-\x08\x0a-\x1f\x7f]*)*$/ },
  hookscript: { type: 'string', format: 'pve-volume-id' },
  tags: { type: 'string', format: 'pve-tag-list' },
  debug: { type: 'boolean' },
} satisfies Record<string, OptionType>;
const OPTION_TYPES: Readonly<Record<string, OptionType>> = OPTIONS;
/** Options pve-container 5.2 (PVE 8) does not have. */
const OPTIONS_SINCE_PVE9 = ['entrypoint', 'env'];

/** How many of each numbered option a CT can have (pve-container's $MAX_MOUNT_POINTS, $MAX_DEVICES,
 *  $MAX_LXC_NETWORKS, $MAX_UNUSED_DISKS): mp0…mp255, dev0…dev255, net0…net31, unused0…unused255. */
export const NUMBERED_OPTION_COUNT = { mp: 256, dev: 256, net: 32, unused: 256 } as const;

// The schema's limits that a translated OCI config must already respect, read from the schema so
// that they are stated once.
export const MEMORY_MIN_MIB = OPTIONS.memory.min;
export const CPULIMIT_MAX = OPTIONS.cpulimit.max;
/** On cgroup v2 (every current PVE node) PVE clamps cpuunits to cpu.weight's range, [1, 10000] (the
 *  option's description; PVE::CGroup clamp_cpu_shares), well below the schema's maximum. */
export const CPUUNITS_MAX_CGROUP2 = 10000;

function optionType(key: string, pve: PveRelease = PVE_RELEASE_LATEST): OptionType | undefined {
  if (pve < 9 && OPTIONS_SINCE_PVE9.includes(key)) return undefined;
  const numbered = /^(mp|dev|net|unused)(\d+)$/.exec(key);
  if (numbered) {
    const kind = numbered[1] as keyof typeof NUMBERED_OPTION_COUNT;
    const n = Number(numbered[2]);
    if (String(n) !== numbered[2] || n >= NUMBERED_OPTION_COUNT[kind]) return undefined;
    return { type: 'string', format: kind === 'unused' ? 'pve-volume-id' : kind };
  }
  return OPTION_TYPES[key];
}

export function isOption(key: string, pve: PveRelease = PVE_RELEASE_LATEST): boolean {
  return optionType(key, pve) !== undefined;
}

export function optionIsBoolean(key: string): boolean {
  return optionType(key)?.type === 'boolean';
}

const DNS_LABEL = '([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)';
const DNS_NAME = new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`);

/** DNS's limit for one label of a name, which PVE's dns-name format does not check. */
export const DNS_LABEL_MAX_LENGTH = 63;

/** PVE's dns-name format, plus the label limit of DNS. */
export function isValidHostname(name: string): boolean {
  return name.length <= OPTIONS.hostname.maxLength && DNS_NAME.test(name) && name.split('.').every((l) => l.length <= DNS_LABEL_MAX_LENGTH);
}

const TAG = /^[a-z0-9_][a-z0-9_\-+.]*$/i;

/** PVE's split_list: separators are NUL, comma, semicolon and white space. */
export function splitList(text: string): string[] {
  return text.split(/[\0,;\s]+/).filter(Boolean);
}

/** How PVE stores tags: lowercased, unique, sorted, ';'-joined. */
export function normalizeTags(text: string): string {
  return [...new Set(splitList(text).map((t) => t.toLowerCase()))].sort().join(';');
}

/** JSONSchema check_format for the formats the CT schema uses; throws PVE's text. `path` is the
 *  option's name where PVE's API names it in the errors of a property string (`mp0.mp: …`). */
function checkFormat(format: string, value: string, pve: PveRelease, path?: string): void {
  switch (format) {
    case 'dns-name':
      if (!DNS_NAME.test(value)) throw new Error('value does not look like a valid DNS name');
      return;
    case 'dns-name-list':
      for (const n of splitList(value)) if (!DNS_NAME.test(n)) throw new Error('value does not look like a valid DNS name');
      return;
    case 'pve-tag-list':
      for (const t of splitList(value)) if (!TAG.test(t)) throw new Error('invalid characters in tag');
      return;
    case 'pve-configid':
      if (!/^[a-z][a-z0-9_-]+$/i.test(value)) throw new Error('invalid configuration ID');
      return;
    case 'pve-volume-id':
      if (!/^(?:[a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i.test(value)) throw new Error(`unable to parse volume ID '${value}'`);
      return;
    case 'rootfs':
    case 'mp':
    case 'dev':
    case 'net':
    case 'features':
      parsePropertyString(format, value, { pve, path });
      return;
    default:
      return; // startup order, nameserver, timezone: not checked by the simulator
  }
}

/**
 * A value as pve-container's Config.pm check_type accepts it when it parses a config file: types
 * (booleans in any of PVE's spellings, unsigned integers/numbers) and formats only; ranges and enums
 * are the API's business. Returns the error text or undefined.
 */
export function checkConfigValue(key: string, value: string, pve: PveRelease = PVE_RELEASE_LATEST): string | undefined {
  const t = optionType(key, pve);
  if (!t) return `unknown setting '${key}'`;
  if (/[\n\r]/.test(value)) return 'property contains a line feed';
  switch (t.type) {
    case 'boolean':
      return /^(1|0|on|yes|true|off|no|false)$/i.test(value) ? undefined : `type check ('boolean') failed - got '${value}'`;
    case 'integer':
      return /^\d+$/.test(value) ? undefined : `type check ('integer') failed - got '${value}'`;
    case 'number':
      return /^\d+(\.\d+)?$/.test(value) ? undefined : `type check ('number') failed - got '${value}'`;
    case 'string':
      if (!t.format) return undefined;
      try {
        checkFormat(t.format, value, pve);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
  }
}

const IS_NUMBER = /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/;

/**
 * PVE's API parameter verification (JSONSchema check_prop) for one option: type, format, pattern,
 * maxLength, range, enum, in that order. Returns the message PVE prints after `<key>: `, or undefined.
 * Booleans must already be 0/1 here, as PVE's CLI normalises them before verification.
 */
export function checkOption(key: string, value: string, pve: PveRelease = PVE_RELEASE_LATEST): string | undefined {
  const t = optionType(key, pve);
  if (!t) return 'property is not defined in schema and the schema does not allow additional properties';
  switch (t.type) {
    case 'boolean':
      return value === '0' || value === '1' ? undefined : `type check ('boolean') failed - got '${value}'`;
    case 'integer':
    case 'number': {
      const ok = t.type === 'integer' ? /^[+-]?\d+$/.test(value) : IS_NUMBER.test(value);
      if (!ok) return `type check ('${t.type}') failed - got '${value}'`;
      const n = Number(value);
      if (t.max !== undefined && n > t.max) return `value must have a maximum value of ${t.max}`;
      if (t.min !== undefined && n < t.min) return `value must have a minimum value of ${t.min}`;
      return undefined;
    }
    case 'string':
      if (t.format) {
        try {
          checkFormat(t.format, value, pve, key);
        } catch (e) {
          return `invalid format - ${(e as Error).message}`;
        }
      }
      if (t.pattern && !t.pattern.test(value)) return 'value does not match the regex pattern';
      if (t.maxLength !== undefined && value.length > t.maxLength) return `value may only be ${t.maxLength} characters long`;
      if (t.enum && !t.enum.includes(value)) return `value '${value}' does not have a value in the enumeration '${t.enum.join(', ')}'`;
      return undefined;
  }
}

/** PVE's parse_boolean: 1/0 for its spellings, undefined otherwise. */
export function parseBoolean(value: string): '1' | '0' | undefined {
  if (/^(1|on|yes|true)$/i.test(value)) return '1';
  if (/^(0|off|no|false)$/i.test(value)) return '0';
  return undefined;
}

// ---- property strings --------------------------------------------------------------------------

type PropertyType =
  | { type: 'boolean' }
  | { type: 'integer' | 'number'; min?: number; max?: number }
  | { type: 'string'; pattern?: RegExp; enum?: string[]; validate?: (value: string) => string | undefined };

interface PropertyFormat {
  defaultKey?: string;
  required: string[];
  keys: Record<string, PropertyType>;
  /** Keys pve-container 5.2 (PVE 8) does not have. */
  sincePve9?: string[];
}

/** verify_lxc_mp_string: no /./ or /../, no trailing /. or /.., no leading ../ */
export function isIllegalMountPath(p: string): boolean {
  return /\/\.\.?\//.test(p) || /\/\.\.?$/.test(p) || /^\.\.\//.test(p);
}

const MOUNT_OPTION = '(?:discard|lazytime|noatime|nodev|noexec|nosuid)';
const BOOLEAN: PropertyType = { type: 'boolean' };
const MOUNT_PATH: PropertyType = { type: 'string', validate: (v) => (isIllegalMountPath(v) ? `${v} contains illegal character sequences` : undefined) };
const ROOTFS_KEYS: Record<string, PropertyType> = {
  volume: MOUNT_PATH,
  size: { type: 'string', pattern: /^\d+(\.\d+)?([KMGT](iB)?)?$/ },
  acl: BOOLEAN,
  mountoptions: { type: 'string', pattern: new RegExp(`^${MOUNT_OPTION}(;${MOUNT_OPTION})*$`) },
  idmap: { type: 'string', pattern: /^(?:passthrough|[ug]:[0-9]+:[0-9]+:[1-9][0-9]*(?:;[ug]:[0-9]+:[0-9]+:[1-9][0-9]*)*)$/ },
  ro: BOOLEAN,
  quota: BOOLEAN,
  replicate: BOOLEAN,
  shared: BOOLEAN,
};
const FORMATS: Record<string, PropertyFormat> = {
  rootfs: { defaultKey: 'volume', required: ['volume'], keys: ROOTFS_KEYS, sincePve9: ['idmap'] },
  mp: { defaultKey: 'volume', required: ['volume', 'mp'], keys: { ...ROOTFS_KEYS, backup: BOOLEAN, mp: MOUNT_PATH, keepattrs: BOOLEAN }, sincePve9: ['idmap', 'keepattrs'] },
  dev: {
    defaultKey: 'path',
    required: [],
    keys: {
      // verify_lxc_dev_string: below /dev/, without . or .. components.
      path: { type: 'string', validate: (v) => (/\/\.\.?(?:\/|$)/.test(v) || !v.startsWith('/dev/') ? `${v} is not a valid device path` : undefined) },
      'deny-write': BOOLEAN,
      gid: { type: 'integer', min: 0 },
      mode: { type: 'string', pattern: /^0[0-7]{3}$/ },
      uid: { type: 'integer', min: 0 },
    },
  },
  features: {
    required: [],
    keys: { force_rw_sys: BOOLEAN, fuse: BOOLEAN, keyctl: BOOLEAN, mknod: BOOLEAN, mount: { type: 'string', pattern: /^[a-zA-Z0-9_; ]+$/ }, nesting: BOOLEAN },
  },
  net: {
    required: ['name'],
    keys: {
      name: { type: 'string', pattern: /^[-_.\w\d]+$/ },
      bridge: { type: 'string', pattern: /^[-_.\w\d]+$/ },
      firewall: BOOLEAN,
      gw: { type: 'string' },
      gw6: { type: 'string' },
      'host-managed': BOOLEAN,
      hwaddr: { type: 'string', pattern: /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i },
      ip: { type: 'string' },
      ip6: { type: 'string' },
      link_down: BOOLEAN,
      mtu: { type: 'integer', min: 64, max: 65535 },
      rate: { type: 'number', min: 0 },
      tag: { type: 'integer', min: 1, max: 4094 },
      trunks: { type: 'string', pattern: /^\d+(?:;\d+)*$/ },
      type: { type: 'string', enum: ['veth'] },
    },
    sincePve9: ['host-managed'],
  },
};

function formatKeys(f: PropertyFormat, pve: PveRelease): string[] {
  return Object.keys(f.keys).filter((k) => pve >= 9 || !f.sincePve9?.includes(k));
}

/** JSONSchema check_prop for one key of a property string: PVE's message, or undefined. */
function checkProperty(t: PropertyType, v: string): string | undefined {
  switch (t.type) {
    case 'boolean':
      return v === '0' || v === '1' ? undefined : `type check ('boolean') failed - got '${v}'`;
    case 'integer':
    case 'number': {
      if (!(t.type === 'integer' ? /^[+-]?\d+$/ : IS_NUMBER).test(v)) return `type check ('${t.type}') failed - got '${v}'`;
      if (t.max !== undefined && Number(v) > t.max) return `value must have a maximum value of ${t.max}`;
      if (t.min !== undefined && Number(v) < t.min) return `value must have a minimum value of ${t.min}`;
      return undefined;
    }
    case 'string': {
      const invalid = t.validate?.(v);
      if (invalid) return `invalid format - ${invalid}`;
      if (t.pattern && !t.pattern.test(v)) return 'value does not match the regex pattern';
      if (t.enum && !t.enum.includes(v)) return `value '${v}' does not have a value in the enumeration '${t.enum.join(', ')}'`;
      return undefined;
    }
  }
}

/** parse_property_string's `format error`: one `<key>: <message>` line per key that failed its check,
 *  the key prefixed with the option's name where PVE's API names it (`mp0.mp`). */
export class PropertyStringError extends Error {
  constructor(readonly errors: Record<string, string>) {
    super(['format error', ...Object.keys(errors).sort().map((k) => `${k}: ${errors[k]}`)].join('\n'));
  }
}

/**
 * JSONSchema parse_property_string with the CT formats of the given PVE release: PVE's texts (a split
 * problem dies at once; a key that fails its check is reported with every other one as a `format
 * error`), booleans normalised to 0/1.
 */
export function parsePropertyString(format: string, value: string, o: { pve?: PveRelease; path?: string } = {}): Record<string, string> {
  const f = FORMATS[format];
  if (!f) throw new Error(`unknown format: ${format}`);
  const keys = formatKeys(f, o.pve ?? PVE_RELEASE_LATEST);
  const props: Record<string, string> = {};
  let defaultUsed = false;
  for (const part of value.split(',')) {
    if (/^\s*$/.test(part)) continue;
    const kv = /^([^=]+)=(.+)$/.exec(part);
    if (kv) {
      const key = kv[1]!;
      let v = kv[2]!;
      if (key in props) throw new Error(`duplicate key in comma-separated list property: ${key}`);
      if (!keys.includes(key)) throw new Error(`invalid key in comma-separated list property: ${key}`);
      if (f.keys[key]!.type === 'boolean') v = parseBoolean(v) ?? v;
      props[key] = v;
    } else if (!part.includes('=')) {
      if (defaultUsed || (f.defaultKey && f.defaultKey in props)) {
        throw new Error(`duplicate key in comma-separated list property: ${f.defaultKey}`);
      }
      if (!f.defaultKey) throw new Error('value without key, but schema does not define a default key');
      defaultUsed = true;
      props[f.defaultKey] = part;
    } else {
      throw new Error('missing key in comma-separated list property');
    }
  }
  // check_object: every key is checked, and every failure reported.
  const errors: Record<string, string> = {};
  const at = (k: string) => (o.path ? `${o.path}.${k}` : k);
  for (const r of f.required) if (!(r in props)) errors[at(r)] = 'property is missing and it is not optional';
  for (const [k, v] of Object.entries(props)) {
    const err = checkProperty(f.keys[k]!, v);
    if (err) errors[at(k)] = err;
  }
  if (Object.keys(errors).length) throw new PropertyStringError(errors);
  return props;
}

/** print_property_string: default key first (bare), then required keys, then the rest sorted. */
export function printPropertyString(format: string, props: Record<string, string>): string {
  const f = FORMATS[format];
  if (!f) throw new Error(`unknown format: ${format}`);
  const keys = Object.keys(props).filter((k) => props[k] !== undefined);
  for (const k of keys) if (!(k in f.keys)) throw new Error(`invalid key in comma-separated list property: ${k}`);
  for (const k of keys) if (/[,\n]/.test(props[k]!)) throw new Error(`${k}: value contains a comma or newline`);
  const first = f.defaultKey && props[f.defaultKey] !== undefined ? [f.defaultKey] : [];
  const required = f.required.filter((k) => props[k] !== undefined && !first.includes(k));
  const rest = keys.filter((k) => !first.includes(k) && !required.includes(k)).sort();
  return [...first.map((k) => props[k]!), ...[...required, ...rest].map((k) => `${k}=${props[k]}`)].join(',');
}

// ---- description encoding ----------------------------------------------------------------------

/** PVE's encode_text: URI-escapes control chars, '%', ':' and everything ≥ 0x7f. */
export function encodeText(text: string): string {
  return Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(/[\x00-\x1f%:\x7f-\xff]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

/** PVE's decode_text: %XX escapes become bytes, and the bytes (a hand-edited line may hold raw UTF-8)
 *  are read as UTF-8. */
export function decodeText(text: string): string {
  const bytes: Buffer[] = [];
  let last = 0;
  for (const m of text.matchAll(/%([0-9a-fA-F]{2})/g)) {
    bytes.push(Buffer.from(text.slice(last, m.index), 'utf8'), Buffer.from([parseInt(m[1]!, 16)]));
    last = m.index + 3;
  }
  bytes.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(bytes).toString('utf8');
}

// ---- parse / write -----------------------------------------------------------------------------

function emptyConfig(): PveConfig {
  return { options: {}, lxc: [] };
}

/** Config.pm check_type's return value: booleans as 1/0, integers without leading zeros. */
function normalizeValue(key: string, value: string): string {
  const t = optionType(key);
  if (t?.type === 'boolean') return parseBoolean(value) ?? value;
  if (t?.type === 'integer' && /^\d+$/.test(value)) return String(BigInt(value));
  return value;
}

/**
 * parse_pct_config, non-strict: every problem becomes a warning (PVE's text, without the trailing
 * newline). Forbidden and unknown raw lxc.* keys are dropped; unknown normal keys are kept (and written
 * back), as PVE does.
 */
export function parsePctConfig(text: string, vmid: number, pve: PveRelease = PVE_RELEASE_LATEST): { config: PveConfig; warnings: string[] } {
  const warnings: string[] = [];
  const root = emptyConfig();
  type Section = PveConfig | NonNullable<PveConfig['pending']>;
  let section: Section = root;
  let inPending = false;
  let descr = '';
  const flushDescription = () => {
    if (descr) section.description = descr;
    descr = '';
  };
  for (const line of text.split('\n')) {
    if (/^\s*$/.test(line)) continue;
    if (/^\[pve:pending\]\s*$/i.test(line)) {
      flushDescription();
      inPending = true;
      root.pending = { options: {}, lxc: [] };
      section = root.pending;
      continue;
    }
    const snap = /^\[([a-z][a-z0-9_-]+)\]\s*$/i.exec(line);
    if (snap) {
      flushDescription();
      inPending = false;
      section = emptyConfig();
      root.snapshots = { ...(root.snapshots ?? {}), [snap[1]!]: section as PveConfig };
      continue;
    }
    const comment = /^#(.*)$/.exec(line);
    if (comment) {
      descr += decodeText(comment[1]!) + '\n';
      continue;
    }
    const raw = /^(lxc\.[a-z0-9_\-.]+)(:|\s*=)\s*(.*?)\s*$/.exec(line);
    if (raw) {
      const key = raw[1]!;
      const value = raw[3]!;
      const check = checkRawLxcKey(key, pve);
      if (check.ok && check.warning) warnings.push(`vm ${vmid} - ${check.warning}`);
      if (check.ok && key === 'lxc.environment.runtime') section.env = [...(section.env ?? []), value];
      else if (check.ok) section.lxc.push([key, value]);
      else if (check.kind === 'forbidden') warnings.push(`vm ${vmid} - ${key}: ${check.msg}`);
      else warnings.push(`vm ${vmid} - unable to parse config: ${line}`);
      continue;
    }
    const desc = /^(description):\s*(.*\S)\s*$/.exec(line);
    if (desc) {
      descr += decodeText(desc[2]!);
      continue;
    }
    const snapstate = /snapstate:\s*(prepare|delete)\s*$/.exec(line);
    if (snapstate) {
      section.options.snapstate = snapstate[1]!;
      continue;
    }
    const del = /^delete:\s*(.*\S)\s*$/.exec(line);
    if (del) {
      if (inPending) root.pending!.delete = splitList(del[1]!);
      else warnings.push(`vm ${vmid} - property 'delete' is only allowed in [pve:pending]`);
      continue;
    }
    const kv = /^([a-z][a-z_]*\d*):\s*(.+?)\s*$/.exec(line);
    if (kv) {
      const key = kv[1]!;
      const value = kv[2]!;
      const err = checkConfigValue(key, value, pve);
      if (err) warnings.push(`vm ${vmid} - unable to parse value of '${key}' - ${err}`);
      section.options[key] = err ? value : normalizeValue(key, value);
      continue;
    }
    warnings.push(`vm ${vmid} - unable to parse config: ${line}`);
  }
  flushDescription();
  delete root.options.snapstate;
  return { config: root, warnings };
}

const NOT_WRITTEN = ['digest', 'description', 'pending', 'snapshots', 'snapname', 'env', 'lxc'];

function writeSection(c: PveConfig | NonNullable<PveConfig['pending']>, pendingDelete?: string[]): string {
  let out = '';
  // Perl's split drops trailing empty fields: a final newline adds no empty '#' line.
  const lines = (c.description ?? '').split('\n');
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  for (const l of lines) out += `#${encodeText(l)}\n`;
  const options: Record<string, string> = { ...c.options };
  if (pendingDelete?.length) options.delete = pendingDelete.join(',');
  for (const key of Object.keys(options).sort()) {
    if (NOT_WRITTEN.includes(key)) continue;
    const value = options[key]!;
    if (value.includes('\n')) throw new Error(`detected invalid newline inside property '${key}'`);
    out += `${key}: ${value}\n`;
  }
  // PVE trusts these because they came from its own parser; pxoci builds them, so they are checked.
  for (const v of c.env ?? []) {
    if (/[\n\r\0]/.test(v)) throw new Error(`detected invalid newline inside property 'env'`);
    out += `lxc.environment.runtime: ${v}\n`;
  }
  for (const [key, value] of c.lxc) {
    if (key === 'lxc.environment.runtime') continue;
    if (!/^lxc\.[a-z0-9_\-.]+$/.test(key)) throw new Error(`invalid raw lxc key '${key.replace(/[^\x20-\x7e]/g, '?')}'`);
    const check = checkRawLxcKey(key);
    if (!check.ok) throw new Error(`${key}: ${check.msg}`);
    if (/[\n\r\0]/.test(value)) throw new Error(`detected invalid newline inside property '${key}'`);
    out += `${key}: ${value}\n`;
  }
  return out;
}

/** write_pct_config. Throws PVE's `detected invalid newline inside property '<key>'`. */
export function writePctConfig(config: PveConfig): string {
  const { snapstate: _snapstate, ...top } = config.options; // "just to be sure", as PVE
  let out = writeSection({ ...config, options: top });
  const p = config.pending;
  if (p && (Object.keys(p.options).length || p.lxc.length || p.env?.length || p.description || p.delete?.length)) {
    out += '\n[pve:pending]\n' + writeSection(p, p.delete);
  }
  for (const name of Object.keys(config.snapshots ?? {}).sort()) {
    out += `\n[${name}]\n` + writeSection(config.snapshots![name]!);
  }
  return out;
}

/** What vm_config returns: pending values applied and pending deletions done, unless `current`. */
export function effectiveConfig(config: PveConfig, current = false): PveConfig {
  const c: PveConfig = { options: { ...config.options }, lxc: [...config.lxc] };
  if (config.description !== undefined) c.description = config.description;
  if (config.env) c.env = [...config.env];
  const p = config.pending;
  if (!current && p) {
    Object.assign(c.options, p.options);
    if (p.description !== undefined) c.description = p.description;
    if (p.env) c.env = [...p.env];
    for (const k of p.delete ?? []) {
      if (k === 'description') delete c.description;
      else if (k === 'env') delete c.env;
      else delete c.options[k];
    }
  }
  return c;
}
