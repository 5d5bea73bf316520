/**
 * The pages allow no eval (their CSP has no 'unsafe-eval', in forge serve's header and in the
 * Cockpit manifest). zod would try `new Function` once to see whether it may compile its parsers,
 * which the browser reports as a CSP violation; it is told not to. Imported first by both entries.
 */
import { config } from 'zod';

config({ jitless: true });
