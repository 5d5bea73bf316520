import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blueprintNameProblem } from '@debian-forge/blueprint';
import Database from 'better-sqlite3';
import { describeRepair, repairedName } from './repair.ts';
import { tempDb } from './store.fixture.ts';
import { openStore } from './store.ts';

const LONG = 'b'.repeat(100_000);
const NOW = '2026-01-02T03:04:05.000Z';

/** Writes rows as an earlier version could have: straight into the tables, past every check. */
function insertBadRows(path: string): void {
  const db = new Database(path);
  const bp = db.prepare(
    'INSERT INTO blueprints (name, version, blueprint, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
  );
  const change = db.prepare(
    'INSERT INTO blueprint_changes (name, commit_id, timestamp, message, revision, blueprint) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const ws = db.prepare('INSERT INTO blueprint_workspace (name, blueprint, updated_at) VALUES (?, ?, ?)');
  const src = db.prepare(
    `INSERT INTO sources (name, display_name, url, created_at, updated_at) VALUES (?, ?, 'http://mirror.invalid/x', ?, ?)`,
  );
  db.transaction(() => {
    for (const [i, name] of ['..', '.', LONG, 'my blueprint'].entries()) {
      const json = JSON.stringify({ name, version: '0.0.1', packages: [{ name: 'tmux' }] });
      bp.run(name, '0.0.1', json, NOW, NOW);
      change.run(
        name,
        String(i).repeat(40),
        '2026-01-02T03:04:05Z',
        `Recipe ${name.slice(0, 9)} saved.`,
        1,
        json,
      );
    }
    ws.run('..', JSON.stringify({ name: '..', description: 'edited' }), NOW);
    ws.run('only/workspace', JSON.stringify({ name: 'only/workspace' }), NOW);
    src.run(LONG, LONG, NOW, NOW);
    src.run('..', 'Dots', NOW, NOW);
    src.run('fine', 'Fine\nTrusted: yes', NOW, NOW);
  })();
  db.close();
}

test('names an earlier version stored and the rule refuses are renamed at open; nothing else is lost', (t) => {
  const path = tempDb(t);
  openStore(path).close();
  insertBadRows(path);

  const store = openStore(path);
  t.after(() => store.close());
  const renamed = new Map(store.repaired.map((r) => [`${r.kind}:${r.from}`, r.to]));
  assert.equal(store.repaired.length, 8, JSON.stringify(store.repaired.map((r) => [r.kind, r.to])));
  const dots = renamed.get('blueprint:..') as string;
  const long = renamed.get(`blueprint:${LONG}`) as string;
  assert.match(dots, /^renamed-[0-9a-f]{8}$/);
  assert.match(renamed.get('blueprint:.') ?? '', /^renamed-[0-9a-f]{8}$/);
  assert.notEqual(renamed.get('blueprint:.'), dots);
  assert.equal(long, `${'b'.repeat(60)}-${long.slice(-8)}`);
  assert.match(renamed.get('blueprint:my blueprint') ?? '', /^my-blueprint-[0-9a-f]{8}$/);
  assert.match(renamed.get('blueprint:only/workspace') ?? '', /^only-workspace-[0-9a-f]{8}$/);
  for (const r of store.repaired) {
    if (r.kind !== 'source display name') assert.equal(blueprintNameProblem(r.to), undefined, r.to);
  }
  const lines = store.repaired.filter((r) => r.kind === 'blueprint').map(describeRepair);
  assert.ok(
    lines.includes(
      `stored blueprint "${'b'.repeat(60)}"… (100000 characters) renamed to "${long}": blueprint name too long: 100000 characters, at most 100 allowed`,
    ),
    lines.join('\n'),
  );
  assert.ok(
    lines.includes(
      `stored blueprint ".." renamed to "${dots}": invalid blueprint name "..": "." and ".." cannot be names (they mean directories in paths)`,
    ),
    lines.join('\n'),
  );

  // Listed, read with their history and workspace copy, and deleted by the new name.
  const names = store.blueprints.list({ limit: 100 }).items;
  assert.equal(names.length, 4);
  assert.ok(names.every((n) => blueprintNameProblem(n) === undefined));
  const current = store.blueprints.current(dots);
  assert.deepEqual(current, { blueprint: { name: dots, description: 'edited' }, changed: true });
  assert.deepEqual(store.blueprints.get(long)?.blueprint.packages, [{ name: 'tmux' }]);
  assert.equal(store.blueprints.get(long)?.blueprint.name, long);
  const history = store.blueprints.changes(long)?.items ?? [];
  assert.deepEqual(
    history.map((c) => [c.commit, c.revision, c.blueprint.name]),
    [['2'.repeat(40), 1, long]],
  );
  assert.equal(store.blueprints.delete(long), true);
  assert.equal(store.blueprints.changes(long), undefined);

  // Sources: the key and a display name that followed it, a display name with a new line cleaned.
  const sources = new Map(store.sources.list().map((s) => [s.name, s.displayName]));
  const longSource = renamed.get(`source:${LONG}`) as string;
  assert.equal(sources.get(longSource), longSource);
  assert.equal(sources.get(renamed.get('source:..') as string), 'Dots');
  assert.equal(sources.get('fine'), 'Fine Trusted: yes');
  assert.equal(store.sources.delete(longSource), true);

  // The database is whole, and the next open has nothing left to do.
  store.close();
  const db = new Database(path, { readonly: true });
  assert.deepEqual(db.pragma('foreign_key_check'), []);
  db.close();
  const again = openStore(path);
  assert.deepEqual(again.repaired, []);
  again.close();
});

test('the store itself takes no name the rule refuses', (t) => {
  const store = openStore(tempDb(t));
  t.after(() => store.close());
  for (const name of ['..', '.', LONG, 'a/b', 'a\nb']) {
    assert.throws(() => store.blueprints.push({ name }), { code: 'FORGE_ERR_STORE_INVALID' }, name);
    assert.throws(() => store.blueprints.workspace.put({ name }), { code: 'FORGE_ERR_STORE_INVALID' });
    assert.throws(() => store.sources.put({ name, url: 'http://mirror.invalid/' }), {
      code: 'FORGE_ERR_STORE_INVALID',
    });
  }
  assert.equal(store.blueprints.list().total, 0);
  assert.deepEqual(store.sources.list(), []);
});

test('a renamed name never takes one in use', () => {
  const first = repairedName('my blueprint', () => false);
  assert.match(first, /^my-blueprint-[0-9a-f]{8}$/);
  const taken = new Set([first]);
  const second = repairedName('my blueprint', (n) => taken.has(n));
  assert.equal(second, `${first}${second.slice(-1)}`);
  assert.equal(repairedName('..', () => false).startsWith('renamed-'), true);
  assert.equal(repairedName('-.-', () => false).startsWith('renamed-'), true);
});
