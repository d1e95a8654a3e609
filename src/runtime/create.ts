// Creating a container (runc create): from a bundle to a CT in the `created` state (docs/DESIGN.md has
// the picture).
import { chownSync, closeSync, constants, copyFile, openSync, readSync, realpathSync, statSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { arch as hostArch } from 'node:os';
import { validateSpec, resolveRootfs, unknownPropertyWarning } from '../oci/bundle.js';
import { translate } from '../oci/translate.js';
import { encodeInitSpec } from '../oci/initspec.js';
import { encodeHookPlan, encodeSetupPlan } from '../oci/mount-plan.js';
import { ConfigError } from '../oci/errors.js';
import { atomicWrite } from '../lib/atomic-files.js';
import { helperPath } from '../lib/native-paths.js';
import { firstClosedDir, pathKind, realPath } from './hostfs.js';
import { pveVersions } from '../pve/node-facts.js';
import type { Context } from './context.js';
import { RuntimeError, consoleSocketNeedsTty, rootfsMissing, ttyNeedsConsoleSocket } from './errors.js';
import { readJsonFile } from './caller-files.js';
import { warn } from './log.js';
import { checkNodeLimits } from './node-limits.js';
import { checkPreserveFds } from './preserve-fds.js';
import { startKeeper, type Keeper } from './keeper.js';
import { run, startError, toolError } from './node-driver.js';
import { removeConfLocked, reserveVmid, writeConfLocked } from './ct-configs.js';
import { PXOCI_TAG, ownerDescription, type OwnerKey } from './ownership.js';
import { crashPoint } from './crash.js';
import { isSameProcessAlive, processStartTime } from './proc.js';
import type { ContainerRecord } from './record.js';
import { destroyContainerCts } from './destroy.js';
import { runCreateHooks, runPoststopHooks, saveHooks, startResultFile } from './hooks.js';
import { makeRuntimeMountPoint, removeRuntimeMountPoint } from './runtime-mount-point.js';

export interface CreateOptions {
  bundle?: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
}

const PVE_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: 'i386', arm: 'armhf', riscv64: 'riscv64' };

export async function createContainer(ctx: Context, id: string, o: CreateOptions): Promise<void> {
  const bundle = resolve(o.bundle || process.cwd());
  const spec = validateSpec(readJsonFile(resolve(bundle, 'config.json'), 'config.json'), (field) => warn(unknownPropertyWarning(field)));
  checkNodeLimits(spec);
  const givenRootfs = resolveRootfs(bundle, spec);
  let rootfs: string;
  try {
    if (!statSync(givenRootfs).isDirectory()) throw new Error();
    // PVE's pre-start hook refuses a symlink anywhere in the rootfs path ("symlink encountered at"),
    // and a bundle below a symlinked directory is common (/var/lib/containers moved to another disk).
    rootfs = realpathSync(givenRootfs);
  } catch {
    throw rootfsMissing(givenRootfs);
  }
  const terminal = spec.process?.terminal === true;
  if (terminal && !o.consoleSocket) {
    throw ttyNeedsConsoleSocket();
  }
  if (!terminal && o.consoleSocket) {
    throw consoleSocketNeedsTty();
  }
  const preserveFds = checkPreserveFds(o.preserveFds);

  const { store, driver } = ctx;
  const paths = driver.paths;
  const key = store.claim(id);
  crashPoint('create:claimed');
  const record: ContainerRecord = {
    id,
    bundle,
    // The state shows the path as the bundle names it, as runc's does; PVE gets the real one.
    rootfs: givenRootfs,
    created: new Date().toISOString(),
    owner: '',
    annotations: (spec.annotations as Record<string, string> | undefined) ?? undefined,
  };
  let keeper: Keeper | undefined;
  let started = false;
  try {
    // The first state.json is written once the keeper runs (below). Until then a killed create is
    // recovered from the owner key alone: delete --force finds the CT by its marker and the keeper by
    // its --ct-dir, as it must anyway for a create killed right after reserving or spawning. An
    // earlier record would name nothing those searches need, and would say 'stopped' meanwhile.
    const placeholder = (vmid: number) => ({ options: { lock: 'create', tags: PXOCI_TAG }, description: ownerDescription(id, vmid, key, bundle), lxc: [] });
    const vmid = reserveVmid(paths, placeholder);
    const ownership = ownerDescription(id, vmid, key, bundle);
    crashPoint('create:vmid-reserved');
    record.vmid = vmid;

    const ctDir = store.ctDir(id);
    const helper = helperPath('pxoci-helper');
    const { config, init, namespacedSysctls, namespaceJoins, ctRoot, seccomp, fstab, hookPlan, setupPlan } = translate(spec, {
      id,
      bundle,
      vmid,
      runtimeDir: ctDir,
      arch: PVE_ARCH[hostArch()] ?? 'amd64',
      helper,
      rootfs,
      pathKind,
      realPath,
      // A node whose release cannot be read gets the oldest release's rules.
      pveRelease: () => pveVersions(paths)?.release ?? 8,
    });
    config.options.tags = PXOCI_TAG;
    config.description = config.description ? `${ownership}\n${config.description}` : ownership;
    if (ctRoot) {
      // LXC mounts the rootfs and ct/, and runs the mount hook, with the credentials of the CT's mapped
      // root: say so now, not as a failed start.
      for (const [what, path] of [['its rootfs', rootfs], ['its runtime dir', ctDir], ['pxoci-helper (its mount hook) in', dirname(helper)]] as const) {
        const closed = firstClosedDir(path, ctRoot);
        if (closed) throw new RuntimeError(`a user-namespaced container's root (host uid ${ctRoot.uid}) cannot reach ${what} ${path}: ${closed} is not searchable by it (chmod o+x ${closed})`);
      }
    }
    // LXC's create=dir cannot make the mount point in a read-only rootfs: make it beforehand.
    makeRuntimeMountPoint(store.dir(id), rootfs);
    // ct/ holds the process's args and env (secrets): readable by the CT's root only, who reads it
    // through the bind mount at /.pxoci (LXC mounts it with that root's credentials too).
    const ctOwner = ctRoot ?? { uid: 0, gid: 0 };
    const privateCtFile = (name: string, data: string | Buffer) => {
      writeFileSync(`${ctDir}/${name}`, data, { mode: 0o600, flag: 'wx' });
      if (ctRoot) chownSync(`${ctDir}/${name}`, ctRoot.uid, ctRoot.gid);
    };
    if (ctRoot) chownSync(ctDir, ctRoot.uid, ctRoot.gid);
    // ct/ is read only by the CT that this create starts, after these writes: no reader can see half a
    // file, and after a power loss nothing starts that CT again (its keeper is gone). So plain writes,
    // not tmp + fsync + rename.
    privateCtFile('process', encodeInitSpec(init));
    if (seccomp !== undefined) privateCtFile('seccomp', seccomp);
    if (fstab !== undefined) privateCtFile('fstab', fstab);
    if (hookPlan.length) {
      privateCtFile('mounts', encodeHookPlan(hookPlan));
      // LXC keeps a hook's words to its debug log: the hook writes why it failed here, as the CT's
      // root, which may write nothing else of ours.
      privateCtFile(MOUNT_ERROR_FILE, '');
    }
    crashPoint('create:runtime-written');
    // The init binary (~1 MB) is copied by the thread pool, alongside the config write and the keeper's
    // start below; pct start waits for it. A failed copy settles before the rollback removes ct/.
    const initCopied = new Promise<void>((ok, fail) => copyFile(helperPath('pxoci-init'), `${ctDir}/init`, (e) => (e ? fail(e) : ok())));
    // The keeper does not depend on the config: it starts while the lock helper starts and the config
    // is written, each filling the other's waits. Both are done before pct start. The config first:
    // writeConfLocked can throw before it returns a promise, and then no keeper may have been spawned.
    const confWritten = writeConfLocked(paths, vmid, config, { id, key }, () => crashPoint('create:conf-locked')).then(() =>
      crashPoint('create:conf-written'),
    );
    const keeperStarted = startKeeper({
      ctDir,
      exitFile: store.exitFile(id),
      startResultFile: startResultFile(store.dir(id)),
      vmid,
      lxcPath: paths.lxcPath,
      lxcInfo: paths.lxcBin('lxc-info'),
      preserveFds,
      namespacedSysctls,
      namespaceJoins,
      ctRoot: ctOwner,
      consoleSocket: o.consoleSocket ? resolve(o.consoleSocket) : undefined,
    }).then((k) => {
      keeper = k;
      crashPoint('create:keeper-spawned');
    });
    // All settle before any error counts, so that a rollback knows of a keeper that did start; the
    // error reported is the one of the earliest step, as when they ran one after the other.
    for (const result of await Promise.allSettled([initCopied, confWritten, keeperStarted])) {
      if (result.status === 'rejected') throw result.reason;
    }
    if (!keeper) throw new RuntimeError('internal error: no keeper');
    // Until the keeper is in the CT, the launcher is the process a recovery must end.
    record.keeperPid = keeper.launcherPid;
    record.keeperStart = processStartTime(keeper.launcherPid);
    store.save(record);
    crashPoint('create:keeper-recorded');

    started = true;
    const result = await driver.pct('start', String(vmid));
    if (result.code !== 0) {
      // An init that failed at once (e.g. no such executable) stops the CT before pct sees it
      // running: its own message is the one the caller needs.
      const initError = await Promise.race([
        keeper.ready.then(() => undefined, (e: Error) => e),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000)),
      ]);
      throw mountHookError(ctDir) ?? initError ?? new RuntimeError(`pct start ${vmid} failed: ${startError(result)}`);
    }
    crashPoint('create:ct-started');
    keeper.ctStarted();
    const { initPid, pid, keeperPid } = await keeper.ready;
    // What only the host can do in the CT, once LXC is done with it (src/oci/mount-plan.ts).
    const setup = await run(helper, ['ct-setup', '--pid', String(initPid), '--ct-dir', ctDir], encodeSetupPlan(setupPlan));
    if (setup.code !== 0) throw new RuntimeError(setup.stderr.trim() || `pxoci-helper ct-setup failed: ${toolError(setup)}`);
    Object.assign(record, { initPid, pid, pidStart: processStartTime(pid), keeperPid, keeperStart: processStartTime(keeperPid) });
    store.save(record);
    crashPoint('create:ready-recorded');
    saveHooks(store.dir(id), spec.hooks);
    await runCreateHooks(spec.hooks ?? {}, record, pid);

    if (o.pidFile) {
      const pidFile = isAbsolute(o.pidFile) ? o.pidFile : resolve(process.cwd(), o.pidFile);
      // Digits only: containerd parses it with strconv.Atoi.
      atomicWrite(pidFile, String(keeperPid), 0o644);
    }
  } catch (e) {
    await rollback(ctx, record, key, keeper, started);
    // The lifecycle goes on to destroy and poststop whenever the CT had been started (runc too).
    if (started) await runPoststopHooks(spec.hooks ?? {}, record);
    if (e instanceof ConfigError) throw new RuntimeError(e.message);
    throw e;
  }
}

const MOUNT_ERROR_FILE = 'mount-error';

/** Why the mount hook failed, when it did: its message names the field. The file is the CT root's:
 *  read without following a link, and no more than a message. */
function mountHookError(ctDir: string): RuntimeError | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(`${ctDir}/${MOUNT_ERROR_FILE}`, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const buf = Buffer.alloc(4096);
    const text = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8').trim();
    return text ? new RuntimeError(text) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A failed create leaves nothing behind: no keeper, no CT, no config, no mount, no state entry. The
 *  keeper in the CT ends with it; the launcher, on the host, is ended here. */
async function rollback(ctx: Context, record: ContainerRecord, key: OwnerKey, keeper: Keeper | undefined, started: boolean) {
  keeper?.stopLauncher();
  if (record.keeperPid !== undefined && isSameProcessAlive(record.keeperPid, record.keeperStart)) {
    try {
      process.kill(record.keeperPid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (record.vmid !== undefined) {
    if (started) await destroyContainerCts(ctx, record, key);
    else await removeConfLocked(ctx.driver.paths, record.vmid, record.id, key);
  }
  removeRuntimeMountPoint(ctx.store.dir(record.id), ctx.driver.paths);
  rmSync(ctx.store.dir(record.id), { recursive: true, force: true });
}
