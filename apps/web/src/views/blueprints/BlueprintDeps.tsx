/**
 * Every package a blueprint brings in, resolved on demand: the service asks apt, which needs the
 * package mirror and takes a while, so nothing is resolved until asked.
 */
import {
  Alert,
  Button,
  SearchInput,
  Spinner,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useMemo, useState } from 'react';
import { blueprintDependencies, type PkgSpec } from '../../api/blueprint-deps.ts';
import { messageOf } from '../../api/client.ts';
import { useApi } from '../../app/context.tsx';

type Resolution =
  | { state: 'idle' | 'busy' }
  | { state: 'done'; packages: PkgSpec[] }
  | { state: 'failed'; message: string };

export function BlueprintDeps({ name }: { name: string }) {
  const api = useApi();
  const [resolution, setResolution] = useState<Resolution>({ state: 'idle' });
  const [filter, setFilter] = useState('');

  const resolve = async () => {
    setResolution({ state: 'busy' });
    try {
      setResolution({ state: 'done', packages: await blueprintDependencies(api, name) });
    } catch (err) {
      setResolution({ state: 'failed', message: messageOf(err) });
    }
  };

  const packages = resolution.state === 'done' ? resolution.packages : [];
  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    return needle === '' ? packages : packages.filter((p) => p.name.toLowerCase().includes(needle));
  }, [packages, filter]);

  return (
    <>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <Button
              variant="secondary"
              onClick={resolve}
              isDisabled={resolution.state === 'busy'}
              isLoading={resolution.state === 'busy'}
            >
              {resolution.state === 'idle' ? 'Resolve dependencies' : 'Resolve again'}
            </Button>
          </ToolbarItem>
          {resolution.state === 'done' && (
            <>
              <ToolbarItem>
                <SearchInput
                  aria-label="Filter dependencies"
                  placeholder="Filter by name"
                  value={filter}
                  onChange={(_e, value) => setFilter(value)}
                  onClear={() => setFilter('')}
                />
              </ToolbarItem>
              <ToolbarItem alignSelf="center">
                {shown.length === packages.length
                  ? `${packages.length} packages`
                  : `${shown.length} of ${packages.length} packages`}
              </ToolbarItem>
            </>
          )}
        </ToolbarContent>
      </Toolbar>
      {resolution.state === 'busy' && <Spinner size="lg" aria-label="Resolving dependencies" />}
      {resolution.state === 'failed' && (
        <Alert variant="warning" isInline title="The dependencies could not be resolved">
          <p style={{ whiteSpace: 'pre-wrap' }}>{resolution.message}</p>
          <p>
            The service resolves packages with apt from the distribution's mirror and the package sources;
            when the mirror cannot be reached, nothing can be resolved until it can.
          </p>
        </Alert>
      )}
      {resolution.state === 'done' && (
        <Table aria-label={`Dependencies of ${name}`} variant="compact">
          <Thead>
            <Tr>
              <Th>Name</Th>
              <Th>Epoch</Th>
              <Th>Version</Th>
              <Th>Release</Th>
              <Th>Architecture</Th>
            </Tr>
          </Thead>
          <Tbody>
            {shown.map((p) => (
              <Tr key={`${p.name}:${p.arch}`}>
                <Td dataLabel="Name">{p.name}</Td>
                <Td dataLabel="Epoch">{p.epoch}</Td>
                <Td dataLabel="Version">{p.version}</Td>
                <Td dataLabel="Release">{p.release}</Td>
                <Td dataLabel="Architecture">{p.arch}</Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
    </>
  );
}
