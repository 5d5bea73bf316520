import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chownSync,
  lutimesSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { moduleSchema, Schema } from '@debian-forge/manifest';
import type { InputArgument } from '../../shared/arguments.ts';
import { metaJsonOf } from '../../shared/define.ts';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import definition from './schema.ts';
import { main } from './stage.ts';

const isRoot = process.getuid?.() === 0;
const EPOCH = 1_700_000_000;
const OLD = 1_600_000_000;

function list(archive: string, ...extra: string[]): string[] {
  return execFileSync('tar', ['-tf', archive, ...extra], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

/** `tar -tv` lines as [mode, owner, size, date, time, name]. */
function listVerbose(archive: string): string[][] {
  return execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', archive], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
  })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(/\s+/));
}

describe('org.osbuild.tar', () => {
  let root: TestRoot;
  let input: InputArgument;
  beforeEach(() => {
    root = testRoot();
    input = root.input('tree');
    writeFileSync(join(input.path, 'file1'), 'A file to be tarred');
    writeFileSync(join(input.path, 'file2'), 'Another file to be tarred');
  });
  afterEach(() => root.cleanup());

  const run = (options: Record<string, unknown>, meta?: { id: string; 'source-epoch'?: number }) =>
    main(
      root.args(options as Parameters<typeof main>[0]['options'], {
        inputs: { tree: input },
        ...(meta ? { meta } : {}),
      }),
    );
  const out = (name: string) => join(root.tree, name);

  it('archives the whole tree as ./ by default, or its entries with root-node omit', () => {
    run({ filename: 'out.tar' });
    assert.deepEqual(list(out('out.tar')).sort(), ['./', './file1', './file2']);
    run({ filename: '/omit.tar', 'root-node': 'omit' });
    assert.deepEqual(list(out('omit.tar')), ['file1', 'file2']);
  });

  it('archives only the given paths, in their order', () => {
    run({ filename: 'out.tar', paths: ['file2', 'file1', 'file1', 'file2'] });
    assert.deepEqual(list(out('out.tar')), ['file2', 'file1', 'file1', 'file2']);
  });

  it('keeps owners and modes, with names unless numeric-owner', { skip: !isRoot && 'needs root' }, () => {
    mkdirSync(join(input.path, 'home/user'), { recursive: true });
    chownSync(join(input.path, 'home/user'), 1000, 1000);
    writeFileSync(join(input.path, 'home/user/secret'), 'x', { mode: 0o600 });
    chownSync(join(input.path, 'home/user/secret'), 1000, 1001);
    run({ filename: 'out.tar', paths: ['home', 'file1'] });
    const lines = new Map(listVerbose(out('out.tar')).map((f) => [f[5], f]));
    assert.equal(lines.get('home/user/secret')?.[0], '-rw-------');
    assert.equal(lines.get('home/user/secret')?.[1], '1000/1001');
    assert.equal(lines.get('home/user/')?.[1], '1000/1000');
    assert.equal(lines.get('file1')?.[1], '0/0');
    const named = execFileSync('tar', ['-tvf', out('out.tar'), 'file1'], { encoding: 'utf8' });
    assert.match(named, / root\/root /);
    run({ filename: 'numeric.tar', paths: ['file1'], 'numeric-owner': true });
    assert.match(execFileSync('tar', ['-tvf', out('numeric.tar')], { encoding: 'utf8' }), / 0\/0 /);
  });

  it('compresses by suffix or as asked', () => {
    const magic = (name: string, n: number) => readFileSync(out(name)).subarray(0, n).toString('hex');
    run({ filename: 'a.tar.gz' });
    assert.equal(magic('a.tar.gz', 2), '1f8b');
    run({ filename: 'a.tar.xz' });
    assert.equal(magic('a.tar.xz', 6), 'fd377a585a00');
    run({ filename: 'a.unknown', compression: 'zstd' });
    assert.equal(magic('a.unknown', 4), '28b52ffd');
    run({ filename: 'b.unknown', compression: 'gzip' });
    assert.equal(magic('b.unknown', 2), '1f8b');
    run({ filename: 'plain.tar' });
    assert.equal(readFileSync(out('plain.tar')).subarray(257, 262).toString(), 'ustar');
    assert.deepEqual(list(out('a.tar.xz')).sort(), ['./', './file1', './file2']);
  });

  it('renames members with transform, and refuses sed’s e flag', () => {
    run({ filename: 'out.tar', paths: ['file1', 'file2'], transform: 's/file1/foo99/;s/file2/bar11/' });
    assert.deepEqual(list(out('out.tar')), ['foo99', 'bar11']);
    assert.throws(
      () => run({ filename: 'bad.tar', paths: ['file1'], transform: 's/file1/date/e' }),
      /tar .* failed/,
    );
  });

  it('refuses paths that leave the tree', () => {
    symlinkSync('/', join(input.path, 'hostroot'));
    for (const path of ['../file1', '/etc/passwd', 'hostroot/etc/passwd', 'a/../../b']) {
      assert.throws(
        () => run({ filename: 'out.tar', paths: [path] }),
        /must be relative|symbolic link/,
        path,
      );
    }
  });

  it('stores extended attributes in the posix format unless xattrs is false', (t) => {
    const r = spawnSync('setfattr', ['-n', 'user.forge', '-v', 'yes', join(input.path, 'file1')]);
    if (r.error || r.status !== 0) {
      t.skip(`cannot set a user extended attribute here: ${r.error?.message ?? r.stderr}`);
      return;
    }
    run({ filename: 'x.tar', format: 'posix' });
    assert.ok(readFileSync(out('x.tar')).includes('SCHILY.xattr.user.forge=yes'));
    run({ filename: 'nox.tar', format: 'posix', xattrs: false });
    assert.ok(!readFileSync(out('nox.tar')).includes('SCHILY.xattr.user.forge'));
  });

  describe('with a source epoch', () => {
    /** The same content built twice, in a different order and at different times. */
    function buildTree(dir: string, order: string[], now: number): void {
      for (const name of order) {
        if (name === 'd') {
          mkdirSync(join(dir, 'd/e'), { recursive: true });
          writeFileSync(join(dir, 'd/e/deep'), 'deep');
        } else if (name === 'link') {
          symlinkSync('d/e/deep', join(dir, 'link'));
          lutimesSync(join(dir, 'link'), now, now);
        } else {
          writeFileSync(join(dir, name), `content of ${name}`);
        }
      }
      for (const p of ['d/e/deep', 'd/e', 'd', 'z', 'a', 'm', '.']) utimesSync(join(dir, p), now, now);
      utimesSync(join(dir, 'old'), OLD, OLD); // older than the epoch: kept as it is
    }

    for (const [format, filename] of [
      ['gnu', 'out.tar'],
      ['posix', 'out.tar.gz'],
    ] as const) {
      it(`gives byte-identical ${format} archives with times clamped (${filename})`, () => {
        const t1 = Date.now() / 1000;
        const a = root.input('a');
        const b = root.input('b');
        buildTree(a.path, ['z', 'a', 'm', 'old', 'd', 'link'], t1);
        buildTree(b.path, ['link', 'd', 'old', 'm', 'a', 'z'], t1 + 3600);
        const meta: { id: string; 'source-epoch'?: number } = { id: '0'.repeat(64), 'source-epoch': EPOCH };
        const archive = (tree: InputArgument, name: string, withMeta = meta) =>
          main(
            root.args({ filename: name, format } as Parameters<typeof main>[0]['options'], {
              inputs: { tree },
              meta: withMeta,
            }),
          );
        archive(a, `a-${filename}`);
        archive(b, `b-${filename}`);
        const bytesA = readFileSync(out(`a-${filename}`));
        assert.ok(bytesA.equals(readFileSync(out(`b-${filename}`))), 'archives differ');

        const entries = listVerbose(out(`a-${filename}`));
        assert.deepEqual(
          entries.map((f) => f[5]),
          ['./', './a', './d/', './d/e/', './d/e/deep', './link', './m', './old', './z'],
        );
        const clamped = new Date(EPOCH * 1000).toISOString().replace('T', ' ').slice(0, 19).split(' ');
        const old = new Date(OLD * 1000).toISOString().replace('T', ' ').slice(0, 19).split(' ');
        for (const f of entries) {
          const when = f[5] === './old' ? old : clamped;
          assert.deepEqual([f[3], f[4]], when, `${f[5]} ${f[3]} ${f[4]}`);
        }

        // Control: without the epoch the two trees do give different archives.
        archive(a, `c-${filename}`, { id: '0'.repeat(64) });
        archive(b, `d-${filename}`, { id: '0'.repeat(64) });
        assert.ok(!readFileSync(out(`c-${filename}`)).equals(readFileSync(out(`d-${filename}`))));
      });
    }
  });

  it('rejects root-node together with paths in its schema', () => {
    const schema = new Schema(
      moduleSchema('Stage', definition.type, undefined, metaJsonOf(definition).schema_2),
    );
    const check = (options: unknown) =>
      schema.validate({ type: definition.type, inputs: { tree: {} }, options }).valid;
    assert.ok(check({ filename: 'out.tar', 'root-node': 'include' }));
    assert.ok(check({ filename: 'out.tar', paths: ['file1'] }));
    assert.ok(!check({ filename: 'out.tar', 'root-node': 'include', paths: ['file1'] }));
    assert.ok(!check({ filename: 'out.tar', compression: 'EXTREME' }));
    assert.ok(!check({ 'root-node': 'omit' }));
  });
});
