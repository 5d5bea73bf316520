/**
 * The checks of a compose request, each a 400 naming what is wrong: the blueprint, the image size
 * (up to the service's largest), the priority, the target (image type, distro, arch) and a raw
 * manifest's exports; and what a build job asks of a worker for the size a compose has.
 */
import {
  acceptBlueprint,
  type Blueprint,
  BlueprintError,
  BlueprintErrorCode,
  describeValue,
} from '@debian-forge/blueprint';
import {
  ComposerError,
  type ComposeTarget,
  type ComposeTargetResolved,
  resolveComposeTarget,
} from '@debian-forge/composer';
import { type ModuleIndex, nameError, validateManifest } from '@debian-forge/manifest';
import { DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY, type Resources } from '@debian-forge/queue';
import type { Compose } from '@debian-forge/store';
import { ApiError, ComposeErrorCode } from '../errors.ts';
import type { ComposeRequest, ManifestRequest } from './composes.ts';

const GiB = 1024 ** 3;

/**
 * The largest image a compose may ask for unless configured (`forge serve --max-image-size`):
 * 256 GiB. Its build job asks a worker for twice that in free disk (defaultResources), more than
 * a build machine usually has; a larger request would wait in the queue for a worker that never
 * comes, so it is refused with a 400 that names this limit.
 */
export const DEFAULT_MAX_IMAGE_SIZE = 256 * GiB;

/** What a build job asks of a worker by default: 1 CPU, 2 GiB and room for the image. */
export function defaultResources(compose: Pick<Compose, 'size'>): Resources {
  const imageGiB = Math.ceil((compose.size || 0) / GiB);
  return { cpus: 1, memoryMiB: 2048, diskGiB: Math.max(10, 2 * imageGiB + 5) };
}

/** `n` bytes for people: `931.3 GiB`. */
function gib(n: number): string {
  return `${Math.round((n / GiB) * 10) / 10} GiB`;
}

/** A requested image size: bytes from 0 (the image type's default) to `max`; else a 400. */
export function checkSize(size: number | undefined, max: number): number {
  if (size === undefined) return 0;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw ApiError.of(
      ComposeErrorCode.BadRequest,
      `size must be a whole number of bytes, got ${describeValue(size)}`,
    );
  }
  if (size > max) {
    throw ApiError.of(
      ComposeErrorCode.BadRequest,
      `size ${size} bytes (${gib(size)}) is more than the largest image this service makes, ${max} bytes (${gib(max)}; forge serve --max-image-size)`,
    );
  }
  return size;
}

/** A compose's priority: the queue's default when none is asked; else a 400 outside its range. */
export function checkPriority(priority: number | undefined): number {
  const p = priority ?? DEFAULT_PRIORITY;
  if (!Number.isInteger(p) || p < MIN_PRIORITY || p > MAX_PRIORITY) {
    throw ApiError.of(
      ComposeErrorCode.BadRequest,
      `priority must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}, got ${p}`,
    );
  }
  return p;
}

/**
 * The blueprint of a compose request as it is stored and planned: checked by the blueprint
 * package's schema (the code Weldr's blueprints/new runs, whatever API the request came through)
 * and with its passwords hashed; 400 FORGE_ERR_BLUEPRINT_INVALID with the issues as details.
 */
export function checkBlueprint(data: ComposeRequest['blueprint']): Blueprint {
  const r = acceptBlueprint(data);
  if (!r.ok) {
    throw new ApiError(400, BlueprintErrorCode.Invalid, BlueprintError.invalid(r.issues).message, r.issues);
  }
  return r.blueprint;
}

/** The target of a compose, resolved once: the request's now, a recorded compose's on replan. */
export function checkTarget(target: ComposeTarget): ComposeTargetResolved {
  try {
    return resolveComposeTarget(target);
  } catch (err) {
    if (err instanceof ComposerError) throw new ApiError(400, err.code, err.message);
    throw err;
  }
}

/**
 * Why a raw manifest request cannot be queued, or undefined when it can. The export names and the
 * artifact's file name become paths on a worker (`<output>/<export>/<filename>`) and in the
 * artifacts directory: each must be one safe path component (the offending fields are in `details`
 * as validation errors are); the file name also travels in URLs and headers, so it is held to the
 * portable characters.
 */
export function manifestProblems(
  request: ManifestRequest,
  index: ModuleIndex | undefined,
): { message: string; details?: unknown } | undefined {
  let result: ReturnType<typeof validateManifest>;
  try {
    result = validateManifest(request.manifest, index ? { index } : {});
  } catch (err) {
    return { message: (err as Error).message };
  }
  if (!result.valid) {
    const errors = result.errors.map((e) => ({ path: e.path, message: e.message }));
    return {
      message: `the manifest has ${errors.length} validation error(s): ${errors[0]?.message}`,
      details: errors,
    };
  }
  if (request.exports.length === 0) {
    return { message: 'name at least one pipeline to export' };
  }
  const unsafe = [
    ...request.exports.map((name, i) => ({ path: ['exports', i], message: nameError(name, 'export') })),
    {
      path: ['filename'],
      message: nameError(request.filename, 'artifact file name', { portable: true }),
    },
  ].filter((e) => e.message !== undefined);
  if (unsafe.length > 0) return { message: unsafe[0]?.message as string, details: unsafe };
  const names = new Set(
    ((request.manifest.pipelines ?? []) as { name?: unknown }[])
      .map((p) => p?.name)
      .filter((n) => typeof n === 'string'),
  );
  const missing = request.exports.filter((e) => !names.has(e));
  if (missing.length > 0) {
    return { message: `the manifest has no pipeline ${missing.join(', ')} to export` };
  }
  return undefined;
}
