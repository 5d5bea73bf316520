/**
 * Reading the MANIFEST argument shared by the verbs: a path or `-` for standard input, refused
 * early when larger than the limit, and any failure turned into a one-line message (never a stack).
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EngineIndex } from '@debian-forge/engine';
import {
  DEFAULT_MAX_MANIFEST_BYTES,
  LibdirIndex,
  ManifestError,
  ManifestErrorCode,
  type ModuleIndex,
  parseManifestText,
  pathId,
  type ValidationResult,
} from '@debian-forge/manifest';
import type { CommandContext, Flag } from './command.ts';
import { UsageError } from './command.ts';

export const manifestFlags: Record<string, Flag> = {
  libdir: {
    type: 'string',
    short: 'l',
    multiple: true,
    metavar: 'DIR',
    help: 'OSBuild-layout libdir whose .meta.json schemas validate stages (sources, inputs, devices and mounts: the engine’s); given more than once, a stage is taken from the first that has it',
  },
  'max-size': {
    type: 'string',
    metavar: 'BYTES',
    help: `largest manifest accepted (default ${DEFAULT_MAX_MANIFEST_BYTES})`,
  },
};

export function maxBytesOf(ctx: CommandContext): number {
  const raw = ctx.flags['max-size'];
  if (raw === undefined) return DEFAULT_MAX_MANIFEST_BYTES;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`--max-size takes a positive number of bytes, not '${raw}'`);
  return n;
}

/** The `--libdir` directories in the order given (absolute), or undefined when none is. */
export function libdirsOf(ctx: CommandContext): string[] | undefined {
  const given = ctx.flags.libdir;
  const libdirs = Array.isArray(given) ? (given as string[]) : typeof given === 'string' ? [given] : [];
  if (libdirs.length === 0) return undefined;
  for (const libdir of libdirs) {
    try {
      if (!statSync(libdir).isDirectory()) throw new Error('not a directory');
    } catch {
      throw new UsageError(`--libdir ${libdir}: not a directory`);
    }
  }
  return libdirs.map((l) => resolve(l));
}

/** The index over `libdirs`: stages from them, the other modules as the engine implements them. */
export function engineIndex(ctx: CommandContext, libdirs: string[]): EngineIndex {
  return new EngineIndex(new LibdirIndex(libdirs, (m) => ctx.io.stderr.write(`${m}\n`)));
}

export function indexOf(ctx: CommandContext): ModuleIndex | undefined {
  const libdirs = libdirsOf(ctx);
  return libdirs ? engineIndex(ctx, libdirs) : undefined;
}

export function manifestPath(ctx: CommandContext): string {
  const [path, ...rest] = ctx.positionals;
  if (path === undefined)
    throw new UsageError('the MANIFEST argument is missing (a path, or - for standard input)');
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  return path;
}

/** Reads and parses the manifest; throws `ManifestError` with a clear message on any failure. */
export async function readManifest(ctx: CommandContext, path: string): Promise<unknown> {
  const maxBytes = maxBytesOf(ctx);
  let data: Uint8Array;
  if (path === '-') {
    data = await ctx.io.readStdin();
  } else {
    try {
      const size = statSync(path).size;
      if (size > maxBytes) {
        throw new ManifestError(
          ManifestErrorCode.TooLarge,
          `manifest is ${size} bytes, more than the limit of ${maxBytes} bytes`,
        );
      }
      data = await readFile(path);
    } catch (err) {
      if (err instanceof ManifestError) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new ManifestError(ManifestErrorCode.JsonSyntax, `cannot read ${path}: ${e.code ?? e.message}`);
    }
  }
  return parseManifestText(data, { maxBytes });
}

export function osReleaseText(): string {
  for (const p of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      // try the next location, as os-release(5) says
    }
  }
  return '';
}

/** A validation result for people, as osbuild prints it: "NAME is valid", or each error by path. */
export function validationText(result: ValidationResult, path: string): string {
  const name = path === '-' ? '<stdin>' : path;
  if (result.valid) return `${name} is valid\n`;
  return `${name} has errors:\n\n${result.errors.map((e) => `${pathId(e.path)}:\n  ${e.message}\n\n`).join('')}`;
}
