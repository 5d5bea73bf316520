/**
 * For stage tests: arguments as the engine would write them, pointing at real directories, so a
 * test calls a stage's `main` directly on a real tree (as OSBuild's stage tests do).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputArgument, StageArguments } from './arguments.ts';

export interface TestRoot {
  dir: string;
  tree: string;
  args<Options>(
    options: Options,
    extra?: Partial<Omit<StageArguments<Options>, 'options'>>,
  ): StageArguments<Options>;
  /** A directory standing for an input named `name`. */
  input(name: string, data?: InputArgument['data']): InputArgument;
  cleanup(): void;
}

export function testRoot(prefix = 'forge-stage-'): TestRoot {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  return {
    dir,
    tree,
    args(options, extra = {}) {
      return {
        tree,
        paths: { devices: '/dev', inputs: join(dir, 'inputs'), mounts: join(dir, 'mounts') },
        options,
        inputs: {},
        devices: {},
        mounts: {},
        meta: { id: '0'.repeat(64) },
        ...extra,
      };
    },
    input(name, data) {
      const path = join(dir, 'inputs', name);
      mkdirSync(path, { recursive: true });
      return data ? { path, data } : { path };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether `program --version` runs here (tests skip with a reason when a tool is missing). */
export function hasProgram(program: string): boolean {
  try {
    execFileSync(program, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
