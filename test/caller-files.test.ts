// The one reader of the JSON files a caller names (config.json, exec --process, update --resources):
// only regular files, bounded, never waiting on a FIFO.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_CALLER_FILE, readJsonFile } from '../src/runtime/caller-files.js';

const dir = mkdtempSync(join(tmpdir(), 'pxoci-caller-files-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('a regular file, also through a symlink, is read and parsed', async (t) => {
  writeFileSync(join(dir, 'ok.json'), '{"a":1}');
  symlinkSync(join(dir, 'ok.json'), join(dir, 'link.json'));
  t.same(readJsonFile(join(dir, 'ok.json')), { a: 1 });
  t.same(readJsonFile(join(dir, 'link.json'), 'config.json'), { a: 1 });
  t.throws(() => readJsonFile(join(dir, 'missing.json')), { message: `open ${join(dir, 'missing.json')}: no such file or directory` });
});

t.test('a device, a FIFO or a directory is refused without reading it', async (t) => {
  symlinkSync('/dev/zero', join(dir, 'zero.json'));
  t.throws(() => readJsonFile(join(dir, 'zero.json'), 'config.json'), { message: 'config.json: not a regular file (a FIFO, device or directory is not read)' });
  t.equal(spawnSync('mkfifo', [join(dir, 'fifo.json')]).status, 0);
  // A blocking open would never return: no writer ever comes.
  t.throws(() => readJsonFile(join(dir, 'fifo.json'), 'process.json'), { message: 'process.json: not a regular file (a FIFO, device or directory is not read)' });
  t.throws(() => readJsonFile(dir, 'config.json'), { message: /not a regular file/ });
});

t.test('a file over the limit is refused by name', async (t) => {
  writeFileSync(join(dir, 'big.json'), Buffer.alloc(MAX_CALLER_FILE + 1, 0x20));
  t.throws(() => readJsonFile(join(dir, 'big.json'), 'config.json'), { message: 'config.json: larger than 16 MiB, the most pxoci reads' });
  writeFileSync(join(dir, 'limit.json'), Buffer.concat([Buffer.from('{}'), Buffer.alloc(MAX_CALLER_FILE - 2, 0x20)]));
  t.same(readJsonFile(join(dir, 'limit.json')), {}, 'exactly the limit is read');
});

