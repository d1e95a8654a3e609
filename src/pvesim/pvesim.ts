// pvesim: the simulated PVE node that the tests, the demo and the conformance runs use.
//   pvesim env --root DIR [--node NAME]   set up (idempotently) a node tree under DIR; print `export` lines
//   pvesim down --root DIR                stop every CT it started, unmount, remove the tree
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodePaths } from '../pve/paths.js';
import { updateVmlist } from './ct-configs.js';
import { spawnSync } from './lazy-builtins.js';
import { removeNodeCgroups } from './node-cgroups.js';
import { shellQuote } from './shell-quote.js';
import { mountsBelow, templateCacheDir, unmountAllBelow } from './volumes.js';

const dist = dirname(fileURLToPath(import.meta.url));

function option(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(name + '='));
  if (i < 0) return undefined;
  return args[i]!.includes('=') ? args[i]!.slice(name.length + 1) : args[i + 1];
}

function env(root: string, node: string): void {
  const p = nodePaths(root, node);
  for (const d of [p.lxcConfDir, join(p.etcPve, 'nodes', node, 'qemu-server'), p.lockDir, p.lxcPath, join(root, 'run/pve'), join(root, 'usr/sbin'), join(root, 'usr/bin'), templateCacheDir(p)]) {
    mkdirSync(d, { recursive: true });
  }
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
  writeFileSync(p.pct, shim('pct.js'));
  writeFileSync(p.pvesh, shim('pvesh.js'));
  chmodSync(p.pct, 0o755);
  chmodSync(p.pvesh, 0o755);
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
if ((cmd !== 'env' && cmd !== 'down') || !rootArg) {
  process.stderr.write('usage: pvesim env --root DIR [--node NAME] | pvesim down --root DIR\n');
  process.exit(2);
}
const root = resolve(rootArg);
if (cmd === 'env') env(root, option(args, '--node') ?? 'pvesim');
else down(root);
