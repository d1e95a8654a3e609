// OCI config.json → PVE CT config. Pure: what it needs to know about the host comes in `ctx`.
// One function per section of the spec, in src/oci/translate/, each writing its part of the CT config
// through CtConfig, which checks every value: nothing from the bundle may add a line, a key or a
// property. translate() calls them in a fixed order, which is also the order errors are found in.
import type { PveConfig, PveRelease } from '../pve/config.js';
import type { OciSpec } from './bundle.js';
import { ConfigError } from './errors.js';
import type { InitSpec } from './initspec.js';
import type { HookOp, SetupOp } from './mount-plan.js';
import { annotationLines } from './translate/annotations.js';
import { CtConfig, shellWord } from './translate/ct-config.js';
import { translateDevices } from './translate/devices.js';
import { translateHooks } from './translate/hooks.js';
import { hostnameFor, rejectDomainname } from './translate/hostname.js';
import { translateMaskedPaths, translateReadonlyPaths } from './translate/masked-readonly-paths.js';
import { MountPlans } from './translate/mount-plans.js';
import { translateMounts } from './translate/mounts.js';
import { namespaceJoins, translateNamespaces, type NamespaceJoin } from './translate/namespaces.js';
import { podLine } from './translate/pod.js';
import { translateProcess } from './translate/process.js';
import { translatePveNetwork } from './translate/pve-network.js';
import { translateResources } from './translate/resources.js';
import { rootfsOption, translateRootMounts } from './translate/root.js';
import { mountRuntimeDir } from './translate/runtime-dir.js';
import { translateSeccomp } from './translate/seccomp.js';
import { namespacedSysctls } from './translate/sysctl.js';
import { rejectUnsupportedLinuxFields } from './translate/unsupported.js';

export { annotationLines } from './translate/annotations.js';
export { hostnameFor } from './translate/hostname.js';
export { processToInitSpec } from './translate/process.js';
export { sharesToCpuunits } from './translate/resources.js';

export interface TranslateContext {
  id: string;
  bundle: string;
  vmid: number;
  /** Host directory bind-mounted read-only at /.pxoci (init, process spec, socket, fifo). */
  runtimeDir: string;
  arch: string;
  /** pxoci-helper's absolute path: LXC runs it as the CT's mount hook (needed when there is one). */
  helper?: string;
  /** What a host path is: a bind's mount point is a directory or a file like its source. */
  pathKind?: (path: string) => 'dir' | 'file' | 'char' | 'block' | 'missing';
  /** A host path with its symlinks resolved (undefined when missing): PVE refuses symlinks in bind
   *  paths. The path as given when not set. */
  realPath?: (path: string) => string | undefined;
  /** The bundle's rootfs, resolved to its real path (PVE refuses a symlink in it). */
  rootfs: string;
  /** The node's PVE release (asked only when a key depends on it); the latest when not given. */
  pveRelease?: () => PveRelease;
}

export interface Translation {
  config: PveConfig;
  init: InitSpec;
  /** Sysctls of the CT's own network and IPC namespaces, which PVE's raw keys cannot set (net.* has
   *  no key; LXC writes lxc.sysctl.kernel.* after proc:mixed made /proc/sys read-only, and the CT fails
   *  to start): the keeper sets them from the host, inside those namespaces, before the process starts. */
  namespacedSysctls: Array<[string, string]>;
  /** The network, IPC and UTS namespaces the container runs in instead of the CT's own: the launcher
   *  opens them on the host, pxoci's init joins them. */
  namespaceJoins: NamespaceJoin[];
  /** Host uid/gid of the CT's root when it has a user namespace. */
  ctRoot?: { uid: number; gid: number };
  /** The LXC seccomp policy for linux.seccomp, to be written at `<runtimeDir>/seccomp`. */
  seccomp?: string;
  /** LXC's fstab (`<runtimeDir>/fstab`), when lxc.mount.fstab is set. */
  fstab?: string;
  /** The mount hook's work (`<runtimeDir>/mounts`), when lxc.hook.mount is set. */
  hookPlan: HookOp[];
  /** ct-setup's work, once the CT's init runs. */
  setupPlan: SetupOp[];
}

export function translate(spec: OciSpec, ctx: TranslateContext): Translation {
  if (!spec.process) throw new ConfigError('process', 'is required to create a container');
  const pathKind = ctx.pathKind ?? (() => 'dir' as const);
  const realPath = ctx.realPath ?? ((p: string) => p);
  const linux = spec.linux ?? {};
  const ct = new CtConfig(ctx.pveRelease);
  const plans = new MountPlans();

  rejectDomainname(spec.domainname);
  const joins = namespaceJoins(linux);
  const hostUts = joins.some((j) => j.type === 'uts' && !j.path);
  if (hostUts && spec.hostname) throw new ConfigError('hostname', 'needs a private UTS namespace, and linux.namespaces has no "uts" (the host\'s hostname is not the container\'s to set)');
  const startHooks = translateHooks(spec, ctx);
  ct.option('arch', ctx.arch, "the host's architecture");
  // PVE must leave the guest's files alone: an OCI rootfs is not a distribution it knows how to set up.
  ct.option('ostype', 'unmanaged', 'ostype');
  ct.option('hostname', hostnameFor(spec, ctx.id), spec.hostname ? 'hostname' : 'hostname (from the container id)');
  ct.option('rootfs', rootfsOption(ctx.rootfs), 'root.path');
  const init = translateProcess(spec.process, ct, joins.length > 0);
  if (joins.length) init.joinNamespaces = joins.map((j) => j.type);
  // Like runc, the hostname is set in a UTS namespace joined by path (where it differs from it).
  const utsPath = joins.some((j) => j.type === 'uts' && j.path);
  if (utsPath && spec.hostname) init.hostname = spec.hostname;
  if (startHooks) init.startHooks = startHooks;
  const runtimeDir = mountRuntimeDir(ctx.runtimeDir, ct);
  translateMounts(spec.mounts ?? [], ct, plans, { pathKind, realPath });
  if (plans.fstab.length) ct.raw('lxc.mount.fstab', `${runtimeDir}/fstab`);
  const ctRoot = translateNamespaces(linux, ct);
  translatePveNetwork(spec, ct, ctx.pveRelease);
  // The device nodes' cgroup rules first, so that linux.resources.devices can still deny them.
  translateDevices(linux.devices ?? [], ct, plans);
  if (linux.resources) translateResources(linux.resources, ct);
  const sysctls = namespacedSysctls(linux.sysctl ?? {}, joins);
  // runc's order: read-only paths, then masks (a path in both ends up masked), then the root.
  translateReadonlyPaths(linux.readonlyPaths ?? [], plans);
  translateMaskedPaths(linux.maskedPaths ?? [], plans);
  translateRootMounts(spec.root, linux.rootfsPropagation, plans);
  // LXC runs a hook through `sh -c`: both paths must be plain words.
  if (plans.hook.length) {
    if (!ctx.helper) throw new Error('internal error: the translation needs the path of pxoci-helper');
    ct.raw('lxc.hook.mount', `${shellWord('pxoci-helper', ctx.helper)} mount-hook ${shellWord('runtime directory', runtimeDir)}`);
  }
  const seccomp = linux.seccomp ? translateSeccomp(linux.seccomp, ct, ctx.arch, runtimeDir, joins.map((j) => j.type)) : undefined;
  rejectUnsupportedLinuxFields(linux);
  const annotations = spec.annotations as Record<string, string> | undefined;
  // annotationLines checks every annotation first: only checked values reach the pod line.
  const notes = annotationLines(annotations);
  const pod = podLine(annotations);
  const config = ct.pveConfig(pod ? [pod, ...notes] : notes);
  return { config, init, namespacedSysctls: sysctls, namespaceJoins: joins, ctRoot, seccomp, fstab: plans.fstab.length ? plans.fstab.join('') : undefined, hookPlan: plans.hook, setupPlan: plans.setup() };
}
