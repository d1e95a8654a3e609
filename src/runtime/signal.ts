// Signals: the names runc accepts for them, and sending one to a container's processes.
import { constants } from 'node:os';
import type { Context } from './context.js';
import { RuntimeError, noSuchProcess, unknownSignal } from './errors.js';
import { checkAllowed } from './lifecycle.js';
import { readConf } from './ct-configs.js';
import { ctPids, isPxociProcess } from './ct-processes.js';
import { logWarning } from './log.js';
import { isSameProcessAlive } from './proc.js';
import { ownedBy } from './ownership.js';
import type { ContainerRecord } from './record.js';
import { containerStatus, type Status } from './status.js';

const byName = constants.signals as Record<string, number>;

/** Accepts what runc accepts: `9`, `KILL`, `SIGKILL`, `kill`, `sigkill`. */
export function parseSignal(text: string | number | undefined): number {
  if (text === undefined || text === '') return byName.SIGTERM!;
  const raw = String(text);
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n > 0 && n <= 64) return n;
    throw unknownSignal(raw);
  }
  const upper = raw.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const n = byName[name];
  if (n === undefined) throw unknownSignal(raw);
  return n;
}

/**
 * Signals the container process, or with `all` every process of the CT but our init: only processes
 * in the CT's cgroup, whatever the record says. Returns false when the recorded container process
 * lives on outside the CT (a stale or forged record): it was not signalled, and will not end by this.
 */
export async function signalContainer(
  ctx: Context,
  rec: ContainerRecord,
  status: Status,
  signal: number,
  all: boolean,
): Promise<boolean> {
  const inCt = ctPids(ctx.driver.paths, rec.vmid);
  const recordedInCt = rec.pid !== undefined && inCt.includes(rec.pid);
  const recordedOutside = !recordedInCt && isSameProcessAlive(rec.pid, rec.pidStart);
  if (recordedOutside) {
    const refusal = `container process ${rec.pid} is not in CT ${rec.vmid ?? '(none recorded)'}: not signalling it`;
    if (!all) throw new RuntimeError(refusal);
    logWarning(refusal);
  }
  const targets = all ? inCt.filter((p) => !isPxociProcess(rec, p)) : recordedInCt ? [rec.pid!] : [];
  let delivered = false;
  for (const pid of targets) {
    try {
      process.kill(pid, signal);
      delivered = true;
    } catch {
      // it went away meanwhile
    }
  }
  // A frozen process only acts on SIGKILL once thawed: runc thaws too. A backup job's freeze (suspend
  // mode, `lock: backup`) is the job's to end: cgroup v2, as on every PVE node, lets SIGKILL through.
  if (status === 'paused' && signal === 9 && rec.vmid !== undefined) {
    const conf = readConf(ctx.driver.paths, rec.vmid);
    if (conf?.options.lock === 'backup') logWarning(`CT ${rec.vmid} is frozen by a backup job (lock: backup): left frozen`);
    else if (ownedBy(conf, rec.id, rec.vmid, ctx.store.ownerKey())) await ctx.driver.lxc('lxc-unfreeze', rec.vmid);
  }
  if (!delivered && !all) throw noSuchProcess();
  return !recordedOutside;
}

/** runc kill: refused once the container has stopped. */
export async function killContainer(ctx: Context, id: string, signal: number, o: { all: boolean }): Promise<void> {
  const rec = ctx.store.load(id);
  const status = containerStatus(ctx.store, rec);
  checkAllowed('kill', status, id);
  await signalContainer(ctx, rec, status, signal, o.all);
}
