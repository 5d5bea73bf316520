/** The service: its version and health, the queue's counts and the live workers with their jobs. */
import {
  Alert,
  Button,
  Card,
  CardBody,
  CardTitle,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  Gallery,
  Label,
  PageSection,
  Title,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { messageOf } from '../../api/client.ts';
import { health, queueCounts, serviceStatus, workers } from '../../api/forge.ts';
import { useApi } from '../../app/context.tsx';
import { href } from '../../app/route.ts';
import { useLoad } from '../../app/use-load.ts';

function Pair({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <DescriptionListGroup>
      <DescriptionListTerm>{term}</DescriptionListTerm>
      <DescriptionListDescription>{children}</DescriptionListDescription>
    </DescriptionListGroup>
  );
}

export function SystemView() {
  const api = useApi();
  const status = useLoad(() => serviceStatus(api), [api]);
  const healthNow = useLoad(() => health(api), [api]);
  const queue = useLoad(() => queueCounts(api), [api]);
  const live = useLoad(() => workers(api), [api]);
  const reload = () => {
    for (const l of [status, healthNow, queue, live]) l.reload();
  };
  const problems = [status, healthNow, queue, live].filter((l) => l.error !== undefined);

  return (
    <PageSection>
      <Title headingLevel="h2">System</Title>
      <Button variant="secondary" onClick={reload}>
        Refresh
      </Button>
      {problems.map((l) => (
        <Alert key={messageOf(l.error)} variant="danger" isInline title={messageOf(l.error)} />
      ))}
      <Gallery hasGutter minWidths={{ default: '18rem' }}>
        <Card>
          <CardTitle>Service</CardTitle>
          <CardBody>
            <DescriptionList isCompact>
              <Pair term="Version">{status.data?.build ?? '…'}</Pair>
              <Pair term="Weldr API">{status.data ? `v${status.data.api}` : '…'}</Pair>
              <Pair term="Health">
                {healthNow.data ? (
                  <Label color={healthNow.data.status === 'ok' ? 'green' : 'red'}>
                    {healthNow.data.status}
                  </Label>
                ) : (
                  '…'
                )}
              </Pair>
              {healthNow.data?.redis.error && <Pair term="Redis">{healthNow.data.redis.error}</Pair>}
              {status.data?.msgs.map((m) => (
                <Pair key={m} term="Message">
                  {m}
                </Pair>
              ))}
            </DescriptionList>
          </CardBody>
        </Card>
        <Card>
          <CardTitle>Queue</CardTitle>
          <CardBody>
            <DescriptionList isCompact isHorizontal>
              <Pair term="Waiting">{queue.data?.queued ?? '…'}</Pair>
              <Pair term="Running">{queue.data?.active ?? '…'}</Pair>
              <Pair term="Finished">{queue.data?.completed ?? '…'}</Pair>
              <Pair term="Failed">{queue.data?.failed ?? '…'}</Pair>
              <Pair term="Workers">{queue.data?.workers ?? '…'}</Pair>
            </DescriptionList>
          </CardBody>
        </Card>
      </Gallery>
      <Title headingLevel="h3">Workers</Title>
      <Table aria-label="Workers" variant="compact">
        <Thead>
          <Tr>
            <Th>Name</Th>
            <Th>CPUs (free / all)</Th>
            <Th>Memory MiB (free / all)</Th>
            <Th>Disk GiB (free / all)</Th>
            <Th>Running</Th>
            <Th>Last seen</Th>
          </Tr>
        </Thead>
        <Tbody>
          {(live.data ?? []).map((w) => (
            <Tr key={w.name}>
              <Td dataLabel="Name">{w.name}</Td>
              <Td dataLabel="CPUs">{`${w.free.cpus} / ${w.resources.cpus}`}</Td>
              <Td dataLabel="Memory">{`${w.free.memory_mib} / ${w.resources.memory_mib}`}</Td>
              <Td dataLabel="Disk">{`${w.free.disk_gib} / ${w.resources.disk_gib}`}</Td>
              <Td dataLabel="Running">
                {w.active_jobs.map((j) =>
                  j.compose ? (
                    <a key={j.job_id} href={href('composes', j.compose)}>
                      {j.compose}
                    </a>
                  ) : (
                    <span key={j.job_id}>{j.job_id}</span>
                  ),
                )}
              </Td>
              <Td dataLabel="Last seen">{new Date(w.seen_at).toLocaleString()}</Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
    </PageSection>
  );
}
