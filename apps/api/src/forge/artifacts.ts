/**
 * `PUT /api/forge/v1/composes/{uuid}/artifact?filename=<name>`: a worker uploads the image of a
 * BUILDING compose. The name is checked by the one name checker (one portable path component),
 * and the body is streamed to a hidden temporary file `<artifactsDir>/<uuid>/.<random>.part`
 * (never buffered, not bound by bodyLimit) while its sha256 is computed; on a match with `X-Forge-Sha256` (and
 * `Content-Length`, when given) the file is renamed and indexed → 201 `{filename,size,sha256}`;
 * a mismatch removes it → 400 `FORGE_ERR_CHECKSUM` (`FORGE_ERR_SIZE`).
 *
 * Registered as a plugin of its own inside the Forge API's scope: its content-type parser takes
 * every body as the raw request stream, which must not apply to the other Forge routes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getImageType } from '@debian-forge/composer';
import { joinInside, nameError } from '@debian-forge/manifest';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';
import { ApiError } from '../errors.ts';
import { ComposeErrorCode, moveCompose, mustGetCompose } from '../services/composes.ts';

export const ArtifactErrorCode = {
  Checksum: 'FORGE_ERR_CHECKSUM',
  Size: 'FORGE_ERR_SIZE',
  BadUpload: 'FORGE_ERR_UPLOAD',
} as const;

const uploaded = z.object({ filename: z.string(), size: z.number().int(), sha256: z.string() });

export async function artifactRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  // The body stays unread: the handler streams request.raw to disk.
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.route({
    method: 'PUT',
    url: '/composes/:uuid/artifact',
    schema: {
      tags: ['forge'],
      summary: "Upload a BUILDING compose's artifact (workers)",
      params: z.object({ uuid: z.string() }),
      querystring: z.object({
        filename: z
          .string()
          .describe("one name of letters, digits, '.', '_' and '-', starting with a letter or digit"),
      }),
      headers: z.object({
        'x-forge-sha256': z.string().describe('sha256 of the body, 64 hex digits'),
        'content-length': z.string().optional(),
      }),
      response: { 201: uploaded },
    },
    handler: async (request, reply) => {
      const { uuid: id } = request.params as { uuid: string };
      const { filename } = request.query as { filename: string };
      const headers = request.headers as Record<string, string | undefined>;
      const want = (headers['x-forge-sha256'] ?? '').toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(want)) {
        throw new ApiError(400, ArtifactErrorCode.BadUpload, 'X-Forge-Sha256 must be 64 hex digits');
      }
      const unsafe = nameError(filename, 'file name', { portable: true });
      if (unsafe) throw new ApiError(400, ArtifactErrorCode.BadUpload, unsafe);
      const lengthHeader = headers['content-length'];
      const length = lengthHeader === undefined ? undefined : Number(lengthHeader);
      let compose = mustGetCompose(deps.store, id);
      const { uuid } = compose; // the stored form names its directory, whatever case was asked
      if (compose.state === 'QUEUED' && compose.jobId) {
        // The worker can be quicker than the lifecycle's handling of its `active` event.
        const job = await deps.queue.getJob(compose.jobId);
        if (job?.status === 'active') {
          compose = moveCompose(deps, uuid, 'BUILDING', job.worker ? { workerId: job.worker } : {});
        }
      }
      if (compose.state !== 'BUILDING') {
        throw new ApiError(
          409,
          ComposeErrorCode.WrongState,
          `compose ${uuid} is ${compose.state}, not BUILDING: no upload`,
        );
      }
      const dir = join(deps.config.artifactsDir, compose.uuid);
      // Images are the service's own (a blueprint's users and keys are in them): 0700 and 0600.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // No link in the compose's directory may lead the rename out of it.
      const final = joinInside(dir, filename, { what: 'file name' });
      // Its own name, which no portable file name can be (they start with a letter or digit).
      const part = join(dir, `.${randomUUID()}.part`);
      const hash = createHash('sha256');
      let size = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, next) {
          hash.update(chunk);
          size += chunk.length;
          next(null, chunk);
        },
      });
      try {
        await pipeline(request.raw, count, createWriteStream(part, { flags: 'wx', mode: 0o600 }));
      } catch (err) {
        await rm(part, { force: true });
        throw new ApiError(400, ArtifactErrorCode.BadUpload, `upload broken off: ${(err as Error).message}`);
      }
      const sha256 = hash.digest('hex');
      if (length !== undefined && size !== length) {
        await rm(part, { force: true });
        throw new ApiError(400, ArtifactErrorCode.Size, `got ${size} bytes, Content-Length said ${length}`);
      }
      if (sha256 !== want) {
        await rm(part, { force: true });
        throw new ApiError(400, ArtifactErrorCode.Checksum, `the body's sha256 is ${sha256}, not ${want}`, {
          expected: want,
          actual: sha256,
        });
      }
      await rename(part, final);
      deps.store.transaction(() => {
        deps.store.artifacts.delete(uuid, filename); // a retried upload replaces the first
        deps.store.artifacts.add({
          uuid,
          filename,
          path: final,
          size,
          sha256,
          mimeType: getImageType(compose.imageType)?.mimeType ?? 'application/octet-stream',
        });
      });
      return reply.code(201).send({ filename, size, sha256 });
    },
  });
}
