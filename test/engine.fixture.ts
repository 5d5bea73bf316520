/**
 * Shared by the cross-package tests: paths of the repository, running the real `forge` command,
 * temporary directories, and a test libdir (the built one plus extra test stages).
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');
export const FORGE = join(REPO, 'apps/cli/bin/forge.js');
export const LIBDIR = join(REPO, 'packages/stages/libdir');

export function tempDir(prefix = 'forge-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * The state directory (apt roots and object store) that image tests share when the test script
 * made one ($FORGE_TEST_STATE_DIR, see scripts/test.sh), so a system one test built is not built
 * again by the next; `fallback` (a directory of the test's own) when run alone.
 */
export function sharedStateDir(fallback: string): string {
  return process.env.FORGE_TEST_STATE_DIR || fallback;
}

export interface ForgeRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `forge ARGS` to completion; `under` is a command that runs the argv it is given after its
 * own (`forge` then runs as `UNDER… node forge.js ARGS`).
 */
export function forge(
  args: string[],
  options: { input?: string; cwd?: string; under?: string[] } = {},
): ForgeRun {
  const [cmd, ...argv] = [...(options.under ?? []), process.execPath, FORGE, ...args] as [
    string,
    ...string[],
  ];
  const r: SpawnSyncReturns<string> = spawnSync(cmd, argv, {
    cwd: options.cwd ?? REPO,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A command for `forge`'s `under` option: it runs its argv in a private mount namespace where each of
 * `paths` (host programs such as /usr/bin/tar) is the file `fake` instead, bind-mounted over it. Only
 * that process tree sees the change; other tests running at the same time keep the host's tools.
 */
export function withFakeTools(fake: string, paths: string[]): string[] {
  const binds = paths.map((_, i) => `mount --bind "$0" "\${${i + 1}}" || exit 125`).join('; ');
  return inPrivateMounts(`${binds}; shift ${paths.length}; exec "$@"`, [fake, ...paths]);
}

/**
 * A command that runs the shell `script` with `args` ($0, $1…) in a private mount namespace: what
 * it mounts only that process tree sees, and it goes with the namespace.
 */
export function inPrivateMounts(script: string, args: string[]): string[] {
  return ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', script, ...args];
}

export function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

/** Why a test that needs root, bwrap and loop devices cannot run here, or undefined when it can. */
export function sandboxUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (bwrap with capabilities, loop devices, mounts)';
  if (spawnSync('bwrap', ['--version']).status !== 0) return 'needs bubblewrap (bwrap)';
  return undefined;
}

/**
 * A libdir with the built stages plus a test stage `org.forge.test.probe`, a Node.js script that
 * does what its options say: print, sleep, try the network, write files, exit with a code.
 */
export function testLibdir(dir: string): string {
  const libdir = join(dir, 'libdir');
  cpSync(LIBDIR, libdir, { recursive: true });
  const stage = join(libdir, 'stages', 'org.forge.test.probe');
  writeFileSync(
    stage,
    `#!/usr/bin/env node
const fs = require('node:fs');
const net = require('node:net');
const args = JSON.parse(fs.readFileSync('/run/osbuild/api/arguments', 'utf8'));
const o = args.options;
const report = {};
const done = () => {
  if (o.report) fs.writeFileSync(args.tree + '/report.json', JSON.stringify(report));
  if (o.print) process.stdout.write(o.print + '\\n');
  if (o.sleep) { process.stdout.write('sleeping\\n'); setTimeout(() => process.exit(o.exit ?? 0), o.sleep * 1000); }
  else process.exit(o.exit ?? 0);
};
for (const p of o.write ?? []) {
  try { fs.writeFileSync(p, 'x'); report[p] = 'written'; } catch (e) { report[p] = e.code; }
}
if (o.connect) {
  const s = net.connect({ host: o.connect, port: 80 });
  s.setTimeout(3000);
  s.on('connect', () => { report.connect = 'connected'; s.destroy(); done(); });
  s.on('error', (e) => { report.connect = e.code; done(); });
  s.on('timeout', () => { report.connect = 'timeout'; s.destroy(); done(); });
} else done();
`,
  );
  chmodSync(stage, 0o755);
  writeJson(`${stage}.meta.json`, {
    summary: 'Test probe',
    description: ['Prints, sleeps, tries the network and writes files as told, for engine tests.'],
    schema_2: {
      options: { type: 'object', additionalProperties: true },
      devices: { type: 'object', additionalProperties: true },
      mounts: { type: 'array' },
    },
  });
  return libdir;
}

/**
 * The checkout of OSBuild's sources FORGE_OSBUILD_SOURCE names (its stages/, runners/, osbuild/),
 * and why tests that need one skip when it names none, or one without `stages/<stage>`.
 */
export function osbuildCheckout(stage: string): { path?: string; missing?: string } {
  const path = process.env.FORGE_OSBUILD_SOURCE;
  if (!path)
    return {
      missing: 'FORGE_OSBUILD_SOURCE names no checkout of OSBuild (its stages/, runners/ and osbuild/)',
    };
  if (!existsSync(join(path, 'stages', stage))) return { missing: `${path} has no stages/${stage}` };
  return { path };
}
