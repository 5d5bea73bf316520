/** A list paged in the page: which items the current page shows, and the control that moves it. */
import { Pagination } from '@patternfly/react-core';
import { useState } from 'react';

export interface Paging<T> {
  shown: T[];
  control: React.ReactNode;
  /** Back to the first page (the list was filtered anew). */
  toFirst(): void;
}

export function usePaging<T>(items: readonly T[], perPageAtFirst = 20): Paging<T> {
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(perPageAtFirst);
  // A list that shrank (deleted items) keeps its last page in reach.
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const current = Math.min(page, last);
  return {
    shown: items.slice((current - 1) * perPage, current * perPage),
    control: (
      <Pagination
        itemCount={items.length}
        page={current}
        perPage={perPage}
        onSetPage={(_e, p) => setPage(p)}
        onPerPageSelect={(_e, pp) => {
          setPerPage(pp);
          setPage(1);
        }}
        isCompact
      />
    ),
    toFirst: () => setPage(1),
  };
}
