/**
 * The entry point of every bundled stage: read the arguments, run the stage, write its metadata,
 * exit 0 on success. A `StageError` prints one line and exits 1; any other error prints its stack
 * and exits 2 (OSBuild's exit code for an exception in a stage).
 */
import { writeFileSync } from 'node:fs';
import { META_PATH, readArguments, type StageArguments } from './arguments.ts';
import { StageError } from './errors.ts';

/** A stage's `main`; an object it returns (or resolves to) is the stage's metadata. */
export type StageMain<Options> = (args: StageArguments<Options>) => unknown;

export async function runStage<Options>(main: StageMain<Options>): Promise<void> {
  try {
    const args = readArguments<Options>();
    const meta = await main(args);
    if (meta && typeof meta === 'object' && Object.keys(meta).length > 0) {
      writeFileSync(META_PATH, JSON.stringify(meta, null, 2));
    }
    process.exitCode = 0;
  } catch (err) {
    if (err instanceof StageError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 2;
    }
  }
}
