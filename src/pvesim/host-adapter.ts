// The LXC config PVE renders (update-lxc-config.ts), rewritten for the hosts the simulator runs on: Debian's
// lxc 5.0 instead of PVE's lxc 6, a hybrid cgroup layout (v1 controllers) instead of pure cgroup v2, no
// AppArmor in the kernel, no bridges and pvesim's own hooks in place of lxc-pve's. Every rewrite is announced by a warning that
// pct prints as `WARN: pvesim: …`: a CT that behaves differently from a real node must say so.
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { release } from 'node:os';
import { parsePropertyString, type PveConfig, type PveRelease } from '../pve/config.js';
import { deviceNumbers } from '../pve/node-facts.js';
import type { NodePaths } from '../pve/paths.js';
import { cgroupV1Equivalents } from '../pve/ct-cgroups.js';
import { cgroupScope } from './node-cgroups.js';
import { passthroughNode } from './volumes.js';
import { LXC_CONFIG_DIR, updateLxcConfig, type LxcLine, type RenderFacts, type RenderedLxcConfig } from './update-lxc-config.js';

export interface LxcConfigResult {
  lines: string[];
  warnings: string[];
  /** Files to write next to the config (rules.seccomp). */
  files: Record<string, string>;
}

/** pvesim's stand-ins for lxc-pve's pre-start and post-stop hooks (src/pvesim/lxc-hooks.ts). */
export interface SimHooks {
  preStart: string;
  postStop: string;
}

/** What `pct start` writes to var/lib/lxc/<vmid>/config on this host, with the warnings to print. */
export function lxcConfigForThisHost(conf: PveConfig, vmid: number, p: NodePaths, hooks: SimHooks, pve: PveRelease, firstStart = false): LxcConfigResult {
  // A simulated node has no bridges: PVE would refuse every netN (`bridge … does not exist`), so the
  // CT is rendered without them and gets an empty network namespace instead (said at 'network').
  const options = Object.fromEntries(Object.entries(conf.options).filter(([k]) => !/^net\d+$/.test(k)));
  const rendered = updateLxcConfig({ ...conf, options }, vmid, thisHostFacts(p.lxcPath, pve, firstStart));
  return adaptToThisHost(rendered, conf, vmid, p.root, hooks, hostCgroupMode());
}

/** How this host mounts cgroups: PVE 8 and 9 nodes are pure cgroup v2; our test VMs are hybrid. */
export type CgroupMode = 'unified' | 'hybrid';

const CGROUP2_SUPER_MAGIC = 0x63677270;

export function hostCgroupMode(): CgroupMode {
  try {
    return statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC ? 'unified' : 'hybrid';
  } catch {
    return 'hybrid';
  }
}

/** What PVE would look up on its node, read from this host. */
export function thisHostFacts(lxcPath: string, pve: PveRelease, firstStart: boolean): RenderFacts {
  const [major, minor] = release().split('.').map(Number);
  return {
    pve,
    firstStart,
    lxcPath,
    hasLxcConfigFile: (name) => existsSync(`${LXC_CONFIG_DIR}/${name}`),
    readLxcConfigFile: (name) => readFileSync(`${LXC_CONFIG_DIR}/${name}`, 'utf8'),
    device(path) {
      if (!existsSync(path)) return { kind: 'missing' };
      return deviceNumbers(path) ?? { kind: 'not-a-device' };
    },
    kernelVersion: [major ?? 0, minor ?? 0],
    pathExists: existsSync,
    bridgeMtu(bridge) {
      try {
        return Number(readFileSync(`/sys/class/net/${bridge}/mtu`, 'utf8').trim()) || undefined;
      } catch {
        return undefined;
      }
    },
    ctCpus: hostCpus,
    random: Math.random,
  };
}

/** The CPUs of this host's root cpuset; undefined when there are none to read. */
function hostCpus(): number[] | undefined {
  let text = '';
  try {
    text = readFileSync(hostCgroupMode() === 'unified' ? '/sys/fs/cgroup/cpuset.cpus.effective' : '/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8').trim();
  } catch {
    return undefined;
  }
  const cpus: number[] = [];
  for (const part of text.split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a!; i <= (b ?? a!); i++) cpus.push(i);
  }
  return cpus.length ? cpus : undefined;
}

export function adaptToThisHost(rendered: RenderedLxcConfig, conf: PveConfig, vmid: number, root: string, hooks: SimHooks, cgroupMode: CgroupMode): LxcConfigResult {
  const o = conf.options;
  const features = o.features ? parsePropertyString('features', o.features) : {};
  const warnings: string[] = [];
  const files = { ...rendered.files };
  const out: LxcLine[] = [];
  for (const step of rendered.steps) {
    warnings.push(...step.warnings);
    let lines = step.lines;
    switch (step.step) {
      case 'cgroup-dirs': {
        // Every simulated node has its CT 100: each keeps its CTs' cgroups under its own directory.
        const scope = cgroupScope(root);
        if (scope) warnings.push(`cgroups under ${scope}lxc/${vmid} (a real node: lxc/${vmid}), so that simulated nodes on one host do not collide`);
        lines = lines.map(([k, v]): LxcLine => (k === 'lxc.cgroup.dir.monitor' || k === 'lxc.cgroup.dir.container' ? [k, scope + v] : [k, v]));
        break;
      }
      case 'includes':
        // PVE's own fallback, taken here where a real node's lxc has the distribution's file.
        if (o.ostype !== 'unmanaged') {
          for (const [, file] of lines) {
            const fallback = file.slice(LXC_CONFIG_DIR.length + 1);
            if (fallback !== 'common.conf' && fallback !== 'userns.conf') continue;
            const wanted = `${o.ostype}.${fallback}`;
            warnings.push(`lxc.include: this host's lxc has no ${wanted} (Debian's lxc 5.0 ships no per-distribution configs), so PVE's fallback ${fallback} is included`);
          }
        }
        // lxc-pve's common.conf.d/01-pve.conf brings PVE's hooks with the include; this host's lxc has
        // pvesim's in their place, at the same point (before any raw lxc.hook.* of the CT).
        warnings.push(
          "lxc-pve's hooks are not on this host: pvesim's pre-start hook mounts the volumes and makes the devN nodes, its post-stop hook unmounts and rewrites the config as PVE's do; the distribution setup of PVE's pre-start hook (hostname, network files) is not simulated",
        );
        lines = [...lines, ['lxc.hook.pre-start', hooks.preStart], ['lxc.hook.post-stop', hooks.postStop]];
        break;
      case 'seccomp':
        // No pve-lxc-syscalld here to answer the notifications: mknod stays denied.
        if (lines.some(([k]) => k.startsWith('lxc.seccomp.notify.'))) {
          warnings.push('features mknod=1: the seccomp notify proxy (pve-lxc-syscalld) is not simulated; mknod stays denied');
          lines = lines.filter(([k]) => !k.startsWith('lxc.seccomp.notify.'));
          const rules = files['rules.seccomp'];
          if (rules !== undefined) files['rules.seccomp'] = rules.replace(/^mknod(at)? notify .*\n/gm, '');
        }
        break;
      case 'apparmor':
        if (lines.length) {
          const uses = [
            ...(features.fuse === '1' ? ['features:fuse'] : []),
            ...(features.nesting === '1' ? ['features:nesting'] : []),
            ...(features.mount ? ['features:mount'] : []),
          ];
          warnings.push(`AppArmor is not enforced on this host: lxc.apparmor.profile = unconfined instead of PVE's generated profile${uses.length ? ` (${uses.join(', ')} have no effect)` : ''}`);
          lines = [['lxc.apparmor.profile', 'unconfined']];
        }
        break;
      case 'fuse': {
        // The AppArmor warning above names features:fuse already, unless a raw profile replaced PVE's.
        const apparmorRules = lines.filter(([k]) => k.startsWith('lxc.apparmor.'));
        if (apparmorRules.length && !warnings.some((w) => w.startsWith('AppArmor is not enforced'))) {
          warnings.push(`features fuse=1: ${apparmorRules.map(([k, v]) => `${k} = ${v}`).join(', ')} left out (no AppArmor on this host)`);
        }
        lines = lines.filter(([k]) => !k.startsWith('lxc.apparmor.'));
        break;
      }
      case 'device': {
        const dev = parsePropertyString('dev', o[step.key!]!);
        // The pre-start hook makes the node (owner, mode) in var/lib/lxc/<vmid>/passthrough as PVE's
        // does; PVE's autodev hook then mknods it in the CT's /dev, for which this host has no hook.
        const node = passthroughNode(rendered.ctDir, dev.path!);
        warnings.push(`${step.key}: ${dev.path} is bind-mounted into the CT from PVE's passthrough node ${node} (lxc-pve's autodev hook would mknod it): the CT's mountinfo lists it`);
        lines = [...lines, ['lxc.mount.entry', `${node} ${dev.path!.replace(/^\//, '')} none bind,create=file 0 0`]];
        break;
      }
      case 'entrypoint':
        if (lines.length && /['"]/.test(o.entrypoint!)) warnings.push(`entrypoint: lxc 5.0 splits lxc.init.cmd on spaces and ignores quotes: ${o.entrypoint}`);
        break;
      case 'network': {
        const nets = Object.keys(o).filter((k) => /^net\d+$/.test(k));
        if (nets.length) warnings.push(`${nets.join(', ')}: network interfaces are not simulated; the CT gets an empty network namespace`);
        lines = [['lxc.net.0.type', 'empty']];
        break;
      }
      case 'env':
        if (lines.length) warnings.push('env: lxc 5.0 has no lxc.environment.runtime; written as lxc.environment (also seen by lxc-attach)');
        break;
      case 'raw':
        if (lines.some(([k]) => k === 'lxc.environment.runtime')) {
          warnings.push('raw lxc.environment.runtime: lxc 5.0 has no such key; written as lxc.environment (also seen by lxc-attach)');
        }
        break;
    }
    out.push(...lines);
  }

  // A hybrid host's cgroup v1 controllers take what has an equivalent; the rest is named. A pure
  // cgroup v2 host takes PVE's lines as they are.
  const memoryMiB = Number(o.memory || 512);
  const lines: string[] = [];
  const translated = new Set<string>();
  for (const [key, value] of out) {
    if (key.startsWith('lxc.cgroup2.') && cgroupMode === 'hybrid') {
      const v1 = cgroupV1Equivalents(key.slice('lxc.cgroup2.'.length), value, () => memoryMiB * 1024 * 1024);
      if (!v1) {
        warnings.push(`${key} = ${value} not enforced on this host (hybrid cgroups, no v1 equivalent)`);
        continue;
      }
      translated.add(key === 'lxc.cgroup2.memory.swap.max' ? `${key} (as memory+swap)` : key);
      for (const [file, v] of v1) lines.push(`lxc.cgroup.${file} = ${v}`);
      continue;
    }
    // lxc 5.0 does not know lxc.environment.runtime.
    if (key === 'lxc.environment.runtime') {
      lines.push(`lxc.environment = ${value}`);
      continue;
    }
    lines.push(`${key} = ${value}`);
  }
  if (translated.size) warnings.push(`cgroup v2 keys written as their v1 equivalents (hybrid cgroups on this host): ${[...translated].join(', ')}`);
  return { lines, warnings, files };
}
