/** The page `forge serve` serves at `/`: fetch on the page's origin, the token kept for the tab. */
import './app/no-eval.ts';
import '@patternfly/react-core/dist/styles/base.css';
import { createRoot } from 'react-dom/client';
import { fetchTransport, sessionTokenStore } from './api/fetch-transport.ts';
import { App } from './app/App.tsx';

const tokens = sessionTokenStore();
const root = document.getElementById('root');
if (root) createRoot(root).render(<App transport={fetchTransport(tokens)} tokens={tokens} />);
