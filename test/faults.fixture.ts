/**
 * Shared by the fault tests against the real `forge serve`: raw-manifest composes (no packages, so
 * no mirror is needed) through the Forge API, and waiting for their end.
 */
import assert from 'node:assert/strict';
import { call } from '@debian-forge/api/testing/http-client';
import type { Serve } from '@debian-forge/cli/testing/serve';

export interface ComposeView {
  id: string;
  state: string;
  worker: string | null;
  error: { code: string; message: string } | null;
  progress: { done: number; total: number; message?: string } | null;
}

/** Submits a raw manifest that exports `pipeline`, whose file `filename` is the artifact. */
export async function composeManifest(
  serve: Serve,
  manifest: Record<string, unknown>,
  pipeline: string,
  filename: string,
): Promise<string> {
  const body = JSON.stringify({ manifest, exports: [pipeline], filename });
  const res = await call({ socket: serve.socket }, 'POST', '/api/forge/v1/manifests', body, {
    'content-type': 'application/json',
  });
  assert.equal(res.status, 201, res.text());
  return (res.json() as ComposeView).id;
}

/** A compose whose artifact `disk.img` is a file of `size` (truncate(1) sizes: 1M, 32M). */
export function composeImage(serve: Serve, size: string): Promise<string> {
  const stages = [{ type: 'org.osbuild.truncate', options: { filename: 'disk.img', size } }];
  return composeManifest(serve, { version: '2', pipelines: [{ name: 'img', stages }] }, 'img', 'disk.img');
}

export async function composeView(serve: Serve, id: string): Promise<ComposeView> {
  return (await call({ socket: serve.socket }, 'GET', `/api/forge/v1/composes/${id}`)).json() as ComposeView;
}

/** Polls the Forge API until `done(compose)`; returns the compose then. */
export async function waitForCompose(
  serve: Serve,
  id: string,
  done: (view: ComposeView) => boolean,
  timeoutMs = 120_000,
): Promise<ComposeView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await composeView(serve, id);
    if (done(view)) return view;
    if (Date.now() > deadline) {
      throw new Error(`compose ${id} is still ${view.state}\n${serve.output().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for the compose's end state (COMPLETED, FAILED or CANCELLED). */
export function ended(serve: Serve, id: string, timeoutMs = 120_000): Promise<ComposeView> {
  return waitForCompose(serve, id, (v) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(v.state), timeoutMs);
}
