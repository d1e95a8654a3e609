// The processes of a container's CT, as host pids: what `kill --all` signals and `ps` lists.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from './context.js';
import { RuntimeError, noPidColumn } from './errors.js';
import { checkAllowed } from './lifecycle.js';
import { run } from './node-driver.js';
import { cgroupDirs } from './proc.js';
import type { ContainerRecord } from './record.js';
import { containerStatus } from './status.js';

/** Host pids of the container's processes: every process in the CT (the payload cgroup of the init and
 *  below) but pxoci's own there, the init and the keeper. */
export function ctPids(rec: ContainerRecord): number[] {
  if (!rec.initPid) return rec.pid ? [rec.pid] : [];
  const { unified, controllers } = cgroupDirs(rec.initPid);
  const candidates: string[] = [];
  for (const ctrl of ['pids', 'freezer', 'memory', 'cpu']) {
    const path = controllers.get(ctrl);
    if (path !== undefined) candidates.push(join('/sys/fs/cgroup', ctrl, path));
  }
  if (unified !== undefined) candidates.push(join('/sys/fs/cgroup', unified), join('/sys/fs/cgroup/unified', unified));
  for (const dir of candidates) {
    const pids: number[] = [];
    const walk = (d: string) => {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.push(Number(line));
      for (const entry of readdirSync(d, { withFileTypes: true })) if (entry.isDirectory()) walk(join(d, entry.name));
    };
    try {
      walk(dir);
    } catch {
      continue;
    }
    if (pids.length > 0) return pids.filter((p) => p !== rec.initPid && p !== rec.keeperPid);
  }
  return rec.pid ? [rec.pid] : [];
}

/** `ps`'s pids: none once the container has stopped. */
export function containerPids(ctx: Context, id: string): number[] {
  const rec = ctx.store.load(id);
  const status = containerStatus(ctx.store, rec);
  checkAllowed('ps', status, id);
  return status === 'stopped' ? [] : ctPids(rec);
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
