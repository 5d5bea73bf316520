/**
 * Blueprints as TOML files: export saves `<name>.toml` as the service prints it; import takes a
 * file or pasted text and stores it as it is, so the service alone decides whether it is valid and
 * its error is shown as it gave it.
 */
import {
  Button,
  FileUpload,
  FormGroup,
  FormHelperText,
  HelperText,
  HelperTextItem,
} from '@patternfly/react-core';
import { useState } from 'react';
import { blueprintToml, importToml } from '../../api/blueprint-toml.ts';
import { messageOf } from '../../api/client.ts';
import { useApi } from '../../app/context.tsx';
import { FormDialog } from '../../app/FormDialog.tsx';

/** Hands a Blob to the browser to save under a file name. */
function save(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  // The click starts the download at once; the URL is only needed until then.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

export function ExportToml({ name, onProblem }: { name: string; onProblem(message: string): void }) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    try {
      save(await blueprintToml(api, name), `${name}.toml`);
    } catch (err) {
      onProblem(`Exporting ${name} failed: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Button variant="link" onClick={run} isDisabled={busy} aria-label={`Export ${name} as TOML`}>
      Export TOML
    </Button>
  );
}

export function ImportToml({ onImported }: { onImported(): void }) {
  const api = useApi();
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [filename, setFilename] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const close = () => {
    setOpen(false);
    setText('');
    setFilename('');
    setProblem(null);
  };
  const submit = async () => {
    setBusy(true);
    setProblem(null);
    try {
      await importToml(api, text);
      close();
      onImported();
    } catch (err) {
      setProblem(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Button variant="secondary" onClick={() => setOpen(true)}>
        Import TOML
      </Button>
      <FormDialog
        id="import"
        title="Import a blueprint"
        submit="Import"
        variant="medium"
        isOpen={open}
        onSubmit={submit}
        onClose={close}
        busy={busy}
        canSubmit={!busy && text.trim() !== ''}
      >
        <FormGroup label="Blueprint in TOML" fieldId="import-toml">
          <FileUpload
            id="import-toml"
            type="text"
            aria-label="Blueprint in TOML"
            value={text}
            filename={filename}
            filenamePlaceholder="Choose a .toml file, or paste the blueprint below"
            browseButtonText="Choose a file"
            onFileInputChange={(_e, file) => setFilename(file.name)}
            onDataChange={(_e, data) => setText(data)}
            onTextChange={(_e, value) => setText(value)}
            onClearClick={() => {
              setText('');
              setFilename('');
            }}
            allowEditingUploadedText
            validated={problem ? 'error' : 'default'}
          />
          <FormHelperText>
            <HelperText>
              {problem ? (
                <HelperTextItem variant="error">{problem}</HelperTextItem>
              ) : (
                <HelperTextItem>
                  A blueprint as <code>composer-cli blueprints save</code> writes it. One of the same name is
                  replaced, with the old one kept in its history.
                </HelperTextItem>
              )}
            </HelperText>
          </FormHelperText>
        </FormGroup>
      </FormDialog>
    </>
  );
}
