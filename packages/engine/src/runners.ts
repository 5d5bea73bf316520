/**
 * The runner a stage runs with: OSBuild's choice (`detectRunner` of the manifest package: same
 * distribution, highest version not above the one asked for) among the runners of a libdir. With
 * several libdirs, a stage's runner comes from the stage's own libdir, whose stages it was written
 * for; a libdir without a suitable one (stages only) borrows the first suitable runner of the others.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { detectRunner } from '@debian-forge/manifest';
import { EngineError, EngineErrorCode } from './errors.ts';

export interface ChosenRunner {
  /** The runner's file name, e.g. `org.osbuild.debian12`. */
  name: string;
  /** The libdir whose `runners/` holds it. */
  libdir: string;
}

/** The runner for `name` from the first of `libdirs` that has a suitable one. */
export function libdirRunner(libdirs: readonly string[], name: string): ChosenRunner {
  for (const libdir of libdirs) {
    let available: string[] = [];
    try {
      available = readdirSync(join(libdir, 'runners'));
    } catch {
      // no runners directory: no candidate
    }
    const runner = detectRunner(name, available);
    if (runner) return { name: runner, libdir };
  }
  throw new EngineError(
    EngineErrorCode.NotFound,
    `No suitable runner for ${name} in ${libdirs.map((l) => join(l, 'runners')).join(', ')}`,
  );
}

/** The runner of a stage taken from `stageLibdir`, one of `libdirs`: its own first. */
export function stageRunner(stageLibdir: string, libdirs: readonly string[], name: string): ChosenRunner {
  return libdirRunner([stageLibdir, ...libdirs.filter((l) => l !== stageLibdir)], name);
}
