import type { AppDeps } from '../app.ts';
import type { WeldrRouter } from './router.ts';

/** Weldr projects/source/*. */
export function sourceRoutes(_router: WeldrRouter, _deps: AppDeps): void {}
