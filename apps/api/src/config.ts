/**
 * The API's configuration: where it keeps state, where it listens, who may call it over TCP.
 * Built once by the caller (`forge serve`, tests) and passed in; nothing here reads globals except
 * `configFromEnv`, which turns environment variables into a config for the command line.
 */
import { join } from 'node:path';

export interface ApiConfig {
  /** Directory of the SQLite database, artifacts, apt roots and the object store. */
  stateDir: string;
  /** Where finished images live: `<artifactsDir>/<compose uuid>/<file>`. */
  artifactsDir: string;
  /** The unix socket (Weldr clients' way in, no token needed: file mode and group guard it). */
  socket?: { path: string; mode: number; group?: string };
  /**
   * A unix socket that serves the Cloud API only (composer-cli looks for one at
   * /run/cloudapi/api.socket); trusted as `socket` is, guarded by its own mode and group.
   */
  cloudSocket?: { path: string; mode: number; group?: string };
  /** TCP listener; every request on it needs `Authorization: Bearer <token>`. */
  tcp?: { host: string; port: number };
  /**
   * Bearer tokens accepted on TCP. `null` turns authentication off, which `listen()` allows only
   * without a TCP listener (in-process tests use it with `app.inject`).
   */
  tokens: readonly string[] | null;
  /** Largest request body in bytes (uploads of artifacts are streamed and not bound by it). */
  bodyLimit: number;
  /** Version string reported as `build` by /api/status. */
  version: string;
  /** The built web UI (index.html and ui/), served at `/`; no UI when absent. */
  webRoot?: string;
}

export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

/** A config for a state directory with the defaults: socket `<stateDir>/api.socket`, no TCP. */
export function defaultConfig(stateDir: string, overrides: Partial<ApiConfig> = {}): ApiConfig {
  return {
    stateDir,
    artifactsDir: join(stateDir, 'artifacts'),
    socket: { path: join(stateDir, 'api.socket'), mode: 0o660 },
    tokens: null,
    bodyLimit: DEFAULT_BODY_LIMIT,
    version: '0.1.0',
    ...overrides,
  };
}
