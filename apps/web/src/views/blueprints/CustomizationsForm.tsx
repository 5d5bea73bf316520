/**
 * The editor's Customizations tab: the settings of the image a person most often sets, as forms
 * (hostname, users, groups, services, firewall, time, locale, kernel command line, filesystems).
 * Lists of words (ports, services, NTP servers…) are typed in one input, separated by commas.
 */
import {
  Button,
  Card,
  CardBody,
  CardHeader,
  CardTitle,
  Form,
  FormSection,
  Grid,
  GridItem,
} from '@patternfly/react-core';
import { PlusCircleIcon } from '@patternfly/react-icons';
import type { ReactNode } from 'react';
import { rowSetter, TextField } from '../../app/fields.tsx';
import { type EditorForm, emptyUser, type UserRow } from './editor-model.ts';

export interface CustomizationsFormProps {
  form: EditorForm;
  update(change: Partial<EditorForm>): void;
}

const C = 'customizations';
const LIST_HELP = 'Separated by commas.';

/** A field holding one string of the form. */
interface PlainField {
  key: { [K in keyof EditorForm]: EditorForm[K] extends string ? K : never }[keyof EditorForm];
  path: string;
  label: string;
  placeholder?: string;
  help?: string;
}

const SYSTEM: PlainField[] = [
  { key: 'hostname', path: `${C}.hostname`, label: 'Hostname', placeholder: 'debian' },
  {
    key: 'kernelAppend',
    path: `${C}.kernel.append`,
    label: 'Kernel command line (appended)',
    placeholder: 'console=ttyS0',
  },
  { key: 'timezone', path: `${C}.timezone.timezone`, label: 'Time zone', placeholder: 'Europe/Berlin' },
  { key: 'ntpServers', path: `${C}.timezone.ntpservers`, label: 'NTP servers', help: LIST_HELP },
  {
    key: 'languages',
    path: `${C}.locale.languages`,
    label: 'Languages',
    placeholder: 'en_US.UTF-8',
    help: LIST_HELP,
  },
  { key: 'keyboard', path: `${C}.locale.keyboard`, label: 'Keyboard', placeholder: 'us' },
];

const SERVICES: PlainField[] = [
  {
    key: 'servicesEnabled',
    path: `${C}.services.enabled`,
    label: 'Services enabled',
    placeholder: 'sshd',
    help: LIST_HELP,
  },
  { key: 'servicesDisabled', path: `${C}.services.disabled`, label: 'Services disabled', help: LIST_HELP },
  {
    key: 'firewallPorts',
    path: `${C}.firewall.ports`,
    label: 'Firewall ports',
    placeholder: '22:tcp, 8000-8080:tcp',
    help: 'PORT:PROTOCOL, PORT-PORT:PROTOCOL or SERVICE:PROTOCOL, separated by commas.',
  },
  {
    key: 'firewallEnabled',
    path: `${C}.firewall.services.enabled`,
    label: 'Firewall services allowed',
    placeholder: 'ssh, https',
    help: LIST_HELP,
  },
  {
    key: 'firewallDisabled',
    path: `${C}.firewall.services.disabled`,
    label: 'Firewall services refused',
    help: LIST_HELP,
  },
];

function FieldGrid({ fields, form, update }: CustomizationsFormProps & { fields: PlainField[] }) {
  return (
    <Grid hasGutter md={6}>
      {fields.map((f) => (
        <GridItem key={f.key}>
          <TextField
            path={f.path}
            label={f.label}
            value={form[f.key]}
            onChange={(value) => update({ [f.key]: value })}
            {...(f.placeholder ? { placeholder: f.placeholder } : {})}
            {...(f.help ? { help: f.help } : {})}
          />
        </GridItem>
      ))}
    </Grid>
  );
}

export function CustomizationsForm({ form, update }: CustomizationsFormProps) {
  return (
    <Form onSubmit={(e) => e.preventDefault()} aria-label="Customizations">
      <FormSection title="System" titleElement="h3">
        <FieldGrid fields={SYSTEM} form={form} update={update} />
      </FormSection>

      <FormSection title="Users" titleElement="h3">
        {form.users.map((u, i) => (
          <UserCard
            // biome-ignore lint/suspicious/noArrayIndexKey: a row's index is its path in the blueprint
            key={i}
            index={i}
            user={u}
            users={form.users}
            update={(users) => update({ users })}
          />
        ))}
        <AddButton onClick={() => update({ users: [...form.users, emptyUser()] })}>Add user</AddButton>
      </FormSection>

      <FormSection title="Groups" titleElement="h3">
        <PairRows
          path={`${C}.group`}
          noun="group"
          rows={form.userGroups}
          update={(userGroups) => update({ userGroups })}
          fields={[
            { key: 'name', label: 'Group name' },
            { key: 'gid', label: 'GID' },
          ]}
          empty={{ name: '', gid: '' }}
        />
      </FormSection>

      <FormSection title="Services and firewall" titleElement="h3">
        <FieldGrid fields={SERVICES} form={form} update={update} />
      </FormSection>

      <FormSection title="Filesystems" titleElement="h3">
        <PairRows
          path={`${C}.filesystem`}
          noun="filesystem"
          rows={form.filesystems}
          update={(filesystems) => update({ filesystems })}
          fields={[
            { key: 'mountpoint', label: 'Mount point' },
            { key: 'minsize', label: 'Minimum size', help: 'Bytes, or e.g. "2 GiB".' },
          ]}
          empty={{ mountpoint: '', minsize: '' }}
        />
      </FormSection>
    </Form>
  );
}

function UserCard({
  index,
  user,
  users,
  update,
}: {
  index: number;
  user: UserRow;
  users: UserRow[];
  update(users: UserRow[]): void;
}) {
  const row = rowSetter(users, update)(index);
  const path = (f: string) => `${C}.user.${index}.${f}`;
  return (
    <Card isCompact>
      <CardHeader
        actions={{
          actions: <RemoveButton label={`Remove user ${user.name || index + 1}`} onClick={row.remove} />,
        }}
      >
        <CardTitle>User {user.name || index + 1}</CardTitle>
      </CardHeader>
      <CardBody>
        <Grid hasGutter md={4}>
          <GridItem>
            <TextField
              path={path('name')}
              label="User name"
              value={user.name}
              onChange={row.set('name')}
              isRequired
            />
          </GridItem>
          <GridItem>
            <TextField
              path={path('description')}
              label="Full name"
              value={user.description}
              onChange={row.set('description')}
            />
          </GridItem>
          <GridItem>
            <TextField
              path={path('password')}
              label="Password"
              type="password"
              value={user.password}
              onChange={row.set('password')}
              help={
                user.storedPassword ? (
                  <>
                    A password is set; a new one replaces it.{' '}
                    <Button variant="link" isInline onClick={() => row.set('storedPassword')('')}>
                      Remove it
                    </Button>
                  </>
                ) : (
                  'Sent once to the service, which stores only its hash.'
                )
              }
            />
          </GridItem>
          <GridItem md={12}>
            <TextField
              path={path('key')}
              label="SSH public key"
              value={user.key}
              onChange={row.set('key')}
              multiline
              placeholder="ssh-ed25519 AAAA… user@host"
            />
          </GridItem>
          <GridItem>
            <TextField
              path={path('groups')}
              label="Groups"
              value={user.groups}
              onChange={row.set('groups')}
              placeholder="sudo"
              help={LIST_HELP}
            />
          </GridItem>
          <GridItem>
            <TextField
              path={path('home')}
              label="Home directory"
              value={user.home}
              onChange={row.set('home')}
              placeholder={`/home/${user.name || 'name'}`}
            />
          </GridItem>
          <GridItem>
            <TextField
              path={path('shell')}
              label="Shell"
              value={user.shell}
              onChange={row.set('shell')}
              placeholder="/bin/bash"
            />
          </GridItem>
          <GridItem>
            <TextField path={path('uid')} label="UID" value={user.uid} onChange={row.set('uid')} />
          </GridItem>
          <GridItem>
            <TextField path={path('gid')} label="GID" value={user.gid} onChange={row.set('gid')} />
          </GridItem>
        </Grid>
      </CardBody>
    </Card>
  );
}

/** Rows of two fields each (a group's name and GID, a filesystem's mount point and size). */
function PairRows<R extends Record<string, string>>(props: {
  path: string;
  noun: string;
  rows: R[];
  update(rows: R[]): void;
  fields: [PairField<R>, PairField<R>];
  empty: R;
}) {
  const row = rowSetter(props.rows, props.update);
  return (
    <>
      {props.rows.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a row's index is its path in the blueprint
        <Grid hasGutter md={5} key={i}>
          {props.fields.map((f) => (
            <GridItem key={String(f.key)}>
              <TextField
                path={`${props.path}.${i}.${String(f.key)}`}
                label={f.label}
                value={r[f.key] ?? ''}
                onChange={row(i).set(f.key)}
                {...(f.help ? { help: f.help } : {})}
              />
            </GridItem>
          ))}
          <GridItem md={2}>
            <RemoveButton
              label={`Remove ${props.noun} ${r[props.fields[0].key] || i + 1}`}
              onClick={row(i).remove}
            />
          </GridItem>
        </Grid>
      ))}
      <AddButton onClick={() => props.update([...props.rows, props.empty])}>Add {props.noun}</AddButton>
    </>
  );
}

interface PairField<R> {
  key: keyof R & string;
  label: string;
  help?: string;
}

function AddButton({ onClick, children }: { onClick(): void; children: ReactNode }) {
  return (
    <div>
      <Button variant="link" icon={<PlusCircleIcon />} onClick={onClick}>
        {children}
      </Button>
    </div>
  );
}

function RemoveButton({ label, onClick }: { label: string; onClick(): void }) {
  return (
    <Button variant="link" isDanger aria-label={label} onClick={onClick}>
      Remove
    </Button>
  );
}
