/**
 * The browser page's transport: fetch against the page's own origin, with `Authorization: Bearer`
 * when the service listens on TCP with tokens. The token is kept in sessionStorage, so it lasts as
 * long as the tab and no longer.
 */
import { mediaType, type Transport, TransportError } from './transport.ts';

const TOKEN_KEY = 'debian-forge.token';

export interface TokenStore {
  get(): string | null;
  set(token: string | null): void;
}

export function sessionTokenStore(storage: Storage = sessionStorage): TokenStore {
  return {
    get: () => storage.getItem(TOKEN_KEY),
    set: (token) => (token === null ? storage.removeItem(TOKEN_KEY) : storage.setItem(TOKEN_KEY, token)),
  };
}

export function fetchTransport(tokens: TokenStore): Transport {
  const headers = (extra: Record<string, string> = {}): Record<string, string> => {
    const token = tokens.get();
    return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
  };
  const refuseUnauthorized = (res: Response) => {
    if (res.status === 401) throw new TransportError('the service refused the token', 401);
  };
  return {
    async request(method, path, init = {}) {
      const res = await fetch(path, {
        method,
        headers: headers(init.contentType ? { 'content-type': init.contentType } : {}),
        ...(init.body === undefined ? {} : { body: init.body }),
      });
      refuseUnauthorized(res);
      return {
        status: res.status,
        contentType: mediaType(res.headers.get('content-type')),
        body: await res.text(),
      };
    },
    async stream(path, onText, signal) {
      const res = await fetch(path, { headers: headers({ accept: 'text/event-stream' }), signal });
      refuseUnauthorized(res);
      if (!res.ok || !res.body) throw new TransportError(`${path}: HTTP ${res.status}`, res.status);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          onText(value);
        }
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
    },
    async download(path) {
      const res = await fetch(path, { headers: headers() });
      refuseUnauthorized(res);
      if (!res.ok) throw new TransportError(`${path}: HTTP ${res.status} ${await res.text()}`, res.status);
      return res.blob();
    },
  };
}
