// What passes on the simulated node starts on a real one (issue 14): pxoci on simulated PVE 8.4 and
// 9 nodes, which fail as PVE does where PVE's own code fails (devN in a privileged CT, a symlink in a
// bind path, mounts in key order), runs bundles with devices, bundles and volumes below symlinked
// directories, and nested mounts in config.json's order, side by side with runc.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePctConfig, parsePropertyString, type PveConfig } from '../src/pve/config.js';
import { nodePaths } from '../src/pve/paths.js';
import { createWithPipes, makeBundle, pxoci, startSimNode, type SimNode } from './helpers/env.js';
import { leftovers } from './helpers/node-checks.js';

const RUNC = '/usr/sbin/runc';
const work = mkdtempSync(join(tmpdir(), 'pxoci-real-node-'));
// User-namespaced CTs (host uid 100000) must reach their bundles and state below it.
chmodSync(work, 0o755);
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** Runs a bundle to its end through pxoci as an engine does; its output, and its CT's config as
 *  PVE reads it (taken while it runs). */
async function runToEnd(node: SimNode, id: string, bundle: string): Promise<{ out: string; err: string; conf?: PveConfig }> {
  const c = createWithPipes(node, id, bundle);
  const code = await c.exited;
  if (code !== 0) return { out: c.out(), err: c.err() };
  const vmid = JSON.parse(readFileSync(join(node.stateRoot, id, 'state.json'), 'utf8')).vmid as number;
  const paths = nodePaths(node.root, node.env.PXOCI_PVE_NODE);
  const conf = parsePctConfig(readFileSync(paths.confPath(vmid), 'utf8'), vmid).config;
  const start = pxoci(node, ['start', id]);
  await c.closed;
  const del = pxoci(node, ['delete', '--force', id]);
  return { out: c.out(), err: c.err() + start.stderr + del.stderr, conf };
}

/** The same bundle under runc, for what the container must show. */
function runc(bundle: string, id: string): string {
  const root = mkdtempSync(join(work, 'runc-state-'));
  const r = spawnSync(RUNC, ['--root', root, 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 60_000 });
  spawnSync(RUNC, ['--root', root, 'delete', '--force', id]);
  return r.stdout + (r.status === 0 ? '' : `runc exit ${r.status}: ${r.stderr}`);
}

const hostDevice = ['/dev/fuse', '/dev/net/tun', '/dev/loop-control'].find((d) => {
  try {
    return statSync(d).isCharacterDevice();
  } catch {
    return false;
  }
});
function hostNumbers(path: string): { major: number; minor: number } {
  const rdev = statSync(path).rdev;
  return { major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}

const SECCOMP = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
  syscalls: [{ names: ['kexec_load'], action: 'SCMP_ACT_ERRNO' }],
};

for (const release of [9, 8] as const) {
  t.test(`PVE ${release}`, async (t) => {
    const node = startSimNode(`realnode${release}`, { pve: release });
    t.teardown(() => node.down());
    const dir = join(work, `pve${release}`);
    mkdirSync(dir, { mode: 0o755 });

    t.test('a bundle and a volume below symlinked directories: the config names their real paths', async (t) => {
      mkdirSync(join(dir, 'disk2/data'), { recursive: true });
      writeFileSync(join(dir, 'disk2/data/f'), 'from-volume\n');
      makeBundle(join(dir, 'disk2'), 'bundle', {
        args: ['cat', '/data/f'],
        patch: (s) => s.mounts.push({ destination: '/data', type: 'bind', source: join(dir, 'containers/data'), options: ['rbind'] }),
      });
      // /var/lib/containers moved to another disk, a symlink left in its place.
      symlinkSync(join(dir, 'disk2'), join(dir, 'containers'));
      const r = await runToEnd(node, `symlinked-${release}`, join(dir, 'containers/bundle'));
      t.equal(r.out, 'from-volume\n', r.err);
      const volume = (key: string) => parsePropertyString(key === 'rootfs' ? 'rootfs' : 'mp', r.conf?.options[key] ?? '').volume!;
      t.equal(volume('rootfs'), realpathSync(join(dir, 'disk2/bundle/rootfs')), 'the rootfs without the symlink');
      // The volume is bound by pxoci's mount hook, not as an mpN that PVE's pre-start hook would open
      // component by component (O_NOFOLLOW): no mpN, and no line of the config names the symlink.
      t.notOk(Object.keys(r.conf?.options ?? {}).some((k) => /^mp\d+$/.test(k)), 'no mpN');
      t.notOk([...Object.values(r.conf?.options ?? {}), ...(r.conf?.lxc ?? []).map(([, v]) => v)].some((v) => v.includes(join(dir, 'containers/'))), 'no path through the symlink');
      t.same(leftovers(node, `symlinked-${release}`), {});
    });

    t.test('devices in a privileged CT, and in a user-namespaced one with its own seccomp profile', async (t) => {
      const devices = [
        // Not on the host: the node is pxoci's own, with the config's mode and owner.
        { path: '/dev/pxoci-null', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 5, gid: 6 },
        ...(hostDevice ? [{ path: hostDevice, type: 'c', ...hostNumbers(hostDevice), fileMode: 0o666, uid: 0, gid: 0 }] : []),
      ];
      const args = ['sh', '-c', `stat -c '%a %u %g %t:%T' /dev/pxoci-null; echo x > /dev/pxoci-null && echo wrote; ${hostDevice ? `(: < ${hostDevice}) && echo opened` : 'echo opened'}`];
      const privileged = makeBundle(dir, 'device', { args, patch: (s) => (s.linux.devices = devices) });
      const p = await runToEnd(node, `device-${release}`, privileged);
      t.equal(p.out, '640 5 6 1:3\nwrote\nopened\n', p.err);
      t.notOk(Object.keys(p.conf?.options ?? {}).some((k) => /^dev\d+$/.test(k)), "no devN, which PVE's start refuses in a privileged CT");
      t.same(leftovers(node, `device-${release}`), {});

      const userns = makeBundle(dir, 'device-userns', {
        args,
        patch: (s) => {
          s.linux.devices = devices;
          s.linux.seccomp = SECCOMP;
          s.linux.namespaces.push({ type: 'user' });
          s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        },
      });
      const u = await runToEnd(node, `device-userns-${release}`, userns);
      t.equal(u.out, '640 5 6 1:3\nwrote\nopened\n', u.err);
      t.same(leftovers(node, `device-userns-${release}`), {});
    });

    t.test("nested mounts in config.json's order, as runc shows them; mount points made with their parents", async (t) => {
      for (const name of ['inner', 'outer', 'below-tmpfs']) {
        mkdirSync(join(dir, name));
        writeFileSync(join(dir, name, `from-${name}`), '');
      }
      const bundle = makeBundle(dir, 'nested', {
        args: ['sh', '-c', 'ls /mnt/x; ls /mnt/t/y'],
        patch: (s) => {
          s.mounts.push(
            // A bind at /mnt/x/y, then one at /mnt/x over it: y is hidden.
            { destination: '/mnt/x/y', type: 'bind', source: join(dir, 'inner'), options: ['rbind'] },
            { destination: '/mnt/x', type: 'bind', source: join(dir, 'outer'), options: ['rbind'] },
            // A tmpfs, then a bind below it: the bind shows.
            { destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] },
            { destination: '/mnt/t/y', type: 'bind', source: join(dir, 'below-tmpfs'), options: ['rbind'] },
          );
        },
      });
      rmSync(join(bundle, 'rootfs/mnt'), { recursive: true, force: true });
      const r = await runToEnd(node, `nested-${release}`, bundle);
      t.equal(r.out, 'from-outer\nfrom-below-tmpfs\n', r.err);
      t.same(leftovers(node, `nested-${release}`), {});
      if (existsSync(RUNC)) {
        rmSync(join(bundle, 'rootfs/mnt'), { recursive: true, force: true });
        t.equal(runc(bundle, `nested-runc-${release}`), r.out, 'runc shows the same');
      }
    });
  });
}
