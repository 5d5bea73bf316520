/**
 * The blueprint editor's form model without a browser: the document a form makes (what the editor
 * does not show kept), problems placed at the fields by the API's schema and by the API's answer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBlueprint } from '@debian-forge/blueprint/schema';
import {
  documentOf,
  emptyForm,
  emptyUser,
  fieldKeys,
  formOf,
  issuesOfApiError,
  placeIssues,
} from '../apps/web/src/views/blueprints/editor-model.ts';

const stored = checkBlueprint({
  name: 'web',
  description: 'a server',
  version: '1.2.3',
  packages: [{ name: 'nginx', version: '1.22*' }, { name: 'curl' }],
  customizations: {
    hostname: 'web1',
    kernel: { name: 'linux-image-amd64', append: 'quiet' },
    user: [{ name: 'alice', password: '$6$abc$def', expiredate: 20000, groups: ['sudo'] }],
    firewall: { ports: ['22:tcp'], zones: [{ name: 'public' }] },
    files: [{ path: '/etc/motd', data: 'hello' }],
    filesystem: [{ mountpoint: '/var', minsize: '2 GiB' }],
  },
});

test('a stored blueprint round-trips through the form, keeping what the form does not edit', () => {
  assert.ok(stored.ok);
  const bp = stored.blueprint;
  const form = formOf(bp);
  assert.equal(form.filesystems[0]?.minsize, '2 GiB');
  assert.equal(form.users[0]?.password, '', 'the hash is not put in the password input');
  const again = checkBlueprint(documentOf(form, { ...bp }));
  assert.ok(again.ok, JSON.stringify(!again.ok && again.issues));
  assert.deepEqual(again.blueprint, bp);
});

test('lists are typed with commas or spaces; empty inputs leave their keys out', () => {
  const form = {
    ...emptyForm(),
    name: 'x',
    firewallPorts: '22:tcp,  80:tcp 443:tcp',
    users: [{ ...emptyUser(), name: 'bob', uid: '1001' }],
  };
  const doc = documentOf(form);
  assert.deepEqual(doc.customizations, {
    user: [{ name: 'bob', uid: 1001 }],
    firewall: { ports: ['22:tcp', '80:tcp', '443:tcp'] },
  });
  assert.deepEqual(documentOf({ ...emptyForm(), name: 'x' }).customizations, undefined);
});

test("the schema's problems go to their fields; an item of a list to the list's input", () => {
  const form = {
    ...emptyForm(),
    name: 'bad name',
    hostname: 'a b',
    firewallPorts: '22:tcp, 99999:tcp',
    users: [{ ...emptyUser(), name: '-x', uid: 'abc' }],
  };
  const r = checkBlueprint(documentOf(form));
  assert.ok(!r.ok);
  const { byField, rest } = placeIssues(r.issues, fieldKeys(form));
  assert.deepEqual([...byField.keys()].sort(), [
    'customizations.firewall.ports',
    'customizations.hostname',
    'customizations.user.0.name',
    'customizations.user.0.uid',
    'name',
  ]);
  assert.match(byField.get('customizations.firewall.ports')?.[0] ?? '', /99999:tcp/);
  assert.deepEqual(rest, []);
});

test("the API's refusal is split into problems by the paths it names", () => {
  assert.deepEqual(
    issuesOfApiError(
      'BlueprintsError',
      '.customizations.hostname: invalid hostname "a b": dot-separated labels; .packages[1].version: bad; .x: y',
    ),
    [
      { path: ['customizations', 'hostname'], message: 'invalid hostname "a b": dot-separated labels' },
      { path: ['packages', 1, 'version'], message: 'bad' },
      { path: ['x'], message: 'y' },
    ],
  );
  assert.deepEqual(
    issuesOfApiError('BlueprintsError', "'debian-99' is not a valid distribution (architecture 'x')"),
    [{ path: ['distro'], message: "'debian-99' is not a valid distribution (architecture 'x')" }],
  );
  assert.deepEqual(issuesOfApiError('InvalidChars', 'Invalid characters in API path'), [
    { path: ['name'], message: 'Invalid characters in API path' },
  ]);
  assert.deepEqual(issuesOfApiError('BlueprintsError', 'Missing blueprint'), [
    { path: [], message: 'Missing blueprint' },
  ]);
  const placed = placeIssues(
    [{ path: ['customizations', 'files', 0, 'path'], message: 'm' }],
    fieldKeys(emptyForm()),
  );
  assert.deepEqual(
    placed.rest,
    [{ path: ['customizations', 'files', 0, 'path'], message: 'm' }],
    'no field: shown at the top',
  );
});
