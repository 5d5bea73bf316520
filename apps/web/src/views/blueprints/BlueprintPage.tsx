/**
 * One blueprint's page, `#/blueprints/<name>[/<tab>]`, and the creation of one, `#/blueprints/new`
 * (a blueprint named "new" is reached as `#/blueprints/new/details`).
 *
 * Saving commits: the form is sent to `blueprints/new`, which records a change with the version
 * (raised when left as it was) — one save, one entry in the history. Edits stay in this page until
 * then and are never written to the Weldr workspace: the workspace copy is what every client's
 * `blueprints/info`, depsolve and freeze read, so half-done edits there would show up elsewhere.
 * A workspace copy another client left is shown (with a note) and committed by the next save.
 *
 * Every change is checked at once with the API's own schema (`@debian-forge/blueprint/schema`);
 * a problem shows under the field that holds it once the field was changed, and every problem on
 * a save. The API's own refusal is placed the same way by the path its message names.
 */
import { checkBlueprint } from '@debian-forge/blueprint/schema';
import {
  ActionGroup,
  Alert,
  Breadcrumb,
  BreadcrumbItem,
  Bullseye,
  Button,
  PageSection,
  Spinner,
  Tab,
  Tabs,
  TabTitleText,
  Title,
} from '@patternfly/react-core';
import { type ReactNode, useCallback, useMemo, useState } from 'react';
import { blueprintInfo, distros, type StoredBlueprint, saveBlueprint } from '../../api/blueprints.ts';
import { ApiFailure, messageOf } from '../../api/client.ts';
import { useApi } from '../../app/context.tsx';
import { type FieldErrors, FieldErrorsContext } from '../../app/fields.tsx';
import { go, href } from '../../app/route.ts';
import { useLoad } from '../../app/use-load.ts';
import { BlueprintDeps } from './BlueprintDeps.tsx';
import { BlueprintHistory } from './BlueprintHistory.tsx';
import { CustomizationsForm } from './CustomizationsForm.tsx';
import { DetailsForm } from './DetailsForm.tsx';
import {
  documentOf,
  type EditorForm,
  emptyForm,
  fieldId,
  fieldKeys,
  formOf,
  type Issue,
  issuesOfApiError,
  keyOf,
  placeIssues,
} from './editor-model.ts';

/** What a tab beside the editor's gets: the blueprint's name, and a way to show it afresh. */
export interface BlueprintTabProps {
  name: string;
  reload(): void;
}

/**
 * The tabs of other concerns, each rendered by its own module: "Dependencies" (BlueprintDeps.tsx,
 * the depsolve on demand) and "History" (BlueprintHistory.tsx: changes, diff, undo, tags). A slot
 * left null has no tab.
 */
export const BLUEPRINT_TAB_SLOTS: Record<
  'dependencies' | 'history',
  { title: string; render: ((props: BlueprintTabProps) => ReactNode) | null }
> = {
  dependencies: { title: 'Dependencies', render: ({ name }) => <BlueprintDeps name={name} /> },
  history: {
    title: 'History',
    render: ({ name, reload }) => <BlueprintHistory name={name} onChanged={reload} />,
  },
};

/** The route of a blueprint's page (at a tab). */
export function blueprintRoute(name: string, tab?: string): string[] {
  return ['blueprints', name, ...(tab ? [tab] : name === 'new' ? ['details'] : [])];
}

export const blueprintHref = (name: string, tab?: string): string => href(...blueprintRoute(name, tab));

export function BlueprintPage({ rest }: { rest: readonly string[] }) {
  const [first, tab] = rest;
  const isNew = first === 'new' && tab === undefined;
  const name = isNew ? undefined : first;
  const api = useApi();
  const stored = useLoad(
    () => (name === undefined ? Promise.resolve(null) : blueprintInfo(api, name)),
    [api, name],
  );
  const known = useLoad(() => distros(api), [api]);
  // The blueprint last saved here: the page says so after it loaded the saved version.
  const [savedName, setSavedName] = useState<string | null>(null);

  if (name !== undefined && stored.data === undefined) {
    return (
      <PageSection>
        {stored.error !== undefined ? (
          <Alert variant="danger" isInline title={messageOf(stored.error)} />
        ) : (
          <Bullseye>
            <Spinner aria-label="Loading the blueprint" />
          </Bullseye>
        )}
      </PageSection>
    );
  }
  if (name !== undefined && stored.data === null) {
    return (
      <PageSection>
        <Alert variant="warning" isInline title={`There is no blueprint named ${name}.`}>
          <a href={href('blueprints')}>Back to the blueprints</a>
        </Alert>
      </PageSection>
    );
  }
  return (
    <Editor
      // A fresh editor for each blueprint loaded (and after each save), so the form starts from it.
      key={`${name ?? ''}\u0000${stored.data?.blueprint.version ?? ''}\u0000${stored.data?.changed ?? ''}`}
      stored={stored.data ?? null}
      tab={tab ?? 'details'}
      distros={known.data ?? []}
      reload={stored.reload}
      notice={
        name !== undefined && savedName === name && stored.data
          ? `Saved ${name}, version ${stored.data.blueprint.version}.`
          : null
      }
      onSaved={(saved) => {
        setSavedName(saved);
        if (saved === name) stored.reload();
        else go(...blueprintRoute(saved));
      }}
      onEdited={() => setSavedName(null)}
    />
  );
}

interface EditorProps {
  stored: StoredBlueprint | null;
  tab: string;
  distros: readonly string[];
  reload(): void;
  notice: string | null;
  onSaved(name: string): void;
  /** The form changed since it was loaded (a notice of the last save no longer holds). */
  onEdited(): void;
}

function Editor({
  stored,
  tab: routeTab,
  distros: knownDistros,
  reload,
  notice,
  onSaved,
  onEdited,
}: EditorProps) {
  const api = useApi();
  const isNew = stored === null;
  const base = useMemo(() => (stored ? { ...stored.blueprint } : {}), [stored]);
  const [form, setForm] = useState<EditorForm>(() => (stored ? formOf(stored.blueprint) : emptyForm()));
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [attempted, setAttempted] = useState(false);
  const [apiIssues, setApiIssues] = useState<Issue[]>([]);
  const [saving, setSaving] = useState(false);
  // A new blueprint has no page yet to name its tab in the route.
  const [newTab, setNewTab] = useState('details');
  const tab = isNew ? newTab : routeTab;
  const [problem, setProblem] = useState<string | null>(null);

  const document = useMemo(() => documentOf(form, base), [form, base]);
  const schemaIssues = useMemo(() => {
    const r = checkBlueprint(document);
    return r.ok ? [] : r.issues;
  }, [document]);
  const placed = useMemo(
    () => placeIssues([...schemaIssues, ...apiIssues], fieldKeys(form)),
    [schemaIssues, apiIssues, form],
  );
  const shownKey = useCallback(
    (key: string) => attempted || [...touched].some((t) => t === key || key.startsWith(`${t}.`)),
    [attempted, touched],
  );
  const errors = useMemo<FieldErrors>(
    () => ({
      errorsOf: (key) => (shownKey(key) ? (placed.byField.get(key) ?? []) : []),
      touch: (key) => setTouched((t) => (t.has(key) ? t : new Set([...t, key]))),
      idOf: fieldId,
    }),
    [placed, shownKey],
  );

  const update = (change: Partial<EditorForm>) => {
    setForm((f) => ({ ...f, ...change }));
    setApiIssues([]);
    onEdited();
  };

  const save = async () => {
    setAttempted(true);
    setProblem(null);
    if (schemaIssues.length > 0) return;
    setSaving(true);
    try {
      if (isNew && (await blueprintInfo(api, form.name.trim())) !== null) {
        setApiIssues([{ path: ['name'], message: `a blueprint named "${form.name.trim()}" exists already` }]);
        return;
      }
      await saveBlueprint(api, document);
      onSaved(form.name.trim());
    } catch (err) {
      if (err instanceof ApiFailure) setApiIssues(issuesOfApiError(err.id, err.message));
      else setProblem(`Saving failed: ${messageOf(err)}`);
    } finally {
      setSaving(false);
    }
  };

  const title = isNew ? 'New blueprint' : form.name;
  const unplaced = attempted || apiIssues.length > 0 ? placed.rest : [];
  const invalidCount = attempted ? placed.byField.size + placed.rest.length : 0;
  const name = stored?.blueprint.name ?? '';
  const editorTabs = [
    {
      key: 'details',
      title: 'Details',
      body: <DetailsForm form={form} isNew={isNew} distros={knownDistros} update={update} />,
    },
    {
      key: 'customizations',
      title: 'Customizations',
      body: <CustomizationsForm form={form} update={update} />,
    },
  ];
  const slotTabs = isNew
    ? []
    : Object.entries(BLUEPRINT_TAB_SLOTS).flatMap(([key, slot]) =>
        slot.render ? [{ key, title: slot.title, body: slot.render({ name, reload }) }] : [],
      );
  const onEditorTab = editorTabs.some((t) => t.key === tab);

  return (
    <FieldErrorsContext.Provider value={errors}>
      <PageSection>
        <Breadcrumb>
          <BreadcrumbItem to={href('blueprints')}>Blueprints</BreadcrumbItem>
          <BreadcrumbItem isActive>{title}</BreadcrumbItem>
        </Breadcrumb>
        <Title headingLevel="h2">{title}</Title>
        {stored?.changed && (
          <Alert
            variant="info"
            isInline
            title="This blueprint has changes in the workspace that are not committed."
          >
            The form shows them; saving commits them as a new version.
          </Alert>
        )}
        {notice && <Alert variant="success" isInline title={notice} />}
        {problem && <Alert variant="danger" isInline title={problem} />}
        {invalidCount > 0 && (
          <Alert variant="danger" isInline title="The blueprint was not saved: correct the fields marked.">
            {unplaced.map((i) => (
              <div key={`${keyOf(i.path)}:${i.message}`}>
                {i.path.length > 0 ? `${keyOf(i.path)}: ` : ''}
                {i.message}
              </div>
            ))}
          </Alert>
        )}
        {invalidCount === 0 && unplaced.length > 0 && (
          <Alert variant="danger" isInline title="The service refused the blueprint.">
            {unplaced.map((i) => (
              <div key={i.message}>{i.message}</div>
            ))}
          </Alert>
        )}
        <Tabs
          activeKey={tab}
          onSelect={(_e, key) => (isNew ? setNewTab(String(key)) : go(...blueprintRoute(name, String(key))))}
          aria-label="Blueprint"
          mountOnEnter
        >
          {[...editorTabs, ...slotTabs].map((t) => (
            <Tab key={t.key} eventKey={t.key} title={<TabTitleText>{t.title}</TabTitleText>}>
              <PageSection padding={{ default: 'noPadding' }} className="pf-v6-u-pt-md">
                {t.body}
              </PageSection>
            </Tab>
          ))}
        </Tabs>
        {onEditorTab && (
          <ActionGroup className="pf-v6-u-mt-lg">
            <Button variant="primary" onClick={save} isLoading={saving} isDisabled={saving}>
              {isNew ? 'Create' : 'Save'}
            </Button>
            <Button variant="link" onClick={() => go('blueprints')}>
              Cancel
            </Button>
          </ActionGroup>
        )}
      </PageSection>
    </FieldErrorsContext.Provider>
  );
}
