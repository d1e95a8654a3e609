// Container images made here, without a registry: a one-layer docker archive (what `docker save`
// writes) from a local rootfs, which `ctr images import` and `podman load` read.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ImageConfig {
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Writes `<out>`: a docker archive of `rootfs` tagged `tag` (e.g. "pxoci-busybox:latest"). */
export function dockerArchive(rootfs: string, tag: string, out: string, config: ImageConfig = { Cmd: ['sh'] }): void {
  const dir = mkdtempSync(`${out}.build-`);
  try {
    mkdirSync(join(dir, 'layer'));
    const tar = spawnSync('tar', ['-C', rootfs, '-cf', join(dir, 'layer/layer.tar'), '.'], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`image layer of ${rootfs}: ${tar.stderr}`);
    const sum = spawnSync('sha256sum', [join(dir, 'layer/layer.tar')], { encoding: 'utf8' });
    if (sum.status !== 0) throw new Error(`sha256sum: ${sum.stderr}`);
    const diffId = sum.stdout.split(' ')[0];
    const imageConfig = { architecture: 'amd64', os: 'linux', config: { Env: [DEFAULT_PATH], ...config }, rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] } };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(imageConfig));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: [tag], Layers: ['layer/layer.tar'] }]));
    const pack = spawnSync('tar', ['-C', dir, '-cf', out, 'config.json', 'manifest.json', 'layer/layer.tar'], { encoding: 'utf8' });
    if (pack.status !== 0) throw new Error(`image archive ${out}: ${pack.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
