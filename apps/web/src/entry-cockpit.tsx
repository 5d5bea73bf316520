/**
 * The Cockpit page: the same application over `cockpit.http` on the service's unix socket. The
 * socket's path comes from config.json beside the page (written when the page is installed).
 */
import './app/no-eval.ts';
import '@patternfly/react-core/dist/styles/base.css';
import { createRoot } from 'react-dom/client';
import { type Cockpit, cockpitTransport } from './api/cockpit-transport.ts';
import { App } from './app/App.tsx';

declare const cockpit: Cockpit;

async function socketPath(): Promise<string> {
  const res = await fetch('config.json');
  const config = (await res.json()) as { socket?: unknown };
  if (typeof config.socket !== 'string' || !config.socket.startsWith('/')) {
    throw new Error('config.json names no socket (an absolute path)');
  }
  return config.socket;
}

const root = document.getElementById('root');
if (root) {
  socketPath().then(
    (socket) => createRoot(root).render(<App transport={cockpitTransport(cockpit, socket)} />),
    (err: unknown) => {
      root.textContent = `Debian Forge: ${String(err)}`;
    },
  );
}
