/**
 * Atomic updates: every OSTree ref built, with its commits newest first (each with its parent, the
 * blueprint and version it was made from, when, its compose, and whether the service's repository
 * holds it), "New version" of a ref (the newest commit as parent) and where to point machines.
 */
import {
  Alert,
  Button,
  Card,
  CardBody,
  CardHeader,
  CardTitle,
  EmptyState,
  EmptyStateBody,
  PageSection,
  Title,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useState } from 'react';
import { type OstreeRef, ostreeRefs, shortId } from '../../api/atomic.ts';
import { messageOf } from '../../api/client.ts';
import { useApi } from '../../app/context.tsx';
import { href } from '../../app/route.ts';
import { useLoad } from '../../app/use-load.ts';
import { timeOf } from '../composes/state.tsx';
import { NewVersion } from './NewVersion.tsx';
import { PointMachines } from './PointMachines.tsx';

function CommitChain({ ostreeRef }: { ostreeRef: OstreeRef }) {
  return (
    <Table aria-label={`Commits of ${ostreeRef.ref}`} variant="compact">
      <Thead>
        <Tr>
          <Th>Commit</Th>
          <Th>Parent</Th>
          <Th>Blueprint</Th>
          <Th>Image type</Th>
          <Th>Built</Th>
          <Th>Compose</Th>
          <Th>Repository</Th>
        </Tr>
      </Thead>
      <Tbody>
        {ostreeRef.commits.map((c) => (
          <Tr key={c.compose}>
            <Td dataLabel="Commit">
              <code title={c.commit}>{shortId(c.commit)}</code>
            </Td>
            <Td dataLabel="Parent">
              {c.parent ? <code title={c.parent}>{shortId(c.parent)}</code> : 'none (first)'}
            </Td>
            <Td dataLabel="Blueprint">{c.blueprint ? `${c.blueprint.name} ${c.blueprint.version}` : '—'}</Td>
            <Td dataLabel="Image type">{c.image_type}</Td>
            <Td dataLabel="Built">{timeOf(c.finished_at)}</Td>
            <Td dataLabel="Compose">
              <a href={href('composes', c.compose)} aria-label={`Open compose ${c.compose}`}>
                {c.compose.slice(0, 8)}
              </a>
            </Td>
            <Td dataLabel="Repository">
              {c.commit === ostreeRef.head
                ? 'published (head)'
                : c.published
                  ? 'published'
                  : c.publish_error
                    ? `not published: ${c.publish_error}`
                    : 'not published'}
            </Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

export function AtomicView() {
  const api = useApi();
  const refs = useLoad(() => ostreeRefs(api), [api]);
  const [newVersion, setNewVersion] = useState<OstreeRef | null>(null);
  const { repo, refs: list } = refs.data ?? { repo: '', refs: undefined };
  return (
    <PageSection>
      <Title headingLevel="h2">Atomic updates</Title>
      {refs.error !== undefined && <Alert variant="danger" isInline title={messageOf(refs.error)} />}
      {list?.length === 0 && (
        <EmptyState titleText="No OSTree commits yet" headingLevel="h3">
          <EmptyStateBody>
            A debian-atomic-commit compose that completes makes the first commit of its ref (Composes, Start
            compose); its ref is listed here with every later version.
          </EmptyStateBody>
        </EmptyState>
      )}
      {(list ?? []).map((r) => (
        <Card key={r.ref} isPlain aria-label={`Ref ${r.ref}`}>
          <CardHeader
            actions={{
              actions: (
                <Button
                  variant="primary"
                  onClick={() => setNewVersion(r)}
                  aria-label={`New version of ${r.ref}`}
                >
                  New version
                </Button>
              ),
            }}
          >
            <CardTitle>
              <Title headingLevel="h3">{r.ref}</Title>
            </CardTitle>
          </CardHeader>
          <CardBody>
            <CommitChain ostreeRef={r} />
            <PointMachines ostreeRef={r} repo={repo} />
          </CardBody>
        </Card>
      ))}
      {newVersion && <NewVersion ostreeRef={newVersion} onClose={() => setNewVersion(null)} />}
    </PageSection>
  );
}
