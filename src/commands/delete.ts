// pxoci delete [--force] ID: runc's semantics and texts. It is also the recovery path after a create
// or delete that was killed half-way (docs/DESIGN.md, Crash recovery): whatever the state dir still
// says, it removes every CT our marker proves ours, our keeper, and the state entry, in that order.
import type { Context } from '../runtime/context.js';
import { RuntimeError, checkContainerId, notExist } from '../runtime/errors.js';
import { containerStatus } from '../runtime/container.js';
import { crashPoint } from '../runtime/crash.js';
import { logWarning } from '../runtime/log.js';
import { toolError } from '../runtime/node.js';
import { findKeepers, isSameProcessAlive } from '../runtime/proc.js';
import { findOwnedCts, ownedBy, readConf, removeConfLocked, removeDeadWritersTemps } from '../runtime/pveconf.js';
import type { ContainerRecord } from '../runtime/state.js';
import { signalContainer } from './kill.js';
import { loadHooks, runPoststopHooks } from '../runtime/hooks.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The checks read a file or two under /proc: polling often costs little and every ms waited counts
 *  twice in a delete, once for the container process's end and once for the CT's. */
const POLL_MS = 4;

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}

/** Stops and destroys one CT of container `id`, if its config proves it ours; others are left alone. */
async function destroyVmid(ctx: Context, vmid: number, id: string, token: string | undefined): Promise<void> {
  const { driver } = ctx;
  const conf = readConf(driver.paths, vmid);
  if (!conf) return;
  if (!ownedBy(conf, id, token)) {
    logWarning(`CT ${vmid} is not a pxoci container of ${id}: left alone`);
    return;
  }
  // reserveVmid's placeholder: a CT that never started, which pct refuses to touch while locked.
  if (conf.options.lock === 'create') {
    await removeConfLocked(driver.paths, vmid, id, token);
    removeDeadWritersTemps(driver.paths, vmid);
    return;
  }
  // Our init leaves with the container process, which ends the CT by itself; give it a moment.
  if (!(await waitFor(() => !driver.isRunning(vmid), 2000))) {
    const stop = await driver.pct('stop', String(vmid));
    if (stop.code !== 0 && driver.isRunning(vmid)) {
      throw new RuntimeError(`pct stop ${vmid} failed: ${toolError(stop)}`);
    }
    await waitFor(() => !driver.isRunning(vmid), 10_000);
  }
  crashPoint('delete:ct-stopped');
  const destroy = await driver.pct('destroy', String(vmid));
  if (destroy.code !== 0 && readConf(driver.paths, vmid)) {
    throw new RuntimeError(`pct destroy ${vmid} failed: ${toolError(destroy)}`);
  }
  removeDeadWritersTemps(driver.paths, vmid);
}

/**
 * Removes every CT of a container: the recorded one and, when the record cannot say (a create
 * killed before it recorded its VMID, a corrupt record), each one carrying our marker.
 */
export async function destroyCt(ctx: Context, rec: ContainerRecord | undefined, token: string | undefined, id = rec?.id): Promise<void> {
  if (id === undefined) return;
  const vmids = new Set<number>();
  if (rec?.vmid !== undefined) vmids.add(rec.vmid);
  if (rec?.vmid === undefined || !ownedBy(readConf(ctx.driver.paths, rec.vmid), id, token)) {
    for (const vmid of findOwnedCts(ctx.driver.paths, id, token)) vmids.add(vmid);
  }
  for (const vmid of vmids) await destroyVmid(ctx, vmid, id, token);
}

/** The keeper ends with the CT; one whose CT never started waits for it: end it. */
async function stopKeepers(ctx: Context, rec: ContainerRecord | undefined, id: string): Promise<void> {
  const keepers =
    rec?.keeperPid !== undefined
      ? [rec.keeperPid].filter((pid) => isSameProcessAlive(pid, rec.keeperStart))
      : findKeepers(ctx.store.ctDir(id));
  for (const pid of keepers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

export async function deleteContainer(ctx: Context, rawId: string, o: { force?: boolean }): Promise<void> {
  const id = checkContainerId(rawId);
  const { store } = ctx;
  if (!store.exists(id)) {
    if (o.force) return;
    throw notExist();
  }
  const token = store.token(id);
  let rec: ContainerRecord | undefined;
  try {
    rec = store.load(id);
  } catch (e) {
    // A create killed before its first record, or a corrupt one: --force clears what is there.
    if (!o.force) throw e;
  }
  crashPoint('delete:loaded');
  if (rec) {
    const status = containerStatus(store, rec);
    if ((status === 'running' || status === 'paused') && !o.force) {
      throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`);
    }
    if (status !== 'stopped') {
      await signalContainer(ctx, rec, status, 9, true);
      crashPoint('delete:signalled');
      await waitFor(() => containerStatus(store, rec) === 'stopped', 10_000);
    }
  }
  const hooks = loadHooks(store.dir(id));
  await destroyCt(ctx, rec, token, id);
  await stopKeepers(ctx, rec, id);
  crashPoint('delete:ct-destroyed');
  store.remove(id);
  // Without a readable record there is no state to give the hooks.
  if (rec) await runPoststopHooks(hooks, rec);
}
