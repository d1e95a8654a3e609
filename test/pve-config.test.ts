// PVE's config format rules (pve-container Config.pm), as src/pve/config.ts implements them.
import t from 'tap';
import {
  checkOption,
  checkRawLxcKey,
  CPULIMIT_MAX,
  decodeText,
  DNS_LABEL_MAX_LENGTH,
  encodeText,
  isOption,
  isValidHostname,
  MEMORY_MIN_MIB,
  NUMBERED_OPTION_COUNT,
  parsePctConfig,
  parsePropertyString,
  printPropertyString,
  writePctConfig,
  effectiveConfig,
  normalizeTags,
} from '../src/pve/config.js';
import { atomicWrite, createExclusive } from '../src/lib/atomic-files.js';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

t.test('round trip: description first, keys sorted, env then raw keys in file order', async (t) => {
  const text = [
    '#pxoci container a%3A b',
    '#second line',
    'tags: pxoci',
    'arch: amd64',
    'memory: 512',
    'lxc.mount.entry: /b b none bind 0 0',
    'lxc.environment.runtime: A=1',
    'lxc.init.cmd: /.pxoci/init',
    'lxc.mount.entry = /a a none bind 0 0',
    '',
  ].join('\n');
  const { config, warnings } = parsePctConfig(text, 100);
  t.same(warnings, []);
  t.equal(config.description, 'pxoci container a: b\nsecond line\n');
  t.same(config.env, ['A=1']);
  t.same(config.lxc, [
    ['lxc.mount.entry', '/b b none bind 0 0'],
    ['lxc.init.cmd', '/.pxoci/init'],
    ['lxc.mount.entry', '/a a none bind 0 0'],
  ]);
  const written = writePctConfig(config);
  t.equal(
    written,
    [
      '#pxoci container a%3A b',
      '#second line',
      'arch: amd64',
      'memory: 512',
      'tags: pxoci',
      'lxc.environment.runtime: A=1',
      'lxc.mount.entry: /b b none bind 0 0',
      'lxc.init.cmd: /.pxoci/init',
      'lxc.mount.entry: /a a none bind 0 0',
      '',
    ].join('\n'),
  );
  t.same(parsePctConfig(written, 100).config, config, 'parse(write(x)) = x');
});

t.test('raw keys: forbidden and unknown are dropped with a warning, deprecated ones kept with one', async (t) => {
  const { config, warnings } = parsePctConfig(
    'lxc.rootfs.path: /x\nlxc.no_new_privs: 1\nlxc.cgroup2.pids.max: 5\nlxc.cgroup.memory.limit_in_bytes: 1\nlxc.utsname = a\nlxc.limit.nofile: 5\nlxc.network.foo: 1\n',
    101,
  );
  t.same(warnings, [
    'vm 101 - lxc.rootfs.path: lxc.rootfs.path is auto generated from rootfs',
    'vm 101 - unable to parse config: lxc.no_new_privs: 1',
    'vm 101 - lxc.cgroup.memory.limit_in_bytes is deprecated, this will be a hard error in the future!',
    'vm 101 - lxc.utsname is deprecated and was renamed to lxc.uts.name',
    'vm 101 - lxc.limit.nofile: lxc.limit.* was renamed to lxc.prlimit.*',
    'vm 101 - unable to parse config: lxc.network.foo: 1',
  ]);
  t.same(config.lxc, [
    ['lxc.cgroup2.pids.max', '5'],
    ['lxc.cgroup.memory.limit_in_bytes', '1'],
    ['lxc.utsname', 'a'],
    ['lxc.limit.nofile', '5'],
  ]);
  t.equal(writePctConfig(config), 'lxc.cgroup2.pids.max: 5\nlxc.cgroup.memory.limit_in_bytes: 1\nlxc.utsname: a\nlxc.limit.nofile: 5\n', 'dropped keys vanish at the next write');
  t.same(checkRawLxcKey('lxc.rootfs.options'), { ok: false, kind: 'forbidden', msg: 'lxc.rootfs.options is not supported, please use mount point options in the "rootfs" key' });
  for (const k of ['lxc.namespace.share.net', 'lxc.proc.oom_score_adj', 'lxc.ephemeral', 'lxc.rootfs.managed', 'lxc.sysctl.net.ipv4.ip_forward', 'lxc.no_new_privs']) {
    t.same(checkRawLxcKey(k), { ok: false, kind: 'unknown', msg: `unable to parse config: ${k}` }, k);
  }
  for (const k of ['lxc.sysctl.kernel.shmmax', 'lxc.sysctl.fs.mqueue', 'lxc.prlimit.nofile', 'lxc.net.0.type', 'lxc.cgroup2.memory.high', 'lxc.init.cmd', 'lxc.init.uid', 'lxc.mount.entry', 'lxc.idmap', 'lxc.environment.runtime']) {
    t.same(checkRawLxcKey(k), { ok: true }, k);
  }
  for (const k of ['lxc.init.cwd', 'lxc.init.uid', 'lxc.init.gid', 'lxc.init.groups', 'lxc.environment.runtime', 'lxc.environment.hooks']) {
    t.same(checkRawLxcKey(k, 8), { ok: false, kind: 'unknown', msg: `unable to parse config: ${k}` }, `PVE 8: ${k}`);
  }
  t.same(checkRawLxcKey('lxc.init.cmd', 8), { ok: true });
  const pve8 = parsePctConfig('entrypoint: /app\nenv: A=1\nlxc.init.cwd: /x\nlxc.environment.runtime: B=2\nlxc.environment: C=3\n', 103, 8);
  t.same(pve8.warnings, [
    "vm 103 - unable to parse value of 'entrypoint' - unknown setting 'entrypoint'",
    "vm 103 - unable to parse value of 'env' - unknown setting 'env'",
    'vm 103 - unable to parse config: lxc.init.cwd: /x',
    'vm 103 - unable to parse config: lxc.environment.runtime: B=2',
  ]);
  t.same(pve8.config.lxc, [['lxc.environment', 'C=3']]);
  t.equal(pve8.config.env, undefined);
});

t.test('normal keys: Config.pm check_type on read (types and formats only, values kept)', async (t) => {
  const { config, warnings } = parsePctConfig('foo: bar\nmemory: abc\nmemory-x: 1\ncores: 0\nonboot: yes\nswap: 0512\ncpulimit: 1.5\nhostname: bad_name\ntty: -1\n', 102);
  t.same(warnings, [
    "vm 102 - unable to parse value of 'foo' - unknown setting 'foo'",
    "vm 102 - unable to parse value of 'memory' - type check ('integer') failed - got 'abc'",
    'vm 102 - unable to parse config: memory-x: 1',
    "vm 102 - unable to parse value of 'hostname' - value does not look like a valid DNS name",
    "vm 102 - unable to parse value of 'tty' - type check ('integer') failed - got '-1'",
  ]);
  t.equal(config.options.memory, 'abc', 'a bad value is still stored');
  t.equal(config.options.foo, 'bar', 'an unknown key is kept and written back, as PVE does');
  t.equal(config.options.cores, '0', 'ranges are not checked on read');
  t.equal(config.options.onboot, '1', 'booleans normalised');
  t.equal(config.options.swap, '512', 'integers normalised');
  t.match(writePctConfig(config), /^foo: bar$/m);
});

t.test('sections: pending (with delete, description, env) and snapshots', async (t) => {
  const text = '#top\nmemory: 512\nswap: 0\n\n[pve:pending]\n#new descr\nmemory: 1024\nlxc.environment.runtime: A=1\ndelete: swap;cores\n\n[snap1]\nmemory: 256\n[Snap-2]\nsnapstate: prepare\n';
  const { config, warnings } = parsePctConfig(text, 103);
  t.same(warnings, []);
  t.same(config.pending, { options: { memory: '1024' }, lxc: [], delete: ['swap', 'cores'], description: 'new descr\n', env: ['A=1'] });
  t.equal(config.snapshots?.snap1?.options.memory, '256');
  t.ok(config.snapshots?.['Snap-2'], 'section names are case-insensitive');
  t.equal(
    writePctConfig(config),
    '#top\nmemory: 512\nswap: 0\n\n[pve:pending]\n#new descr\ndelete: swap,cores\nmemory: 1024\nlxc.environment.runtime: A=1\n\n[Snap-2]\nsnapstate: prepare\n\n[snap1]\nmemory: 256\n',
  );
  t.same(effectiveConfig(config).options, { memory: '1024' }, 'pending applied, deletions done');
  t.same(effectiveConfig(config).env, ['A=1']);
  t.same(effectiveConfig(config, true).options, { memory: '512', swap: '0' }, '--current');
  t.same(parsePctConfig('delete: swap\n', 104).warnings, ["vm 104 - property 'delete' is only allowed in [pve:pending]"]);
});

t.test('the writer refuses newlines and unchecked raw keys', async (t) => {
  t.throws(() => writePctConfig({ options: { hostname: 'a\nlxc.x: 1' }, lxc: [] }), { message: "detected invalid newline inside property 'hostname'" });
  t.throws(() => writePctConfig({ options: {}, lxc: [['lxc.init.cmd', '/x\nlxc.foo: 1']] }), /invalid newline/);
  t.throws(() => writePctConfig({ options: {}, env: ['A=1\nlxc.rootfs.path: /'], lxc: [] }), /invalid newline inside property 'env'/);
  t.throws(() => writePctConfig({ options: {}, lxc: [['lxc.rootfs.path', '/x']] }), /auto generated/);
  t.throws(() => writePctConfig({ options: {}, lxc: [['lxc.no_new_privs', '1']] }), /unable to parse config/);
  t.equal(writePctConfig({ options: {}, description: 'line: 1\n\nzwei\x01\n', lxc: [] }), '#line%3A 1\n#\n#zwei%01\n');
});

t.test('description encoding', async (t) => {
  t.equal(encodeText('a: b%c\tä'), 'a%3A b%25c%09%C3%A4');
  t.equal(decodeText('a%3A b%25c%09%C3%A4'), 'a: b%c\tä');
  t.equal(parsePctConfig('description: a%3Ab\n#c\n', 100).config.description, 'a:bc\n', 'description: and # lines append');
  t.equal(parsePctConfig('#Grüße, 雪 %C3%A4\n', 100).config.description, 'Grüße, 雪 ä\n', 'raw UTF-8 in a hand-edited # line is read as UTF-8, as PVE decodes it');
  t.equal(decodeText('%FF'), '\uFFFD', 'bytes that are no UTF-8 stay replaced');
});

t.test('property strings: JSONSchema parse_property_string rules', async (t) => {
  t.same(parsePropertyString('mp', '/src,mp=/dst,ro=1,mountoptions=nosuid;nodev'), { volume: '/src', mp: '/dst', ro: '1', mountoptions: 'nosuid;nodev' });
  t.same(parsePropertyString('mp', 'volume=/src,mp=/dst,ro=yes,backup=off'), { volume: '/src', mp: '/dst', ro: '1', backup: '0' }, 'booleans normalised');
  t.same(parsePropertyString('rootfs', 'local:8,,size=8G, '), { volume: 'local:8', size: '8G' }, 'empty parts skipped');
  t.equal(printPropertyString('mp', { ro: '1', mp: '/dst', volume: '/src', backup: '0' }), '/src,mp=/dst,backup=0,ro=1');
  t.equal(printPropertyString('net', { ip: 'dhcp', name: 'eth0', bridge: 'vmbr0' }), 'name=eth0,bridge=vmbr0,ip=dhcp');
  const bad: Array<[string, string, string]> = [
    ['mp', '/src,mp=/dst,bogus=1', 'invalid key in comma-separated list property: bogus'],
    ['mp', '/src,mp=/a,mp=/b', 'duplicate key in comma-separated list property: mp'],
    ['mp', '/src,/other,mp=/a', 'duplicate key in comma-separated list property: volume'],
    ['mp', '/src,mp=', 'missing key in comma-separated list property'],
    ['mp', '/src', 'format error\nmp: property is missing and it is not optional'],
    ['mp', 'mp=/a', 'format error\nvolume: property is missing and it is not optional'],
    ['mp', '/src,mp=/a/../etc', 'format error\nmp: invalid format - /a/../etc contains illegal character sequences'],
    ['mp', '/src,mp=/a/./b', 'format error\nmp: invalid format - /a/./b contains illegal character sequences'],
    ['mp', '/src,mp=/a/..', 'format error\nmp: invalid format - /a/.. contains illegal character sequences'],
    ['mp', '../src,mp=../a', 'format error\nmp: invalid format - ../a contains illegal character sequences\nvolume: invalid format - ../src contains illegal character sequences'],
    ['mp', '/s,mp=/d,mountoptions=exec', 'format error\nmountoptions: value does not match the regex pattern'],
    ['mp', '/s,mp=/d,size=8X', 'format error\nsize: value does not match the regex pattern'],
    ['mp', '/s,mp=/d,ro=maybe', "format error\nro: type check ('boolean') failed - got 'maybe'"],
    ['rootfs', '/s,mp=/d', 'invalid key in comma-separated list property: mp'],
    ['rootfs', '/s,backup=1', 'invalid key in comma-separated list property: backup'],
    ['features', 'nesting', 'value without key, but schema does not define a default key'],
    ['features', 'mount=nfs,fuse=2', "format error\nfuse: type check ('boolean') failed - got '2'"],
    ['dev', '/dev/null,mode=666', 'format error\nmode: value does not match the regex pattern'],
    ['dev', '/tmp/null,uid=x', "format error\npath: invalid format - /tmp/null is not a valid device path\nuid: type check ('integer') failed - got 'x'"],
    ['dev', '/dev/../etc/x', 'format error\npath: invalid format - /dev/../etc/x is not a valid device path'],
    ['net', 'bridge=vmbr0', 'format error\nname: property is missing and it is not optional'],
    ['net', 'name=eth0,mtu=10', 'format error\nmtu: value must have a minimum value of 64'],
    ['net', 'name=eth0,tag=5000', 'format error\ntag: value must have a maximum value of 4094'],
  ];
  for (const [format, value, msg] of bad) {
    let message: string | undefined;
    try {
      parsePropertyString(format, value);
    } catch (e) {
      message = (e as Error).message;
    }
    t.equal(message, msg, `${format}: ${value}`);
  }
  t.throws(() => parsePropertyString('mp', '/s,mp=/d,keepattrs=1', { pve: 8 }), { message: 'invalid key in comma-separated list property: keepattrs' }, 'PVE 8 has no keepattrs');
  t.same(parsePropertyString('mp', '/s,mp=/d,keepattrs=1'), { volume: '/s', mp: '/d', keepattrs: '1' });
  t.throws(() => parsePropertyString('net', 'name=eth0,host-managed=1', { pve: 8 }), { message: 'invalid key in comma-separated list property: host-managed' });
  t.same(parsePropertyString('mp', '/src,mp=./a'), { volume: '/src', mp: './a' }, 'a leading ./ is not one of the rejected sequences');
  t.same(parsePropertyString('dev', '/dev/null,mode=0666'), { path: '/dev/null', mode: '0666' });
  t.same(parsePropertyString('features', 'nesting=1,keyctl=1,mount=nfs;cifs'), { nesting: '1', keyctl: '1', mount: 'nfs;cifs' });
});

t.test('option checks use PVE API texts (JSONSchema check_prop order)', async (t) => {
  const cases: Array<[string, string, string | undefined]> = [
    ['memory', '8', 'value must have a minimum value of 16'],
    ['memory', 'abc', "type check ('integer') failed - got 'abc'"],
    ['memory', '+64', undefined],
    ['cores', '9000', 'value must have a maximum value of 8192'],
    ['cpulimit', '1.5', undefined],
    ['cpulimit', '.5', undefined],
    ['cpulimit', '1,5', "type check ('number') failed - got '1,5'"],
    ['tty', '7', 'value must have a maximum value of 6'],
    ['ostype', 'windows', "value 'windows' does not have a value in the enumeration 'debian, devuan, ubuntu, centos, fedora, opensuse, archlinux, alpine, gentoo, nixos, unmanaged'"],
    ['lock', 'foo', "value 'foo' does not have a value in the enumeration 'backup, create, destroyed, disk, fstrim, migrate, mounted, rollback, snapshot, snapshot-delete'"],
    ['onboot', 'maybe', "type check ('boolean') failed - got 'maybe'"],
    ['onboot', '1', undefined],
    ['mp256', '/a,mp=/b', 'property is not defined in schema and the schema does not allow additional properties'],
    ['net32', 'name=eth0', 'property is not defined in schema and the schema does not allow additional properties'],
    ['mp255', '/a,mp=/b', undefined],
    ['hostname', 'bad_name', 'invalid format - value does not look like a valid DNS name'],
    ['hostname', 'a'.repeat(256), 'value may only be 255 characters long'],
    ['hostname', 'a'.repeat(64), undefined],
    ['tags', 'a;b c', undefined],
    ['tags', 'a;b$', 'invalid format - invalid characters in tag'],
    ['mp0', '/a,mp=/x/../y', 'invalid format - format error\nmp0.mp: invalid format - /x/../y contains illegal character sequences'],
    ['mp0', '/a', 'invalid format - format error\nmp0.mp: property is missing and it is not optional'],
    ['entrypoint', '/bin/sh\n', 'value does not match the regex pattern'],
    ['env', 'A=1\0B=2', undefined],
    ['env', 'A B=1', 'value does not match the regex pattern'],
    ['description', 'x'.repeat(8193), 'value may only be 8192 characters long'],
  ];
  for (const [k, v, msg] of cases) t.equal(checkOption(k, v), msg, `${k}=${v.slice(0, 20)}`);
  t.equal(normalizeTags('B;a,a c'), 'a;b;c');
  t.ok(isValidHostname('a-b.example'));
  t.notOk(isValidHostname('x'.repeat(64)), 'labels are at most 63 characters');
  t.notOk(isValidHostname('-a'));
});

t.test("the limits exported for the translator are the edges of the checks PVE applies", async (t) => {
  t.equal(checkOption('memory', String(MEMORY_MIN_MIB)), undefined);
  t.equal(checkOption('memory', String(MEMORY_MIN_MIB - 1)), `value must have a minimum value of ${MEMORY_MIN_MIB}`);
  t.equal(checkOption('cpulimit', String(CPULIMIT_MAX)), undefined);
  t.equal(checkOption('cpulimit', String(CPULIMIT_MAX + 0.01)), `value must have a maximum value of ${CPULIMIT_MAX}`);
  for (const [kind, count] of Object.entries(NUMBERED_OPTION_COUNT)) {
    t.ok(isOption(`${kind}${count - 1}`), `${kind}${count - 1} is an option`);
    t.notOk(isOption(`${kind}${count}`), `${kind}${count} is not`);
  }
  t.ok(isValidHostname('x'.repeat(DNS_LABEL_MAX_LENGTH)));
  t.notOk(isValidHostname('x'.repeat(DNS_LABEL_MAX_LENGTH + 1)));
});

t.test('files: atomic write and exclusive create', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pxoci-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, '100.conf');
  t.equal(createExclusive(f, 'lock: create\n'), true);
  t.equal(createExclusive(f, 'x'), false, 'EEXIST: the VMID is taken');
  atomicWrite(f, 'memory: 512\n');
  t.equal(readFileSync(f, 'utf8'), 'memory: 512\n');
  t.same(readdirSync(dir), ['100.conf'], 'no temporary file left');
  t.equal(statSync(f).mode & 0o777, 0o640);
  t.throws(() => atomicWrite(f, 'x'.repeat(1024 * 1024 + 1)), /File too large/);
});
