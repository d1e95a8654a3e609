// pxoci kill [--all] ID [SIGNAL]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../runtime/context.js';
import { noSuchProcess } from '../runtime/errors.js';
import { checkAllowed } from '../runtime/lifecycle.js';
import { checkContainerId } from '../runtime/container-id.js';
import { containerStatus, type Status } from '../runtime/status.js';
import { cgroupDirs } from '../runtime/proc.js';
import { parseSignal } from '../runtime/signals.js';
import { readConf } from '../runtime/ct-configs.js';
import { ownedBy } from '../runtime/ownership.js';
import type { ContainerRecord } from '../runtime/record.js';

/** Host pids of every process in the CT: the payload cgroup of the container process and below. */
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
    if (pids.length > 0) return pids;
  }
  return rec.pid ? [rec.pid] : [];
}

export async function signalContainer(
  ctx: Context,
  rec: ContainerRecord,
  status: Status,
  signal: number,
  all: boolean,
): Promise<void> {
  const targets = all ? ctPids(rec).filter((p) => p !== rec.initPid) : [rec.pid!];
  let delivered = false;
  for (const pid of targets) {
    try {
      process.kill(pid, signal);
      delivered = true;
    } catch {
      // it went away meanwhile
    }
  }
  // A frozen process only acts on SIGKILL once thawed: runc thaws too.
  if (status === 'paused' && signal === 9 && rec.vmid !== undefined && ownedBy(readConf(ctx.driver.paths, rec.vmid), rec.id, ctx.store.token(rec.id))) {
    await ctx.driver.lxc('lxc-unfreeze', rec.vmid);
  }
  if (!delivered && !all) throw noSuchProcess();
}

export async function kill(ctx: Context, rawId: string, sig: string | undefined, o: { all?: boolean }) {
  const id = checkContainerId(rawId);
  const signal = parseSignal(sig);
  const rec = ctx.store.load(id);
  const status = containerStatus(ctx.store, rec);
  checkAllowed('kill', status, id);
  await signalContainer(ctx, rec, status, signal, o.all === true);
}
