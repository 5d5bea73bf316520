/**
 * The Cockpit page's transport: `cockpit.http` on the service's unix socket, through the bridge of
 * the logged-in session. The socket's mode and group decide who may use it, as with the service's
 * own listener, so no token is sent. Only the calls this module makes are declared.
 */
import { mediaType, type Transport, TransportError } from './transport.ts';

interface CockpitRequest extends PromiseLike<string | Uint8Array> {
  stream(handler: (data: string) => void): CockpitRequest;
  response(handler: (status: number, headers: Record<string, string>) => void): CockpitRequest;
  catch(handler: (error: CockpitHttpError, data?: string) => void): CockpitRequest;
  close(problem?: string): void;
}

interface CockpitHttpError {
  status?: number;
  problem?: string | null;
  message?: string;
}

interface CockpitHttp {
  request(options: {
    method: string;
    path: string;
    body?: string;
    headers?: Record<string, string>;
  }): CockpitRequest;
}

export interface Cockpit {
  http(endpoint: string, options?: { superuser?: 'try' | 'require'; binary?: boolean }): CockpitHttp;
}

export function cockpitTransport(cockpit: Cockpit, socket: string): Transport {
  const text = cockpit.http(socket, { superuser: 'try' });
  const binary = cockpit.http(socket, { superuser: 'try', binary: true });

  return {
    request(method, path, init = {}) {
      return new Promise((resolve, reject) => {
        let status = 0;
        let contentType = '';
        const headers: Record<string, string> = init.contentType ? { 'Content-Type': init.contentType } : {};
        const req = text.request({ method, path, body: init.body ?? '', headers });
        req.response((code, given) => {
          status = code;
          contentType = mediaType(headerOf(given, 'content-type'));
        });
        req.then((data) => resolve({ status: status || 200, contentType, body: String(data) }));
        // Cockpit fails a request answered outside 2xx with the body beside the error (cockpit.js
        // of Debian 12's cockpit 287): that is still the service's answer, which the client reads
        // as any other. A failure with a problem and no status is the channel's (no socket, no
        // service behind it): the service was never reached.
        req.catch((error, data) => {
          if (error.problem && !error.status) reject(unreachable(socket, error));
          else resolve({ status: error.status ?? status, contentType, body: data ?? error.message ?? '' });
        });
      });
    },
    stream(path, onText, signal) {
      return new Promise((resolve, reject) => {
        const req = text.request({ method: 'GET', path, headers: { Accept: 'text/event-stream' } });
        signal.addEventListener('abort', () => req.close(), { once: true });
        req.stream(onText).then(
          () => resolve(),
          (error: unknown) => {
            if (signal.aborted) resolve();
            else reject(failure(socket, path, error as CockpitHttpError));
          },
        );
      });
    },
    download(path) {
      return new Promise((resolve, reject) => {
        binary.request({ method: 'GET', path }).then(
          (data) => resolve(new Blob([data as Uint8Array<ArrayBuffer>])),
          (error: unknown) => reject(failure(socket, path, error as CockpitHttpError)),
        );
      });
    },
  };
}

function unreachable(socket: string, error: CockpitHttpError): TransportError {
  return new TransportError(`${socket}: ${error.message ?? error.problem}`, 0);
}

function failure(socket: string, path: string, error: CockpitHttpError): TransportError {
  if (error.problem && !error.status) return unreachable(socket, error);
  return new TransportError(
    `${path}: HTTP ${error.status ?? 0} ${error.message ?? ''}`.trimEnd(),
    error.status ?? 0,
  );
}

function headerOf(headers: Record<string, string>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}
