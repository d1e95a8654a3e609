// pvesim: the simulated PVE node that the tests, the demo and the conformance runs use.
//   pvesim env --root DIR [--node NAME] [--pve 8|9]
//                                         set up (idempotently) a node tree under DIR running PVE 9 (or
//                                         8.4; remembered in the tree); print `export` lines
//   pvesim down --root DIR                stop every CT it started, unmount, remove the tree
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PVE_RELEASES, type PveRelease } from '../pve/config.js';
import { dpkgStatusPath, pveVersions } from '../pve/node-facts.js';
import { nodePaths } from '../pve/paths.js';
import { updateVmlist } from './ct-configs.js';
import { spawnSync } from './lazy-builtins.js';
import { removeNodeCgroups } from './node-cgroups.js';
import { shellQuote } from '../lib/shell-quote.js';
import { mountsBelow, simHookPaths, templateCacheDir, unmountAllBelow } from './volumes.js';

const dist = dirname(fileURLToPath(import.meta.url));

function option(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(name + '='));
  if (i < 0) return undefined;
  return args[i]!.includes('=') ? args[i]!.slice(name.length + 1) : args[i + 1];
}

/** The packages a node of each release runs (pve-manager, pve-container), as its dpkg records them. */
const PACKAGES: Record<PveRelease, Record<string, string>> = {
  8: { 'pve-manager': '8.4.1', 'pve-container': '5.2.6' },
  9: { 'pve-manager': '9.1.19', 'pve-container': '6.1.10' },
};

/** The node's dpkg status, in Debian's format: how pxoci and pct learn which PVE the node runs. */
function writePveVersion(p: ReturnType<typeof nodePaths>, release: PveRelease): void {
  const stanzas = Object.entries(PACKAGES[release]).map(
    ([name, version]) => `Package: ${name}\nStatus: install ok installed\nPriority: optional\nMaintainer: pvesim\nArchitecture: all\nVersion: ${version}\nDescription: the version a simulated PVE ${release} node reports\n`,
  );
  const file = dpkgStatusPath(p);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, stanzas.join('\n'));
}

function env(root: string, node: string, release: PveRelease | undefined): void {
  const p = nodePaths(root, node);
  for (const d of [p.lxcConfDir, join(p.etcPve, 'nodes', node, 'qemu-server'), p.lockDir, p.lxcPath, join(root, 'run/pve'), join(root, 'usr/sbin'), join(root, 'usr/bin'), templateCacheDir(p)]) {
    mkdirSync(d, { recursive: true });
  }
  // The release stays what the tree was made with unless --pve says otherwise.
  if (release !== undefined || !pveVersions(p)) writePveVersion(p, release ?? 9);
  // Unprivileged CTs map ids through newuidmap: every path down to var/lib/lxc/<vmid>/rootfs must be
  // traversable by uid 100000 (mkdtemp makes 0700 dirs), as /var/lib/lxc is on a real node.
  chmodSync(root, 0o755);
  ensureSubordinateIds();
  const link = join(p.etcPve, 'lxc');
  if (!existsSync(link)) symlinkSync(`nodes/${node}/lxc`, link);
  if (!existsSync(p.vmlist)) updateVmlist(p);
  // Shims: work with an empty PATH (podman runs the runtime without one), so every path is absolute.
  const shim = (script: string) =>
    `#!/bin/sh\nPXOCI_PVE_ROOT=${shellQuote(root)} PXOCI_PVE_NODE=${shellQuote(node)} exec ${shellQuote(process.execPath)} ${shellQuote(join(dist, script))} "$@"\n`;
  const hooks = simHookPaths(p);
  mkdirSync(dirname(hooks.preStart), { recursive: true });
  for (const [file, text] of <Array<[string, string]>>[
    [p.pct, shim('pct.js')],
    [p.pvesh, shim('pvesh.js')],
    // LXC runs a hook as `<hook> <vmid> lxc <type>`: the shim names the type it stands for.
    // The pre-start work is the script pct start wrote for the CT (volumes.ts prestartScript), read
    // by this shell rather than a new one.
    [hooks.preStart, `#!/bin/sh\n. ${shellQuote(p.lxcPath)}/"$1"/pvesim-prestart\n`],
    [hooks.postStop, shim('lxc-hooks.js').replace(/ "\$@"\n$/, ' post-stop "$@"\n')],
  ]) {
    writeFileSync(file, text);
    chmodSync(file, 0o755);
  }
  process.stdout.write(
    [
      `export PXOCI_PVE_ROOT=${shellQuote(root)}`,
      `export PXOCI_PVE_NODE=${shellQuote(node)}`,
      `export PATH=${shellQuote(`${join(root, 'usr/sbin')}:${join(root, 'usr/bin')}`)}:"$PATH"`,
      '',
    ].join('\n'),
  );
}

/**
 * A PVE node ships root:100000:65536 in /etc/subuid and /etc/subgid (lxc-pve's postinst); without it
 * lxc cannot start an unprivileged CT. Added once, said on stderr.
 */
function ensureSubordinateIds(): void {
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = '';
    }
    if (/^root:100000:65536$/m.test(text)) continue;
    appendFileSync(file, (text && !text.endsWith('\n') ? '\n' : '') + 'root:100000:65536\n');
    process.stderr.write(`pvesim: added root:100000:65536 to ${file}, as a PVE node has it (unprivileged CTs)\n`);
  }
}

function down(root: string): void {
  const { lxcPath, lxcBin } = nodePaths(root);
  let names: string[] = [];
  try {
    names = readdirSync(lxcPath);
  } catch {
    names = [];
  }
  for (const name of names) spawnSync(lxcBin('lxc-stop'), ['-P', lxcPath, '-n', name, '--kill'], { stdio: 'ignore' });
  removeNodeCgroups(root);
  unmountAllBelow(root);
  if (mountsBelow(root).length > 0) {
    process.stderr.write(`pvesim: still mounted below ${root}; not removing it\n`);
    process.exit(1);
  }
  rmSync(root, { recursive: true, force: true });
}

const [cmd, ...args] = process.argv.slice(2);
const rootArg = option(args, '--root');
const pveArg = option(args, '--pve');
const release = PVE_RELEASES.find((r) => String(r) === pveArg);
if ((cmd !== 'env' && cmd !== 'down') || !rootArg || (pveArg !== undefined && !release)) {
  process.stderr.write('usage: pvesim env --root DIR [--node NAME] [--pve 8|9] | pvesim down --root DIR\n');
  process.exit(2);
}
const root = resolve(rootArg);
if (cmd === 'env') env(root, option(args, '--node') ?? 'pvesim', release);
else down(root);
