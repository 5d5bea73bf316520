/**
 * How the UI reaches the service. The UI only ever speaks the public APIs (Weldr, Cloud, Forge), so
 * a transport is all that differs between the browser page (fetch over TCP with a bearer token) and
 * the Cockpit page (cockpit.http over the service's unix socket, trusted by the socket itself).
 */

export interface ApiReply {
  status: number;
  /** The media type the service answered with, without parameters ('' when none). */
  contentType: string;
  body: string;
}

export interface RequestInit {
  body?: string;
  contentType?: string;
}

export interface Transport {
  /** One request; resolves with any status (the client decides what an error is). */
  request(method: string, path: string, init?: RequestInit): Promise<ApiReply>;
  /** A request whose body arrives in pieces (server-sent events); resolves when the stream ends. */
  stream(path: string, onText: (text: string) => void, signal: AbortSignal): Promise<void>;
  /** A response body as a Blob, for the browser to save (images, logs, metadata). */
  download(path: string): Promise<Blob>;
}

/** A reply the transport could not get: the service is unreachable or refused the credentials. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export function mediaType(header: string | null | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}
