/**
 * What an image type is (`ImageType`) and what it is given to make its pipelines
 * (`ImageTypeContext`), apart from the image types themselves (image-types.ts, atomic.ts, disk.ts)
 * so those import the shape and not each other's list.
 */
import type { PipelineV2 } from '@debian-forge/manifest';
import type { InlineItems, StageDesc } from './customizations.ts';
import type { Distro } from './distros.ts';

/** A pipeline being made, in the manifest's own form. */
export type PipelineDesc = PipelineV2;

export interface ImageTypeContext {
  /** Image size in bytes (the default when the request gives none). */
  size: number;
  /** Seed for the UUIDs of partitions and filesystems. */
  seed: string;
  /** Kernel command line additions from the blueprint. */
  kernelAppend: string;
  distro: Distro;
  /** Composer's architecture name, e.g. `x86_64`. */
  arch: string;
  /** The compose's OSTree options, for the types that make or deploy a commit. */
  ostree: OstreeOptions;
  /** Inline sources of the manifest: stages that write files add their contents here. */
  inline: InlineItems;
}

/** A compose's OSTree options, as composer-cli's `compose start-ostree` names them. */
export interface OstreeOptions {
  /** The branch of the commit; the image type's default when absent. */
  ref?: string;
  /** The commit the new commit follows (its checksum). */
  parent?: string;
  /** The repository machines update from. */
  url?: string;
}

/** What an image type contributes to the `os` pipeline, and the pipelines after it. */
export interface ImageType {
  name: string;
  description: string;
  filename: string;
  mimeType: string;
  /** The pipeline whose tree holds `filename`. */
  exportPipeline: string;
  bootable: boolean;
  /** Bytes; 0 for images without a size. */
  defaultSize: number;
  /** Packages every image of this type gets, beyond the minbase system. */
  packages: string[];
  /** Stages appended to the `os` pipeline (boot configuration). */
  osStages(ctx: ImageTypeContext): StageDesc[];
  /** Stages that end the `os` pipeline, after every other (the OSTree reshaping). */
  osFinalStages?(ctx: ImageTypeContext): StageDesc[];
  /** For the types that make an OSTree commit: the ref a compose gets when it names none. */
  defaultOstreeRef?(distro: Distro, arch: string): string;
  /** Pipelines after `os`. */
  pipelines(ctx: ImageTypeContext): PipelineDesc[];
  /**
   * Pipelines whose stages' tools the build root holds beside this type's own: those of the other
   * types that make the same `os` tree, so that they share one build root and with it the tree's
   * id in the object store. Called with a context of its own (what it writes is thrown away).
   */
  siblingPipelines?(ctx: ImageTypeContext): PipelineDesc[];
}
