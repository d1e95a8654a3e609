// PVE's config format rules (pve-container Config.pm), as src/pve/config.ts implements them.
import t from 'tap';
import {
  checkOption,
  checkRawLxcKey,
  decodeText,
  encodeText,
  isValidHostname,
  parsePctConfig,
  parsePropertyString,
  printPropertyString,
  writePctConfig,
} from '../src/pve/config.js';

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

t.test('forbidden and unknown raw keys are warned about and dropped', async (t) => {
  const { config, warnings } = parsePctConfig('lxc.rootfs.path: /x\nlxc.no_new_privs: 1\nlxc.cgroup2.pids.max: 5\nlxc.cgroup.memory.limit_in_bytes: 1\n', 101);
  t.same(warnings, [
    'vm 101 - lxc.rootfs.path: lxc.rootfs.path is auto generated from rootfs',
    'vm 101 - unable to parse config: lxc.no_new_privs: 1',
  ]);
  t.same(config.lxc, [
    ['lxc.cgroup2.pids.max', '5'],
    ['lxc.cgroup.memory.limit_in_bytes', '1'],
  ], 'allowed and deprecated v1 keys are kept');
  t.same(checkRawLxcKey('lxc.rootfs.options'), { ok: false, kind: 'forbidden', msg: 'lxc.rootfs.options is not supported' });
  t.equal(checkRawLxcKey('lxc.namespace.share.net').ok, false);
  t.equal(checkRawLxcKey('lxc.sysctl.net.ipv4.ip_forward').ok, false, 'non-IPC sysctls are not accepted');
  t.equal(checkRawLxcKey('lxc.sysctl.kernel.shmmax').ok, true);
  t.equal(checkRawLxcKey('lxc.prlimit.nofile').ok, true);
});

t.test('normal keys: unknown settings and bad values', async (t) => {
  const { config, warnings } = parsePctConfig('foo: bar\nmemory: abc\nmemory-x: 1\ncores: 0\n', 102);
  t.same(warnings, [
    "vm 102 - unable to parse value of 'foo' - unknown setting 'foo'",
    "vm 102 - unable to parse value of 'memory' - type check ('integer') failed - got 'abc'",
    'vm 102 - unable to parse config: memory-x: 1',
    "vm 102 - unable to parse value of 'cores' - value must have a minimum value of 1",
  ]);
  t.equal(config.options.memory, 'abc', 'a bad value is still stored, as PVE does');
  t.notOk('foo' in config.options);
});

t.test('pending and snapshot sections', async (t) => {
  const text = 'memory: 512\n\n[pve:pending]\nmemory: 1024\ndelete: swap\n\n[snap1]\nmemory: 256\n';
  const { config } = parsePctConfig(text, 103);
  t.same(config.pending, { options: { memory: '1024' }, lxc: [], delete: ['swap'] });
  t.equal(config.snapshots?.snap1?.options.memory, '256');
  t.equal(writePctConfig(config), 'memory: 512\n\n[pve:pending]\nmemory: 1024\ndelete: swap\n\n[snap1]\nmemory: 256\n');
});

t.test('the writer refuses newlines and unchecked raw keys', async (t) => {
  t.throws(() => writePctConfig({ options: { hostname: 'a\nlxc.x: 1' }, lxc: [] }), /detected invalid newline inside property 'hostname'/);
  t.throws(() => writePctConfig({ options: {}, lxc: [['lxc.init.cmd', '/x\nlxc.foo: 1']] }), /invalid newline/);
  t.throws(() => writePctConfig({ options: {}, lxc: [['lxc.rootfs.path', '/x']] }), /auto generated/);
  t.throws(() => writePctConfig({ options: {}, lxc: [['lxc.no_new_privs', '1']] }), /unable to parse config/);
  t.equal(writePctConfig({ options: {}, description: 'line: 1\nzwei\x01', lxc: [] }), '#line%3A 1\n#zwei%01\n');
});

t.test('description encoding', async (t) => {
  t.equal(encodeText('a: b%c\tä'), 'a%3A b%25c%09%C3%A4');
  t.equal(decodeText('a%3A b%25c%09%C3%A4'), 'a: b%c\tä');
});

t.test('property strings', async (t) => {
  t.same(parsePropertyString('mp', '/src,mp=/dst,ro=1,mountoptions=nosuid;nodev'), { volume: '/src', mp: '/dst', ro: '1', mountoptions: 'nosuid;nodev' });
  t.equal(printPropertyString('mp', { ro: '1', mp: '/dst', volume: '/src', backup: '0' }), '/src,mp=/dst,backup=0,ro=1');
  t.throws(() => parsePropertyString('mp', '/src,mp=/dst,bogus=1'), /invalid key in comma-separated list property: bogus/);
  t.throws(() => parsePropertyString('mp', '/src,mp=/a,mp=/b'), /duplicate key in comma-separated list property: mp/);
  t.throws(() => parsePropertyString('mp', '/src'), /mp: property is missing/);
  t.throws(() => parsePropertyString('mp', '/src,mp=/a/../etc'), /contains illegal character sequences/);
  t.throws(() => parsePropertyString('features', 'nesting'), /value without key, but schema does not define a default key/);
  t.throws(() => parsePropertyString('mp', '/s,mp=/d,mountoptions=exec'), /mountoptions/);
  t.same(parsePropertyString('dev', '/dev/null,mode=0666'), { path: '/dev/null', mode: '0666' });
});

t.test('option checks use PVE texts', async (t) => {
  t.equal(checkOption('memory', '8'), 'value must have a minimum value of 16');
  t.equal(checkOption('cores', '9000'), 'value must have a maximum value of 8192');
  t.equal(checkOption('cpulimit', '1.5'), undefined);
  t.equal(checkOption('ostype', 'windows'), "value 'windows' does not have a value in the enumeration 'debian, devuan, ubuntu, centos, fedora, opensuse, archlinux, alpine, gentoo, nixos, unmanaged'");
  t.equal(checkOption('onboot', 'maybe'), "type check ('boolean') failed - got 'maybe'");
  t.equal(checkOption('mp256', '/a,mp=/b'), "unknown setting 'mp256'");
  t.equal(checkOption('hostname', 'bad_name'), 'value does not look like a valid DNS name');
  t.ok(isValidHostname('a-b.example'));
  t.notOk(isValidHostname('x'.repeat(64)), 'labels are at most 63 characters');
  t.notOk(isValidHostname('-a'));
});
