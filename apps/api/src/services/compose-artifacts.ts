/**
 * A compose's artifact as the service records it: the upload of a BUILDING compose is written
 * (services/artifacts.ts writes the file) and its row added, replacing one of the same name; a
 * failure of the server's storage ends the compose FAILED and answers a 5xx, while the sender's
 * faults pass as they are and the compose stays BUILDING.
 */
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { getImageType } from '@debian-forge/composer';
import type { Compose } from '@debian-forge/store';
import { ApiError, ComposeErrorCode } from '../errors.ts';
import { ArtifactStorageFailure, type ArtifactUpload, storageFault, writeArtifact } from './artifacts.ts';
import type { ComposeContext } from './compose-context.ts';
import { failCompose, moveCompose, mustGetCompose } from './compose-rows.ts';
import type { ArtifactReport, StoredArtifact } from './composes.ts';

/** The MIME type of an image type's artifact; the generic one for a raw manifest's. */
export function mimeTypeOf(imageType: string | undefined): string {
  return (imageType && getImageType(imageType)?.mimeType) || 'application/octet-stream';
}

/** `storeArtifact` of the service (see ComposeService in composes.ts). */
export async function storeArtifact(
  ctx: ComposeContext,
  id: string,
  upload: ArtifactUpload,
  report: ArtifactReport = () => {},
): Promise<StoredArtifact> {
  let compose: Compose;
  try {
    compose = await buildingCompose(ctx, id);
  } catch (err) {
    upload.body.destroy();
    throw err;
  }
  return keepArtifact(ctx, compose, upload, report);
}

/** The compose an artifact is for: BUILDING (or moved there when its job is being built). */
async function buildingCompose(ctx: ComposeContext, id: string): Promise<Compose> {
  let compose = mustGetCompose(ctx.store, id);
  const { uuid } = compose; // the stored form names its directory, whatever case was asked
  if (compose.state === 'QUEUED' && compose.jobId) {
    // The worker can be quicker than the lifecycle's handling of its `active` event.
    const job = await ctx.queue.getJob(compose.jobId);
    if (job?.status === 'active') {
      compose = moveCompose(ctx, uuid, 'BUILDING', job.worker ? { workerId: job.worker } : {});
    }
  }
  if (compose.state !== 'BUILDING') {
    throw ApiError.of(
      ComposeErrorCode.WrongState,
      `compose ${uuid} is ${compose.state}, not BUILDING: no upload`,
    );
  }
  return compose;
}

/**
 * Writes the artifact of a BUILDING compose and records it (a retried upload replaces the
 * first); a failure of the server's storage ends the compose FAILED (failStoring) and throws the
 * 5xx, and the sender's faults pass as they are.
 */
export async function keepArtifact(
  ctx: ComposeContext,
  compose: Compose,
  upload: ArtifactUpload,
  report: ArtifactReport,
): Promise<StoredArtifact> {
  const { uuid } = compose;
  const { filename } = upload;
  const failed = async (err: unknown, written: string[]): Promise<ApiError> => {
    const fault = await failStoring(
      ctx,
      uuid,
      { filename, ...(upload.size === undefined ? {} : { size: upload.size }), written },
      err,
      // The database is on the full file system too: the lifecycle fails the compose once the
      // worker has failed its job.
      (e) => report({ err: e, compose: uuid }, 'cannot fail the compose'),
    );
    report({ err, compose: uuid }, fault.message);
    return fault;
  };
  let artifact: Awaited<ReturnType<typeof writeArtifact>>;
  try {
    artifact = await writeArtifact(ctx.config.artifactsDir, uuid, upload);
  } catch (err) {
    if (err instanceof ArtifactStorageFailure) throw await failed(err.cause, err.written);
    throw err; // the sender's fault (or a name that leads out of the directory)
  }
  try {
    ctx.store.transaction(() => {
      ctx.store.artifacts.delete(uuid, filename);
      ctx.store.artifacts.add({
        uuid,
        filename,
        ...artifact,
        // The plan's; a compose planned before plans were kept has its image type's.
        mimeType: compose.build?.artifact.mimeType ?? mimeTypeOf(compose.imageType),
      });
    });
  } catch (err) {
    throw await failed(err, [artifact.path]);
  }
  return { filename, size: artifact.size, sha256: artifact.sha256 };
}

/**
 * Ends a BUILDING compose whose artifact `filename` (`size` bytes, when known) could not be stored
 * because of `err`: removes what was half written (`written`) and the compose's directory when
 * nothing else is in it, then FAILED with the reason. When the database is full too,
 * `onUnrecorded` hears of it and the compose stays BUILDING until the lifecycle fails it. Returns
 * the 5xx to answer.
 */
async function failStoring(
  ctx: ComposeContext,
  uuid: string,
  artifact: { filename: string; size?: number; written: string[] },
  err: unknown,
  onUnrecorded: (err: unknown) => void,
): Promise<ApiError> {
  const { artifactsDir } = ctx.config;
  await Promise.all(artifact.written.map((f) => rm(f, { force: true }).catch(() => {})));
  await rmdir(join(artifactsDir, uuid)).catch(() => {}); // made for this artifact, or holding another: kept
  const fault = await storageFault(err, artifactsDir, artifact.filename, artifact.size);
  try {
    // FAILED only from BUILDING: a compose that has ended meanwhile keeps its end.
    if (ctx.store.composes.get(uuid)?.state === 'BUILDING') {
      failCompose(ctx, uuid, { code: fault.code, message: fault.message });
    }
  } catch (e) {
    onUnrecorded(e);
  }
  return fault;
}
