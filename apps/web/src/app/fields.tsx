/**
 * The inputs of the forms (blueprint editor, sources): each is a PatternFly FormGroup keyed by what
 * it edits, showing the problems found there under it (error helper text, `aria-invalid`, described
 * by it). The form says through FieldErrorsContext which problems a key has and the id of its input.
 */
import {
  FormGroup,
  FormHelperText,
  HelperText,
  HelperTextItem,
  TextArea,
  TextInput,
} from '@patternfly/react-core';
import { createContext, type ReactNode, useContext } from 'react';

export interface FieldErrors {
  /** The problems shown at a field (none until it was changed or a save was tried). */
  errorsOf(key: string): string[];
  /** The field was changed: its problems show from now on. */
  touch(key: string): void;
  /** The id of the field's input (the page's tests find it by it). */
  idOf(key: string): string;
}

export const FieldErrorsContext = createContext<FieldErrors>({
  errorsOf: () => [],
  touch: () => {},
  idOf: (key) => key.replace(/[^A-Za-z0-9_-]/g, '-'),
});

export interface TextFieldProps {
  /** What the field edits: in the blueprint editor its JSON path, dotted (`customizations.hostname`). */
  path: string;
  label: string;
  value: string;
  onChange(value: string): void;
  help?: ReactNode;
  isRequired?: boolean;
  isDisabled?: boolean;
  placeholder?: string;
  type?: 'text' | 'password';
  /** A multi-line input (an SSH key). */
  multiline?: boolean;
  /** The id of a datalist of suggestions. */
  suggestions?: string;
}

export function TextField(props: TextFieldProps) {
  const { errorsOf, touch, idOf } = useContext(FieldErrorsContext);
  const id = idOf(props.path);
  const errors = errorsOf(props.path);
  const invalid = errors.length > 0;
  const helpId = `${id}-help`;
  const hasHelp = invalid || props.help !== undefined;
  const change = (value: string) => {
    touch(props.path);
    props.onChange(value);
  };
  const common = {
    id,
    value: props.value,
    validated: invalid ? ('error' as const) : ('default' as const),
    isRequired: props.isRequired ?? false,
    isDisabled: props.isDisabled ?? false,
    ...(props.placeholder ? { placeholder: props.placeholder } : {}),
    ...(hasHelp ? { 'aria-describedby': helpId } : {}),
  };
  return (
    <FormGroup label={props.label} fieldId={id} isRequired={props.isRequired ?? false}>
      {props.multiline ? (
        <TextArea {...common} onChange={(_e, v) => change(v)} rows={3} resizeOrientation="vertical" />
      ) : (
        <TextInput
          {...common}
          type={props.type ?? 'text'}
          onChange={(_e, v) => change(v)}
          {...(props.suggestions ? { list: props.suggestions } : {})}
          {...(props.type === 'password' ? { autoComplete: 'new-password' } : {})}
        />
      )}
      {hasHelp && (
        <FormHelperText>
          <HelperText id={helpId}>
            {invalid ? (
              errors.map((e) => (
                <HelperTextItem key={e} variant="error">
                  {e}
                </HelperTextItem>
              ))
            ) : (
              <HelperTextItem>{props.help}</HelperTextItem>
            )}
          </HelperText>
        </FormHelperText>
      )}
    </FormGroup>
  );
}

/** Setters for one row of a list held in the form: `row(i).set('name')` gives an onChange. */
export function rowSetter<R>(rows: readonly R[], update: (rows: R[]) => void) {
  return (i: number) => ({
    set:
      <K extends keyof R>(key: K) =>
      (value: R[K]) =>
        update(rows.map((r, j) => (j === i ? { ...r, [key]: value } : r))),
    remove: () => update(rows.filter((_, j) => j !== i)),
  });
}
