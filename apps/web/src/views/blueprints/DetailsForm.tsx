/**
 * The editor's Details tab: name (a new blueprint only: a name is how a blueprint is stored),
 * description, version, distro, the packages and modules with their versions, package groups.
 */
import {
  Button,
  Form,
  FormSection,
  Grid,
  GridItem,
  HelperText,
  HelperTextItem,
  TextInput,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useContext } from 'react';
import { FieldErrorsContext, rowSetter, TextField } from '../../app/fields.tsx';
import { type EditorForm, fieldId, type PackageRow } from './editor-model.ts';
import { type PackageListName, PackageSearch } from './PackageSearch.tsx';

export interface DetailsFormProps {
  form: EditorForm;
  isNew: boolean;
  distros: readonly string[];
  update(change: Partial<EditorForm>): void;
}

export function DetailsForm({ form, isNew, distros, update }: DetailsFormProps) {
  const added = new Set([...form.packages, ...form.modules].map((p) => p.name));
  const add = (list: PackageListName, name: string, version: string) =>
    update({ [list]: [...form[list], { name, version }] });
  return (
    <Form onSubmit={(e) => e.preventDefault()} aria-label="Blueprint details">
      <FormSection title="Blueprint" titleElement="h3">
        <Grid hasGutter md={6}>
          <GridItem>
            <TextField
              path="name"
              label="Name"
              value={form.name}
              onChange={(name) => update({ name })}
              isRequired
              isDisabled={!isNew}
              help={isNew ? 'Letters, digits, ".", "_" and "-".' : 'A saved blueprint keeps its name.'}
            />
          </GridItem>
          <GridItem>
            <TextField
              path="description"
              label="Description"
              value={form.description}
              onChange={(description) => update({ description })}
            />
          </GridItem>
          <GridItem>
            <TextField
              path="version"
              label="Version"
              value={form.version}
              onChange={(version) => update({ version })}
              help={
                isNew
                  ? 'Semantic version (1.0.0).'
                  : 'Left as it was, saving raises the last number (0.0.1 → 0.0.2).'
              }
            />
          </GridItem>
          <GridItem>
            <TextField
              path="distro"
              label="Distribution"
              value={form.distro}
              onChange={(distro) => update({ distro })}
              placeholder="the host's"
              suggestions="bp-distros"
              help={`Empty builds for the host's distribution. Known: ${distros.join(', ') || '…'}`}
            />
          </GridItem>
          <GridItem>
            <TextField
              path="groups"
              label="Package groups"
              value={form.groups}
              onChange={(groups) => update({ groups })}
              help="Names separated by commas."
            />
          </GridItem>
        </Grid>
        <datalist id="bp-distros">
          {distros.map((d) => (
            <option key={d} value={d} />
          ))}
        </datalist>
      </FormSection>
      <FormSection title="Packages" titleElement="h3">
        <PackageSearch added={added} onAdd={add} />
        <PackageTable list="packages" rows={form.packages} update={(packages) => update({ packages })} />
        <PackageTable list="modules" rows={form.modules} update={(modules) => update({ modules })} />
      </FormSection>
    </Form>
  );
}

const TITLES: Record<PackageListName, string> = { packages: 'Packages', modules: 'Modules' };

function PackageTable({
  list,
  rows,
  update,
}: {
  list: PackageListName;
  rows: PackageRow[];
  update(rows: PackageRow[]): void;
}) {
  const { errorsOf, touch } = useContext(FieldErrorsContext);
  const row = rowSetter(rows, update);
  if (rows.length === 0) return null;
  return (
    <Table aria-label={`${TITLES[list]} of the blueprint`} variant="compact">
      <Thead>
        <Tr>
          <Th width={40}>{TITLES[list]}</Th>
          <Th>Version</Th>
          <Th screenReaderText="Actions" />
        </Tr>
      </Thead>
      <Tbody>
        {rows.map((p, i) => {
          const key = `${list}.${i}.version`;
          const errors = [...errorsOf(`${list}.${i}.name`), ...errorsOf(key)];
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: a row's index is its path in the blueprint
            <Tr key={i}>
              <Td dataLabel="Name">{p.name}</Td>
              <Td dataLabel="Version">
                <TextInput
                  id={fieldId(key)}
                  aria-label={`Version of ${p.name}`}
                  value={p.version}
                  validated={errors.length > 0 ? 'error' : 'default'}
                  {...(errors.length > 0 ? { 'aria-describedby': `${fieldId(key)}-help` } : {})}
                  onChange={(_e, v) => {
                    touch(key);
                    row(i).set('version')(v);
                  }}
                />
                {errors.length > 0 && (
                  <HelperText id={`${fieldId(key)}-help`}>
                    {errors.map((e) => (
                      <HelperTextItem key={e} variant="error">
                        {e}
                      </HelperTextItem>
                    ))}
                  </HelperText>
                )}
              </Td>
              <Td dataLabel="Actions" isActionCell>
                <Button variant="link" isDanger aria-label={`Remove ${p.name}`} onClick={row(i).remove}>
                  Remove
                </Button>
              </Td>
            </Tr>
          );
        })}
      </Tbody>
    </Table>
  );
}
