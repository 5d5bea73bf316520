/**
 * A blueprint's history: its changes, newest first, with their tags (revisions); what changed from
 * any of them to the current blueprint, and what its workspace copy changes still; undo to one
 * (saved as a new change, so nothing is lost); and a tag on the newest change.
 */
import {
  Alert,
  Button,
  EmptyState,
  Label,
  List,
  ListItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  Spinner,
  Title,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useState } from 'react';
import {
  blueprintChanges,
  type Change,
  type DiffEntry,
  diffCommits,
  tagNewest,
  undoTo,
  workspaceDiff,
} from '../../api/blueprint-changes.ts';
import { messageOf } from '../../api/client.ts';
import { useApi } from '../../app/context.tsx';
import { useLoad } from '../../app/use-load.ts';

export interface BlueprintHistoryProps {
  name: string;
  /** Called after an undo or a tag changed the blueprint, for the page around to reload. */
  onChanged?: () => void;
}

const short = (commit: string) => commit.slice(0, 7);
const when = (timestamp: string) => new Date(timestamp).toLocaleString();

export function BlueprintHistory({ name, onChanged }: BlueprintHistoryProps) {
  const api = useApi();
  const changes = useLoad(() => blueprintChanges(api, name), [api, name]);
  const [compared, setCompared] = useState<string | null>(null);
  const [undoing, setUndoing] = useState<Change | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const pending = useLoad(() => workspaceDiff(api, name), [api, name, changes.data]);
  const newest = changes.data?.[0];

  const act = async (what: string, call: () => Promise<void>) => {
    setBusy(true);
    setProblem(null);
    try {
      await call();
      setCompared(null);
      changes.reload();
      onChanged?.();
    } catch (err) {
      setProblem(`${what} failed: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      {problem && <Alert variant="danger" isInline title={problem} />}
      {changes.error !== undefined && <Alert variant="danger" isInline title={messageOf(changes.error)} />}
      {pending.data && pending.data.length > 0 && (
        <section aria-label="Workspace changes">
          <Title headingLevel="h3" size="md">
            Saved in the workspace, not yet a change
          </Title>
          <DiffList entries={pending.data} />
        </section>
      )}
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <Button
              variant="secondary"
              isDisabled={busy || !newest || newest.revision !== null}
              onClick={() => act('Tagging', () => tagNewest(api, name))}
            >
              Tag the newest change
            </Button>
          </ToolbarItem>
          {newest?.revision !== null && newest?.revision !== undefined && (
            <ToolbarItem alignSelf="center">The newest change is revision {newest.revision}.</ToolbarItem>
          )}
        </ToolbarContent>
      </Toolbar>
      <Table aria-label={`Changes of ${name}`} variant="compact">
        <Thead>
          <Tr>
            <Th>Saved</Th>
            <Th>Message</Th>
            <Th>Tag</Th>
            <Th>Commit</Th>
            <Th screenReaderText="Actions" />
          </Tr>
        </Thead>
        <Tbody>
          {(changes.data ?? []).map((c) => (
            <Tr key={c.commit} isRowSelected={c.commit === compared}>
              <Td dataLabel="Saved">{when(c.timestamp)}</Td>
              <Td dataLabel="Message">{c.message}</Td>
              <Td dataLabel="Tag">
                {c.revision !== null && <Label color="blue">revision {c.revision}</Label>}
              </Td>
              <Td dataLabel="Commit">
                <code title={c.commit}>{short(c.commit)}</code>
              </Td>
              <Td dataLabel="Actions" isActionCell modifier="nowrap">
                {c !== newest && (
                  <>
                    <Button
                      variant="link"
                      onClick={() => setCompared(c.commit === compared ? null : c.commit)}
                      aria-label={`Compare ${short(c.commit)} with the current blueprint`}
                    >
                      {c.commit === compared ? 'Hide changes' : 'Changes since'}
                    </Button>
                    <Button
                      variant="link"
                      isDisabled={busy}
                      onClick={() => setUndoing(c)}
                      aria-label={`Undo to ${short(c.commit)}`}
                    >
                      Undo to this
                    </Button>
                  </>
                )}
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      {compared && newest && <ChangesSince name={name} from={compared} to={newest.commit} />}
      <Modal
        isOpen={undoing !== null}
        onClose={() => setUndoing(null)}
        variant="small"
        aria-labelledby="undo-title"
      >
        <ModalHeader
          title={`Undo ${name} to ${short(undoing?.commit ?? '')}?`}
          labelId="undo-title"
          titleIconVariant="warning"
        />
        <ModalBody>
          The blueprint as it was saved on {undoing ? when(undoing.timestamp) : ''} (“{undoing?.message}”) is
          saved again as a new change. The changes made since stay in the history.
        </ModalBody>
        <ModalFooter>
          <Button
            variant="primary"
            onClick={() => {
              const target = undoing;
              setUndoing(null);
              if (target) act('Undo', () => undoTo(api, name, target.commit));
            }}
          >
            Undo
          </Button>
          <Button variant="link" onClick={() => setUndoing(null)}>
            Cancel
          </Button>
        </ModalFooter>
      </Modal>
    </>
  );
}

/** The differences from one change to a newer one, one line each. */
function ChangesSince({ name, from, to }: { name: string; from: string; to: string }) {
  const api = useApi();
  const diff = useLoad(() => diffCommits(api, name, from, to), [api, name, from, to]);
  return (
    <section aria-label={`Changes since ${short(from)}`}>
      <Title headingLevel="h3" size="md">
        From {short(from)} to the current blueprint
      </Title>
      {diff.error !== undefined && <Alert variant="danger" isInline title={messageOf(diff.error)} />}
      {diff.loading && <Spinner size="md" aria-label="Comparing" />}
      {diff.data && diff.data.length === 0 && <EmptyState titleText="No difference" headingLevel="h4" />}
      {diff.data && diff.data.length > 0 && <DiffList entries={diff.data} />}
    </section>
  );
}

/** Diff entries one line each: what was added or removed, or what changed from old to new. */
function DiffList({ entries }: { entries: DiffEntry[] }) {
  return (
    <List isPlain>
      {entries.map((entry) => {
        const line = describeDiff(entry);
        return (
          <ListItem key={`${line.kind} ${line.what}`}>
            <Label color={KIND_COLOR[line.kind]}>{line.kind}</Label> {line.what}
            {line.kind === 'changed' && (
              <>
                : <del>{line.old}</del> → <ins>{line.new}</ins>
              </>
            )}
          </ListItem>
        );
      })}
    </List>
  );
}

type Kind = 'added' | 'removed' | 'changed';

const KIND_COLOR = { added: 'green', removed: 'red', changed: 'orange' } as const;

interface DiffLine {
  kind: Kind;
  /** What changed: "package curl 8.0", "description", "hostname". */
  what: string;
  old: string;
  new: string;
}

/**
 * A Weldr diff entry in words. Each side is a one-key object ({"Package": {name, version}},
 * {"Description": "…"}, {"Customizations.hostname": "…"}), null where the item does not exist.
 */
function describeDiff(entry: DiffEntry): DiffLine {
  const [key, oldValue] = Object.entries(entry.old ?? {})[0] ?? [];
  const [newKey, newValue] = Object.entries(entry.new ?? {})[0] ?? [];
  const field = (key ?? newKey ?? '').replace(/^Customizations\./, '');
  const kind: Kind = entry.old === null ? 'added' : entry.new === null ? 'removed' : 'changed';
  const listed = ['Package', 'Module', 'Group'].includes(field);
  if (listed) {
    const item = (newValue ?? oldValue) as { name?: string };
    const what = `${field.toLowerCase()} ${item.name ?? ''}`;
    if (kind !== 'changed') return { kind, what: `${what}${versionOf(item)}`, old: '', new: '' };
    return { kind, what, old: versionOf(oldValue).trim(), new: versionOf(newValue).trim() };
  }
  const label = field.toLowerCase();
  if (kind === 'changed') return { kind, what: label, old: text(oldValue), new: text(newValue) };
  return { kind, what: `${label} ${text(newValue ?? oldValue)}`, old: '', new: '' };
}

function versionOf(item: unknown): string {
  const version = (item as { version?: string } | undefined)?.version;
  return version && version !== '*' ? ` ${version}` : '';
}

function text(value: unknown): string {
  return typeof value === 'string' ? (value === '' ? '(empty)' : value) : JSON.stringify(value);
}
