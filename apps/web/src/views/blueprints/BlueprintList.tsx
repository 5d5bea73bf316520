/**
 * Blueprints: every name at once (one call), searched as you type; the details of the page shown
 * only (one `blueprints/info` call per page), so a thousand blueprints render as fast as twenty.
 */
import {
  Alert,
  Button,
  EmptyState,
  EmptyStateBody,
  PageSection,
  SearchInput,
  Title,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useMemo, useState } from 'react';
import { messageOf } from '../../api/client.ts';
import { blueprintInfos, blueprintNames, deleteBlueprint } from '../../api/weldr.ts';
import { Confirm } from '../../app/Confirm.tsx';
import { useApi } from '../../app/context.tsx';
import { usePaging } from '../../app/paging.tsx';
import { go, href } from '../../app/route.ts';
import { useLoad } from '../../app/use-load.ts';
import { StartDialog } from '../composes/StartDialog.tsx';
import { blueprintHref } from './BlueprintPage.tsx';
import { ExportToml, ImportToml } from './BlueprintToml.tsx';

export function BlueprintList() {
  const api = useApi();
  const names = useLoad(() => blueprintNames(api), [api]);
  const [search, setSearch] = useState('');
  const [deleting, setDeleting] = useState<string | null>(null);
  const [composing, setComposing] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const matching = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const all = names.data ?? [];
    return needle === '' ? all : all.filter((n) => n.toLowerCase().includes(needle));
  }, [names.data, search]);
  const paging = usePaging(matching);
  const shown = paging.shown;
  const infos = useLoad(() => blueprintInfos(api, shown), [api, shown.join(',')]);
  const byName = new Map((infos.data ?? []).map((b) => [b.name, b]));

  const remove = async (name: string) => {
    setDeleting(null);
    try {
      await deleteBlueprint(api, name);
      names.reload();
    } catch (err) {
      setProblem(`Deleting ${name} failed: ${messageOf(err)}`);
    }
  };

  return (
    <PageSection>
      <Title headingLevel="h2">Blueprints</Title>
      {problem && <Alert variant="danger" isInline title={problem} />}
      {names.error !== undefined && <Alert variant="danger" isInline title={messageOf(names.error)} />}
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <SearchInput
              aria-label="Search blueprints"
              placeholder="Search by name"
              value={search}
              onChange={(_e, value) => {
                setSearch(value);
                paging.toFirst();
              }}
              onClear={() => setSearch('')}
            />
          </ToolbarItem>
          <ToolbarItem>
            <Button variant="primary" component="a" href={href('blueprints', 'new')}>
              Create blueprint
            </Button>
          </ToolbarItem>
          <ToolbarItem>
            <ImportToml onImported={names.reload} />
          </ToolbarItem>
          <ToolbarItem variant="pagination" align={{ default: 'alignEnd' }}>
            {paging.control}
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      {names.data && matching.length === 0 ? (
        <EmptyState titleText={search ? 'No blueprint matches' : 'No blueprints yet'} headingLevel="h3">
          <EmptyStateBody>
            {search
              ? `Nothing is named like “${search}”.`
              : 'A blueprint describes an image: its packages, users and settings.'}
          </EmptyStateBody>
        </EmptyState>
      ) : (
        <Table aria-label="Blueprints" variant="compact">
          <Thead>
            <Tr>
              <Th>Name</Th>
              <Th>Description</Th>
              <Th>Version</Th>
              <Th>Packages</Th>
              <Th screenReaderText="Actions" />
            </Tr>
          </Thead>
          <Tbody>
            {shown.map((name) => {
              const info = byName.get(name);
              return (
                <Tr key={name}>
                  <Td dataLabel="Name">
                    <a href={blueprintHref(name)}>{name}</a>
                  </Td>
                  <Td dataLabel="Description">{info?.description ?? ''}</Td>
                  <Td dataLabel="Version">{info?.version ?? ''}</Td>
                  <Td dataLabel="Packages">
                    {info ? (info.packages?.length ?? 0) + (info.modules?.length ?? 0) : ''}
                  </Td>
                  <Td dataLabel="Actions" isActionCell modifier="nowrap">
                    <ExportToml name={name} onProblem={setProblem} />
                    <Button
                      variant="link"
                      onClick={() => setComposing(name)}
                      aria-label={`Create image of ${name}`}
                    >
                      Create image
                    </Button>
                    <Button
                      variant="link"
                      isDanger
                      onClick={() => setDeleting(name)}
                      aria-label={`Delete ${name}`}
                    >
                      Delete
                    </Button>
                  </Td>
                </Tr>
              );
            })}
          </Tbody>
        </Table>
      )}
      {composing !== null && (
        <StartDialog
          blueprint={composing}
          onClose={() => setComposing(null)}
          onStarted={(uuid) => go('composes', uuid)}
        />
      )}
      <Confirm subject={deleting} action="Delete" onConfirm={remove} onCancel={() => setDeleting(null)}>
        The blueprint and its change history are removed. Composes built from it stay.
      </Confirm>
    </PageSection>
  );
}
