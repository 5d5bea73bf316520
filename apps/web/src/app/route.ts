/**
 * Views are addressed by the URL's fragment (`#/blueprints/web-server`), so the service serves one
 * page at `/` and the Cockpit page works under Cockpit's own path. Segments are URI-decoded.
 */
import { useEffect, useState } from 'react';

export type Route = readonly string[];

export function parseRoute(hash: string): Route {
  return hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

export function href(...segments: string[]): string {
  return `#/${segments.map(encodeURIComponent).join('/')}`;
}

export function go(...segments: string[]): void {
  window.location.hash = href(...segments);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}
