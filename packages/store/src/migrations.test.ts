import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { StoreError, StoreErrorCode } from './errors.ts';
import { latestVersion, MIGRATIONS, type Migration, migrate, schemaVersion } from './migrations.ts';
import { tempDb } from './store.fixture.ts';
import { openStore } from './store.ts';

test('an empty file gets every migration, recorded in schema_migrations; reopening applies nothing', (t) => {
  const path = tempDb(t);
  openStore(path).close();
  const db = new Database(path, { readonly: true });
  const rows = db
    .prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')
    .all() as {
    version: number;
    applied_at: string;
  }[];
  assert.deepEqual(
    rows.map((r) => r.version),
    MIGRATIONS.map((m) => m.version),
  );
  assert.equal(schemaVersion(db), latestVersion());
  const tables = (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  ).map((r) => r.name);
  for (const name of [
    'artifacts',
    'blueprint_changes',
    'blueprint_workspace',
    'blueprints',
    'compose_logs',
    'composes',
    'schema_migrations',
    'sources',
  ]) {
    assert.ok(tables.includes(name), `table ${name}`);
  }
  db.close();

  const store = openStore(path);
  store.close();
  const again = new Database(path, { readonly: true });
  assert.equal(
    (again.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number }).n,
    MIGRATIONS.length,
  );
  again.close();
});

test('WAL, foreign keys and the busy timeout are set', (t) => {
  const path = tempDb(t);
  const store = openStore(path);
  t.after(() => store.close());
  assert.deepEqual(store.info(), {
    schemaVersion: latestVersion(),
    journalMode: 'wal',
    foreignKeys: true,
    busyTimeoutMs: 5000,
  });
  const reader = openStore(path, { readonly: true, busyTimeoutMs: 250 });
  t.after(() => reader.close());
  assert.deepEqual(reader.info(), {
    schemaVersion: latestVersion(),
    journalMode: 'wal',
    foreignKeys: true,
    busyTimeoutMs: 250,
  });
});

test('a database newer than the code is refused with a clear error, and left as it is', (t) => {
  const path = tempDb(t);
  openStore(path).close();
  const db = new Database(path);
  db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 'x')").run(
    latestVersion() + 1,
  );
  db.close();
  assert.throws(
    () => openStore(path),
    (e: unknown) =>
      e instanceof StoreError &&
      e.code === StoreErrorCode.Schema &&
      e.message.includes(`schema version ${latestVersion() + 1}`) &&
      e.message.includes(`newer than ${latestVersion()}`),
  );
  assert.throws(() => openStore(path, { readonly: true }), { code: StoreErrorCode.Schema });
  const check = new Database(path, { readonly: true });
  assert.equal(schemaVersion(check), latestVersion() + 1);
  check.close();
});

test('an older database is migrated forward; a failing step rolls back every step of that open', (t) => {
  const path = tempDb(t);
  const first: Migration[] = [{ version: 1, name: 'one', sql: 'CREATE TABLE one (x INTEGER)' }];
  openStore(path, { migrations: [...MIGRATIONS] }).close();
  // A second program version with two more steps, the last broken: nothing of it may stay.
  const broken: Migration[] = [
    ...MIGRATIONS,
    { version: MIGRATIONS.length + 1, name: 'two', sql: 'CREATE TABLE two (x INTEGER)' },
    { version: MIGRATIONS.length + 2, name: 'bad', sql: 'CREATE TABLE broken (' },
  ];
  assert.throws(
    () => openStore(path, { migrations: broken }),
    (e: unknown) => {
      return (
        e instanceof StoreError &&
        e.code === StoreErrorCode.Schema &&
        /migration \d+ \(bad\) failed/.test(e.message)
      );
    },
  );
  let db = new Database(path, { readonly: true });
  assert.equal(schemaVersion(db), MIGRATIONS.length);
  assert.equal(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'two'").get(), undefined);
  db.close();

  const fixed = [...broken.slice(0, -1)];
  openStore(path, { migrations: fixed }).close();
  db = new Database(path, { readonly: true });
  assert.equal(schemaVersion(db), MIGRATIONS.length + 1);
  db.close();

  // Steps must be numbered 1, 2, … in order.
  const other = tempDb(t, 'other.sqlite');
  assert.throws(
    () => openStore(other, { migrations: [{ ...first[0], version: 2 } as Migration] }),
    /expected 1/,
  );
});

test('a read-only connection needs a migrated database', (t) => {
  const path = tempDb(t);
  assert.throws(() => openStore(path, { readonly: true }));
  new Database(path).close();
  assert.throws(() => openStore(path, { readonly: true }), { code: StoreErrorCode.Schema });
});

test('version 1 → 2: a stored source keeps every field, gets its key as display name and no distros', (t) => {
  const path = tempDb(t);
  const old = new Database(path);
  migrate(old, () => '2026-01-01T00:00:00.000Z', MIGRATIONS.slice(0, 1));
  assert.equal(schemaVersion(old), 1);
  old
    .prepare(
      `INSERT INTO sources (name, url, suites, components, signed_by, check_gpg, check_ssl, system, created_at, updated_at)
       VALUES ('mine', 'https://mirror.invalid/debian', '["./"]', '[]', '["/k.gpg"]', 0, 0, 0, 'c', 'u')`,
    )
    .run();
  old.close();

  const store = openStore(path);
  t.after(() => store.close());
  assert.equal(store.info().schemaVersion, latestVersion());
  assert.deepEqual(store.sources.get('mine'), {
    name: 'mine',
    displayName: 'mine',
    type: 'deb',
    url: 'https://mirror.invalid/debian',
    suites: ['./'],
    components: [],
    signedBy: ['/k.gpg'],
    checkGpg: false,
    checkSsl: false,
    system: false,
    distros: [],
    createdAt: 'c',
    updatedAt: 'u',
  });
  const put = store.sources.put({
    name: 'mine',
    displayName: 'My repository',
    url: 'https://mirror.invalid/debian',
    distros: ['debian-13'],
  });
  assert.equal(put.displayName, 'My repository');
  assert.deepEqual(put.distros, ['debian-13']);
  assert.equal(put.createdAt, 'c', 'a replaced source keeps its creation time');
});

test('version 2 → 3: a stored compose keeps its manifest and gets no build (its worker job is of the old kind)', (t) => {
  const path = tempDb(t);
  const old = new Database(path);
  migrate(old, () => '2026-01-01T00:00:00.000Z', MIGRATIONS.slice(0, 2));
  assert.equal(schemaVersion(old), 2);
  old
    .prepare(
      `INSERT INTO composes (uuid, blueprint_name, blueprint_version, image_type, distro, arch, state,
         job_id, manifest, created_at)
       VALUES ('c1', 'bp', '0.0.1', 'tar', 'debian-12', 'x86_64', 'QUEUED', 'build-c1', '{"version":"2"}', 'c')`,
    )
    .run();
  old.close();

  const store = openStore(path);
  t.after(() => store.close());
  assert.equal(store.info().schemaVersion, latestVersion());
  const c = store.composes.get('c1');
  assert.deepEqual(c?.manifest, { version: '2' });
  assert.equal(c?.build, null);
  assert.equal(c?.state, 'QUEUED');
  assert.equal(c?.jobId, 'build-c1');
});

test('version 3 → 4: a stored build becomes a plan with no packages; old composes list, show empty package lists and delete', (t) => {
  const path = tempDb(t);
  const old = new Database(path);
  migrate(old, () => '2026-01-01T00:00:00.000Z', MIGRATIONS.slice(0, 3));
  assert.equal(schemaVersion(old), 3);
  const insert = old.prepare(
    `INSERT INTO composes (uuid, blueprint_name, blueprint_version, image_type, distro, arch, state,
       job_id, manifest, build, created_at)
     VALUES (?, 'bp', '0.0.1', 'qcow2', 'debian-12', 'x86_64', ?, ?, '{"version":"2"}', ?, ?)`,
  );
  insert.run(
    'c1',
    'QUEUED',
    'build-c1',
    '{"exports":["qcow2"],"filename":"disk.qcow2","checkpoints":["os","org.osbuild.apt"]}',
    'c',
  );
  insert.run('c2', 'COMPLETED', 'build-c2', '{"exports":["image","qcow2"],"filename":"disk.raw"}', 'd');
  insert.run('c3', 'FAILED', null, null, 'e');
  old.prepare("UPDATE composes SET image_type = 'raw' WHERE uuid = 'c2'").run();
  old.close();

  const store = openStore(path);
  t.after(() => store.close());
  assert.equal(store.info().schemaVersion, latestVersion());
  assert.deepEqual(store.composes.get('c1')?.build, {
    exports: ['qcow2'],
    artifact: { filename: 'disk.qcow2', mimeType: 'application/x-qemu-disk' },
    checkpoints: ['os', 'org.osbuild.apt'],
    layers: [],
  });
  assert.deepEqual(store.composes.get('c2')?.build, {
    exports: ['image', 'qcow2'],
    artifact: { filename: 'disk.raw', mimeType: 'application/octet-stream' },
    checkpoints: [],
    layers: [],
  });
  assert.equal(store.composes.get('c3')?.build, null, 'a compose that never had a build keeps none');
  const listed = store.composes.list();
  assert.deepEqual(
    listed.items.map((c) => [c.uuid, c.build?.layers.flat().length ?? 0]),
    [
      ['c3', 0],
      ['c2', 0],
      ['c1', 0],
    ],
  );
  store.composes.delete('c2');
  store.composes.delete('c3');
  assert.deepEqual(
    store.composes.list().items.map((c) => c.uuid),
    ['c1'],
  );
});

test('version 4 → 5: a stored compose has no API (only Weldr and the Forge API see it); the column takes only the APIs', (t) => {
  const path = tempDb(t);
  const old = new Database(path);
  migrate(old, () => '2026-01-01T00:00:00.000Z', MIGRATIONS.slice(0, 4));
  old
    .prepare(
      `INSERT INTO composes (uuid, blueprint_name, blueprint_version, image_type, distro, arch, state, created_at)
       VALUES ('c1', 'bp', '0.0.1', 'tar', 'debian-12', 'x86_64', 'COMPLETED', 'c')`,
    )
    .run();
  old.close();

  const store = openStore(path);
  t.after(() => store.close());
  assert.equal(store.info().schemaVersion, latestVersion());
  const c = store.composes.get('c1');
  assert.equal(c?.api, null);
  assert.equal(c?.request, null);
  assert.equal(store.composes.list({ apis: ['cloud'] }).total, 0);
  const raw = new Database(path);
  t.after(() => raw.close());
  assert.throws(
    () => raw.prepare("UPDATE composes SET api = 'koji' WHERE uuid = 'c1'").run(),
    /CHECK constraint/,
  );
});

test('version 5 → 6: a stored compose has no OSTree commit, lists and deletes; a COMPLETED one keeps the commit it made, and only a checksum', (t) => {
  const path = tempDb(t);
  const old = new Database(path);
  migrate(old, () => '2026-01-01T00:00:00.000Z', MIGRATIONS.slice(0, 5));
  const insert = old.prepare(
    `INSERT INTO composes (uuid, blueprint_name, blueprint_version, image_type, distro, arch, state,
       ostree_ref, created_at)
     VALUES (?, 'bp', '0.0.1', 'debian-atomic-commit', 'debian-12', 'x86_64', ?, 'debian/12/x86_64/atomic', ?)`,
  );
  insert.run('c1', 'COMPLETED', 'c');
  insert.run('c2', 'BUILDING', 'd');
  old.close();

  const store = openStore(path);
  t.after(() => store.close());
  assert.equal(store.info().schemaVersion, 6);
  assert.deepEqual(store.composes.get('c1')?.ostree, {
    ref: 'debian/12/x86_64/atomic',
    parent: null,
    url: null,
    commit: null,
  });
  assert.deepEqual(
    store.composes.list().items.map((c) => [c.uuid, c.ostree.commit]),
    [
      ['c2', null],
      ['c1', null],
    ],
  );
  const commit = 'ab'.repeat(32);
  assert.equal(store.composes.transition('c2', 'COMPLETED', { ostreeCommit: commit }).ostree.commit, commit);
  store.composes.delete('c1');
  assert.deepEqual(
    store.composes.list().items.map((c) => c.uuid),
    ['c2'],
  );
  for (const junk of ['AB'.repeat(32), 'ab'.repeat(31), `${'ab'.repeat(31)}g1`, "x' OR 1=1 --"]) {
    const c = store.composes.create({
      blueprintName: 'bp',
      blueprintVersion: '0.0.1',
      imageType: 'debian-atomic-commit',
      distro: 'debian-12',
      arch: 'x86_64',
    });
    for (const s of ['QUEUED', 'BUILDING'] as const) store.composes.transition(c.uuid, s);
    assert.throws(
      () => store.composes.transition(c.uuid, 'COMPLETED', { ostreeCommit: junk }),
      /CHECK constraint/,
    );
    assert.equal(store.composes.get(c.uuid)?.state, 'BUILDING', 'the refused move left the row as it was');
  }
});
