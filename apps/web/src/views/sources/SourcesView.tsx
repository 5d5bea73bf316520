/**
 * Package sources: the user's and the system's (the host's own repositories, which cannot be
 * removed), with what apt is told to check; add one with a form, remove one after asking.
 */
import {
  Alert,
  Button,
  EmptyState,
  EmptyStateBody,
  Label,
  LabelGroup,
  Modal,
  ModalBody,
  ModalHeader,
  PageSection,
  Title,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useState } from 'react';
import { messageOf } from '../../api/client.ts';
import { deleteSource, type Source, sourceList } from '../../api/sources.ts';
import { Confirm } from '../../app/Confirm.tsx';
import { useApi } from '../../app/context.tsx';
import { useLoad } from '../../app/use-load.ts';
import { SourceForm } from './SourceForm.tsx';

function Checks({ source }: { source: Source }) {
  return (
    <LabelGroup>
      <Label color={source.check_gpg ? 'green' : 'orange'}>
        {source.check_gpg ? 'GPG checked' : 'GPG not checked'}
      </Label>
      <Label color={source.check_ssl ? 'green' : 'orange'}>
        {source.check_ssl ? 'TLS checked' : 'TLS not checked'}
      </Label>
    </LabelGroup>
  );
}

export function SourcesView() {
  const api = useApi();
  const list = useLoad(() => sourceList(api), [api]);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const remove = async (id: string) => {
    setRemoving(null);
    setProblem(null);
    try {
      await deleteSource(api, id);
    } catch (err) {
      setProblem(`Removing ${id} failed: ${messageOf(err)}`);
    }
    list.reload();
  };

  return (
    <PageSection>
      <Title headingLevel="h2">Sources</Title>
      {problem && <Alert variant="danger" isInline title={problem} />}
      {list.error !== undefined && <Alert variant="danger" isInline title={messageOf(list.error)} />}
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <Button variant="primary" onClick={() => setAdding(true)}>
              Add source
            </Button>
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      {list.data && list.data.length === 0 ? (
        <EmptyState titleText="No sources" headingLevel="h3">
          <EmptyStateBody>
            Packages come from the host's repositories and the sources added here.
          </EmptyStateBody>
        </EmptyState>
      ) : (
        <Table aria-label="Sources" variant="compact">
          <Thead>
            <Tr>
              <Th>ID</Th>
              <Th>Name</Th>
              <Th>URL</Th>
              <Th>Suites / components</Th>
              <Th>Distros</Th>
              <Th>Checks</Th>
              <Th screenReaderText="Actions" />
            </Tr>
          </Thead>
          <Tbody>
            {(list.data ?? []).map((s) => (
              <Tr key={s.id}>
                <Td dataLabel="ID">
                  {s.id}{' '}
                  {s.system && (
                    <Label isCompact color="blue">
                      System
                    </Label>
                  )}
                </Td>
                <Td dataLabel="Name">{s.name}</Td>
                <Td dataLabel="URL" modifier="breakWord">
                  {s.url}
                </Td>
                <Td dataLabel="Suites / components">
                  {[(s.suites ?? []).join(' ') || 'distro suite', (s.components ?? []).join(' ')]
                    .filter((x) => x !== '')
                    .join(' / ')}
                </Td>
                <Td dataLabel="Distros">{(s.distros ?? []).join(', ') || 'all'}</Td>
                <Td dataLabel="Checks">
                  <Checks source={s} />
                </Td>
                <Td dataLabel="Actions" isActionCell>
                  {s.system ? (
                    <span>Cannot be removed</span>
                  ) : (
                    <Button
                      variant="link"
                      isDanger
                      onClick={() => setRemoving(s.id)}
                      aria-label={`Remove ${s.id}`}
                    >
                      Remove
                    </Button>
                  )}
                </Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
      <Modal
        isOpen={adding}
        onClose={() => setAdding(false)}
        variant="medium"
        aria-labelledby="add-source-title"
      >
        <ModalHeader title="Add a source" labelId="add-source-title" />
        <ModalBody>
          {adding && (
            <SourceForm
              onAdded={() => {
                setAdding(false);
                list.reload();
              }}
              onCancel={() => setAdding(false)}
            />
          )}
        </ModalBody>
      </Modal>
      <Confirm subject={removing} action="Remove" onConfirm={remove} onCancel={() => setRemoving(null)}>
        Composes no longer get packages from it. Images built before keep theirs.
      </Confirm>
    </PageSection>
  );
}
