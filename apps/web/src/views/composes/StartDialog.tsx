/**
 * Start a compose of a blueprint (Weldr `POST /compose`): the image type from those of the
 * blueprint's distribution, an image size, and for the types that make an OSTree commit its ref,
 * parent and repository URL. The service checks everything; its refusal is shown beside the
 * field it is about (or above the form when it names none).
 */
import {
  Alert,
  FormGroup,
  FormHelperText,
  FormSelect,
  FormSelectOption,
  HelperText,
  HelperTextItem,
  TextInput,
} from '@patternfly/react-core';
import { type ReactNode, useEffect, useState } from 'react';
import { ApiFailure, messageOf } from '../../api/client.ts';
import {
  fieldOfFailure,
  imageTypes,
  type StartField,
  startCompose,
  takesOstree,
} from '../../api/composes.ts';
import { blueprintInfos, blueprintNames } from '../../api/weldr.ts';
import { useApi } from '../../app/context.tsx';
import { FormDialog } from '../../app/FormDialog.tsx';
import { useLoad } from '../../app/use-load.ts';

const GiB = 1024 ** 3;

export function StartDialog(props: {
  /** The blueprint to compose; the dialog offers every blueprint when none is given. */
  blueprint?: string;
  onClose(): void;
  onStarted(uuid: string): void;
}) {
  const api = useApi();
  const [blueprint, setBlueprint] = useState(props.blueprint ?? '');
  const names = useLoad(
    () => (props.blueprint === undefined ? blueprintNames(api) : Promise.resolve([props.blueprint])),
    [api, props.blueprint],
  );
  useEffect(() => {
    if (blueprint === '' && names.data?.[0]) setBlueprint(names.data[0]);
  }, [names.data, blueprint]);
  const info = useLoad(
    async () => (blueprint === '' ? undefined : (await blueprintInfos(api, [blueprint]))[0]),
    [api, blueprint],
  );
  const distro = info.data?.distro ?? '';
  const types = useLoad(() => imageTypes(api, distro), [api, distro]);
  const [imageType, setImageType] = useState('');
  useEffect(() => {
    const first = types.data?.find((t) => t.enabled)?.name;
    if (first && !types.data?.some((t) => t.name === imageType)) setImageType(first);
  }, [types.data, imageType]);

  const [size, setSize] = useState('');
  const [ostree, setOstree] = useState({ ref: '', parent: '', url: '' });
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ field: StartField | undefined; message: string } | null>(null);

  const atomic = takesOstree(imageType);
  const sizeGiB = size.trim() === '' ? undefined : Number(size);
  const sizeProblem =
    sizeGiB !== undefined && !(Number.isFinite(sizeGiB) && sizeGiB > 0)
      ? 'a size in GiB greater than 0, or empty for the image type’s own'
      : undefined;

  const start = async () => {
    setBusy(true);
    setFailure(null);
    try {
      const given = Object.entries(ostree).filter(([, v]) => v.trim() !== '');
      const answer = await startCompose(api, {
        blueprint_name: blueprint,
        compose_type: imageType,
        ...(sizeGiB === undefined ? {} : { size: Math.round(sizeGiB * GiB) }),
        ...(atomic && given.length > 0 ? { ostree: Object.fromEntries(given) } : {}),
      });
      props.onStarted(answer.build_id);
    } catch (err) {
      setFailure({
        field: err instanceof ApiFailure ? fieldOfFailure(err) : undefined,
        message: messageOf(err),
      });
    } finally {
      setBusy(false);
    }
  };

  const problemOf = (field: StartField): ReactNode =>
    failure?.field === field ? (
      <FormHelperText>
        <HelperText>
          <HelperTextItem variant="error">{failure.message}</HelperTextItem>
        </HelperText>
      </FormHelperText>
    ) : null;
  const validated = (field: StartField) => (failure?.field === field ? 'error' : 'default');
  const ostreeField = (key: 'ref' | 'parent' | 'url', label: string, hint: string) => (
    <FormGroup label={label} fieldId={`compose-ostree-${key}`}>
      <TextInput
        id={`compose-ostree-${key}`}
        value={ostree[key]}
        validated={validated(key)}
        onChange={(_e, v) => setOstree((o) => ({ ...o, [key]: v }))}
      />
      {problemOf(key) ?? (
        <FormHelperText>
          <HelperText>
            <HelperTextItem>{hint}</HelperTextItem>
          </HelperText>
        </FormHelperText>
      )}
    </FormGroup>
  );

  return (
    <FormDialog
      id="start-compose"
      title="Create image"
      submit="Create"
      variant="medium"
      onSubmit={() => {
        if (!busy && !sizeProblem) void start();
      }}
      onClose={props.onClose}
      busy={busy}
      canSubmit={!busy && blueprint !== '' && imageType !== '' && sizeProblem === undefined}
      notice={
        <>
          {failure && failure.field === undefined && (
            <Alert variant="danger" isInline title="The service refused the compose">
              {failure.message}
            </Alert>
          )}
          {names.error !== undefined && <Alert variant="danger" isInline title={messageOf(names.error)} />}
          {types.error !== undefined && <Alert variant="danger" isInline title={messageOf(types.error)} />}
        </>
      }
    >
      <FormGroup label="Blueprint" fieldId="compose-blueprint" isRequired>
        <FormSelect
          id="compose-blueprint"
          value={blueprint}
          validated={validated('blueprint')}
          isDisabled={props.blueprint !== undefined}
          onChange={(_e, v) => setBlueprint(v)}
        >
          {(names.data ?? []).map((n) => (
            <FormSelectOption key={n} value={n} label={n} />
          ))}
        </FormSelect>
        {problemOf('blueprint')}
      </FormGroup>
      <FormGroup label="Distribution" fieldId="compose-distro">
        <TextInput
          id="compose-distro"
          value={distro || 'the service’s default'}
          validated={validated('distro')}
          readOnlyVariant="default"
        />
        {problemOf('distro') ?? (
          <FormHelperText>
            <HelperText>
              <HelperTextItem>The blueprint’s distribution: change it in the blueprint.</HelperTextItem>
            </HelperText>
          </FormHelperText>
        )}
      </FormGroup>
      <FormGroup label="Image type" fieldId="compose-type" isRequired>
        <FormSelect
          id="compose-type"
          value={imageType}
          validated={validated('compose_type')}
          onChange={(_e, v) => setImageType(v)}
        >
          {(types.data ?? []).map((t) => (
            <FormSelectOption key={t.name} value={t.name} label={t.name} isDisabled={!t.enabled} />
          ))}
        </FormSelect>
        {problemOf('compose_type')}
      </FormGroup>
      <FormGroup label="Image size (GiB)" fieldId="compose-size">
        <TextInput
          id="compose-size"
          type="number"
          value={size}
          validated={sizeProblem || failure?.field === 'size' ? 'error' : 'default'}
          onChange={(_e, v) => setSize(v)}
        />
        {problemOf('size') ?? (
          <FormHelperText>
            <HelperText>
              <HelperTextItem variant={sizeProblem ? 'error' : 'default'}>
                {sizeProblem ?? 'Empty: the image type’s own size.'}
              </HelperTextItem>
            </HelperText>
          </FormHelperText>
        )}
      </FormGroup>
      {atomic && (
        <>
          {ostreeField('ref', 'OSTree ref', 'Empty: the distribution’s default ref.')}
          {ostreeField('parent', 'OSTree parent', 'The commit (or ref) the new commit follows.')}
          {ostreeField('url', 'OSTree repository URL', 'Where the parent is fetched from.')}
        </>
      )}
    </FormDialog>
  );
}
