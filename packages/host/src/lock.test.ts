import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HostError, HostErrorCode } from './errors.ts';
import { lock, tryLock } from './lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'forge-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('lock', () => {
  it('shared locks go together; an exclusive one waits for them, in this process as in another', async () => {
    const file = join(dir, 'a.lock');
    const one = await tryLock(file, 'shared');
    const two = await tryLock(file, 'shared');
    assert.ok(one && two);
    assert.equal(await tryLock(file, 'exclusive'), undefined);
    one.release();
    assert.equal(await tryLock(file, 'exclusive'), undefined, 'the second shared lock still holds');
    two.release();
    two.release(); // a second release does nothing
    const ex = await tryLock(file, 'exclusive');
    assert.ok(ex);
    assert.equal(await tryLock(file, 'shared'), undefined);
    ex.release();
  });

  it('waits up to its timeout, and gets a lock released meanwhile', async () => {
    const file = join(dir, 'b.lock');
    const held = await lock(file, 'exclusive', 0);
    assert.ok(held);
    const t0 = Date.now();
    assert.equal(await lock(file, 'exclusive', 1), undefined);
    assert.ok(Date.now() - t0 >= 900, 'it waited');
    setTimeout(() => held.release(), 200);
    const later = await lock(file, 'exclusive', 10);
    assert.ok(later, 'taken once released');
    later.release();
  });

  it('a lock dies with the process that held it, even by SIGKILL', async () => {
    const file = join(dir, 'c.lock');
    const script = `
      import { lock } from ${JSON.stringify(new URL('./lock.ts', import.meta.url).href)};
      await lock(${JSON.stringify(file)}, 'exclusive', 0);
      console.log('held');
      setInterval(() => {}, 1000);
    `;
    const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await once(holder.stdout, 'data');
    assert.equal(await tryLock(file, 'shared'), undefined, 'the other process holds it');
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    const mine = await tryLock(file, 'exclusive');
    assert.ok(mine, 'free once its holder died');
    mine.release();
  });

  it('a lock file that cannot be opened is a Lock error naming it', async () => {
    const file = join(dir, 'no-such-dir', 'd.lock');
    await assert.rejects(
      tryLock(file, 'shared'),
      (e: unknown) => e instanceof HostError && e.code === HostErrorCode.Lock && e.message.includes(file),
    );
  });
});
