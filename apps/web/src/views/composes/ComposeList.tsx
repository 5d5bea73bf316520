/**
 * Composes: the queue (waiting, running) and the ended ones in one table, newest first, paged in
 * the page (the lists are four requests whatever their length, never one per row). The table
 * reloads itself while a compose waits or runs. Priority changes for waiting composes; cancel and
 * delete ask first.
 */
import {
  Alert,
  Button,
  EmptyState,
  EmptyStateBody,
  FormGroup,
  FormHelperText,
  HelperText,
  HelperTextItem,
  PageSection,
  TextInput,
  Title,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useEffect, useState } from 'react';
import { messageOf } from '../../api/client.ts';
import {
  type ComposeRow,
  cancelCompose,
  composeRows,
  deleteCompose,
  MAX_PRIORITY,
  MIN_PRIORITY,
  setPriority,
} from '../../api/composes.ts';
import { Confirm } from '../../app/Confirm.tsx';
import { useApi } from '../../app/context.tsx';
import { FormDialog } from '../../app/FormDialog.tsx';
import { usePaging } from '../../app/paging.tsx';
import { go, href } from '../../app/route.ts';
import { useLoad } from '../../app/use-load.ts';
import { StartDialog } from './StartDialog.tsx';
import { StatusLabel, timeOf } from './state.tsx';

const RELOAD_MS = 5000;

type Asking = { action: 'cancel' | 'delete'; row: ComposeRow };

export function ComposeList() {
  const api = useApi();
  const rows = useLoad(() => composeRows(api), [api]);
  const [starting, setStarting] = useState(false);
  const [confirm, setConfirm] = useState<Asking | null>(null);
  const [priorityOf, setPriorityOf] = useState<ComposeRow | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const all = rows.data ?? [];
  const active = all.some((r) => r.queue_status === 'WAITING' || r.queue_status === 'RUNNING');
  const { reload } = rows;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(reload, RELOAD_MS);
    return () => clearInterval(timer);
  }, [active, reload]);
  const paging = usePaging(all);

  const act = async ({ action, row }: Asking) => {
    setConfirm(null);
    try {
      if (action === 'cancel') await cancelCompose(api, row.id);
      else await deleteCompose(api, row.id);
      setProblem(null);
    } catch (err) {
      setProblem(`${action === 'cancel' ? 'Cancelling' : 'Deleting'} ${row.id} failed: ${messageOf(err)}`);
    }
    reload();
  };

  return (
    <PageSection>
      <Title headingLevel="h2">Composes</Title>
      {problem && <Alert variant="danger" isInline title={problem} />}
      {rows.error !== undefined && <Alert variant="danger" isInline title={messageOf(rows.error)} />}
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <Button variant="primary" onClick={() => setStarting(true)}>
              Create image
            </Button>
          </ToolbarItem>
          <ToolbarItem>
            <Button variant="secondary" onClick={reload} isDisabled={rows.loading}>
              Refresh
            </Button>
          </ToolbarItem>
          <ToolbarItem variant="pagination" align={{ default: 'alignEnd' }}>
            {paging.control}
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      {rows.data && all.length === 0 ? (
        <EmptyState titleText="No composes yet" headingLevel="h3">
          <EmptyStateBody>
            A compose builds an image from a blueprint: “Create image” starts one.
          </EmptyStateBody>
        </EmptyState>
      ) : (
        <Table aria-label="Composes" variant="compact">
          <Thead>
            <Tr>
              <Th>Compose</Th>
              <Th>State</Th>
              <Th>Blueprint</Th>
              <Th>Version</Th>
              <Th>Image type</Th>
              <Th>Queued</Th>
              <Th>Started</Th>
              <Th>Finished</Th>
              <Th>Priority</Th>
              <Th screenReaderText="Actions" />
            </Tr>
          </Thead>
          <Tbody>
            {paging.shown.map((row) => {
              const waiting = row.queue_status === 'WAITING';
              const ended = row.queue_status === 'FINISHED' || row.queue_status === 'FAILED';
              return (
                <Tr key={row.id} data-compose={row.id}>
                  <Td dataLabel="Compose">
                    <a href={href('composes', row.id)} aria-label={`Open compose ${row.id}`}>
                      {row.id.slice(0, 8)}
                    </a>
                  </Td>
                  <Td dataLabel="State">
                    <StatusLabel status={row.queue_status} />
                  </Td>
                  <Td dataLabel="Blueprint">{row.blueprint}</Td>
                  <Td dataLabel="Version">{row.version}</Td>
                  <Td dataLabel="Image type">{row.compose_type}</Td>
                  <Td dataLabel="Queued">{timeOf(row.job_created)}</Td>
                  <Td dataLabel="Started">{timeOf(row.job_started)}</Td>
                  <Td dataLabel="Finished">{timeOf(row.job_finished)}</Td>
                  <Td dataLabel="Priority">
                    {waiting && row.priority !== undefined && (
                      <Button
                        variant="link"
                        isInline
                        onClick={() => setPriorityOf(row)}
                        aria-label={`Priority of ${row.id}: ${row.priority}, change`}
                      >
                        {row.priority}
                      </Button>
                    )}
                  </Td>
                  <Td dataLabel="Actions" isActionCell>
                    {ended ? (
                      <Button
                        variant="link"
                        isDanger
                        onClick={() => setConfirm({ action: 'delete', row })}
                        aria-label={`Delete ${row.id}`}
                      >
                        Delete
                      </Button>
                    ) : (
                      <Button
                        variant="link"
                        isDanger
                        onClick={() => setConfirm({ action: 'cancel', row })}
                        aria-label={`Cancel ${row.id}`}
                      >
                        Cancel
                      </Button>
                    )}
                  </Td>
                </Tr>
              );
            })}
          </Tbody>
        </Table>
      )}
      {starting && (
        <StartDialog
          onClose={() => setStarting(false)}
          onStarted={(uuid) => {
            setStarting(false);
            go('composes', uuid);
          }}
        />
      )}
      {priorityOf && (
        <PriorityDialog
          row={priorityOf}
          onClose={() => setPriorityOf(null)}
          onChanged={() => {
            setPriorityOf(null);
            reload();
          }}
        />
      )}
      <Confirm
        subject={
          confirm === null ? null : confirm.action === 'cancel' ? confirm.row.id : `compose ${confirm.row.id}`
        }
        action={confirm?.action === 'cancel' ? 'Cancel compose' : 'Delete'}
        dismiss="Keep it"
        onConfirm={() => confirm && act(confirm)}
        onCancel={() => setConfirm(null)}
      >
        {confirm?.action === 'cancel'
          ? 'The compose stops (a running build is killed) and ends FAILED.'
          : 'The compose, its image, log and metadata are removed.'}
      </Confirm>
    </PageSection>
  );
}

/** The priority of a waiting compose (higher runs first); the service's refusal beside the field. */
function PriorityDialog(props: { row: ComposeRow; onClose(): void; onChanged(): void }) {
  const api = useApi();
  const [value, setValue] = useState(String(props.row.priority ?? ''));
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    try {
      await setPriority(api, props.row.id, Number(value));
      props.onChanged();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <FormDialog
      id="priority"
      title={`Priority of ${props.row.id}`}
      submit="Save"
      onSubmit={() => void save()}
      onClose={props.onClose}
    >
      <FormGroup label="Priority" fieldId="compose-priority">
        <TextInput
          id="compose-priority"
          type="number"
          value={value}
          validated={error ? 'error' : 'default'}
          onChange={(_e, v) => setValue(v)}
        />
        <FormHelperText>
          <HelperText>
            <HelperTextItem variant={error ? 'error' : 'default'}>
              {error ?? `${MIN_PRIORITY} to ${MAX_PRIORITY}; higher runs first.`}
            </HelperTextItem>
          </HelperText>
        </FormHelperText>
      </FormGroup>
    </FormDialog>
  );
}
