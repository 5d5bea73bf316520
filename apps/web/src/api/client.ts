/**
 * The UI's view of the service: JSON calls over a transport, with each API family's error envelope
 * (Weldr `{status:false, errors:[{id,msg}]}`, Cloud `{kind:"Error", id, reason}`, Forge
 * `{code, message}`) turned into one `ApiFailure` naming the service's own id and words.
 */
import type { Transport } from './transport.ts';

export const WELDR = '/api/v1';
/** Weldr's status, outside the versioned prefix as composer-cli asks for it. */
export const WELDR_STATUS = '/api/status';
export const CLOUD = '/api/image-builder-composer/v2';
export const FORGE = '/api/forge/v1';

/**
 * Names (blueprints, commits) as one path segment each, URI-encoded. "." and ".." are refused
 * here: the browser resolves them away, encoded or not (`…/undo/%2E%2E/x` asks for `…/x`), so
 * they would reach another route instead of being refused as names by the service.
 */
export function segments(...names: string[]): string {
  for (const name of names) {
    if (name === '.' || name === '..')
      throw new Error(`"${name}" cannot be a name (it means a directory in a path)`);
  }
  return names.map(encodeURIComponent).join('/');
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    /** The service's error id or code (Weldr id, Cloud id, FORGE_ERR_*), '' when it gave none. */
    readonly id: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

export interface Client {
  readonly transport: Transport;
  get<T>(path: string): Promise<T>;
  send<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
  text(path: string): Promise<string>;
}

export function createClient(transport: Transport): Client {
  async function call<T>(method: string, path: string, body?: string, contentType?: string): Promise<T> {
    const reply = await transport.request(method, path, {
      ...(body === undefined ? {} : { body, contentType: contentType ?? 'application/json' }),
    });
    const parsed = parseJson(reply.body);
    if (reply.status < 200 || reply.status > 299 || isWeldrFailure(parsed))
      throw failureOf(reply.status, parsed, reply.body);
    return parsed as T;
  }
  return {
    transport,
    get: (path) => call('GET', path),
    send: (method, path, body, contentType) =>
      call(
        method,
        path,
        body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        contentType,
      ),
    async text(path) {
      const reply = await transport.request('GET', path);
      if (reply.status < 200 || reply.status > 299)
        throw failureOf(reply.status, parseJson(reply.body), reply.body);
      return reply.body;
    },
  };
}

function parseJson(body: string): unknown {
  try {
    return body === '' ? undefined : JSON.parse(body);
  } catch {
    return undefined;
  }
}

function isWeldrFailure(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { status?: unknown }).status === false;
}

export function failureOf(status: number, parsed: unknown, raw: string): ApiFailure {
  const v = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const errors = Array.isArray(v.errors) ? (v.errors as { id?: string; msg?: string }[]) : [];
  if (errors.length > 0) {
    return new ApiFailure(
      status,
      String(errors[0]?.id ?? ''),
      errors.map((e) => e.msg ?? e.id ?? '').join('; '),
    );
  }
  if (v.kind === 'Error') return new ApiFailure(status, String(v.id ?? ''), String(v.reason ?? raw));
  if (typeof v.code === 'string') return new ApiFailure(status, v.code, String(v.message ?? raw));
  if (typeof v.message === 'string') return new ApiFailure(status, String(v.error ?? ''), v.message);
  return new ApiFailure(status, '', raw.trim() || `HTTP ${status}`);
}

/** A message fit for the screen from anything a call threw. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiFailure) return err.id ? `${err.message} (${err.id})` : err.message;
  return err instanceof Error ? err.message : String(err);
}
