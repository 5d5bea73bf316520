/**
 * Adding a package source: a form whose refusals come from the service itself (the rule the API
 * applies is the only rule), each shown under the field it names, the rest above the form.
 */
import { ActionGroup, Alert, Button, Checkbox, Form, FormGroup } from '@patternfly/react-core';
import { useMemo, useState } from 'react';
import { messageOf } from '../../api/client.ts';
import { addSource, type NewSource, type SourceField, sourceFieldOf } from '../../api/sources.ts';
import { useApi } from '../../app/context.tsx';
import { type FieldErrors, FieldErrorsContext, TextField } from '../../app/fields.tsx';

/** Words split at spaces and commas: "bookworm bookworm-updates" → two suites. */
const words = (text: string) => text.split(/[\s,]+/).filter((w) => w !== '');
/** One keyring (a file or an armoured key) a line. */
const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

const EMPTY = { id: '', name: '', url: '', suites: '', components: '', signed_by: '', distros: '' };
type Texts = typeof EMPTY;

export function SourceForm({ onAdded, onCancel }: { onAdded: (id: string) => void; onCancel: () => void }) {
  const api = useApi();
  const [texts, setTexts] = useState<Texts>(EMPTY);
  const [checkGpg, setCheckGpg] = useState(true);
  const [checkSsl, setCheckSsl] = useState(true);
  const [refusal, setRefusal] = useState<{ field: SourceField | undefined; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    const source: NewSource = {
      id: texts.id.trim(),
      name: texts.name.trim(),
      type: 'deb',
      url: texts.url.trim(),
      suites: words(texts.suites),
      components: words(texts.components),
      signed_by: lines(texts.signed_by),
      distros: words(texts.distros),
      check_gpg: checkGpg,
      check_ssl: checkSsl,
    };
    setBusy(true);
    try {
      await addSource(api, source);
      onAdded(source.id);
    } catch (err) {
      setRefusal({ field: sourceFieldOf(err), message: messageOf(err) });
    } finally {
      setBusy(false);
    }
  };

  // The service's refusal, under the field it names, until the next try.
  const errors = useMemo<FieldErrors>(
    () => ({
      errorsOf: (key) => (refusal && refusal.field === key ? [refusal.message] : []),
      touch: () => {},
      idOf: (key) => `source-${key}`,
    }),
    [refusal],
  );
  const text = (field: keyof Texts, label: string, help: string, required = false, multiline = false) => (
    <TextField
      path={field}
      label={label}
      value={texts[field]}
      onChange={(value) => setTexts((t) => ({ ...t, [field]: value }))}
      help={help}
      isRequired={required}
      multiline={multiline}
    />
  );

  return (
    <FieldErrorsContext.Provider value={errors}>
      <Form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {refusal && refusal.field === undefined && (
          <Alert variant="danger" isInline title={refusal.message} />
        )}
        {text('id', 'ID', 'The key of the source: letters, digits, ".", "_" and "-".', true)}
        {text('name', 'Name', 'What people call it.', true)}
        {text('url', 'URL', 'The repository: http, https or file.', true)}
        {text('suites', 'Suites', "Separated by spaces (default: the distro's own suite).")}
        {text('components', 'Components', 'Separated by spaces (default: main).')}
        {text('signed_by', 'Keyrings (signed-by)', 'One keyring file a line.', false, true)}
        {text('distros', 'Distros', 'Only for these distros, separated by spaces (default: all).')}
        <FormGroup role="group" fieldId="source-checks" label="Checks">
          <Checkbox
            id="source-check_gpg"
            label="Check signatures (GPG)"
            isChecked={checkGpg}
            onChange={(_e, on) => setCheckGpg(on)}
          />
          <Checkbox
            id="source-check_ssl"
            label="Check TLS certificates"
            isChecked={checkSsl}
            onChange={(_e, on) => setCheckSsl(on)}
          />
        </FormGroup>
        <ActionGroup>
          <Button type="submit" variant="primary" isLoading={busy} isDisabled={busy}>
            Add source
          </Button>
          <Button variant="link" onClick={onCancel}>
            Cancel
          </Button>
        </ActionGroup>
      </Form>
    </FieldErrorsContext.Provider>
  );
}
