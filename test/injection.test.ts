// Injection-proof config writing, property-tested: whatever strings a bundle, an id or a path holds,
// the config pxoci writes parses back with PVE's rules to exactly what was meant, has only keys PVE
// allows, property strings with only their own properties, and mount entries with only their own
// fields. Anything else is a rejection that names the field (a ConfigError), never a crash.
import t from 'tap';
import fc from 'fast-check';
import { validateSpec } from '../src/oci/bundle.js';
import { ConfigError } from '../src/oci/errors.js';
import { encodeHookPlan, encodeSetupPlan } from '../src/oci/mount-plan.js';
import { translate, type TranslateContext } from '../src/oci/translate.js';
import {
  checkOption,
  checkRawLxcKey,
  isIllegalMountPath,
  parsePctConfig,
  parsePropertyString,
  printPropertyString,
  writePctConfig,
  type PveConfig,
} from '../src/pve/config.js';
import { ownerDescription, ownedBy } from '../src/runtime/ownership.js';

/** Strings built from the pieces injections are made of, plus arbitrary ones. */
const piece = fc.constantFrom('\n', '\r', '\0', ',', '=', ';', ' ', '\t', '..', '.', '/', 'lxc.', 'lxc.apparmor.profile: unconfined', 'mp0=', ':', '#', '%0A', 'a', '0', '-', '_', 'ro', 'bind');
const nasty = fc.oneof(fc.string(), fc.array(piece, { maxLength: 8 }).map((p) => p.join('')), fc.string({ unit: piece, maxLength: 6 }));
const nastyPath = fc.oneof(nasty, fc.array(nasty, { maxLength: 4 }).map((parts) => '/' + parts.join('/')));
const word = fc.stringMatching(/^[a-z0-9_-][a-z0-9_.-]{0,7}$/);
const plainPath = fc.array(word, { minLength: 1, maxLength: 3 }).map((parts) => '/' + parts.join('/'));
/** Mostly what an engine sends, sometimes an attack: every field gets both, in all combinations. */
const field = <T>(usual: fc.Arbitrary<T>, attack: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 12, arbitrary: usual }, { weight: 1, arbitrary: attack });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

const specArb = fc.record({
  hostname: maybe(field(fc.stringMatching(/^[a-z]([a-z0-9-]{0,8}[a-z0-9])?$/), nasty)),
  mounts: fc.array(
    fc.record({
      destination: field(plainPath, nastyPath),
      type: field(fc.constantFrom('bind', 'tmpfs', 'proc', 'mqueue', 'devpts', 'sysfs'), nasty),
      source: field(plainPath, nastyPath),
      options: maybe(fc.array(field(fc.constantFrom('ro', 'rbind', 'nosuid', 'mode=755', 'size=64k'), nasty), { maxLength: 3 })),
    }),
    { maxLength: 3 },
  ),
  sysctl: fc.dictionary(field(fc.constantFrom('kernel.shmmax', 'net.ipv4.ip_forward'), nasty), field(fc.stringMatching(/^[0-9]{1,6}$/), nasty), { maxKeys: 2 }),
  unified: fc.dictionary(field(fc.constantFrom('memory.high', 'pids.max'), nasty), field(fc.stringMatching(/^[0-9]{1,6}$/), nasty), { maxKeys: 2 }),
  cpus: maybe(field(fc.constantFrom('0', '0-1', '0,2'), nasty)),
  mems: maybe(field(fc.constantFrom('0', '0-1'), nasty)),
  apparmor: maybe(field(fc.constantFrom('unconfined', 'lxc-container-default'), nasty)),
  devicePath: maybe(field(fc.constantFrom('/dev/fuse', '/dev/net/tun'), nastyPath)),
  masked: fc.array(field(plainPath, nastyPath), { maxLength: 2 }),
  readonly: fc.array(field(plainPath, nastyPath), { maxLength: 2 }),
  id: field(fc.constantFrom('web', 'a'.repeat(64), 'My_Container.1'), nasty),
  rootfs: field(plainPath, nastyPath),
  runtimeDir: field(plainPath, nastyPath),
});

type Generated = typeof specArb extends fc.Arbitrary<infer T> ? T : never;

function buildSpec(g: Generated): unknown {
  const resources: Record<string, unknown> = {};
  if (Object.keys(g.unified).length) resources.unified = g.unified;
  if (g.cpus !== undefined || g.mems !== undefined) resources.cpu = { cpus: g.cpus, mems: g.mems };
  return JSON.parse(
    JSON.stringify({
      ociVersion: '1.2.0',
      hostname: g.hostname,
      process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 }, apparmorProfile: g.apparmor },
      root: { path: 'rootfs' },
      mounts: g.mounts,
      linux: {
        sysctl: g.sysctl,
        resources,
        devices: g.devicePath === undefined ? undefined : [{ type: 'c', path: g.devicePath, major: 10, minor: 229 }],
        maskedPaths: g.masked,
        readonlyPaths: g.readonly,
      },
    }),
  );
}

function context(g: Generated): TranslateContext {
  return {
    id: g.id,
    bundle: '/b',
    vmid: 100,
    runtimeDir: g.runtimeDir,
    arch: 'amd64',
    rootfs: g.rootfs,
    pathKind: (p) => (p.includes('file') ? 'file' : 'dir'),
    helper: '/usr/lib/pxoci/pxoci-helper',
  };
}

/** What PVE's parser does to one written config; the problems it would have, as text. */
function problems(config: PveConfig): string[] {
  const out: string[] = [];
  let text: string;
  try {
    text = writePctConfig(config);
  } catch (e) {
    return [`the writer refused what the translator made: ${(e as Error).message}`];
  }
  const back = parsePctConfig(text, 100);
  out.push(...back.warnings);
  const sorted = (o: Record<string, string>) => JSON.stringify(Object.entries(o).sort());
  if (sorted(back.config.options) !== sorted(config.options)) out.push(`options changed: ${sorted(back.config.options)}`);
  if (JSON.stringify(back.config.lxc) !== JSON.stringify(config.lxc)) out.push(`raw keys changed: ${JSON.stringify(back.config.lxc)}`);
  if (back.config.pending || back.config.snapshots) out.push('a section appeared');
  for (const [key, value] of Object.entries(config.options)) {
    const err = checkOption(key, value);
    if (err) out.push(`${key}: ${err}`);
    const format = /^(mp|dev)\d+$/.exec(key)?.[1] ?? (key === 'rootfs' ? 'rootfs' : undefined);
    if (!format) continue;
    const props = parsePropertyString(format, value);
    if (printPropertyString(format, props) !== value) out.push(`${key}: property string does not print back`);
    for (const path of [props.volume, props.mp, props.path].filter((p): p is string => p !== undefined)) {
      if (!path.startsWith('/') || path.split('/').some((c) => c === '..' || c === '.') || isIllegalMountPath(path)) out.push(`${key}: path ${path}`);
    }
  }
  for (const [key, value] of config.lxc) {
    const check = checkRawLxcKey(key);
    if (!check.ok || check.warning) out.push(`raw key ${key} is not plainly allowed`);
    if (key === 'lxc.mount.entry') {
      const fields = value.split(' ');
      if (fields.length !== 6 || fields.some((f) => f === '')) out.push(`mount entry has other fields: ${value}`);
      if (fields[1]?.startsWith('/')) out.push(`mount target is absolute: ${value}`);
      for (const f of fields.slice(0, 2)) if (f.split('/').includes('..')) out.push(`'..' in a mount entry: ${value}`);
    }
    if (value !== value.trim()) out.push(`${key}: value with surrounding white space does not survive PVE's parser`);
  }
  return out;
}

/** The mount hook and ct-setup split their lines at spaces: a value that adds a field is an injection. */
const PLAN_FIELDS: Record<string, number> = { mount: 10, node: 3, readonly: 3, mask: 3, 'root-readonly': 1, device: 9, ptmx: 1, propagation: 4, 'root-propagation': 2 };
function planProblems(...plans: string[]): string[] {
  const lines = plans.join('').split('\n').filter((l) => l !== '');
  return lines.filter((l) => l.split(' ').length !== PLAN_FIELDS[l.split(' ')[0]!] || l.split(' ').includes('')).map((l) => `plan line has other fields: ${l}`);
}

const RUNS = 5000;

/** The names a refusal may give: the fields specArb fills, as translate, or the schema by JSON path,
 *  names them. A refusal naming anything else means a value got past its own field's check. */
const REFUSABLE = [
  /^config\.json: /s,
  /^(hostname|root\.path|runtime directory|process\.apparmorProfile)$/,
  /^mounts\[\d\](\.(destination|source|type|options))?$/,
  /^linux\.(sysctl|resources\.unified)\[".*"\]$/s,
  /^linux\.resources\.cpu\.(cpus|mems)$/,
  /^linux\.devices\[0\](\.path)?$/,
  /^linux\.(maskedPaths|readonlyPaths)\[\d\]$/,
  // A unified value is checked only as the raw key it becomes, so its refusal names that key.
  /^lxc\.cgroup2\.[a-z]+\.[a-z0-9_.]+$/,
];

t.test('property: every translated config parses back unchanged, with allowed keys only', async (t) => {
  let accepted = 0;
  fc.assert(
    fc.property(specArb, (g) => {
      let config: PveConfig;
      let plans: string[];
      try {
        const out = translate(validateSpec(buildSpec(g)), context(g));
        config = out.config;
        plans = planProblems(encodeHookPlan(out.hookPlan), encodeSetupPlan(out.setupPlan));
      } catch (e) {
        if (e instanceof ConfigError && REFUSABLE.some((r) => r.test(e.field))) return true;
        throw e;
      }
      accepted++;
      const found = [...problems(config), ...plans];
      if (found.length) throw new Error(found.join("\n"));
      return true;
    }),
    { numRuns: RUNS },
  );
  // The rest were rejected by field name; enough must get through for the checks to mean something.
  t.ok(accepted > RUNS / 20, `${accepted} of ${RUNS} random configs were accepted and checked`);
});

t.test('the owner marker: no bundle path can add a line, and so no claim on another container or VMID', async (t) => {
  const key = Buffer.alloc(32, 0xab);
  fc.assert(
    fc.property(nastyPath, (bundle) => {
      const description = ownerDescription('web', 100, key, bundle);
      const lines = description.split('\n');
      const conf = parsePctConfig(writePctConfig({ options: { tags: 'pxoci' }, description, lxc: [] }), 100).config;
      return (
        lines.length === 3 &&
        conf.description === description + '\n' &&
        !ownedBy(conf, 'other', 100, key) &&
        !ownedBy(conf, 'web', 101, key) &&
        ownedBy(conf, 'web', 100, key)
      );
    }),
    { numRuns: 2000 },
  );
  const forged = ownerDescription('web', 100, key, `/b\npxoci container admin`);
  t.equal(forged.split('\n').length, 3);
  t.notOk(ownedBy({ options: { tags: 'pxoci' }, description: forged, lxc: [] }, 'admin', 100, key), 'a newline in the bundle path claims nothing');
  t.notOk(ownedBy({ options: { tags: 'pxoci' }, description: ownerDescription('web', 100, key, '/b'), lxc: [] }, 'web', 100, Buffer.alloc(32, 1)), 'another key proves nothing');
  t.throws(() => ownerDescription('a\nb', 100, key, '/b'), /invalid container ID format/);
});
