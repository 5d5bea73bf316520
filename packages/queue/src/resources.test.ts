import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { decodeJobName, encodeJobName, fits, machineResources } from './resources.ts';

test('machineResources reads CPUs, memory and the free space of the work directory', async () => {
  const r = await machineResources(os.tmpdir());
  assert.equal(r.cpus, os.availableParallelism());
  assert.ok(r.memoryMiB > 0 && r.memoryMiB <= os.totalmem() / 1024 / 1024);
  assert.ok(r.diskGiB >= 1);
});

test('a request fits when every resource is within what is available', () => {
  const have = { cpus: 4, memoryMiB: 8192, diskGiB: 20 };
  assert.equal(fits(have, have), true);
  assert.equal(fits({ ...have, cpus: 5 }, have), false);
  assert.equal(fits({ ...have, memoryMiB: 8193 }, have), false);
  assert.equal(fits({ ...have, diskGiB: 21 }, have), false);
});

test('job names carry the type and the request', () => {
  const r = { cpus: 2, memoryMiB: 2048, diskGiB: 10 };
  assert.equal(encodeJobName('build', r), 'build 2c 2048m 10g');
  assert.deepEqual(decodeJobName(encodeJobName('build', r)), { type: 'build', resources: r });
  assert.equal(decodeJobName('build'), undefined);
});
