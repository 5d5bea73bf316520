/**
 * The store's error codes. Each is stable: the API matches on `code` (and maps it to a Weldr error
 * id), never on the message or the class.
 */
import { CodedError, type CodeOf } from '@debian-forge/errors';

export const StoreErrorCode = {
  /** A compose state change that the state machine does not allow. */
  Transition: 'FORGE_ERR_STORE_TRANSITION',
  /** The database's schema is newer than this code, or a migration failed. */
  Schema: 'FORGE_ERR_STORE_SCHEMA',
  /** An unknown blueprint, commit, compose, source or artifact. */
  NotFound: 'FORGE_ERR_STORE_NOT_FOUND',
  /** A row that already exists (a compose uuid, an artifact file name). */
  Exists: 'FORGE_ERR_STORE_EXISTS',
  /** A system source cannot be changed or deleted. */
  SystemSource: 'FORGE_ERR_STORE_SYSTEM_SOURCE',
  /** A value the store cannot keep (a blueprint without a name, a bad paging value …). */
  Invalid: 'FORGE_ERR_STORE_INVALID',
} as const;

export type StoreErrorCode = CodeOf<typeof StoreErrorCode>;

export class StoreError extends CodedError<StoreErrorCode> {
  override readonly name: string = 'StoreError';
}

/** Refused compose state change: names the compose and both states. */
export class TransitionError extends StoreError {
  override readonly name = 'TransitionError';
  readonly uuid: string;
  readonly from: string;
  readonly to: string;

  constructor(uuid: string, from: string, to: string) {
    super(StoreErrorCode.Transition, `compose ${uuid}: cannot change state from ${from} to ${to}`);
    this.uuid = uuid;
    this.from = from;
    this.to = to;
  }
}
