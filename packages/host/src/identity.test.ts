import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { processGone, processIdentity, processStartTime } from './identity.ts';
import { start } from './process.ts';

describe('process identity', () => {
  it('tells a process that ended from one that runs, and says nothing of one elsewhere', async () => {
    const me = processIdentity();
    assert.equal(me.pid, process.pid);
    assert.equal(processGone(me), false);
    const child = start(['sleep', '30'], { env: { PATH: process.env.PATH ?? '/usr/bin' } }, () => {});
    const pid = child.child.pid as number;
    const startTime = processStartTime(pid) as string;
    const other = { ...me, pid, startTime };
    assert.equal(processGone(other), false, 'runs');
    child.child.kill('SIGKILL');
    await child.done.catch(() => {});
    assert.equal(processGone(other), true, 'killed');
    // The pid again, but a process that started at another time: a reuse, so the first is gone.
    assert.equal(processGone({ ...me, startTime: String(Number(me.startTime) + 1) }), true);
    // Another boot or pid namespace (a container, a machine rebooted): cannot be told from here.
    assert.equal(processGone({ ...other, bootId: 'another-boot' }), false);
    assert.equal(processGone({ ...other, pidNamespace: 'pid:[1]' }), false);
  });
});
