/**
 * Host-side helpers for the engine's end-to-end tests: running `forge` without blocking the event
 * loop (so a test can serve HTTP while a build fetches from it), and the loop
 * devices and mounts a test's temporary directory owns — to check that none is left, and to
 * release them in `finally` if a test fails half-way.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FORGE, type ForgeRun, REPO } from './engine.fixture.ts';

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Runs `forge ARGS` asynchronously to completion; `onStdout` sees its output as it comes. */
export function forgeAsync(args: string[], onStdout?: (all: string) => void): Promise<ForgeRun> {
  return runAsync([process.execPath, FORGE, ...args], { onStdout });
}

/** Runs `argv` asynchronously to completion in the repository, with `env` if given. */
export function runAsync(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; onStdout?: (all: string) => void } = {},
): Promise<ForgeRun> {
  const [cmd, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      options.onStdout?.(stdout);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export interface Loop {
  device: string;
  backFile: string;
}

/** Every bound loop device (`losetup --json --list`). */
export function loopDevices(): Loop[] {
  const r = spawnSync('losetup', ['--json', '--list'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`losetup --list failed: ${r.stderr}`);
  if (!r.stdout.trim()) return [];
  const parsed = JSON.parse(r.stdout) as { loopdevices?: { name: string; 'back-file'?: string }[] };
  return (parsed.loopdevices ?? []).map((d) => ({
    device: d.name,
    backFile: String(d['back-file'] ?? '').replace(/ \(deleted\)$/, ''),
  }));
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** Every mount point of this mount namespace (/proc/self/mountinfo), in mount order. */
export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((t): t is string => Boolean(t))
    .map(unescapeMountinfo);
}

const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

/** Loop devices whose backing file lies in `dir`, and mounts below `dir`: what a test there owns. */
export function resourcesUnder(dir: string): { loops: string[]; mounts: string[] } {
  return {
    loops: loopDevices()
      .filter((l) => under(l.backFile, dir))
      .map((l) => `${l.device} (${l.backFile})`),
    mounts: mountPoints().filter((m) => under(m, dir)),
  };
}

/**
 * Releases whatever a failed test left in `dir`: mounts (newest first, lazily), then loop devices
 * (repeatedly, since a loop device may back another). Only for `finally` blocks.
 */
export function releaseUnder(dir: string): void {
  for (const m of mountPoints()
    .filter((p) => under(p, dir))
    .reverse()) {
    spawnSync('umount', ['--lazy', m]);
  }
  for (let round = 0; round < 3; round++) {
    const loops = loopDevices().filter((l) => under(l.backFile, dir));
    if (loops.length === 0) return;
    for (const l of loops.reverse()) spawnSync('losetup', ['--detach', l.device]);
  }
}

/** Runs a host command, throwing with its output when it fails; returns standard output. */
export function sh(argv: string[], opts: { input?: string } = {}): string {
  const [cmd, ...args] = argv as [string, ...string[]];
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Runs debugfs commands (one per line) on an ext4 image, returning each command's output. */
export function debugfs(image: string, commands: string[]): string[] {
  const out = sh(['debugfs', '-f', '-', image], { input: `${commands.join('\n')}\n` });
  // debugfs echoes each command as "debugfs: <cmd>" before its output.
  const parts = out.split(/^debugfs: .*$/m).slice(1);
  return parts.map((p) => p.replace(/^\n/, ''));
}
