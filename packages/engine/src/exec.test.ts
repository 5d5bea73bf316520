import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { groupAlive, pidAlive, startGroup, which } from './exec.ts';

const text = async (stream: NodeJS.ReadableStream): Promise<string> => {
  let out = '';
  for await (const chunk of stream) out += chunk.toString();
  return out;
};

async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

describe('startGroup', () => {
  it('delivers stdout and the extra pipes, and exits with the leader', async () => {
    const p = startGroup(['sh', '-c', 'echo out; echo seq >&3; echo more >&4; exit 3'], { extraOutputs: 2 });
    const [out, fd3, fd4, end] = await Promise.all([
      text(p.stdout),
      text(p.extra[0] as NodeJS.ReadableStream),
      text(p.extra[1] as NodeJS.ReadableStream),
      p.done,
    ]);
    assert.deepEqual([out, fd3, fd4, end.exitCode], ['out\n', 'seq\n', 'more\n', 3]);
  });

  it('terminate ends every process of the group, SIGKILL for those that ignore SIGTERM', async () => {
    // The leader and a background child both ignore SIGTERM; the child prints its pid.
    const p = startGroup(['sh', '-c', "trap '' TERM; sh -c 'trap \"\" TERM; echo $$; sleep 60' & wait"]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    assert.ok(await waitUntil(() => /^\d+\n/.test(out), 5000), 'the grandchild started');
    const grandchild = Number(out.trim());
    assert.ok(groupAlive(p.pid));
    const t0 = Date.now();
    await p.terminate({ graceMs: 300, waitMs: 5000 });
    assert.ok(Date.now() - t0 < 3000, 'within the grace time and a little');
    assert.equal(groupAlive(p.pid), false, 'the group is empty');
    assert.equal(pidAlive(grandchild), false, 'the grandchild is gone');
    assert.equal((await p.done).signal, 'SIGKILL');
  });

  it('parentDeathSignal: the group leader gets the signal when its parent is killed', async (t) => {
    if (!which('setpriv')) {
      t.skip('needs setpriv (util-linux)');
      return;
    }
    // A parent process that starts the group and prints the leader's pid, then is SIGKILLed.
    const script = `
      import { startGroup } from ${JSON.stringify(new URL('./exec.ts', import.meta.url).href)};
      const p = startGroup(['sleep', '60'], { parentDeathSignal: 'SIGTERM' });
      console.log(p.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const leader = Number(line.toString().trim());
    assert.ok(pidAlive(leader));
    parent.kill('SIGKILL');
    assert.ok(await waitUntil(() => !pidAlive(leader), 5000), 'the leader died with its parent');
  });
});
