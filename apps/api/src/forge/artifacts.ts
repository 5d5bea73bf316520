/**
 * `PUT /api/forge/v1/composes/{uuid}/artifact?filename=<name>`: a worker uploads the image of a
 * BUILDING compose. The name is checked by the one name checker (one portable path component),
 * and the body is handed as a stream to the compose service (`storeArtifact`: never buffered, not
 * bound by bodyLimit), which writes it to a hidden temporary file while its sha256 is computed; on
 * a match with `X-Forge-Sha256` (and `Content-Length`, when given) the file is renamed and
 * indexed → 201 `{filename,size,sha256}`.
 *
 * Whose fault a failure is decides the answer. The client's (a body broken off, a checksum or size
 * that does not match) → 400 `FORGE_ERR_UPLOAD` (`FORGE_ERR_CHECKSUM`, `FORGE_ERR_SIZE`); the
 * compose stays BUILDING, so the worker may send it again. The server's (the artifacts directory
 * full, unwritable, failing; see services/artifacts.ts) → 507 or 500, and the compose ends FAILED
 * with the reason at once. Either way the `.part` file is removed. When the server fails while the
 * body still arrives, the rest of the body is read and dropped rather than the connection cut, so
 * the worker gets the answer.
 *
 * Registered as a plugin of its own inside the Forge API's scope: its content-type parser takes
 * every body as the raw request stream, which must not apply to the other Forge routes.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { nameError } from '@debian-forge/manifest';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { ApiError, ArtifactErrorCode } from '../errors.ts';
import { forgeComposes } from './routes.ts';

const uploaded = z.object({ filename: z.string(), size: z.number().int(), sha256: z.string() });

export async function artifactRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  // The body stays unread: the compose service streams request.raw to disk.
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.route({
    method: 'PUT',
    url: '/composes/:uuid/artifact',
    schema: {
      tags: ['forge'],
      summary: "Upload a BUILDING compose's artifact (workers)",
      description:
        'The body is the file, with `X-Forge-Sha256`. 400 when the body is broken off or its size or sha256 does not match (the compose stays BUILDING); 409 when the compose is not BUILDING; 507 `FORGE_ERR_ARTIFACTS_FULL` when the server has no room for it, 500 `FORGE_ERR_ARTIFACTS_UNWRITABLE` or `FORGE_ERR_ARTIFACTS_STORAGE` when its artifacts directory cannot be written: then the compose ends FAILED with that reason.',
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
      const { uuid } = request.params as { uuid: string };
      const { filename } = request.query as { filename: string };
      const headers = request.headers as Record<string, string | undefined>;
      const sha256 = (headers['x-forge-sha256'] ?? '').toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(sha256)) {
        throw ApiError.of(ArtifactErrorCode.BadUpload, 'X-Forge-Sha256 must be 64 hex digits');
      }
      const unsafe = nameError(filename, 'file name', { portable: true });
      if (unsafe) throw ApiError.of(ArtifactErrorCode.BadUpload, unsafe);
      const length = headers['content-length'];
      const stored = await forgeComposes(deps).storeArtifact(
        uuid,
        {
          filename,
          sha256,
          ...(length === undefined ? {} : { size: Number(length) }),
          body: detachedBody(request.raw),
        },
        (context, message) => request.log.error(context, message),
      );
      return reply.code(201).send(stored);
    },
  });
}

/**
 * The request body as a stream of its own: when writing it out fails, `pipeline` destroys this
 * one, not the request, whose connection must stay up to carry the answer. A client that hangs up
 * before the end of the body fails it ("broken off").
 */
function detachedBody(raw: IncomingMessage): PassThrough {
  const body = new PassThrough();
  raw.pipe(body);
  // Whatever stops reading the body (the server cannot store it, the compose takes no upload),
  // the rest of the request is read and dropped rather than the connection cut.
  body.once('close', () => {
    raw.unpipe(body);
    raw.resume();
  });
  raw.once('error', (err: Error) => body.destroy(err));
  raw.once('close', () => {
    if (!raw.complete) body.destroy(new Error('the client closed the connection before the end of the body'));
  });
  return body;
}
