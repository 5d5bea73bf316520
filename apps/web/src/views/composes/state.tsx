/** A compose's state as Weldr clients name it, as a label; the Forge state in brackets where it says more. */
import { Label } from '@patternfly/react-core';
import type { ComposeState, WeldrStatus } from '../../api/composes.ts';

const COLOR: Record<WeldrStatus, 'grey' | 'blue' | 'green' | 'red'> = {
  WAITING: 'grey',
  RUNNING: 'blue',
  FINISHED: 'green',
  FAILED: 'red',
};

export function weldrStatusOf(state: ComposeState): WeldrStatus {
  if (state === 'PENDING' || state === 'QUEUED') return 'WAITING';
  if (state === 'BUILDING') return 'RUNNING';
  return state === 'COMPLETED' ? 'FINISHED' : 'FAILED';
}

export function isEnded(state: ComposeState): boolean {
  return state === 'COMPLETED' || state === 'FAILED' || state === 'CANCELLED';
}

export function StatusLabel({ status, state }: { status: WeldrStatus; state?: ComposeState }) {
  const more = state === 'CANCELLED' || state === 'PENDING' ? ` (${state.toLowerCase()})` : '';
  return (
    <Label color={COLOR[status]} isCompact>
      {status}
      {more}
    </Label>
  );
}

/** Seconds since the epoch (Weldr) or an ISO time (Forge), in the reader's locale. */
export function timeOf(at: number | string | null | undefined): string {
  if (at === undefined || at === null) return '';
  return new Date(typeof at === 'number' ? at * 1000 : at).toLocaleString();
}
