/**
 * "New version" of a ref: a blueprint (the one of the ref's newest commit unless another is
 * chosen) becomes a debian-atomic-commit compose whose parent is that commit; the live view of the
 * new compose opens. The service's refusal is shown under the field.
 */
import {
  FormGroup,
  FormHelperText,
  FormSelect,
  FormSelectOption,
  HelperText,
  HelperTextItem,
} from '@patternfly/react-core';
import { useEffect, useState } from 'react';
import { type OstreeRef, shortId, startNewVersion } from '../../api/atomic.ts';
import { messageOf } from '../../api/client.ts';
import { blueprintNames } from '../../api/weldr.ts';
import { useApi } from '../../app/context.tsx';
import { FormDialog } from '../../app/FormDialog.tsx';
import { go } from '../../app/route.ts';
import { useLoad } from '../../app/use-load.ts';

export function NewVersion({ ostreeRef, onClose }: { ostreeRef: OstreeRef; onClose(): void }) {
  const api = useApi();
  const names = useLoad(() => blueprintNames(api), [api]);
  const last = ostreeRef.commits[0];
  const [blueprint, setBlueprint] = useState(last?.blueprint?.name ?? '');
  useEffect(() => {
    if (blueprint === '' && names.data?.[0]) setBlueprint(names.data[0]);
  }, [names.data, blueprint]);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const start = async () => {
    setBusy(true);
    setProblem(null);
    try {
      go('composes', await startNewVersion(api, ostreeRef, blueprint));
    } catch (err) {
      setProblem(messageOf(err));
      setBusy(false);
    }
  };

  const options = [...new Set([...(names.data ?? []), ...(blueprint ? [blueprint] : [])])];
  return (
    <FormDialog
      id="new-version"
      title={`New version of ${ostreeRef.ref}`}
      submit="Start compose"
      onSubmit={() => void start()}
      onClose={onClose}
      busy={busy}
      canSubmit={!busy && blueprint !== ''}
    >
      <FormGroup label="Blueprint" fieldId="new-version-blueprint" isRequired>
        <FormSelect
          id="new-version-blueprint"
          aria-label="Blueprint"
          value={blueprint}
          onChange={(_e, v) => setBlueprint(v)}
          validated={problem ? 'error' : 'default'}
        >
          {options.map((n) => (
            <FormSelectOption key={n} value={n} label={n} />
          ))}
        </FormSelect>
        <FormHelperText>
          <HelperText>
            <HelperTextItem variant={problem ? 'error' : 'default'}>
              {problem ??
                (last
                  ? `A debian-atomic-commit compose with parent ${shortId(last.commit)}, the newest commit of the ref.`
                  : 'The first commit of the ref.')}
            </HelperTextItem>
          </HelperText>
        </FormHelperText>
      </FormGroup>
    </FormDialog>
  );
}
