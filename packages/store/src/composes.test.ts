import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { StoreErrorCode, TransitionError } from './errors.ts';
import {
  COMPOSE_STATES,
  type ComposeState,
  canTransition,
  isTerminal,
  statesOfWeldrStatus,
  weldrStatus,
} from './states.ts';
import { steppingClock, tempDb } from './store.fixture.ts';
import { openStore, type Store } from './store.ts';

const ALLOWED: [ComposeState, ComposeState][] = [
  ['PENDING', 'QUEUED'],
  ['QUEUED', 'BUILDING'],
  ['BUILDING', 'COMPLETED'],
  ['BUILDING', 'FAILED'],
  ['BUILDING', 'CANCELLED'],
  ['PENDING', 'CANCELLED'],
  ['PENDING', 'FAILED'],
  ['QUEUED', 'CANCELLED'],
  ['QUEUED', 'FAILED'],
];

/** The shortest way to a state, from PENDING. */
const PATH: Record<ComposeState, ComposeState[]> = {
  PENDING: [],
  QUEUED: ['QUEUED'],
  BUILDING: ['QUEUED', 'BUILDING'],
  COMPLETED: ['QUEUED', 'BUILDING', 'COMPLETED'],
  FAILED: ['FAILED'],
  CANCELLED: ['CANCELLED'],
};

function newCompose(store: Store, uuid?: string) {
  return store.composes.create({
    ...(uuid === undefined ? {} : { uuid }),
    blueprintName: 'base',
    blueprintVersion: '0.0.1',
    blueprint: { name: 'base', version: '0.0.1', packages: [{ name: 'nginx' }] },
    imageType: 'qcow2',
    distro: 'debian-12',
    arch: 'x86_64',
    size: 8 * 1024 ** 3,
    priority: 5,
    ostree: { ref: 'debian/12/x86_64/edge' },
  });
}

function inState(store: Store, state: ComposeState) {
  const c = newCompose(store);
  for (const s of PATH[state]) store.composes.transition(c.uuid, s);
  return c.uuid;
}

test('the transition table is exactly the allowed list', () => {
  for (const from of COMPOSE_STATES) {
    for (const to of COMPOSE_STATES) {
      const allowed = ALLOWED.some(([f, t]) => f === from && t === to);
      assert.equal(canTransition(from, to), allowed, `${from} → ${to}`);
    }
  }
  assert.deepEqual(
    COMPOSE_STATES.filter((s) => isTerminal(s)),
    ['COMPLETED', 'FAILED', 'CANCELLED'],
  );
});

test("Weldr's view of the states", () => {
  assert.deepEqual(Object.fromEntries(COMPOSE_STATES.map((s) => [s, weldrStatus(s)])), {
    PENDING: 'WAITING',
    QUEUED: 'WAITING',
    BUILDING: 'RUNNING',
    COMPLETED: 'FINISHED',
    FAILED: 'FAILED',
    CANCELLED: 'FAILED',
  });
  assert.deepEqual(statesOfWeldrStatus('WAITING'), ['PENDING', 'QUEUED']);
  assert.deepEqual(statesOfWeldrStatus('FAILED'), ['FAILED', 'CANCELLED']);
});

test('a new compose is PENDING with its fields and a timestamp', (t) => {
  // (the clock's first second went to the migration record)
  const store = openStore(tempDb(t), { now: steppingClock() });
  t.after(() => store.close());
  const c = newCompose(store, '11111111-2222-3333-4444-555555555555');
  assert.equal(c.uuid, '11111111-2222-3333-4444-555555555555');
  assert.equal(c.state, 'PENDING');
  assert.deepEqual(c.stateTimes, { PENDING: '2026-01-02T03:04:06.000Z' });
  assert.equal(c.createdAt, '2026-01-02T03:04:06.000Z');
  assert.equal(c.startedAt, null);
  assert.equal(c.finishedAt, null);
  assert.equal(c.size, 8 * 1024 ** 3);
  assert.equal(c.priority, 5);
  assert.deepEqual(c.ostree, { ref: 'debian/12/x86_64/edge', parent: null, url: null, commit: null });
  assert.deepEqual(c.blueprint?.packages, [{ name: 'nginx' }]);
  assert.equal(c.manifest, null);
  assert.throws(() => newCompose(store, c.uuid), { code: StoreErrorCode.Exists });
  assert.match(
    newCompose(store).uuid,
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
});

test('every allowed transition succeeds and stamps its time', (t) => {
  const store = openStore(tempDb(t), { now: steppingClock() });
  t.after(() => store.close());
  for (const [from, to] of ALLOWED) {
    const uuid = inState(store, from);
    const before = store.composes.get(uuid);
    assert.equal(before?.state, from);
    const after = store.composes.transition(uuid, to, { workerId: 'w1', jobId: `job-${uuid}` });
    assert.equal(after.state, to);
    const stamp = after.stateTimes[to];
    assert.ok(stamp !== undefined, `${from} → ${to} stamped`);
    assert.ok(stamp > (before?.stateTimes[from] ?? ''), 'later than the previous state');
    assert.equal(after.workerId, 'w1');
    assert.equal(after.jobId, `job-${uuid}`);
    if (to === 'BUILDING') assert.equal(after.startedAt, stamp);
    if (isTerminal(to)) assert.equal(after.finishedAt, stamp);
    else assert.equal(after.finishedAt, null);
    assert.deepEqual(store.composes.get(uuid), after);
  }
});

test('a full build keeps a timestamp for each state it went through', (t) => {
  const store = openStore(tempDb(t), { now: steppingClock() });
  t.after(() => store.close());
  const uuid = inState(store, 'COMPLETED');
  const c = store.composes.get(uuid);
  assert.deepEqual(c?.stateTimes, {
    PENDING: '2026-01-02T03:04:06.000Z',
    QUEUED: '2026-01-02T03:04:07.000Z',
    BUILDING: '2026-01-02T03:04:08.000Z',
    COMPLETED: '2026-01-02T03:04:09.000Z',
  });
  assert.equal(c?.startedAt, '2026-01-02T03:04:08.000Z');
  assert.equal(c?.finishedAt, '2026-01-02T03:04:09.000Z');
});

test('refused transitions throw FORGE_ERR_STORE_TRANSITION naming from, to and the compose, and change nothing', (t) => {
  const store = openStore(tempDb(t), { now: steppingClock() });
  t.after(() => store.close());
  const refused: [ComposeState, ComposeState][] = [];
  for (const from of COMPOSE_STATES) {
    for (const to of COMPOSE_STATES) if (!canTransition(from, to)) refused.push([from, to]);
  }
  assert.equal(refused.length, 36 - ALLOWED.length);
  for (const [from, to] of refused) {
    const uuid = inState(store, from);
    const before = store.composes.get(uuid);
    assert.throws(
      () => store.composes.transition(uuid, to, { error: { reason: 'x' } }),
      (e: unknown) =>
        e instanceof TransitionError &&
        e.code === 'FORGE_ERR_STORE_TRANSITION' &&
        e.from === from &&
        e.to === to &&
        e.uuid === uuid &&
        e.message.includes(uuid) &&
        e.message.includes(from) &&
        e.message.includes(to),
      `${from} → ${to}`,
    );
    assert.deepEqual(store.composes.get(uuid), before);
  }
  // Not a state at all, and an unknown compose.
  const uuid = inState(store, 'PENDING');
  assert.throws(() => store.composes.transition(uuid, 'RUNNING' as ComposeState), {
    code: StoreErrorCode.Transition,
  });
  assert.throws(() => store.composes.transition('nope', 'QUEUED'), { code: StoreErrorCode.NotFound });
});

test('a failure keeps its error JSON; manifest, priority and job can be set', (t) => {
  const store = openStore(tempDb(t));
  t.after(() => store.close());
  const uuid = inState(store, 'BUILDING');
  const err = { id: 'BuildFailed', reason: 'stage org.osbuild.apt failed', details: { exit: 100 } };
  const failed = store.composes.transition(uuid, 'FAILED', { error: err });
  assert.deepEqual(failed.error, err);
  const other = inState(store, 'PENDING');
  store.composes.setManifest(other, { version: '2', pipelines: [] });
  store.composes.setPriority(other, 90);
  store.composes.setJob(other, '42');
  const c = store.composes.get(other);
  assert.deepEqual(c?.manifest, { version: '2', pipelines: [] });
  assert.equal(c?.build, null, 'a manifest alone says nothing of how to build it');
  const pkg = {
    name: 'libstdc++6',
    epoch: 0,
    version: '12.2.0',
    release: '14',
    arch: 'amd64',
    size: 613_000,
    sha256: 'a'.repeat(64),
    repository: 'debian.sources#1',
    url: 'http://mirror.invalid/debian/pool/main/g/gcc-12/libstdc%2b%2b6_12.2.0-14_amd64.deb',
  };
  const build = {
    exports: ['image'],
    artifact: { filename: 'disk.qcow2', mimeType: 'application/x-qemu-disk' },
    checkpoints: ['build'],
    layers: [[pkg], [], []],
  };
  store.composes.setManifest(other, { version: '2', pipelines: [{ name: 'image' }] }, build);
  assert.deepEqual(store.composes.get(other)?.build, build);
  const raw = store.composes.create({
    blueprintName: '',
    blueprintVersion: '',
    imageType: 'manifest',
    distro: '',
    arch: 'x86_64',
    manifest: { version: '2', pipelines: [{ name: 'tree' }] },
    build: {
      exports: ['tree'],
      artifact: { filename: 'hello', mimeType: 'application/octet-stream' },
      checkpoints: [],
      layers: [],
    },
  });
  assert.deepEqual(raw.build?.artifact.filename, 'hello');
  assert.equal(c?.priority, 90);
  assert.equal(c?.jobId, '42');
  assert.throws(() => store.composes.setPriority('nope', 1), { code: StoreErrorCode.NotFound });
  assert.throws(() => store.composes.setPriority(other, 1.5), { code: StoreErrorCode.Invalid });
});

test('lists page with a total, filter by state and blueprint; limit 0 gives only the total', (t) => {
  const store = openStore(tempDb(t), { now: steppingClock() });
  t.after(() => store.close());
  const made: string[] = [];
  for (let i = 0; i < 7; i++) made.push(inState(store, i % 2 === 0 ? 'QUEUED' : 'COMPLETED'));
  const all = store.composes.list({ limit: 100 });
  assert.equal(all.total, 7);
  assert.deepEqual(
    all.items.map((c) => c.uuid),
    [...made].reverse(),
    'newest first',
  );
  const page = store.composes.list({ offset: 2, limit: 3 });
  assert.deepEqual(
    page.items.map((c) => c.uuid),
    [...made].reverse().slice(2, 5),
  );
  assert.equal(page.total, 7);
  const zero = store.composes.list({ limit: 0 });
  assert.deepEqual(zero, { items: [], total: 7, offset: 0, limit: 0 });
  const waiting = store.composes.list({ states: statesOfWeldrStatus('WAITING'), limit: 0 });
  assert.equal(waiting.total, 4);
  assert.equal(store.composes.list({ states: [] }).total, 0);
  assert.equal(store.composes.list({ blueprintName: 'base', states: ['COMPLETED'] }).total, 3);
  assert.equal(store.composes.list({ blueprintName: 'other' }).total, 0);
  assert.throws(() => store.composes.list({ limit: -1 }), { code: StoreErrorCode.Invalid });
  assert.throws(() => store.composes.list({ offset: 0.5 }), { code: StoreErrorCode.Invalid });
});

test('a compose keeps the API that started it and a Cloud request; lists filter by API', (t) => {
  const store = openStore(tempDb(t), { now: steppingClock() });
  t.after(() => store.close());
  const plain = newCompose(store);
  assert.equal(plain.api, null);
  assert.equal(plain.request, null);
  const request = { distribution: 'debian-12', image_requests: [{ image_type: 'qcow2', size: 1 }] };
  const input = {
    blueprintName: 'bp',
    blueprintVersion: '1',
    imageType: 'qcow2',
    distro: 'debian-12',
    arch: 'x86_64',
  };
  const cloud = store.composes.create({ ...input, api: 'cloud', request });
  const weldr = store.composes.create({ ...input, api: 'weldr' });
  assert.equal(store.composes.get(cloud.uuid)?.api, 'cloud');
  assert.deepEqual(store.composes.get(cloud.uuid)?.request, request);
  assert.equal(weldr.request, null);
  assert.deepEqual(
    store.composes.list({ apis: ['cloud'] }).items.map((c) => c.uuid),
    [cloud.uuid],
  );
  assert.equal(store.composes.list({ apis: ['weldr'], states: ['PENDING'] }).total, 1);
  assert.equal(store.composes.list({ apis: ['forge'] }).total, 0);
  assert.deepEqual(
    store.composes.list({ apis: ['weldr', null] }).items.map((c) => c.uuid),
    [weldr.uuid, plain.uuid],
  );
  assert.deepEqual(
    store.composes.list({ apis: [null] }).items.map((c) => c.uuid),
    [plain.uuid],
  );
  assert.equal(store.composes.list({ apis: [] }).total, 0);
});

test('logs append in order and read from a position', (t) => {
  const store = openStore(tempDb(t));
  t.after(() => store.close());
  const uuid = inState(store, 'BUILDING');
  assert.deepEqual(store.composes.log.read(uuid), []);
  assert.equal(store.composes.log.append(uuid, 'first'), 1);
  assert.equal(
    store.composes.log.append(uuid, ['second', '\u001e{"message":"stage 1 of 3"}\n', 'fourth']),
    4,
  );
  assert.deepEqual(
    store.composes.log.read(uuid).map((l) => l.line),
    ['first', 'second', '\u001e{"message":"stage 1 of 3"}\n', 'fourth'],
  );
  assert.deepEqual(store.composes.log.read(uuid, { after: 2, limit: 1 }), [
    { seq: 3, line: '\u001e{"message":"stage 1 of 3"}\n' },
  ]);
  assert.throws(() => store.composes.log.append('nope', 'x'), { code: StoreErrorCode.NotFound });
});

test('artifacts are indexed per compose; deleting a compose takes its log and artifact rows along', (t) => {
  const path = tempDb(t);
  const store = openStore(path);
  t.after(() => store.close());
  const uuid = inState(store, 'COMPLETED');
  const sha = 'a'.repeat(64);
  const art = store.artifacts.add({
    uuid,
    filename: 'disk.qcow2',
    path: `/var/lib/debian-forge/artifacts/${uuid}/disk.qcow2`,
    size: 123456789,
    sha256: sha,
    mimeType: 'application/x-qemu-disk',
  });
  assert.equal(art.filename, 'disk.qcow2');
  assert.equal(art.size, 123456789);
  assert.deepEqual(store.artifacts.get(uuid, 'disk.qcow2'), art);
  store.artifacts.add({
    uuid,
    filename: 'manifest.json',
    path: '/m',
    size: 10,
    sha256: 'b'.repeat(64),
    mimeType: 'application/json',
  });
  assert.deepEqual(
    store.artifacts.list(uuid).map((a) => a.filename),
    ['disk.qcow2', 'manifest.json'],
  );
  assert.throws(() => store.artifacts.add({ ...art }), { code: StoreErrorCode.Exists });
  assert.throws(() => store.artifacts.add({ ...art, filename: 'x', sha256: 'XYZ' }), {
    code: StoreErrorCode.Invalid,
  });
  assert.throws(() => store.artifacts.add({ ...art, uuid: 'nope' }), { code: StoreErrorCode.NotFound });
  assert.equal(store.artifacts.delete(uuid, 'manifest.json'), true);
  assert.equal(store.artifacts.delete(uuid, 'manifest.json'), false);
  store.composes.log.append(uuid, ['a', 'b']);

  const gone = store.composes.delete(uuid);
  assert.deepEqual(
    gone?.map((a) => a.path),
    [art.path],
  );
  assert.equal(store.composes.get(uuid), undefined);
  assert.equal(store.composes.delete(uuid), undefined);
  // The rows went with it: foreign keys are on (ON DELETE CASCADE).
  const db = new Database(path, { readonly: true });
  assert.equal((db.prepare('SELECT count(*) AS n FROM compose_logs').get() as { n: number }).n, 0);
  assert.equal((db.prepare('SELECT count(*) AS n FROM artifacts').get() as { n: number }).n, 0);
  db.close();
});

test('active composes come highest priority first, then oldest; a compose can be found by its job', (t) => {
  const store = openStore(tempDb(t), { now: steppingClock() });
  t.after(() => store.close());
  const low = inState(store, 'QUEUED');
  const done = inState(store, 'COMPLETED');
  const building = inState(store, 'BUILDING');
  const high = inState(store, 'PENDING');
  store.composes.setPriority(high, 100);
  store.composes.setPriority(low, 1);
  inState(store, 'CANCELLED');
  assert.deepEqual(
    store.composes.active().map((c) => c.uuid),
    [high, building, low],
  );
  store.composes.setJob(building, 'job-7');
  assert.equal(store.composes.byJob('job-7')?.uuid, building);
  assert.equal(store.composes.byJob('job-8'), undefined);
  assert.ok(store.composes.get(done));
});

test('a compose id in upper case finds the compose everywhere; the store keeps the lower-case form', (t) => {
  const store = openStore(tempDb(t));
  t.after(() => store.close());
  const given = 'ABCDEF01-2345-4678-9ABC-DEF012345678';
  const { uuid } = newCompose(store, given);
  assert.equal(uuid, given.toLowerCase(), 'a given id is stored lower-case');
  const upper = uuid.toUpperCase();
  assert.equal(store.composes.get(upper)?.uuid, uuid);
  store.composes.setManifest(upper, { version: '2' });
  store.composes.setPriority(upper, 9);
  store.composes.setJob(upper, 'job-1');
  assert.equal(store.composes.transition(upper, 'QUEUED').state, 'QUEUED');
  store.composes.log.append(upper, ['one', 'two']);
  assert.deepEqual(
    store.composes.log.read(upper).map((l) => l.line),
    ['one', 'two'],
  );
  assert.deepEqual(
    store.composes.log.read(uuid).map((l) => l.line),
    ['one', 'two'],
  );
  store.composes.transition(upper, 'BUILDING');
  store.artifacts.add({
    uuid: upper,
    filename: 'disk.qcow2',
    path: '/x',
    size: 1,
    sha256: 'a'.repeat(64),
    mimeType: 'application/x-qemu-disk',
  });
  assert.equal(store.artifacts.list(uuid)[0]?.uuid, uuid);
  assert.equal(store.artifacts.get(upper, 'disk.qcow2')?.uuid, uuid);
  const row = store.composes.get(uuid);
  assert.equal(row?.priority, 9);
  assert.equal(row?.jobId, 'job-1');
  assert.deepEqual(row?.manifest, { version: '2' });
  assert.equal(store.composes.delete(upper)?.length, 1);
  assert.equal(store.composes.get(uuid), undefined);
  newCompose(store, uuid);
  assert.throws(() => newCompose(store, uuid.toUpperCase()), { code: StoreErrorCode.Exists });
});
