// mounts → directory binds as mpN volumes (PVE applies their options), other binds and filesystems as
// lxc.mount.entry lines; mounts LXC makes for every CT anyway are left to it. PVE's pre-start hook
// mounts every mpN (in key order) before LXC mounts any lxc.mount.entry (in file order): a directory
// bind that an earlier entry's mount overlaps goes as an entry too, so the CT shows config.json's
// order, as runc does.
import type { OciSpec } from '../bundle.js';
import { printPropertyString } from '../../pve/config.js';
import { ConfigError } from '../errors.js';
import type { TranslateContext } from '../translate.js';
import { checkPath, mountEntryTarget, type CtConfig } from './ct-config.js';
import { refuseReservedPath } from './runtime-dir.js';

const PROVIDED_BY_LXC: Record<string, string[]> = {
  '/proc': ['proc'],
  '/sys': ['sysfs'],
  '/sys/fs/cgroup': ['cgroup', 'cgroup2'],
  '/dev': ['tmpfs'],
  '/dev/pts': ['devpts'],
};

const PROPAGATION = ['rprivate', 'private', 'rslave', 'slave', 'rshared', 'shared', 'runbindable', 'unbindable'];
const BIND_OPTION = /^(ro|rw|bind|rbind|nosuid|nodev|noexec|noatime|relatime|suid|dev|exec)$/;
const FS_OPTION = /^(ro|rw|nosuid|suid|nodev|dev|noexec|exec|noatime|relatime|strictatime|nodiratime|sync|async|bind|rbind|mode=[0-7]{3,4}|size=\d+[kmg%]?|nr_inodes=\d+[kmg]?|uid=\d+|gid=\d+|newinstance|ptmxmode=[0-7]{3,4})$/;
const FS_TYPES = ['tmpfs', 'mqueue', 'devpts', 'proc', 'sysfs'];

/** The options an lxc.mount.entry may carry. Propagation flags are dropped, not refused: engines put
 *  one on most mounts (podman: rprivate). */
function entryOptions(field: string, options: string[], allowed: RegExp): string[] {
  const out: string[] = [];
  for (const o of options) {
    if (/[\s,\0]/.test(o)) throw new ConfigError(field, `option "${o}" contains whitespace or ','`);
    if (PROPAGATION.includes(o)) continue;
    if (!allowed.test(o)) throw new ConfigError(field, `mount option "${o}" is not supported by pxoci`);
    out.push(o);
  }
  return out;
}

/** One mount point is the other or below it: the later mount hides or lands on the earlier one. */
const overlaps = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

export function translateMounts(
  mounts: NonNullable<OciSpec['mounts']>,
  ct: CtConfig,
  pathKind: NonNullable<TranslateContext['pathKind']>,
  realPath: NonNullable<TranslateContext['realPath']>,
): void {
  let mp = 0;
  let cgroupMount: 'ro' | 'mixed' | undefined;
  const entryDestinations: string[] = [];
  mounts.forEach((m, i) => {
    const field = `mounts[${i}]`;
    const dest = checkPath(`${field}.destination`, m.destination);
    refuseReservedPath(`${field}.destination`, dest);
    const opts = m.options ?? [];
    const isBind = m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
    if (m.uidMappings || m.gidMappings) throw new ConfigError(`${field}.uidMappings`, 'idmapped mounts are not supported by pxoci');
    if (!isBind && PROVIDED_BY_LXC[dest]?.includes(m.type ?? '')) {
      if (dest === '/sys/fs/cgroup') cgroupMount = opts.includes('ro') ? 'ro' : 'mixed';
      return;
    }
    const target = mountEntryTarget(`${field}.destination`, dest);
    if (isBind) {
      const given = checkPath(`${field}.source`, m.source ?? '');
      // PVE's pre-start hook refuses a symlink anywhere in an mpN source ("symlink encountered at").
      const real = realPath(given);
      if (real === undefined) throw new ConfigError(`${field}.source`, `${given}: no such file or directory`);
      const src = checkPath(`${field}.source`, real);
      const kind = pathKind(src);
      const flags = entryOptions(field, opts, BIND_OPTION);
      const ro = flags.includes('ro');
      if (kind === 'dir' && !dest.startsWith('/dev/') && dest !== '/dev' && !entryDestinations.some((e) => overlaps(e, dest))) {
        const mountoptions = flags.filter((f) => ['nosuid', 'nodev', 'noexec', 'noatime'].includes(f) && (!ro || f !== 'noatime'));
        const props: Record<string, string> = { volume: src, mp: dest };
        if (ro) props.ro = '1';
        if (mountoptions.length) props.mountoptions = mountoptions.join(';');
        ct.option(`mp${mp++}`, printPropertyString('mp', props), field);
        return;
      }
      const bind = flags.includes('rbind') ? 'rbind' : 'bind';
      const rest = flags.filter((f) => f !== 'bind' && f !== 'rbind');
      ct.raw('lxc.mount.entry', `${src} ${target} none ${[bind, ...rest, kind === 'dir' ? 'create=dir' : 'create=file'].join(',')} 0 0`);
      entryDestinations.push(dest);
      return;
    }
    const type = m.type ?? '';
    if (!FS_TYPES.includes(type)) throw new ConfigError(`${field}.type`, `mount type "${type}" is not supported by pxoci`);
    const source = m.source && /^[\w-]+$/.test(m.source) ? m.source : type;
    const flags = entryOptions(field, opts, FS_OPTION);
    ct.raw('lxc.mount.entry', `${source} ${target} ${type} ${[...flags, 'create=dir'].join(',')} 0 0`);
    entryDestinations.push(dest);
  });

  // LXC leaves /sys/fs/cgroup empty when the CT keeps CAP_SYS_ADMIN (it expects the CT's init to
  // mount it); an OCI config that lists the mount gets it regardless.
  if (cgroupMount) ct.raw('lxc.mount.auto', `cgroup:${cgroupMount}:force`);
}
