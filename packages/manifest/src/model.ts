/**
 * A loaded manifest, with every id computed. Shapes follow OSBuild's objects (`Manifest`,
 * `Pipeline`, `Stage`, `Input`, `Device`, `Mount`, `Source`); option objects are the very objects
 * parsed from the manifest, so their numbers keep their Python form (see `pyjson.ts`).
 */

export type JsonObject = Record<string, unknown>;

export type InputOrigin = 'org.osbuild.source' | 'org.osbuild.pipeline';

export interface Input {
  /** The key under `inputs`; not part of the id. */
  name: string;
  type: string;
  origin: InputOrigin;
  options: JsonObject;
  /** Source checksums or pipeline ids (never names), each with its options, in manifest order. */
  refs: Map<string, JsonObject>;
  id: string;
}

export interface Device {
  name: string;
  type: string;
  parent: Device | null;
  options: JsonObject;
  id: string;
}

export interface Mount {
  name: string;
  type: string;
  device: Device | null;
  partition: number | null;
  /** Python JSON text of `partition` (it may be written `1.0`), or null. */
  partitionJson: string | null;
  target: string | null;
  /** As written; `null` when the manifest says `"options": null` (OSBuild keeps that too). */
  options: JsonObject | null;
  id: string;
}

export interface Stage {
  type: string;
  options: JsonObject;
  /** Id of the build pipeline, or null when stages run on the host. */
  build: string | null;
  /** Id of the previous stage in the pipeline, or null for the first. */
  base: string | null;
  /** Python JSON text of the pipeline's `source-epoch`, or null when it has none. */
  sourceEpoch: string | null;
  inputs: Map<string, Input>;
  devices: Map<string, Device>;
  mounts: Map<string, Mount>;
  id: string;
}

export interface Pipeline {
  name: string;
  /** Id of the build pipeline (resolved from `name:<pipeline>`), or null. */
  build: string | null;
  /** The runner named on this pipeline in the manifest, if any. */
  runner: string | null;
  /** `source-epoch` as a number (seconds), or null. */
  sourceEpoch: number | null;
  stages: Stage[];
  /** Id of the last stage; null for a pipeline without stages. */
  id: string | null;
}

export interface Source {
  type: string;
  /** Items keyed by checksum (or commit), exactly as in the manifest. */
  items: JsonObject;
  options: JsonObject;
}

export interface Manifest {
  pipelines: Pipeline[];
  sources: Source[];
  metadata: JsonObject;
}

/** A pipeline by name, or else by id, as OSBuild's `Manifest.get` looks it up. */
export function getPipeline(manifest: Manifest, nameOrId: string): Pipeline | undefined {
  return (
    manifest.pipelines.find((p) => p.name === nameOrId) ?? manifest.pipelines.find((p) => p.id === nameOrId)
  );
}

/**
 * The runner a pipeline's stages run with: its build pipeline's runner, else the host's. When
 * several pipelines have the build's id, OSBuild takes the last of them.
 */
export function runnerFor(manifest: Manifest, pipeline: Pipeline, hostRunner: string): string {
  if (!pipeline.build) return hostRunner;
  const build = manifest.pipelines.findLast((p) => p.id === pipeline.build);
  return build?.runner ?? hostRunner;
}
