/** The composes section: the list at `#/composes`, one compose live at `#/composes/<uuid>`. */
import type { Route } from '../../app/route.ts';
import { ComposeList } from './ComposeList.tsx';
import { ComposeLive } from './ComposeLive.tsx';

export function ComposesView({ rest }: { rest: Route }) {
  const [uuid] = rest;
  return uuid ? <ComposeLive key={uuid} uuid={uuid} /> : <ComposeList />;
}
