import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreErrorCode } from './errors.ts';
import { steppingClock, tempDb } from './store.fixture.ts';
import { openStore } from './store.ts';

function counter(): () => string {
  let n = 0;
  return () => (++n).toString(16).padStart(40, '0');
}

test('push: a new blueprint keeps its version (0.0.0 without one), a change is recorded', (t) => {
  const store = openStore(tempDb(t), { now: steppingClock('2026-03-04T05:06:07.890Z') });
  t.after(() => store.close());
  const change = store.blueprints.push(
    { name: 'base', version: '0.1.0', packages: [] },
    { versionGiven: '0.1.0' },
  );
  assert.match(change.commit, /^[0-9a-f]{40}$/);
  assert.match(change.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(change.timestamp, '2026-03-04T05:06:08Z');
  assert.equal(change.message, 'Recipe base, version 0.1.0 saved.');
  assert.equal(change.revision, null);
  assert.deepEqual(change.blueprint, { name: 'base', version: '0.1.0', packages: [] });
  const stored = store.blueprints.get('base');
  assert.equal(stored?.version, '0.1.0');
  assert.deepEqual(stored?.blueprint, change.blueprint);

  store.blueprints.push({ name: 'nover' }, { versionGiven: undefined });
  assert.equal(store.blueprints.get('nover')?.version, '0.0.0');
  assert.throws(() => store.blueprints.push({ name: '' }), { code: StoreErrorCode.Invalid });
});

test('push bumps the patch when the version is missing or the same, keeps any other', (t) => {
  const store = openStore(tempDb(t));
  t.after(() => store.close());
  const versions = (given: string | undefined) => {
    store.blueprints.push({ name: 'bp', version: given ?? '0.0.0' }, { versionGiven: given });
    return store.blueprints.get('bp')?.version;
  };
  assert.equal(versions('0.0.1'), '0.0.1');
  assert.equal(versions('0.0.1'), '0.0.2');
  assert.equal(versions(undefined), '0.0.3');
  assert.equal(versions(''), '0.0.4');
  assert.equal(versions('2.0.0'), '2.0.0');
  assert.equal(versions('1.0.0'), '1.0.0', 'a lower version is kept as given');
  assert.equal(store.blueprints.get('bp')?.blueprint.version, '1.0.0', 'the stored JSON carries the version');
  assert.equal(store.blueprints.changes('bp')?.total, 6);
});

test('changes: newest first, paged, with a total; limit 0 gives only the total', (t) => {
  const store = openStore(tempDb(t), { now: steppingClock(), commitId: counter() });
  t.after(() => store.close());
  for (let i = 0; i < 5; i++) store.blueprints.push({ name: 'bp', description: `v${i}` });
  const all = store.blueprints.changes('bp', { limit: 20 });
  assert.equal(all?.total, 5);
  assert.deepEqual(
    all?.items.map((c) => c.blueprint.description),
    ['v4', 'v3', 'v2', 'v1', 'v0'],
  );
  assert.deepEqual(
    all?.items.map((c) => c.blueprint.version),
    ['0.0.4', '0.0.3', '0.0.2', '0.0.1', '0.0.0'],
  );
  const page = store.blueprints.changes('bp', { offset: 1, limit: 2 });
  assert.deepEqual(
    page?.items.map((c) => c.blueprint.description),
    ['v3', 'v2'],
  );
  assert.equal(page?.total, 5);
  assert.deepEqual(store.blueprints.changes('bp', { limit: 0 }), {
    items: [],
    total: 5,
    offset: 0,
    limit: 0,
  });
  assert.equal(store.blueprints.changes('nope'), undefined);
  const first = all?.items[4];
  assert.deepEqual(store.blueprints.change('bp', first?.commit ?? ''), first);
  assert.equal(store.blueprints.change('bp', 'f'.repeat(40)), undefined);
});

test('list: names in order, paged, total; limit 0', (t) => {
  const store = openStore(tempDb(t));
  t.after(() => store.close());
  for (const name of ['delta', 'alpha', 'charlie', 'bravo', 'echo']) store.blueprints.push({ name });
  store.blueprints.workspace.put({ name: 'only-in-workspace' });
  assert.deepEqual(store.blueprints.list(), {
    items: ['alpha', 'bravo', 'charlie', 'delta', 'echo'],
    total: 5,
    offset: 0,
    limit: 20,
  });
  assert.deepEqual(store.blueprints.list({ offset: 1, limit: 2 }).items, ['bravo', 'charlie']);
  assert.deepEqual(store.blueprints.list({ offset: 10 }).items, []);
  assert.deepEqual(store.blueprints.list({ limit: 0 }), { items: [], total: 5, offset: 0, limit: 0 });
  assert.throws(() => store.blueprints.list({ limit: Number.NaN }), { code: StoreErrorCode.Invalid });
});

test('workspace: unsaved edits win in current(), push drops them, no change or bump', (t) => {
  const store = openStore(tempDb(t));
  t.after(() => store.close());
  store.blueprints.push(
    { name: 'bp', version: '0.0.1', description: 'committed' },
    { versionGiven: '0.0.1' },
  );
  store.blueprints.workspace.put({ name: 'bp', version: '0.0.1', description: 'draft' });
  assert.deepEqual(store.blueprints.current('bp'), {
    blueprint: { name: 'bp', version: '0.0.1', description: 'draft' },
    changed: true,
  });
  assert.equal(store.blueprints.get('bp')?.blueprint.description, 'committed');
  assert.equal(store.blueprints.changes('bp')?.total, 1);
  store.blueprints.workspace.put({ name: 'bp', version: '0.0.1', description: 'draft 2' });
  assert.equal(store.blueprints.workspace.get('bp')?.description, 'draft 2');

  assert.equal(store.blueprints.workspace.delete('bp'), true);
  assert.equal(store.blueprints.workspace.delete('bp'), false);
  assert.equal(store.blueprints.current('bp')?.changed, false);

  store.blueprints.workspace.put({ name: 'bp', description: 'draft 3' });
  store.blueprints.push({ name: 'bp', version: '0.0.1', description: 'pushed' }, { versionGiven: '0.0.1' });
  assert.equal(store.blueprints.workspace.get('bp'), undefined, 'push drops the workspace copy');
  assert.deepEqual(store.blueprints.current('bp'), {
    blueprint: { name: 'bp', version: '0.0.2', description: 'pushed' },
    changed: false,
  });

  // A workspace copy may exist without a committed blueprint.
  store.blueprints.workspace.put({ name: 'new' });
  assert.deepEqual(store.blueprints.current('new'), { blueprint: { name: 'new' }, changed: true });
  assert.equal(store.blueprints.exists('new'), false);
  assert.equal(store.blueprints.current('none'), undefined);
});

test('undo pushes an earlier blueprint as a new change', (t) => {
  const store = openStore(tempDb(t), { now: steppingClock() });
  t.after(() => store.close());
  const c1 = store.blueprints.push(
    { name: 'bp', version: '1.0.0', packages: [{ name: 'tmux' }] },
    { versionGiven: '1.0.0' },
  );
  store.blueprints.push(
    { name: 'bp', version: '2.0.0', packages: [{ name: 'vim' }] },
    { versionGiven: '2.0.0' },
  );
  store.blueprints.workspace.put({ name: 'bp', packages: [] });
  const undone = store.blueprints.undo('bp', c1.commit);
  assert.equal(undone.message, `bp.toml reverted to commit ${c1.commit}`);
  assert.notEqual(undone.commit, c1.commit);
  assert.deepEqual(store.blueprints.get('bp')?.blueprint, {
    name: 'bp',
    version: '1.0.0',
    packages: [{ name: 'tmux' }],
  });
  assert.equal(store.blueprints.changes('bp')?.total, 3);
  assert.equal(store.blueprints.changes('bp')?.items[0]?.commit, undone.commit);
  assert.equal(store.blueprints.workspace.get('bp'), undefined);
  // Undo to the current version's own commit bumps it, as a push of the same version does.
  const again = store.blueprints.undo('bp', undone.commit);
  assert.equal(again.blueprint.version, '1.0.1');

  assert.throws(() => store.blueprints.undo('bp', 'f'.repeat(40)), {
    code: StoreErrorCode.NotFound,
    message: /Unknown commit/,
  });
  assert.throws(() => store.blueprints.undo('nope', c1.commit), {
    code: StoreErrorCode.NotFound,
    message: /Unknown blueprint/,
  });
  store.blueprints.push({ name: 'other' });
  assert.throws(() => store.blueprints.undo('other', c1.commit), { code: StoreErrorCode.NotFound });
});

test('tag sets the next revision on the latest change, once', (t) => {
  const store = openStore(tempDb(t));
  t.after(() => store.close());
  store.blueprints.push({ name: 'bp' });
  assert.equal(store.blueprints.tag('bp').revision, 1);
  assert.equal(store.blueprints.tag('bp').revision, 1, 'already tagged: unchanged');
  store.blueprints.push({ name: 'bp' });
  store.blueprints.push({ name: 'bp' });
  assert.equal(store.blueprints.tag('bp').revision, 2);
  assert.deepEqual(
    store.blueprints.changes('bp')?.items.map((c) => c.revision),
    [2, null, 1],
  );
  assert.throws(() => store.blueprints.tag('nope'), { code: StoreErrorCode.NotFound });
});

test('delete removes the blueprint, its changes and its workspace copy', (t) => {
  const store = openStore(tempDb(t));
  t.after(() => store.close());
  const c = store.blueprints.push({ name: 'bp' });
  store.blueprints.push({ name: 'bp' });
  store.blueprints.workspace.put({ name: 'bp' });
  store.blueprints.push({ name: 'keep' });
  assert.equal(store.blueprints.delete('bp'), true);
  assert.equal(store.blueprints.get('bp'), undefined);
  assert.equal(store.blueprints.changes('bp'), undefined);
  assert.equal(store.blueprints.change('bp', c.commit), undefined);
  assert.equal(store.blueprints.workspace.get('bp'), undefined);
  assert.equal(store.blueprints.delete('bp'), false);
  assert.deepEqual(store.blueprints.list().items, ['keep']);
  // A new blueprint of the same name starts a fresh history.
  store.blueprints.push({ name: 'bp', version: '0.0.7' }, { versionGiven: '0.0.7' });
  assert.equal(store.blueprints.changes('bp')?.total, 1);
  assert.equal(store.blueprints.get('bp')?.version, '0.0.7');
  // Only a workspace copy: delete removes it too.
  store.blueprints.workspace.put({ name: 'draft' });
  assert.equal(store.blueprints.delete('draft'), true);
  assert.equal(store.blueprints.workspace.get('draft'), undefined);
});

test('sources: put, replace, list, delete; system sources are protected', (t) => {
  const store = openStore(tempDb(t));
  t.after(() => store.close());
  const debian = store.sources.put({
    name: 'debian',
    url: 'http://mirror.example.invalid/debian',
    suites: ['bookworm', 'bookworm-updates'],
    components: ['main'],
    signedBy: ['/usr/share/keyrings/debian-archive-keyring.gpg'],
    system: true,
  });
  assert.equal(debian.type, 'deb');
  assert.equal(debian.checkGpg, true);
  assert.equal(debian.checkSsl, true);
  assert.equal(debian.system, true);
  assert.deepEqual(debian.suites, ['bookworm', 'bookworm-updates']);
  const mine = store.sources.put({
    name: 'mine',
    url: 'https://example.org/debian',
    suites: ['stable'],
    checkGpg: false,
  });
  assert.equal(mine.checkGpg, false);
  assert.deepEqual(mine.components, []);
  assert.equal(mine.displayName, 'mine', 'the display name is the key when none is given');
  assert.deepEqual(mine.distros, []);
  store.sources.put({ name: 'mine', url: 'https://example.org/debian2', suites: ['stable'] });
  assert.equal(store.sources.get('mine')?.url, 'https://example.org/debian2');
  assert.deepEqual(
    store.sources.list().map((s) => s.name),
    ['debian', 'mine'],
  );
  assert.throws(() => store.sources.put({ name: 'debian', url: 'http://evil' }), {
    code: StoreErrorCode.SystemSource,
  });
  assert.throws(() => store.sources.delete('debian'), { code: StoreErrorCode.SystemSource });
  assert.throws(() => store.sources.put({ name: 'x', url: 'u', type: 'yum' as 'deb' }), {
    code: StoreErrorCode.Invalid,
  });
  assert.equal(store.sources.delete('mine'), true);
  assert.equal(store.sources.delete('mine'), false);
  assert.equal(store.sources.get('mine'), undefined);
  assert.equal(store.sources.get('debian')?.url, 'http://mirror.example.invalid/debian');
});
