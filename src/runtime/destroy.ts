// Deleting a container (runc delete [--force]): runc's semantics and texts. It is also the recovery
// path after a create or delete that was killed half-way (docs/DESIGN.md, Crash recovery): whatever the
// state dir still says, or if it is gone, it removes every CT our marker proves ours, our keeper, and
// the state entry, in that order. A failed create rolls back its CT with destroyContainerCts.
import { rm } from 'node:fs/promises';
import type { PveConfig } from '../pve/config.js';
import { sleep } from '../lib/sleep.js';
import type { Context } from './context.js';
import { PermissionDenied, RuntimeError, notExist } from './errors.js';
import { checkAllowed } from './lifecycle.js';
import { containerStatus } from './status.js';
import { crashPoint } from './crash.js';
import { logWarning } from './log.js';
import { preloadTools, toolError } from './node-driver.js';
import { findKeepers, isKeeperOf, isSameProcessAlive, processStartTime } from './proc.js';
import { lxcMonitorPid } from '../pve/node-facts.js';
import { findOwnedCts, readConf, removeConfLocked, removeDeadWritersTemps } from './ct-configs.js';
import { ownedBy, type OwnerKey } from './ownership.js';
import type { ContainerRecord } from './record.js';
import { signalContainer } from './signal.js';
import { loadHooks, runPoststopHooks } from './hooks.js';
import { removeRuntimeMountPoint } from './runtime-mount-point.js';

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

interface OwnedCt {
  vmid: number;
  conf: PveConfig;
}

/**
 * Every CT of a container whose config proves it ours: the recorded one and, when the record cannot say
 * (a create killed before it recorded its VMID, a corrupt record, a state dir removed behind our back),
 * each one carrying a marker our key proves. A CT that is not ours is left alone.
 */
function ownedCts(ctx: Context, rec: ContainerRecord | undefined, key: OwnerKey | undefined, id: string): OwnedCt[] {
  const { paths } = ctx.driver;
  const vmids = new Set<number>();
  if (rec?.vmid !== undefined) vmids.add(rec.vmid);
  const recorded = rec?.vmid !== undefined ? readConf(paths, rec.vmid) : undefined;
  if (rec?.vmid === undefined || !ownedBy(recorded, id, rec.vmid, key)) {
    for (const vmid of findOwnedCts(paths, id, key)) vmids.add(vmid);
  }
  const owned: OwnedCt[] = [];
  for (const vmid of vmids) {
    const conf = vmid === rec?.vmid ? recorded : readConf(paths, vmid);
    if (!conf) continue;
    if (!ownedBy(conf, id, vmid, key)) {
      logWarning(`CT ${vmid} is not a pxoci container of ${id}: left alone`);
      continue;
    }
    owned.push({ vmid, conf });
  }
  return owned;
}

/** Stops and destroys one CT of container `id`, found ours by ownedCts; `whileDestroying` starts once
 *  the CT has stopped and runs alongside pct destroy. */
async function destroyOwned(
  ctx: Context,
  { vmid, conf }: OwnedCt,
  id: string,
  key: OwnerKey | undefined,
  whileDestroying?: () => Promise<void>,
): Promise<void> {
  const { driver } = ctx;
  // reserveVmid's placeholder: a CT that never started, which pct refuses to touch while locked.
  if (conf.options.lock === 'create') {
    await removeConfLocked(driver.paths, vmid, id, key);
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
  // PVE's post-stop hook runs in the CT's monitor after the CT counts as stopped and writes the config
  // back without PVE's lock: a destroy meanwhile would see the destroyed CT's config come back.
  const monitor = lxcMonitorPid(driver.paths, vmid);
  if (monitor !== undefined) {
    const started = processStartTime(monitor);
    await waitFor(() => !isSameProcessAlive(monitor, started), 10_000);
  }
  crashPoint('delete:ct-stopped');
  const [destroy] = await Promise.all([driver.pct('destroy', String(vmid)), whileDestroying?.()]);
  if (destroy.code !== 0 && readConf(driver.paths, vmid)) {
    throw new RuntimeError(`pct destroy ${vmid} failed: ${toolError(destroy)}`);
  }
  removeDeadWritersTemps(driver.paths, vmid);
}

/** Removes every CT of a container (see ownedCts). */
export async function destroyContainerCts(ctx: Context, rec: ContainerRecord | undefined, key: OwnerKey | undefined, id = rec?.id): Promise<void> {
  if (id === undefined) return;
  for (const ct of ownedCts(ctx, rec, key, id)) await destroyOwned(ctx, ct, id, key);
}

/** How long delete waits for a backup job to release a CT: PVE's own wait for a config lock. */
const BACKUP_WAIT_MS = 10_000;

/**
 * A backup job (vzdump) holds `lock: backup` on the CT while it runs, which can be hours, freezing the
 * CT for a while in suspend mode; PVE refuses to stop or destroy it meanwhile. Engines do not retry a
 * failed delete, and one that hangs for hours is worse: wait as long as PVE waits for a lock, then
 * say why, having touched nothing.
 */
async function waitForBackup(ctx: Context, vmid: number, id: string, key: OwnerKey | undefined): Promise<void> {
  const locked = () => {
    const conf = readConf(ctx.driver.paths, vmid);
    return conf?.options.lock === 'backup' && ownedBy(conf, id, vmid, key);
  };
  if (!locked() || (await waitFor(() => !locked(), BACKUP_WAIT_MS))) return;
  throw new RuntimeError(
    `CT ${vmid} of container ${id} is being backed up (lock: backup) and PVE refuses to stop or destroy it until the backup job ends: delete it again then, or exclude pxoci's CTs from backup jobs (README, Backups)`,
  );
}

/** The keeper ends with the CT; one whose CT never started waits for it: end it. A recorded pid is
 *  signalled only while it is that keeper (its command line names this container's CT dir). */
async function stopKeepers(ctx: Context, rec: ContainerRecord | undefined, id: string): Promise<void> {
  const ctDir = ctx.store.ctDir(id);
  const keepers =
    rec?.keeperPid !== undefined ? [rec.keeperPid].filter((pid) => isKeeperOf(pid, rec.keeperStart, ctDir)) : findKeepers(ctDir);
  for (const pid of keepers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** Everything of container `id`: its CTs, its keeper, its state entry, then the poststop hooks. */
export async function destroyContainer(ctx: Context, id: string, o: { force: boolean }): Promise<void> {
  const { store } = ctx;
  if (!store.exists(id)) {
    if (!o.force) throw notExist();
    await destroyOrphans(ctx, id);
    return;
  }
  let rec: ContainerRecord | undefined;
  try {
    rec = store.load(id);
  } catch (e) {
    // A create killed before its first record, or a corrupt one: --force clears what is there. A
    // caller who may not read it clears nothing.
    if (!o.force || e instanceof PermissionDenied) throw e;
  }
  const key = store.ownerKey();
  crashPoint('delete:loaded');
  const status = rec ? containerStatus(store, rec) : undefined;
  if (status) checkAllowed(o.force ? 'delete --force' : 'delete', status, id);
  // A record whose container process lives on outside the CT: that process is not ours to wait for.
  let recordedEnds = true;
  if (rec?.vmid !== undefined) await waitForBackup(ctx, rec.vmid, id, key);
  if (rec && status !== 'stopped') {
    recordedEnds = await signalContainer(ctx, rec, status!, 9, true);
    crashPoint('delete:signalled');
  }
  // The container process and then its CT take a while to end: what comes next is read meanwhile,
  // and node:child_process (for pct) loads while we wait.
  const hooks = loadHooks(store.dir(id));
  const cts = ownedCts(ctx, rec, key, id);
  if (cts.some((ct) => ct.conf.options.lock !== 'create')) preloadTools();
  if (rec && status !== 'stopped' && recordedEnds) await waitFor(() => containerStatus(store, rec) === 'stopped', 10_000);
  // ct/ (the init binary, ~1 MB, and the process spec) serves only the CT and names nothing recovery
  // needs: it goes while pct destroy runs. The state entry proper goes last.
  const removeCtDir = () => rm(store.ctDir(id), { recursive: true, force: true });
  for (const ct of cts) await destroyOwned(ctx, ct, id, key, removeCtDir);
  await stopKeepers(ctx, rec, id);
  crashPoint('delete:ct-destroyed');
  removeRuntimeMountPoint(store.dir(id), ctx.driver.paths);
  store.remove(id);
  // Without a readable record there is no state to give the hooks.
  if (rec) await runPoststopHooks(hooks, rec);
}

/**
 * `delete --force` of an id without a state dir (removed behind pxoci's back): the CTs of that id
 * our key still proves ours, and their keepers, are what is left of it. Nothing else is touched.
 */
async function destroyOrphans(ctx: Context, id: string): Promise<void> {
  const key = ctx.store.ownerKey();
  const cts = ownedCts(ctx, undefined, key, id);
  for (const ct of cts) await destroyOwned(ctx, ct, id, key);
  if (cts.length > 0) await stopKeepers(ctx, undefined, id);
}
