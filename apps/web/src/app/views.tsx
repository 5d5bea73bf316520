/**
 * The sections of the navigation and which view a route shows: `#/<section>/<rest…>`. A section
 * is one line here; its view reads the rest of the route.
 */
import type { ReactNode } from 'react';
import { AtomicView } from '../views/atomic/AtomicView.tsx';
import { BlueprintList } from '../views/blueprints/BlueprintList.tsx';
import { BlueprintPage } from '../views/blueprints/BlueprintPage.tsx';
import { ComposesView } from '../views/composes/ComposesView.tsx';
import { SourcesView } from '../views/sources/SourcesView.tsx';
import { SystemView } from '../views/system/SystemView.tsx';
import type { Route } from './route.ts';

export interface Section {
  id: string;
  title: string;
  render(rest: Route): ReactNode;
}

export const SECTIONS: readonly Section[] = [
  {
    id: 'blueprints',
    title: 'Blueprints',
    render: (rest) => (rest.length === 0 ? <BlueprintList /> : <BlueprintPage rest={rest} />),
  },
  { id: 'composes', title: 'Composes', render: (rest) => <ComposesView rest={rest} /> },
  { id: 'atomic', title: 'Atomic updates', render: () => <AtomicView /> },
  { id: 'sources', title: 'Sources', render: () => <SourcesView /> },
  { id: 'system', title: 'System', render: () => <SystemView /> },
];

export function viewFor(route: Route): ReactNode {
  const [id, ...rest] = route;
  const section = SECTIONS.find((s) => s.id === id) ?? SECTIONS[0];
  return section?.render(section.id === id ? rest : []);
}
