/**
 * Finding packages in the repositories to add to a blueprint: a word (or a glob) searched in the
 * package names of the index, each match with its summary and the versions the index has; a
 * version is chosen as it is, or `*` for whichever is newest when the image is built.
 */
import {
  Alert,
  Button,
  FormSelect,
  FormSelectOption,
  SearchInput,
  Spinner,
  ToggleGroup,
  ToggleGroupItem,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useState } from 'react';
import { messageOf } from '../../api/client.ts';
import { type PackageSearch as Found, searchPackages } from '../../api/projects.ts';
import { useApi } from '../../app/context.tsx';

export type PackageListName = 'packages' | 'modules';

export interface PackageSearchProps {
  /** Names already in the blueprint's lists (their Add is disabled). */
  added: ReadonlySet<string>;
  onAdd(list: PackageListName, name: string, version: string): void;
}

const ANY = '*';

export function PackageSearch({ added, onAdd }: PackageSearchProps) {
  const api = useApi();
  const [term, setTerm] = useState('');
  const [found, setFound] = useState<Found | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [target, setTarget] = useState<PackageListName>('packages');
  const [chosen, setChosen] = useState<Record<string, string>>({});

  const search = async () => {
    if (term.trim() === '') return;
    setBusy(true);
    setProblem(null);
    try {
      setFound(await searchPackages(api, term));
      setChosen({});
    } catch (err) {
      setProblem(`The search failed: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <SearchInput
              aria-label="Search packages"
              placeholder="Search packages by name"
              value={term}
              onChange={(_e, value) => setTerm(value)}
              onSearch={search}
              onClear={() => {
                setTerm('');
                setFound(null);
              }}
            />
          </ToolbarItem>
          <ToolbarItem>
            <ToggleGroup aria-label="Add found packages to">
              <ToggleGroupItem
                text="Packages"
                buttonId="add-to-packages"
                isSelected={target === 'packages'}
                onChange={() => setTarget('packages')}
              />
              <ToggleGroupItem
                text="Modules"
                buttonId="add-to-modules"
                isSelected={target === 'modules'}
                onChange={() => setTarget('modules')}
              />
            </ToggleGroup>
          </ToolbarItem>
          {busy && (
            <ToolbarItem>
              <Spinner size="md" aria-label="Searching" />
            </ToolbarItem>
          )}
        </ToolbarContent>
      </Toolbar>
      {problem && <Alert variant="danger" isInline title={problem} />}
      {found && (
        <Table aria-label="Packages found" variant="compact">
          <Thead>
            <Tr>
              <Th>Name</Th>
              <Th>Summary</Th>
              <Th>Version</Th>
              <Th screenReaderText="Actions" />
            </Tr>
          </Thead>
          <Tbody>
            {found.packages.length === 0 && (
              <Tr>
                <Td colSpan={4}>No package is named like “{term}”.</Td>
              </Tr>
            )}
            {found.packages.map((p) => (
              <Tr key={p.name}>
                <Td dataLabel="Name">{p.name}</Td>
                <Td dataLabel="Summary">{p.summary}</Td>
                <Td dataLabel="Version">
                  <FormSelect
                    aria-label={`Version of ${p.name}`}
                    value={chosen[p.name] ?? ANY}
                    onChange={(_e, v) => setChosen({ ...chosen, [p.name]: v })}
                  >
                    <FormSelectOption value={ANY} label="* (newest when built)" />
                    {p.versions.map((v) => (
                      <FormSelectOption key={v} value={v} label={v} />
                    ))}
                  </FormSelect>
                </Td>
                <Td dataLabel="Actions" isActionCell>
                  <Button
                    variant="secondary"
                    aria-label={`Add ${p.name}`}
                    isDisabled={added.has(p.name)}
                    onClick={() => onAdd(target, p.name, chosen[p.name] ?? ANY)}
                  >
                    {added.has(p.name) ? 'Added' : 'Add'}
                  </Button>
                </Td>
              </Tr>
            ))}
            {found.total > found.packages.length && (
              <Tr>
                <Td colSpan={4}>
                  {found.packages.length} of {found.total} shown: a longer word finds fewer.
                </Td>
              </Tr>
            )}
          </Tbody>
        </Table>
      )}
    </>
  );
}
