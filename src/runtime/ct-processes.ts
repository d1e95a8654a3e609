// The processes of a container's CT, as host pids: what `kill` may signal and `ps` lists. A CT is its
// cgroup, which LXC made where PVE told it (lxc/<vmid>): a recorded pid is acted on only while it is
// in there, so a record that names a host process (a stale or forged one) makes pxoci touch nothing.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from './context.js';
import { RuntimeError, noPidColumn } from './errors.js';
import { checkAllowed } from './lifecycle.js';
import { run } from './node-driver.js';
import type { NodePaths } from '../pve/paths.js';
import { containerStatus } from './status.js';
import type { ContainerRecord } from './record.js';

/**
 * CT `vmid`'s cgroup relative to each hierarchy's root: the lxc.cgroup.dir.container PVE wrote into
 * the config LXC started it with (root-owned, under /var/lib/lxc), else LXC's and PVE's default.
 */
export function ctCgroup(paths: NodePaths, vmid: number): string {
  let config = '';
  try {
    config = readFileSync(join(paths.lxcPath, String(vmid), 'config'), 'utf8');
  } catch {
    // not started yet, or gone
  }
  const dir = /^lxc\.cgroup\.dir\.container\s*=\s*(\S+)\s*$/m.exec(config)?.[1]?.replace(/^\/+|\/+$/g, '');
  // A dir that climbs out, or is the root, would name more than one CT.
  if (dir && !dir.split('/').some((part) => part === '..' || part === '.' || part === '')) return dir;
  return `lxc/${vmid}`;
}

/** Where a hierarchy holding the CT's processes is mounted: cgroup v1 controllers, then v2 (pure or hybrid). */
const HIERARCHIES = ['pids', 'freezer', 'memory', 'cpu', '', 'unified'].map((h) => join('/sys/fs/cgroup', h));

/** Host pids of every process in CT `vmid`: those in its cgroup and below. */
export function ctPids(paths: NodePaths, vmid: number | undefined): number[] {
  if (vmid === undefined) return [];
  const cgroup = ctCgroup(paths, vmid);
  for (const hierarchy of HIERARCHIES) {
    const pids: number[] = [];
    const walk = (d: string) => {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.push(Number(line));
      for (const entry of readdirSync(d, { withFileTypes: true })) if (entry.isDirectory()) walk(join(d, entry.name));
    };
    try {
      walk(join(hierarchy, cgroup));
    } catch {
      continue;
    }
    if (pids.length > 0) return pids;
  }
  return [];
}

/** pxoci's own processes in the CT, the init and the keeper: not the container's, for ps and kill --all. */
export function isPxociProcess(rec: ContainerRecord, pid: number): boolean {
  return pid === rec.initPid || pid === rec.keeperPid;
}

/** Whether `pid` is one of CT `vmid`'s processes. */
export function isCtProcess(paths: NodePaths, vmid: number | undefined, pid: number | undefined): boolean {
  return pid !== undefined && ctPids(paths, vmid).includes(pid);
}

/** `ps`'s pids: none once the container has stopped. */
export function containerPids(ctx: Context, id: string): number[] {
  const rec = ctx.store.load(id);
  const status = containerStatus(ctx.store, rec);
  checkAllowed('ps', status, id);
  return status === 'stopped' ? [] : ctPids(ctx.driver.paths, rec.vmid).filter((p) => !isPxociProcess(rec, p));
}

/** The host's `ps` table (runc ps's default arguments `-ef`), cut to the header and `pids`' lines. */
export async function psTable(pids: number[], psArgs: string[] | undefined): Promise<string> {
  const args = psArgs && psArgs.length > 0 ? psArgs : ['-ef'];
  const r = await run('/bin/ps', args);
  if (r.code !== 0) throw new RuntimeError(`ps ${args.join(' ')} failed: ${r.stderr.trim()}`);
  const lines = r.stdout.split('\n');
  const header = lines[0] ?? '';
  const pidColumn = header.trim().split(/\s+/).indexOf('PID');
  if (pidColumn < 0) throw noPidColumn();
  const wanted = new Set(pids);
  const out = [header];
  for (const line of lines.slice(1)) {
    const pid = Number(line.trim().split(/\s+/)[pidColumn]);
    if (wanted.has(pid)) out.push(line);
  }
  return out.join('\n') + '\n';
}
