// Host-managed DHCP, as PVE 9.1 runs it (pve-container: vm_start, manage_dhclient, kill_dhclients;
// docs/simulator.md "Host-managed DHCP"): once the CT runs, `pct start` runs ISC dhclient for each
// host-managed interface with ip=dhcp / ip6=dhcp, in the CT's network and UTS namespaces only (host
// mount and PID namespaces, so its pid and lease files are the node's var/lib/lxc/<vmid>/hook/...),
// with LXC's dhclient-script, which sets the address in the CT's namespace. `-1`: one try; on success
// dhclient stays as a daemon and start goes on, without a lease it ends after its timeout (60 s by
// default) and start warns and still succeeds. The post-stop hook kills the daemons.
import { existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { dhclientFile, dhclientHookDir, hostManagedDhcp } from '../pve/host-dhcp.js';
import type { NodePaths } from '../pve/paths.js';
import { shellQuote } from '../lib/shell-quote.js';
import { spawnSync } from './lazy-builtins.js';

const DHCLIENT = '/sbin/dhclient';
/** LXC's script (lxc-pve ships it, Debian's liblxc-common too): resolves its paths below $ROOTFS. */
const DHCLIENT_SCRIPT = '/usr/share/lxc/hooks/dhclient-script';

/** PVE::Tools::cmd2string: words with shell characters quoted. */
function commandText(cmd: string[]): string {
  return cmd.map((w) => (/^[-\w/.:=+,@%]+$/.test(w) ? w : shellQuote(w))).join(' ');
}

/**
 * vm_start's DHCP step, after the CT runs: one dhclient per interface, one after the other, each
 * awaited; a failure is PVE's log_warn `DHCP failed - <run_command's error>` and the start goes on.
 */
export function startHostDhcp(p: NodePaths, vmid: number, options: Record<string, string | undefined>, ctPidOf: () => number | undefined, warn: (msg: string) => void): void {
  const interfaces = hostManagedDhcp(options);
  if (!interfaces.length) return;
  // PVE's open_lxc_pid dies when the CT has no pid; so does vm_start then. Asked only here: most CTs
  // have no such interface, and the start need not pay for an lxc-info.
  const ctPid = ctPidOf();
  if (ctPid === undefined) throw new Error(`unable to get PID for CT ${vmid} (not running?)`);
  // PVE wraps dhclient in `aa-exec -p unconfined` (LXC would confine it to the CT's profile); on a
  // host without AppArmor there is no profile to leave, as LXC's own dhclient hook decides.
  const unconfined = existsSync('/sys/kernel/security/apparmor') ? ['aa-exec', '-p', 'unconfined'] : [];
  for (const iface of interfaces) {
    mkdirSync(dhclientHookDir(p.lxcPath, vmid), { recursive: true });
    const cmd = [
      p.lxcBin('lxc-attach'),
      '-P',
      p.lxcPath,
      '-n',
      String(vmid),
      '-s',
      'NETWORK|UTSNAME',
      '--',
      ...unconfined,
      DHCLIENT,
      '-1',
      `-${iface.ipVersion}`,
      '-pf',
      dhclientFile(p.lxcPath, vmid, iface, 'pid'),
      '-lf',
      dhclientFile(p.lxcPath, vmid, iface, 'leases'),
      '-e',
      `ROOTFS=/proc/${ctPid}/root`,
      '-sf',
      DHCLIENT_SCRIPT,
      iface.eth,
    ];
    // run_command: dhclient's words go to pct's stdout/stderr. The daemon it leaves closes them.
    const r = spawnSync(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
    const failure = r.error
      ? `command '${commandText(cmd)}' failed: ${r.error.message}`
      : r.status
        ? `command '${commandText(cmd)}' failed: exit code ${r.status}`
        : r.signal
          ? `command '${commandText(cmd)}' failed: got signal ${r.signal}`
          : undefined;
    if (failure) warn(`WARN: DHCP failed - ${failure}`);
  }
}

/**
 * kill_dhclients, from the post-stop hook (vm_stop_cleanup): SIGKILL to each pid in the CT's
 * dhclient*-<eth>.pid files, which go; the lease files stay, for the next start. Unlike PVE, only a
 * process that is a dhclient is killed: a pid file that outlived its daemon must not kill whatever
 * process of the test machine has that pid now.
 */
export function killHostDhcp(p: NodePaths, vmid: number, warn: (msg: string) => void): void {
  const dir = dhclientHookDir(p.lxcPath, vmid);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.filter((n) => /^dhclient.*-.+\.pid$/.test(n))) {
    const file = `${dir}/${name}`;
    let pid: string;
    try {
      pid = readFileSync(file, 'utf8').replace(/\n$/, '');
    } catch {
      continue;
    }
    if (!/^\d+$/.test(pid)) continue;
    if (isDhclient(Number(pid))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    try {
      unlinkSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') warn(`failed to unlink PID file '${file}' - ${(e as Error).message}`);
    }
  }
}

function isDhclient(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dhclient';
  } catch {
    return false;
  }
}
