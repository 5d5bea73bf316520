/**
 * The compose service: everything that creates, moves and removes composes. Routes of all three
 * APIs call it; nothing else writes compose rows.
 */
import type { Compose } from '@debian-forge/store';

export interface ComposeRequest {
  /** A blueprint as stored (JSON form) and the image type to build from it. */
  blueprint: { name: string; version?: string } & Record<string, unknown>;
  imageType: string;
  distro?: string;
  arch?: string;
  size?: number;
  priority?: number;
  ostree?: { ref?: string; parent?: string; url?: string };
}

export interface ManifestRequest {
  /** An OSBuild manifest (version 2), already parsed. */
  manifest: Record<string, unknown>;
  /** The pipelines to export; the artifact is the file `filename` in the (first) export. */
  exports: string[];
  filename: string;
  imageType?: string;
  priority?: number;
}

export interface ComposeService {
  /** Records the compose (PENDING), makes its manifest, queues it (QUEUED). Returns at once with
   *  the PENDING row; manifest errors end the compose FAILED with the reason. */
  submit(request: ComposeRequest): Promise<Compose>;
  /** Same for a raw OSBuild manifest (Forge API). */
  submitManifest(request: ManifestRequest): Promise<Compose>;
  /** Weldr `?test=1` (fails) and `?test=2` (finishes with a fake image), never queued. */
  submitFake(request: ComposeRequest, outcome: 'fail' | 'finish'): Promise<Compose>;
  cancel(uuid: string): Promise<Compose>;
  /** Removes a finished compose with its logs and artifacts. */
  delete(uuid: string): Promise<void>;
  setPriority(uuid: string, priority: number): Promise<Compose>;
}
