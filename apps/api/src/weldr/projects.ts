import type { AppDeps } from '../app.ts';
import type { WeldrRouter } from './router.ts';

/** Weldr projects/*, modules/* and distros/list. */
export function projectRoutes(_router: WeldrRouter, _deps: AppDeps): void {}
