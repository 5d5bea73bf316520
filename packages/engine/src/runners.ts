/**
 * The runner a pipeline runs with: OSBuild's choice (`detectRunner` of the manifest package: same
 * distribution, highest version not above the one asked for) among the runners in the libdir.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { detectRunner } from '@debian-forge/manifest';
import { EngineError, EngineErrorCode } from './errors.ts';

export function libdirRunner(libdir: string, name: string): string {
  let available: string[] = [];
  try {
    available = readdirSync(join(libdir, 'runners'));
  } catch {
    // no runners directory: no candidate
  }
  const runner = detectRunner(name, available);
  if (!runner) {
    throw new EngineError(
      EngineErrorCode.NotFound,
      `No suitable runner for ${name} in ${join(libdir, 'runners')}`,
    );
  }
  return runner;
}
