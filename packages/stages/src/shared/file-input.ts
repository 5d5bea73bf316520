/**
 * Shared by the stages that read one file from an input named `file` (org.osbuild.gzip, xz, zstd,
 * untar): the input must hold exactly one file, found by its name (a checksum) inside the input.
 */
import { closeSync, openSync } from 'node:fs';
import type { StageArguments } from './arguments.ts';
import { StageError } from './errors.ts';
import { exec } from './exec.ts';
import { inRoot } from './paths.ts';

/** JSON Schema of `inputs`: one required input named `file`. */
export const fileInput: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  required: ['file'],
  properties: { file: { type: 'object', additionalProperties: true } },
};

export function inputFile(args: Pick<StageArguments, 'inputs'>): string {
  const input = args.inputs.file;
  if (!input) throw new StageError("the input 'file' is missing");
  const names = Object.keys(input.data?.files ?? {});
  if (names.length !== 1 || !names[0]) {
    throw new StageError(`the input 'file' must hold exactly one file, it holds ${names.length}`);
  }
  return inRoot(input.path, names[0]);
}

/**
 * Runs `argv` followed by the input file, with its standard output written to `filename` in the
 * tree (created, or truncated when it exists).
 */
export function compressInto(
  args: Pick<StageArguments, 'inputs' | 'tree'>,
  filename: string,
  argv: string[],
  env?: NodeJS.ProcessEnv,
): void {
  const source = inputFile(args);
  const fd = openSync(inRoot(args.tree, filename), 'w');
  try {
    exec([...argv, '--', source], { stdout: fd, ...(env ? { env } : {}) });
  } finally {
    closeSync(fd);
  }
}
