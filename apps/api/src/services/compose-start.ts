/**
 * The start of a compose: a request checked and recorded PENDING, its manifest made and its job
 * queued (compose-planning.ts); a raw manifest checked and queued at once. A start refused while
 * its request is open keeps nothing (see the top of composes.ts).
 */
import type { ComposeTargetResolved } from '@debian-forge/composer';
import type { Compose } from '@debian-forge/store';
import { ApiError, ComposeErrorCode } from '../errors.ts';
import { mimeTypeOf } from './compose-artifacts.ts';
import type { ComposeContext } from './compose-context.ts';
import { ComposePlanError } from './compose-errors.ts';
import { enqueue, plan, waitFor } from './compose-planning.ts';
import {
  checkBlueprint,
  checkPriority,
  checkSize,
  checkTarget,
  manifestProblems,
} from './compose-requests.ts';
import { mustGetCompose, removeCompose } from './compose-rows.ts';
import type { ComposeRequest, ManifestRequest, SubmitOptions } from './composes.ts';

/**
 * Records a compose (PENDING) with its resolved target; `queued` ones only while Redis is
 * reachable.
 */
export function recordCompose(
  ctx: ComposeContext,
  request: ComposeRequest,
  queued: boolean,
): { compose: Compose; target: ComposeTargetResolved } {
  const blueprint = checkBlueprint(request.blueprint);
  const size = checkSize(request.size, ctx.maxImageSize);
  const target = checkTarget({
    blueprint,
    imageType: request.imageType,
    ...(request.distro ? { distro: request.distro } : {}),
    ...(request.arch ? { arch: request.arch } : {}),
    size,
    ...(request.ostree ? { ostree: request.ostree } : {}),
  });
  if (queued) ctx.queue.assertAvailable();
  const compose = ctx.store.composes.create({
    blueprintName: blueprint.name,
    blueprintVersion: blueprint.version ?? '0.0.0',
    blueprint,
    imageType: target.imageType.name,
    distro: target.distro.name,
    arch: target.arch,
    size: size || target.imageType.defaultSize,
    priority: checkPriority(request.priority),
    ...(request.ostree ? { ostree: request.ostree } : {}),
    api: request.origin.api,
    ...(request.origin.api === 'cloud' ? { request: request.origin.request } : {}),
  });
  ctx.events.publish({ type: 'state', uuid: compose.uuid, state: 'PENDING', at: compose.createdAt });
  return { compose, target };
}

/** `submit` of the service (see ComposeService in composes.ts). */
export async function submit(
  ctx: ComposeContext,
  request: ComposeRequest,
  options: SubmitOptions = {},
): Promise<Compose> {
  const { compose, target } = recordCompose(ctx, request, true);
  const work = plan(ctx, compose, target);
  if (!options.waitForPlan) return compose;
  const outcome = await waitFor(ctx, work);
  if (typeof outcome === 'object') {
    // Only microtasks ran since the FAILED move (no I/O callback): no request saw the FAILED row.
    removeCompose(ctx, compose.uuid);
    throw new ComposePlanError(outcome.failed);
  }
  return ctx.store.composes.get(compose.uuid) ?? compose;
}

/** `submitManifest` of the service (see ComposeService in composes.ts). */
export async function submitManifest(ctx: ComposeContext, request: ManifestRequest): Promise<Compose> {
  const problems = manifestProblems(request, ctx.manifestIndex);
  if (problems) throw new ApiError(400, ComposeErrorCode.BadManifest, problems.message, problems.details);
  const priority = checkPriority(request.priority);
  ctx.queue.assertAvailable();
  const compose = ctx.store.composes.create({
    blueprintName: '',
    blueprintVersion: '',
    imageType: request.imageType ?? 'manifest',
    distro: '',
    arch: 'x86_64',
    priority,
    manifest: request.manifest,
    // A raw manifest says nothing of its packages.
    build: {
      exports: request.exports,
      artifact: { filename: request.filename, mimeType: mimeTypeOf(request.imageType) },
      checkpoints: [],
      layers: [],
    },
    api: 'forge',
  });
  ctx.events.publish({ type: 'state', uuid: compose.uuid, state: 'PENDING', at: compose.createdAt });
  const outcome = await enqueue(ctx, compose);
  if (typeof outcome === 'object') {
    removeCompose(ctx, compose.uuid); // the request is refused: no 201 for a compose that cannot build
    throw outcome.failed;
  }
  return mustGetCompose(ctx.store, compose.uuid);
}
