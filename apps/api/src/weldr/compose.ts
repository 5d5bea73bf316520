import type { AppDeps } from '../app.ts';
import type { WeldrRouter } from './router.ts';

/** Weldr compose/* and the upload routes. */
export function composeRoutes(_router: WeldrRouter, _deps: AppDeps): void {}
