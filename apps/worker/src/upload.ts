/**
 * Uploading an artifact to the API (the contract in the API's Forge routes):
 * `PUT /api/forge/v1/composes/{uuid}/artifact?filename=NAME`, the file streamed as
 * `application/octet-stream` with `Content-Length` and `X-Forge-Sha256`, over the API's unix socket
 * or over HTTP(S) with a bearer token. The checksum is computed first (one read of the file), so
 * the API can verify while it writes. Connection failures and 502, 503, 504 answers (an API
 * restarting, a proxy in front of it) are retried a few times; every other answer is final: a 4xx
 * is the upload's fault, and a 500 or 507 is the API's own, which it does not get over by itself
 * (its artifacts directory is full or unwritable: it has failed the compose already, and a retry
 * would only be refused).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { WorkerError, WorkerErrorCode } from './errors.ts';

/** Where the API is: its unix socket, or its URL (with a token). */
export interface ApiTarget {
  socket?: string;
  url?: string;
  token?: string;
}

export interface UploadedArtifact {
  filename: string;
  size: number;
  sha256: string;
}

export const FORGE_API_PATH = '/api/forge/v1';

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, { signal });
  return hash.digest('hex');
}

interface Answer {
  status: number;
  body: string;
}

/** Sends a request with its body streamed from `file`; returns the status and the answer's body. */
function send(
  api: ApiTarget,
  method: string,
  path: string,
  headers: Record<string, string>,
  file: string,
  signal?: AbortSignal,
): Promise<Answer> {
  const all: Record<string, string> = { ...headers };
  let options: http.RequestOptions;
  let transport: typeof http | typeof https = http;
  if (api.socket) {
    options = { socketPath: api.socket, path: `${FORGE_API_PATH}${path}` };
  } else if (api.url) {
    const base = new URL(api.url);
    transport = base.protocol === 'https:' ? https : http;
    options = {
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: base.port || undefined,
      path: `${base.pathname.replace(/\/$/, '')}${FORGE_API_PATH}${path}`,
    };
    if (api.token) all.authorization = `Bearer ${api.token}`;
  } else {
    throw new WorkerError(WorkerErrorCode.CONFIG, 'the API is neither a socket nor a URL');
  }
  return new Promise<Answer>((resolve, reject) => {
    const req = transport.request({ ...options, method, headers: all, signal }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 64 * 1024) body += chunk;
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
        // An answer before the whole body went out (the API refused it midway): stop sending.
        if (!req.writableFinished) req.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    pipeline(createReadStream(file), req).catch(reject);
  });
}

function reason(answer: Answer): string {
  try {
    const body = JSON.parse(answer.body) as { code?: string; message?: string };
    if (body.code || body.message) return `${answer.status} ${body.code ?? ''}: ${body.message ?? ''}`.trim();
  } catch {
    // not JSON
  }
  return `${answer.status} ${answer.body.slice(0, 200)}`.trim();
}

/** Answers that say "not now" rather than "no": a gateway without its API, an API not ready. */
const RETRIED = new Set([502, 503, 504]);

export interface UploadOptions {
  signal?: AbortSignal;
  /** Attempts for connection failures and 502, 503, 504 answers; default 4. */
  attempts?: number;
  /** First pause between attempts, doubled each time; default 1000 ms. */
  retryDelayMs?: number;
  log?(line: string): void;
}

/** Streams `file` to the API as compose `uuid`'s artifact `filename`; returns what the API stored. */
export async function uploadArtifact(
  api: ApiTarget,
  uuid: string,
  filename: string,
  file: string,
  opts: UploadOptions = {},
): Promise<UploadedArtifact> {
  const { size } = await stat(file);
  const sha256 = await sha256File(file, opts.signal);
  const path = `/composes/${encodeURIComponent(uuid)}/artifact?filename=${encodeURIComponent(filename)}`;
  const headers = {
    'content-type': 'application/octet-stream',
    'content-length': String(size),
    'x-forge-sha256': sha256,
  };
  const attempts = opts.attempts ?? 4;
  let delay = opts.retryDelayMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    let failure: string;
    try {
      const answer = await send(api, 'PUT', path, headers, file, opts.signal);
      if (answer.status === 200 || answer.status === 201) {
        const stored = JSON.parse(answer.body) as Partial<UploadedArtifact>;
        if (stored.sha256 !== sha256 || stored.size !== size) {
          throw new WorkerError(
            WorkerErrorCode.UPLOAD,
            `the API stored ${stored.size} bytes with sha256 ${stored.sha256}, sent ${size} with ${sha256}`,
          );
        }
        return { filename: stored.filename ?? filename, size, sha256 };
      }
      if (!RETRIED.has(answer.status)) {
        throw new WorkerError(WorkerErrorCode.UPLOAD, `the API refused the artifact: ${reason(answer)}`);
      }
      failure = reason(answer);
    } catch (err) {
      if (err instanceof WorkerError || opts.signal?.aborted) throw err;
      failure = (err as Error).message;
    }
    if (attempt >= attempts) {
      throw new WorkerError(
        WorkerErrorCode.UPLOAD,
        `uploading ${filename} failed ${attempts} times, last: ${failure}`,
      );
    }
    opts.log?.(`uploading ${filename} failed (${failure}); again in ${delay} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay *= 2;
  }
}
