// pvesim's stand-ins for lxc-pve's hooks, run by LXC in the CT's monitor (whose mount namespace
// lxc.monitor.unshare keeps apart from the host's, so the volumes are never mounted in the host's):
//   pre-start   mounts rootfs, mp0, mp1, … in key order and makes the devN nodes (volumes.ts)
//   post-stop   unmounts, then applies the pending changes and writes the config back, as PVE's does at
//               every stop: what PVE's parser dropped (a raw key it does not know) is gone from the file.
// A failure dies with PVE's text on stderr, which LXC passes to run/pve/ct-<vmid>.stderr, where
// pct start finds it. Called as `lxc-hooks.js <type> <name> lxc <type>` by the shims `pvesim env` writes.
import { existsSync } from 'node:fs';
import { nodePaths } from '../pve/paths.js';
import { nodeRelease, readConfig, writeConfig } from './ct-configs.js';
import { applyPending } from './pending.js';
import { PveError } from './pve-error.js';
import { prestartVolumes, unmountVolumes } from './volumes.js';

const [type, name, section, lxcType] = process.argv.slice(2);
const p = nodePaths();

function main(): void {
  // Only our node's CTs, and only the hook LXC means (PVE's lxc_hook checks the same).
  if (!name || !/^\d+$/.test(name) || section !== 'lxc' || lxcType !== type) return;
  const vmid = Number(name);
  if (!existsSync(p.confPath(vmid))) return;
  const conf = readConfig(p, vmid);
  if (type === 'pre-start') {
    prestartVolumes(p, vmid, conf, nodeRelease(p));
  } else if (type === 'post-stop') {
    unmountVolumes(p, vmid);
    // PVE's parser always returns a pending section (maybe empty), so this runs at every stop, without
    // the config lock, as PVE's hook does.
    writeConfig(p, vmid, applyPending(conf));
  }
}

try {
  main();
} catch (e) {
  process.stderr.write((e instanceof PveError || e instanceof Error ? e.message : String(e)) + '\n');
  process.exit(1);
}
