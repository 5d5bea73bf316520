/**
 * The worker's channel to the API: its unix socket, or its URL over HTTP(S) with a bearer token.
 * Everything a worker takes from the API (the plan of a job) or gives it (the artifact) goes this
 * way, never through Redis. Connection failures and 502, 503, 504 answers are retried a few times
 * (an API restarting, a proxy in front of it); what every other answer means is the caller's.
 */
import { createReadStream } from 'node:fs';
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

export const FORGE_API_PATH = '/api/forge/v1';

/** Answers that say "not now" rather than "no": a gateway without its API, an API not ready. */
export const RETRIED = new Set([502, 503, 504]);

export interface Answer {
  status: number;
  body: string;
  /** The body went past `maxBody` and was cut there. */
  cut: boolean;
}

export interface SendOptions {
  /** A file streamed as the request's body. */
  file?: string;
  signal?: AbortSignal;
  /** The most of the answer's body kept; default 64 KiB (error messages). */
  maxBody?: number;
}

/** One request to the Forge API (`path` below /api/forge/v1); returns the status and the body. */
export function send(
  api: ApiTarget,
  method: string,
  path: string,
  headers: Record<string, string>,
  opts: SendOptions = {},
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
  const maxBody = opts.maxBody ?? 64 * 1024;
  return new Promise<Answer>((resolve, reject) => {
    const req = transport.request({ ...options, method, headers: all, signal: opts.signal }, (res) => {
      let body = '';
      let cut = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length + chunk.length <= maxBody) body += chunk;
        else cut = true;
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, cut });
        // An answer before the whole body went out (the API refused it midway): stop sending.
        if (!req.writableFinished) req.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.file) pipeline(createReadStream(opts.file), req).catch(reject);
    else req.end();
  });
}

/** An answer in a line: status, and the error envelope's code and message when there is one. */
export function reason(answer: Answer): string {
  try {
    const body = JSON.parse(answer.body) as { code?: string; message?: string };
    if (body.code || body.message) return `${answer.status} ${body.code ?? ''}: ${body.message ?? ''}`.trim();
  } catch {
    // not JSON
  }
  return `${answer.status} ${answer.body.slice(0, 200)}`.trim();
}

export interface RetryOptions {
  signal?: AbortSignal;
  /** Attempts for connection failures and 502, 503, 504 answers; default 4. */
  attempts?: number;
  /** First pause between attempts, doubled each time; default 1000 ms. */
  retryDelayMs?: number;
  log?(line: string): void;
}

/**
 * Runs `once` until it returns. A WorkerError it throws is final; any other error (a connection
 * failure, a RETRIED answer thrown as an Error) is tried again after a pause, `attempts` times in all,
 * then ends as a WorkerError of `code`: "WHAT failed N times, last: …".
 */
export async function withRetries<T>(
  what: string,
  code: WorkerErrorCode,
  once: () => Promise<T>,
  opts: RetryOptions = {},
): Promise<T> {
  const attempts = opts.attempts ?? 4;
  let delay = opts.retryDelayMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    let failure: string;
    try {
      return await once();
    } catch (err) {
      if (err instanceof WorkerError || opts.signal?.aborted) throw err;
      failure = (err as Error).message;
    }
    if (attempt >= attempts) {
      throw new WorkerError(code, `${what} failed ${attempts} times, last: ${failure}`);
    }
    opts.log?.(`${what} failed (${failure}); again in ${delay} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay *= 2;
  }
}
