/**
 * Where the built libdir is, for callers that only need the path (the `forge` command, whose
 * bundle must not pull in the build tooling). Found through the package's own package.json, so
 * the answer is the same from the TypeScript sources and from a bundled copy elsewhere;
 * `FORGE_LIBDIR` overrides it.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const DEFAULT_LIBDIR =
  process.env.FORGE_LIBDIR ??
  join(dirname(createRequire(import.meta.url).resolve('@debian-forge/stages/package.json')), 'libdir');
