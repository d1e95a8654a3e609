// pvesim's stand-in for lxc-pve's post-stop hook, run by LXC in the CT's monitor at every stop: it
// unmounts (in the monitor's mount namespace, which lxc.monitor.unshare keeps apart from the host's),
// then applies the pending changes and writes the config back, as PVE's does: what PVE's parser dropped
// (a raw key it does not know) is gone from the file. (The pre-start hook is a shell script pct start
// writes: volumes.ts prestartScript.) Called as `lxc-hooks.js post-stop <name> lxc post-stop` by the
// shim `pvesim env` writes; a failure goes to stderr, which LXC keeps in its debug log.
import { existsSync } from 'node:fs';
import { nodePaths } from '../pve/paths.js';
import { readConfig, writeConfig } from './ct-configs.js';
import { killHostDhcp } from './ct-dhcp.js';
import { deleteNodeVeths } from './node-network.js';
import { applyPending } from './pending.js';
import { PveError } from './pve-error.js';
import { unmountVolumes } from './volumes.js';

const [type, name, section, lxcType] = process.argv.slice(2);
const p = nodePaths();

function main(): void {
  // Only our node's CTs, and only the hook LXC means (PVE's lxc_hook checks the same).
  if (!name || !/^\d+$/.test(name) || section !== 'lxc' || lxcType !== type) return;
  const vmid = Number(name);
  if (!existsSync(p.confPath(vmid))) return;
  if (type !== 'post-stop') return;
  const conf = readConfig(p, vmid);
  unmountVolumes(p, vmid);
  // vm_stop_cleanup: the host's DHCP clients of the CT go (they would keep its network namespace, and
  // with it the veth, alive); then, as PVE, each veth is deleted, in case LXC's deletion got lost.
  const warn = (msg: string) => process.stderr.write(msg + '\n');
  killHostDhcp(p, vmid, warn);
  deleteNodeVeths(p.root, vmid, conf.options, warn);
  // PVE's parser always returns a pending section (maybe empty), so this runs at every stop, without
  // the config lock, as PVE's hook does.
  writeConfig(p, vmid, applyPending(conf));
}

try {
  main();
} catch (e) {
  process.stderr.write((e instanceof PveError || e instanceof Error ? e.message : String(e)) + '\n');
  process.exit(1);
}
