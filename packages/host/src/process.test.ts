import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HostError, HostErrorCode } from './errors.ts';
import { groupAlive, pidAlive, run, startGroup, which } from './process.ts';

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
      import { startGroup } from ${JSON.stringify(new URL('./process.ts', import.meta.url).href)};
      const p = startGroup(['sleep', '60'], { parentDeathSignal: 'SIGTERM' });
      console.log(p.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const leader = Number(line.toString().trim());
    // setpriv sets the signal and then execs sleep: killing the parent before that is a race
    // setpriv loses (the signal is not set yet), so wait for the exec.
    const comm = (): string => {
      try {
        return readFileSync(`/proc/${leader}/comm`, 'utf8').trim();
      } catch {
        return '';
      }
    };
    assert.ok(await waitUntil(() => comm() === 'sleep', 5000), 'setpriv went on to sleep');
    parent.kill('SIGKILL');
    assert.ok(await waitUntil(() => !pidAlive(leader), 5000), 'the leader died with its parent');
  });
});

describe('run', () => {
  it('returns both outputs, and rejects a status not accepted with the end of the output', async () => {
    assert.deepEqual(await run(['sh', '-c', 'echo out; echo err >&2']), {
      stdout: 'out\n',
      stderr: 'err\n',
      exitCode: 0,
      signal: null,
    });
    await assert.rejects(
      run(['sh', '-c', 'echo why >&2; exit 4']),
      (e: unknown) =>
        e instanceof HostError && e.code === HostErrorCode.Exit && /exit status 4\nwhy$/.test(e.message),
    );
    assert.equal((await run(['sh', '-c', 'exit 4'], { okCodes: [4] })).exitCode, 4);
    assert.equal((await run(['sh', '-c', 'exit 9'], { okCodes: 'any' })).exitCode, 9);
  });

  it('kills a program at its timeout (SIGKILL) and says so', async () => {
    const t0 = Date.now();
    const r = await run(['sleep', '30'], { timeout: 200, okCodes: 'any' });
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual([r.exitCode, r.signal], [137, 'SIGKILL']);
    await assert.rejects(run(['sleep', '30'], { timeout: 200 }), /sleep 30: killed by SIGKILL/);
  });

  it('a program that does not exist, or no program, is a Start error', async () => {
    for (const argv of [['/nonexistent/forge-no-such-program'], []]) {
      await assert.rejects(
        run(argv),
        (e: unknown) => e instanceof HostError && e.code === HostErrorCode.Start,
      );
    }
  });

  it('hands extra descriptors to the child as 3, 4, …', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-host-'));
    try {
      const fd = openSync(join(dir, 'f'), 'w');
      try {
        await run(['sh', '-c', 'echo via3 >&3'], { extraFds: [fd] });
      } finally {
        closeSync(fd);
      }
      assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'via3\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
