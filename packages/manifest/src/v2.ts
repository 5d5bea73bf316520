/**
 * A manifest of format version 2 as written (JSON), before it is loaded: what a generator makes and
 * what the store and the queue carry. `loadManifest` turns it into the model of model.ts (ids
 * computed, references resolved); MANIFEST_V2_SCHEMA is its schema.
 */

export interface StageV2 {
  type: string;
  options?: Record<string, unknown>;
  inputs?: Record<string, unknown>;
  devices?: Record<string, unknown>;
  mounts?: Record<string, unknown>[];
}

export interface PipelineV2 {
  name: string;
  /** `name:<pipeline>` of the build pipeline. */
  build?: string;
  runner?: string;
  'source-epoch'?: number;
  stages: StageV2[];
}

// A type, not an interface: it is also a plain JSON object (Record<string, unknown>).
export type ManifestV2 = {
  version: '2';
  pipelines: PipelineV2[];
  /** By source type (`org.osbuild.curl` …): the items, keyed by checksum. */
  sources: Record<string, { items: Record<string, unknown>; options?: Record<string, unknown> }>;
  metadata?: Record<string, unknown>;
};
