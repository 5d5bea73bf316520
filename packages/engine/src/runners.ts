/**
 * Picking a runner as OSBuild does (`Index.detect_runner`): a name is a distribution plus an
 * optional version (`org.osbuild.debian12` = `org.osbuild.debian`, 12); the best runner in the
 * libdir is the one of the same distribution with the highest version not above the one asked for.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError, EngineErrorCode } from './errors.ts';

export function parseRunnerName(name: string): { distro: string; version: number } {
  const m = /^(.*?)(\d*)$/.exec(name) as RegExpExecArray;
  return { distro: m[1] as string, version: m[2] ? Number(m[2]) : 0 };
}

export function detectRunner(libdir: string, name: string): string {
  const want = parseRunnerName(name);
  let runners: string[] = [];
  try {
    runners = readdirSync(join(libdir, 'runners'));
  } catch {
    // no runners directory: no candidate
  }
  const candidates = runners
    .map((r) => ({ file: r, ...parseRunnerName(r) }))
    .filter((r) => r.distro === want.distro && r.version <= want.version)
    .sort((a, b) => b.version - a.version);
  const best = candidates[0];
  if (!best) {
    throw new EngineError(
      EngineErrorCode.NotFound,
      `No suitable runner for ${name} in ${join(libdir, 'runners')}`,
    );
  }
  return best.file;
}
