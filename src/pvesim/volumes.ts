// The simulated `local` storage, and a CT's volumes and devices as lxc-pve's hooks set them up: the
// pre-start hook mounts rootfs, mp0, mp1, … in key order onto var/lib/lxc/<vmid>/rootfs (in the
// monitor's mount namespace, which lxc.monitor.unshare keeps from the host) and makes the devN nodes;
// the post-stop hook unmounts. pct start writes the pre-start work as a shell script (a hook in Node
// would add a Node start-up to every CT start); the post-stop hook is lxc-hooks.ts.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parsePropertyString, type PveConfig, type PveRelease } from '../pve/config.js';
import type { NodePaths } from '../pve/paths.js';
import { spawnSync } from './lazy-builtins.js';
import { PveError } from './pve-error.js';
import { shellQuote } from '../lib/shell-quote.js';
import type { DeviceFact } from './update-lxc-config.js';

const UMOUNT = '/bin/umount';

export function ctDir(p: NodePaths, vmid: number): string {
  return join(p.lxcPath, String(vmid));
}

export function rootfsDir(p: NodePaths, vmid: number): string {
  return join(ctDir(p, vmid), 'rootfs');
}

/** Where PVE's pre-start hook makes a devN node (a tmpfs at var/lib/lxc/<vmid>/passthrough). */
export function passthroughNode(ctDirPath: string, devPath: string): string {
  return join(ctDirPath, 'passthrough', devPath);
}

/** The images of the simulated `local` storage that belong to a CT. */
export function imagesDir(p: NodePaths, vmid: number | string): string {
  return join(p.root, 'var/lib/vz/images', String(vmid));
}

/** Where `local:vztmpl/<name>` templates are. */
export function templateCacheDir(p: NodePaths): string {
  return join(p.root, 'var/lib/vz/template/cache');
}

/** Storage volumes of the simulated `local` storage live below var/lib/vz. */
export function volumePath(p: NodePaths, volume: string): string {
  if (volume.startsWith('/')) return volume;
  const m = /^local:(\d+)\/(.+)$/.exec(volume);
  if (!m) throw new PveError(`unable to parse volume ID '${volume}'`);
  return join(imagesDir(p, m[1]!), m[2]!);
}

function sh(cmd: string, args: string[]): { code: number; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { code: r.status ?? 255, stderr: r.stderr ?? '' };
}

export function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(dir + '/'));
}

/** The volume keys of a CT in the order PVE mounts them (foreach_volume): rootfs, mp0, mp1, … mp255. */
export function volumeKeys(options: Record<string, string>): string[] {
  return ['rootfs', ...Object.keys(options).filter((k) => /^mp\d+$/.test(k)).sort((a, b) => Number(a.slice(2)) - Number(b.slice(2)))].filter(
    (k) => options[k] !== undefined,
  );
}

/** parse_id_maps: the CT's id map and the host ids of its root (100000 for a default unprivileged CT). */
export function ctIdMap(conf: PveConfig): { map: Array<[string, number, number, number]>; rootUid: number; rootGid: number } {
  const map: Array<[string, number, number, number]> = [];
  let rootUid = 0;
  let rootGid = 0;
  for (const [key, value] of conf.lxc) {
    if (key !== 'lxc.idmap') continue;
    const m = /^([ug])\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(value);
    if (!m) throw new PveError(`failed to parse idmap: ${value}`);
    const [type, ct, host, length] = [m[1]!, Number(m[2]), Number(m[3]), Number(m[4])];
    map.push([type, ct, host, length]);
    if (ct === 0 && type === 'u') rootUid = host;
    if (ct === 0 && type === 'g') rootGid = host;
  }
  if (!map.length && conf.options.unprivileged === '1') {
    map.push(['u', 0, 100000, 65536], ['g', 0, 100000, 65536]);
    rootUid = rootGid = 100000;
  }
  return { map, rootUid, rootGid };
}

function mapToHost(id: number, map: Array<[string, number, number, number]>, type: 'u' | 'g'): number {
  for (const [t, ct, host, length] of map) if (t === type && id >= ct && id < ct + length) return host - ct + id;
  return id;
}

/**
 * The shell functions of a pre-start script. walk NAME PATH SUB [OWNER] is PVE's walk_tree_nofollow:
 * SUB below PATH one component at a time, dying `symlink encountered at: …` at any symlink or
 * non-directory (NAME is how PVE's message begins the path: '/', so a host path reads `//tmp/x`); with
 * OWNER (uid:gid), each missing directory is made (0755) and owned by the CT's root. Leaves the path
 * in $walked.
 */
const PRESTART_FUNCTIONS = `set -u
fail() { printf '%s\\n' "$*" >&2; exit 1; }
walk() {
  name=$1 walked=$2 sub=$3 owner=\${4:-}
  set -f
  old_ifs=$IFS
  IFS=/
  for c in $sub; do
    IFS=$old_ifs
    [ -n "$c" ] || continue
    name="$name/$c"
    [ "$c" = . ] || walked="\${walked%/}/$c"
    if [ -L "$walked" ] || { [ -e "$walked" ] && [ ! -d "$walked" ]; }; then fail "symlink encountered at: $name"; fi
    if [ ! -e "$walked" ]; then
      [ -n "$owner" ] || fail "cannot open directory $name: No such file or directory"
      mkdir -m 0755 "$walked" 2>/dev/null
      [ ! -L "$walked" ] || fail "symlink encountered at: $name"
      [ -d "$walked" ] || fail "failed to create path: $name: No such file or directory"
      # The hook runs as host root: a directory it made for owner 0:0 is owned so already.
      [ "$owner" = 0:0 ] && [ -O "$walked" ] && [ -G "$walked" ] || chown -h "$owner" "$walked"
    fi
  done
  IFS=$old_ifs
  set +f
}
`;

/**
 * What lxc-pve-prestart-hook does with a CT's volumes and devices at this start, as a shell script LXC
 * runs (via the pre-start hook) in the CT's monitor: the rootfs, then each mpN in key order (sources
 * walked without following symlinks, mount points made with their parents and owned by the CT's root;
 * a later mount may hide an earlier one), then the devN nodes in the passthrough tmpfs. pct start
 * writes it next to the LXC config; the checks on the file system run when LXC runs it, as PVE's do.
 */
export function prestartScript(p: NodePaths, vmid: number, conf: PveConfig, pve: PveRelease, device: (path: string) => DeviceFact): string {
  const q = shellQuote;
  const rootdir = rootfsDir(p, vmid);
  const { map, rootUid, rootGid } = ctIdMap(conf);
  const owner = q(`${rootUid}:${rootGid}`);
  const lines = [`#!/bin/sh`, `# pvesim: lxc-pve-prestart-hook's work for CT ${vmid}, written by pct start.`, PRESTART_FUNCTIONS];
  // pct start waits for this (LXC's command socket is up once the hooks run).
  lines.push(`: > ${q(prestartMarkerPath(p, vmid))}`);
  // A CT mounted with `pct mount` is unmounted first.
  lines.push(`umount --recursive ${q(rootdir)} >/dev/null 2>&1`);
  for (const key of volumeKeys(conf.options)) {
    let mp: Record<string, string>;
    try {
      mp = parsePropertyString(key === 'rootfs' ? 'rootfs' : 'mp', conf.options[key]!, { pve });
    } catch (e) {
      // PVE's hook dies on it when it gets there.
      lines.push(`fail ${q((e as Error).message)}`);
      break;
    }
    const volume = mp.volume!;
    const ro = mp.ro === '1';
    const options = (mp.mountoptions ?? '').split(';').filter((o) => o && (!ro || /^(nodev|noexec|nosuid)$/.test(o)));
    const extra = options.length ? ` -o ${q(options.join(','))}` : '';
    // The source first (a bind: a directory without a symlink on its way), then the mount point: the
    // rootfs at the host path PVE controls, each mpN inside the mounted rootfs.
    const source = volume.startsWith('/dev/') ? undefined : volumePath(p, volume);
    if (source !== undefined) {
      const missing = volume.startsWith('/') ? `directory '${volume}' does not exist` : `${key}: volume '${volume}' does not exist`;
      lines.push(`[ -d ${q(source)} ] || fail ${q(missing)}`, `walk / / ${q(source)}`);
    }
    lines.push(key === 'rootfs' ? `walk / / ${q(rootdir)} ${owner}` : `walk / ${q(rootdir)} ${q(`./${mp.mp}`)} ${owner}`);
    if (source === undefined) {
      lines.push(`mount${ro ? ' -o ro' : ''}${extra} ${q(volume)} "$walked" || fail ${q(`mounting ${volume} failed`)}`);
      continue;
    }
    lines.push(`mount -o bind${extra} ${q(source)} "$walked" || fail ${q(`command 'mount -o bind ${source}' failed`)}`);
    if (ro) lines.push(`mount -o bind,remount,ro "$walked" || { umount "$walked"; fail 'bindmount error'; }`);
  }
  const devices = Object.keys(conf.options).filter((k) => /^dev\d+$/.test(k));
  if (devices.length) {
    const passthrough = join(ctDir(p, vmid), 'passthrough');
    lines.push(`mkdir -p ${q(passthrough)}`, `mount -t tmpfs -o size=8k none ${q(passthrough)} || fail ${q(`Could not mount tmpfs for device passthrough at ${passthrough}`)}`);
    for (const key of devices) {
      const dev = parsePropertyString('dev', conf.options[key]!, { pve });
      const found = device(dev.path!);
      if (found.kind !== 'b' && found.kind !== 'c') {
        lines.push(`fail ${q(`Could not get mode or device ID of ${dev.path}`)}`);
        continue;
      }
      const node = passthroughNode(ctDir(p, vmid), dev.path!);
      const uid = mapToHost(Number(dev.uid ?? 0), map, 'u');
      const gid = mapToHost(Number(dev.gid ?? 0), map, 'g');
      lines.push(
        `mkdir -p ${q(dirname(node))}`,
        `mknod ${q(node)} ${found.kind} ${found.major} ${found.minor} || fail ${q(`failed to mknod ${node}`)}`,
        `chmod ${dev.mode ?? '0660'} ${q(node)}`,
        `chown ${uid}:${gid} ${q(node)}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** The post-stop hook's `umount --recursive` of the rootfs (in the monitor's namespace). */
export function unmountVolumes(p: NodePaths, vmid: number): void {
  const target = rootfsDir(p, vmid);
  if (mountsBelow(target).length === 0) return;
  sh(UMOUNT, ['-R', target]);
  if (mountsBelow(target).length > 0) sh(UMOUNT, ['-R', '-l', target]);
}

/** `pvesim down`: whatever is still mounted below the node, deepest first. */
export function unmountAllBelow(dir: string): void {
  for (const mount of mountsBelow(dir).sort((a, b) => b.length - a.length)) sh(UMOUNT, ['-l', mount]);
}

/** The hooks LXC runs for this node's CTs (shims `pvesim env` writes), kept outside the CTs' dirs,
 *  which pct destroy may remove while LXC is still tearing a CT down. */
export function simHookPaths(p: NodePaths): { preStart: string; postStop: string } {
  const hookDir = join(p.root, 'usr/share/lxc/hooks');
  return { preStart: join(hookDir, 'pvesim-prestart-hook'), postStop: join(hookDir, 'pvesim-poststop-hook') };
}

/** The file a CT's pre-start script makes first, for pct start. */
export function prestartMarkerPath(p: NodePaths, vmid: number): string {
  return join(ctDir(p, vmid), 'pvesim-prestart-ran');
}

/** Where pct start leaves a CT's pre-start script. */
export function prestartScriptPath(p: NodePaths, vmid: number): string {
  return join(ctDir(p, vmid), 'pvesim-prestart');
}
