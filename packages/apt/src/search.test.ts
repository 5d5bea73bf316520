import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildLocalRepository } from './local-repo.ts';
import { CACHED_ROOTS, loadIndex } from './packages.ts';
import { openRoot } from './root.ts';
import { globToRegExp, info } from './search.ts';

const work = mkdtempSync(join(tmpdir(), 'forge-apt-search-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('globToRegExp', () => {
  it('matches shell-style globs on whole names', () => {
    assert.ok(globToRegExp('openssh-*').test('openssh-server'));
    assert.ok(!globToRegExp('openssh-*').test('xopenssh-server'));
    assert.ok(globToRegExp('lib?6').test('libc6'));
    assert.ok(globToRegExp('g++').test('g++'), '+ is literal');
    assert.ok(!globToRegExp('g++').test('ggg'));
    assert.ok(globToRegExp('python3.1[01]').test('python3.11'));
    assert.ok(globToRegExp('lib[!c]*').test('libz') && !globToRegExp('lib[!c]*').test('libc6'));
  });
});

describe('the index is rebuilt after an update', () => {
  it('sees a package added to a local repository once the root is updated again', async () => {
    const dir = join(work, 'repo');
    const repo = await buildLocalRepository(dir, [
      {
        name: 'forge-one',
        version: '1.0',
        summary: 'the first one',
        description: ['First line of the long description.', '', 'Second paragraph.'],
        section: 'misc',
      },
    ]);
    const root = await openRoot({ stateDir: join(work, 'state-local'), repositories: [repo] });
    const first = await loadIndex(root);
    assert.deepEqual(first.names, ['forge-one']);
    const one = await info(root, 'forge-one');
    assert.equal(one?.summary, 'the first one');
    assert.equal(one?.description, 'First line of the long description.\n\nSecond paragraph.');
    await buildLocalRepository(dir, [{ name: 'forge-two', version: '2.0' }]);
    await root.update({ force: true });
    const second = await loadIndex(root);
    assert.notEqual(second, first);
    assert.deepEqual(second.names, ['forge-one', 'forge-two']);
  });
});

describe('the parsed indexes kept in memory', () => {
  it(`are those of the ${CACHED_ROOTS} roots used last`, async () => {
    const repo = await buildLocalRepository(join(work, 'lru-repo'), [{ name: 'forge-lru', version: '1.0' }]);
    const roots = await Promise.all(
      Array.from({ length: CACHED_ROOTS + 1 }, (_, i) =>
        openRoot({ stateDir: join(work, `lru-${i}`), repositories: [repo] }),
      ),
    );
    const [first, ...rest] = roots;
    assert.ok(first);
    const firstIndex = await loadIndex(first);
    for (const root of rest.slice(0, -1)) await loadIndex(root);
    assert.equal(await loadIndex(first), firstIndex, 'used again: now the most recent');
    await loadIndex(rest[rest.length - 1] as (typeof roots)[number]);
    assert.equal(await loadIndex(first), firstIndex, 'still kept: another one was the oldest');
    const second = rest[0] as (typeof roots)[number];
    const secondIndex = await loadIndex(second);
    for (const root of [first, ...rest.slice(1)]) await loadIndex(root);
    assert.notEqual(await loadIndex(second), secondIndex, 'dropped as the oldest, so parsed again');
  });
});
