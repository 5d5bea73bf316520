/**
 * The compose state machine: PENDING (accepted, manifest being made) → QUEUED (in the queue) →
 * BUILDING (a worker runs it) → COMPLETED | FAILED | CANCELLED. A compose that never reached a
 * worker may also be cancelled or fail.
 */

export const COMPOSE_STATES = ['PENDING', 'QUEUED', 'BUILDING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type ComposeState = (typeof COMPOSE_STATES)[number];

/** The states a compose can leave each state for; nothing else is allowed. */
export const TRANSITIONS: Readonly<Record<ComposeState, readonly ComposeState[]>> = {
  PENDING: ['QUEUED', 'CANCELLED', 'FAILED'],
  QUEUED: ['BUILDING', 'CANCELLED', 'FAILED'],
  BUILDING: ['COMPLETED', 'FAILED', 'CANCELLED'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

export function isComposeState(value: string): value is ComposeState {
  return (COMPOSE_STATES as readonly string[]).includes(value);
}

export function canTransition(from: ComposeState, to: ComposeState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** True for COMPLETED, FAILED and CANCELLED: nothing changes a compose after them. */
export function isTerminal(state: ComposeState): boolean {
  return TRANSITIONS[state].length === 0;
}

/** Weldr's `queue_status` of a compose. */
export type WeldrStatus = 'WAITING' | 'RUNNING' | 'FINISHED' | 'FAILED';

/** The state as Weldr clients see it: WAITING, RUNNING, FINISHED or FAILED (also for CANCELLED). */
export function weldrStatus(state: ComposeState): WeldrStatus {
  switch (state) {
    case 'PENDING':
    case 'QUEUED':
      return 'WAITING';
    case 'BUILDING':
      return 'RUNNING';
    case 'COMPLETED':
      return 'FINISHED';
    case 'FAILED':
    case 'CANCELLED':
      return 'FAILED';
  }
}

/** The Weldr states a compose in `status` may be in: the reverse of `weldrStatus`. */
export function statesOfWeldrStatus(status: WeldrStatus): ComposeState[] {
  return COMPOSE_STATES.filter((s) => weldrStatus(s) === status);
}
