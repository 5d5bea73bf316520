import type { AppDeps } from '../app.ts';
import type { WeldrRouter } from './router.ts';

/** Weldr blueprints/* (list, info, changes, change, diff, freeze, depsolve, new, workspace, delete, tag, undo). */
export function blueprintRoutes(_router: WeldrRouter, _deps: AppDeps): void {}
