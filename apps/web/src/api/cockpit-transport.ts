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
      return new Promise((resolve) => {
        let status = 0;
        let contentType = '';
        const headers: Record<string, string> = init.contentType ? { 'Content-Type': init.contentType } : {};
        const req = text.request({ method, path, body: init.body ?? '', headers });
        req.response((code, given) => {
          status = code;
          contentType = mediaType(headerOf(given, 'content-type'));
        });
        req.then((data) => resolve({ status: status || 200, contentType, body: String(data) }));
        // The bridge fails a request answered outside 2xx, with the body beside the error: that is
        // still the service's answer, which the client reads as it reads any other.
        req.catch((error, data) => {
          resolve({
            status: error.status ?? status ?? 0,
            contentType,
            body: data ?? error.message ?? String(error.problem ?? ''),
          });
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
            const e = error as CockpitHttpError;
            if (signal.aborted) resolve();
            else reject(new TransportError(e.message ?? `${path}: ${e.problem ?? 'failed'}`, e.status ?? 0));
          },
        );
      });
    },
    download(path) {
      return new Promise((resolve, reject) => {
        binary.request({ method: 'GET', path }).then(
          (data) => resolve(new Blob([data as Uint8Array<ArrayBuffer>])),
          (error: unknown) => {
            const e = error as CockpitHttpError;
            reject(new TransportError(e.message ?? `${path}: ${e.problem ?? 'failed'}`, e.status ?? 0));
          },
        );
      });
    },
  };
}

function headerOf(headers: Record<string, string>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}
