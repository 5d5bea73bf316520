/**
 * Uploading an artifact to the API (the contract in the API's Forge routes):
 * `PUT /api/forge/v1/composes/{uuid}/artifact?filename=NAME`, the file streamed as
 * `application/octet-stream` with `Content-Length` and `X-Forge-Sha256`, over the API's unix socket
 * or over HTTP(S) with a bearer token (api.ts). The checksum is computed first (one read of the
 * file), so the API can verify while it writes. Connection failures and 502, 503, 504 answers (an
 * API restarting, a proxy in front of it) are retried a few times; every other answer is final: a
 * 4xx is the upload's fault, and a 500 or 507 is the API's own, which it does not get over by
 * itself (its artifacts directory is full or unwritable: it has failed the compose already, and a
 * retry would only be refused).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { type ApiTarget, RETRIED, type RetryOptions, reason, send, withRetries } from './api.ts';
import { WorkerError, WorkerErrorCode } from './errors.ts';

export interface UploadedArtifact {
  filename: string;
  size: number;
  sha256: string;
}

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, { signal });
  return hash.digest('hex');
}

/** Streams `file` to the API as compose `uuid`'s artifact `filename`; returns what the API stored. */
export async function uploadArtifact(
  api: ApiTarget,
  uuid: string,
  filename: string,
  file: string,
  opts: RetryOptions = {},
): Promise<UploadedArtifact> {
  const { size } = await stat(file);
  const sha256 = await sha256File(file, opts.signal);
  const path = `/composes/${encodeURIComponent(uuid)}/artifact?filename=${encodeURIComponent(filename)}`;
  const headers = {
    'content-type': 'application/octet-stream',
    'content-length': String(size),
    'x-forge-sha256': sha256,
  };
  return withRetries(
    `uploading ${filename}`,
    WorkerErrorCode.UPLOAD_REFUSED,
    async () => {
      const answer = await send(api, 'PUT', path, headers, { file, signal: opts.signal });
      if (answer.status === 200 || answer.status === 201) {
        const stored = JSON.parse(answer.body) as Partial<UploadedArtifact>;
        if (stored.sha256 !== sha256 || stored.size !== size) {
          throw new WorkerError(
            WorkerErrorCode.UPLOAD_REFUSED,
            `the API stored ${stored.size} bytes with sha256 ${stored.sha256}, sent ${size} with ${sha256}`,
          );
        }
        return { filename: stored.filename ?? filename, size, sha256 };
      }
      if (!RETRIED.has(answer.status)) {
        throw new WorkerError(
          WorkerErrorCode.UPLOAD_REFUSED,
          `the API refused the artifact: ${reason(answer)}`,
        );
      }
      throw new Error(reason(answer));
    },
    opts,
  );
}
