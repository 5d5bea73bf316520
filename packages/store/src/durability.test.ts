import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { steppingClock, tempDb } from './store.fixture.ts';
import { openStore, type Store } from './store.ts';

/** Everything a store holds, read through its own API. */
function snapshot(store: Store) {
  const names = store.blueprints.list({ limit: 1000 }).items;
  const composes = store.composes.list({ limit: 1000 }).items;
  return {
    blueprints: names.map((n) => ({
      stored: store.blueprints.get(n),
      changes: store.blueprints.changes(n, { limit: 1000 }),
      workspace: store.blueprints.workspace.get(n),
    })),
    workspaceOnly: store.blueprints.workspace.get('draft'),
    sources: store.sources.list(),
    composes: composes.map((c) => ({
      compose: c,
      log: store.composes.log.read(c.uuid),
      artifacts: store.artifacts.list(c.uuid),
    })),
  };
}

test('restart loses nothing: close and reopen gives back every row', (t) => {
  const path = tempDb(t);
  const store = openStore(path, { now: steppingClock() });
  store.blueprints.push(
    { name: 'base', version: '0.0.1', packages: [{ name: 'nginx', version: '*' }] },
    { versionGiven: '0.0.1' },
  );
  store.blueprints.push({ name: 'base', version: '0.0.1' }, { versionGiven: '0.0.1' });
  store.blueprints.tag('base');
  store.blueprints.workspace.put({ name: 'base', description: 'unsaved' });
  store.blueprints.workspace.put({ name: 'draft' });
  store.sources.put({
    name: 'debian',
    url: 'http://mirror.example.invalid/debian',
    suites: ['trixie'],
    system: true,
  });
  const done = store.composes.create({
    blueprintName: 'base',
    blueprintVersion: '0.0.2',
    imageType: 'tar',
    distro: 'debian-13',
    arch: 'x86_64',
    manifest: { version: '2' },
  });
  store.composes.transition(done.uuid, 'QUEUED', { jobId: '1' });
  store.composes.transition(done.uuid, 'BUILDING', { workerId: 'w' });
  store.composes.log.append(done.uuid, ['one', 'two']);
  store.artifacts.add({
    uuid: done.uuid,
    filename: 'root.tar',
    path: '/a/root.tar',
    size: 5,
    sha256: '0'.repeat(64),
    mimeType: 'application/x-tar',
  });
  store.composes.transition(done.uuid, 'COMPLETED');
  const waiting = store.composes.create({
    blueprintName: 'base',
    blueprintVersion: '0.0.2',
    imageType: 'raw',
    distro: 'debian-12',
    arch: 'x86_64',
    priority: 7,
  });
  store.composes.transition(waiting.uuid, 'QUEUED');
  const before = snapshot(store);
  store.close();
  store.close(); // closing twice is harmless

  const again = openStore(path);
  t.after(() => again.close());
  assert.deepEqual(snapshot(again), before);
  assert.equal(before.composes.length, 2);
  assert.equal(before.blueprints[0]?.changes?.total, 2);
  // Work can go on where it stopped.
  assert.equal(again.composes.transition(waiting.uuid, 'BUILDING').state, 'BUILDING');
});

test('a killed writer loses no committed transaction', async (t) => {
  const path = tempDb(t);
  openStore(path).close();
  const storeModule = fileURLToPath(new URL('./store.ts', import.meta.url));
  const script = `
    import { openStore } from ${JSON.stringify(storeModule)};
    const store = openStore(${JSON.stringify(path)});
    for (let i = 0; ; i++) {
      store.blueprints.push({ name: 'bp-' + i });
      process.stdout.write(i + '\\n');
      if (i === 1000000) break;
    }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let acknowledged = -1;
  let buffer = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const l of lines) acknowledged = Number(l);
    if (acknowledged >= 200 && child.exitCode === null) child.kill('SIGKILL');
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  assert.equal(signal, 'SIGKILL', `the writer was killed (exit ${code})`);
  assert.ok(acknowledged >= 200);

  const store = openStore(path);
  t.after(() => store.close());
  const { total } = store.blueprints.list({ limit: 0 });
  assert.ok(total >= acknowledged + 1, `${total} blueprints kept, ${acknowledged + 1} acknowledged`);
  for (const i of [0, Math.floor(acknowledged / 2), acknowledged]) {
    assert.equal(store.blueprints.changes(`bp-${i}`)?.total, 1, `bp-${i}`);
  }
});

test('WAL: a reader is not blocked by an open write transaction and sees only committed rows', (t) => {
  const path = tempDb(t);
  const writer = openStore(path);
  t.after(() => writer.close());
  writer.blueprints.push({ name: 'a' });
  const reader = openStore(path, { readonly: true, busyTimeoutMs: 0 });
  t.after(() => reader.close());
  writer.transaction(() => {
    writer.blueprints.push({ name: 'b' });
    writer.blueprints.push({ name: 'a' });
    // busy_timeout 0: a blocked read would throw SQLITE_BUSY at once.
    assert.deepEqual(reader.blueprints.list().items, ['a']);
    assert.equal(reader.blueprints.changes('a')?.total, 1);
  });
  assert.deepEqual(reader.blueprints.list().items, ['a', 'b']);
  assert.equal(reader.blueprints.changes('a')?.total, 2);
  assert.throws(() => reader.blueprints.push({ name: 'c' }), /readonly/);
});

test('WAL: readers in other threads read consistent snapshots while the API writes', async (t) => {
  const path = tempDb(t);
  const writer = openStore(path);
  t.after(() => writer.close());
  const N = 400;
  // Each blueprint is pushed twice in one transaction: a reader must never see one push without the other.
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.module);
    const db = new Database(workerData.path, { readonly: true });
    db.pragma('busy_timeout = 2000');
    const read = db.transaction(() => [
      db.prepare('SELECT count(*) AS n FROM blueprints').get().n,
      db.prepare('SELECT count(*) AS n FROM blueprint_changes').get().n,
    ]);
    let reads = 0, seen = 0, bad = 0, during = 0, errors = [];
    const deadline = Date.now() + 60000;
    parentPort.postMessage({ ready: read.deferred()[0] });
    while (seen < workerData.n && Date.now() < deadline) {
      try {
        const [b, c] = read.deferred();
        if (c !== 2 * b) bad++;
        if (b > 0 && b < workerData.n) during++;
        seen = b;
        reads++;
      } catch (e) { errors.push(String(e)); if (errors.length > 5) break; }
    }
    db.close();
    parentPort.postMessage({ reads, seen, bad, during, errors });`;
  type Result = { reads: number; seen: number; bad: number; during: number; errors: string[] };
  const module = fileURLToPath(import.meta.resolve('better-sqlite3'));
  const workers = [0, 1, 2].map(() => new Worker(code, { eval: true, workerData: { path, n: N, module } }));
  // Each worker says it is ready after its first read; only then does the writing start.
  const results = workers.map(
    (w) =>
      new Promise<Result>((resolve, reject) => {
        w.on('error', reject);
        w.on('message', (m: { ready?: number; reads?: number }) => {
          if (m.ready === undefined) resolve(m as Result);
        });
      }),
  );
  const ready = workers.map((w) => once(w, 'message'));
  assert.deepEqual(
    (await Promise.all(ready)).map(([m]) => m),
    workers.map(() => ({ ready: 0 })),
  );
  for (let i = 0; i < N; i++) {
    writer.transaction(() => {
      writer.blueprints.push({ name: `bp-${i}` });
      writer.blueprints.push({ name: `bp-${i}` });
    });
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  const all = await Promise.all(results);
  for (const r of all) {
    assert.deepEqual(r.errors, [], JSON.stringify(r));
    assert.equal(r.bad, 0, 'no half-written transaction was seen');
    assert.equal(r.seen, N, JSON.stringify(r));
  }
  assert.ok(
    all.some((r) => r.during > 0),
    `some reads happened while the writes went on: ${JSON.stringify(all)}`,
  );
});
