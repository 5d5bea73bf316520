/**
 * The engine's error codes. Each is stable: the CLI and the service match on `code`, never on the
 * message or the class, so errors keep their meaning after crossing a process boundary.
 */
import { CodedError, type CodeOf } from '@debian-forge/errors';

export const EngineErrorCode = {
  /** A program the engine runs (losetup, mount, bwrap, cp …) failed. */
  Command: 'FORGE_ERR_COMMAND',
  /** A source item could not be fetched or its checksum did not match. */
  Source: 'FORGE_ERR_SOURCE',
  /** A device could not be opened or closed. */
  Device: 'FORGE_ERR_DEVICE',
  /** A mount failed (unknown filesystem, missing device …). */
  Mount: 'FORGE_ERR_MOUNT',
  /** An input could not be mapped (missing pipeline tree, missing file …). */
  Input: 'FORGE_ERR_INPUT',
  /** The object store is unusable (bad layout, no space, bad cache size). */
  Store: 'FORGE_ERR_STORE',
  /** A pipeline, stage or runner named by the manifest or the command line does not exist. */
  NotFound: 'FORGE_ERR_NOT_FOUND',
  /** Something required on the host is missing (bwrap, a kernel filesystem …). */
  Host: 'FORGE_ERR_HOST',
} as const;

export type EngineErrorCode = CodeOf<typeof EngineErrorCode>;

export class EngineError extends CodedError<EngineErrorCode> {
  override readonly name = 'EngineError';
}
