/**
 * The compose service (its contract is in composes.ts) put together from its parts over one shared
 * context (compose-context.ts): starts (compose-start.ts) and their manifests and jobs
 * (compose-planning.ts), Weldr's test composes (compose-fake.ts), artifacts
 * (compose-artifacts.ts), and what a client asks of a started compose (compose-control.ts).
 */
import { storeArtifact } from './compose-artifacts.ts';
import { composeContext } from './compose-context.ts';
import { cancel, deleteCompose, setPriority } from './compose-control.ts';
import { submitFake } from './compose-fake.ts';
import { pending, replan } from './compose-planning.ts';
import { submit, submitManifest } from './compose-start.ts';
import type { ComposeServiceDeps, ComposeServiceForLifecycle, ComposeServiceOptions } from './composes.ts';

export function createComposeService(
  deps: ComposeServiceDeps,
  options: ComposeServiceOptions = {},
): ComposeServiceForLifecycle {
  const ctx = composeContext(deps, options);
  return {
    submit: (request, submitOptions) => submit(ctx, request, submitOptions),
    submitManifest: (request) => submitManifest(ctx, request),
    submitFake: (request, outcome) => submitFake(ctx, request, outcome),
    storeArtifact: (id, upload, report) => storeArtifact(ctx, id, upload, report),
    cancel: (id) => cancel(ctx, id),
    delete: (id) => deleteCompose(ctx, id),
    setPriority: (id, priority) => setPriority(ctx, id, priority),
    replan: (compose) => replan(ctx, compose),
    pending: () => pending(ctx),
    queueing: (uuid) => ctx.queueing.has(uuid),
  };
}
