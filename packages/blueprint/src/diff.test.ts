import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepEqual, diffBlueprints, diffLists, diffResponse } from './diff.ts';
import { parseBlueprint } from './format.ts';
import { validateBlueprint } from './schema.ts';

const OLD = validateBlueprint({
  name: 'web',
  description: 'Web server',
  version: '0.0.1',
  packages: [{ name: 'nginx', version: '*' }, { name: 'curl' }, { name: 'vim' }],
  modules: [{ name: 'tmux' }],
  groups: [{ name: 'base' }],
  customizations: {
    hostname: 'web',
    user: [{ name: 'alice', groups: ['sudo'] }, { name: 'bob' }],
    sshkey: [{ user: 'root', key: 'ssh-ed25519 OLD' }],
    services: { enabled: ['nginx'] },
    timezone: { timezone: 'UTC' },
  },
});

describe('diffBlueprints', () => {
  it('reports nothing for equal blueprints', () => {
    assert.deepEqual(diffBlueprints(OLD, OLD), []);
    assert.deepEqual(diffResponse(OLD, structuredClone(OLD)), { diff: [] });
  });

  it('reports package changes in Weldr shape: added, removed, changed', () => {
    const NEW = {
      ...OLD,
      packages: [
        { name: 'nginx', version: '>= 1.22' },
        { name: 'vim' },
        { name: 'apache2' },
        { name: 'less' },
      ],
    };
    assert.deepEqual(diffResponse(OLD, NEW), {
      diff: [
        { old: null, new: { Package: { name: 'apache2' } } },
        { old: null, new: { Package: { name: 'less' } } },
        { old: { Package: { name: 'curl' } }, new: null },
        {
          old: { Package: { name: 'nginx', version: '*' } },
          new: { Package: { name: 'nginx', version: '>= 1.22' } },
        },
      ],
    });
  });

  it('reports description, version, modules, groups in lorax order', () => {
    const NEW = {
      ...OLD,
      description: 'Web server, updated',
      version: '0.0.2',
      modules: [],
      groups: [{ name: 'base' }, { name: 'web-server' }],
      packages: [...OLD.packages, { name: 'apache2' }],
    };
    assert.deepEqual(diffBlueprints(OLD, NEW), [
      { old: { Description: 'Web server' }, new: { Description: 'Web server, updated' } },
      { old: { Version: '0.0.1' }, new: { Version: '0.0.2' } },
      { old: { Module: { name: 'tmux' } }, new: null },
      { old: null, new: { Package: { name: 'apache2' } } },
      { old: null, new: { Group: { name: 'web-server' } } },
    ]);
  });

  it('sorts names ignoring case', () => {
    const NEW = {
      ...OLD,
      groups: [...OLD.groups, { name: 'zsh-tools' }, { name: 'Admin' }, { name: 'mail' }],
    };
    assert.deepEqual(
      diffBlueprints(OLD, NEW).map((d) => d.new?.Group),
      [{ name: 'Admin' }, { name: 'mail' }, { name: 'zsh-tools' }],
    );
  });

  it('reports customizations by key: added, removed, changed, lists item by item', () => {
    const NEW = parseBlueprint(`
name = "web"
description = "Web server"
version = "0.0.1"

[[packages]]
name = "nginx"
version = "*"
[[packages]]
name = "curl"
[[packages]]
name = "vim"
[[modules]]
name = "tmux"
[[groups]]
name = "base"

[customizations]
hostname = "web2"

[[customizations.user]]
name = "alice"
groups = ["sudo", "adm"]

[[customizations.user]]
name = "carol"

[[customizations.sshkey]]
user = "root"
key = "ssh-ed25519 OLD"

[customizations.services]
enabled = ["nginx"]

[customizations.firewall]
ports = ["80:tcp"]
`);
    assert.deepEqual(diffBlueprints(OLD, NEW), [
      { old: null, new: { 'Customizations.firewall': { ports: ['80:tcp'] } } },
      { old: { 'Customizations.timezone': { timezone: 'UTC' } }, new: null },
      { old: { 'Customizations.hostname': 'web' }, new: { 'Customizations.hostname': 'web2' } },
      { old: null, new: { 'Customizations.user': { name: 'carol' } } },
      { old: { 'Customizations.user': { name: 'bob' } }, new: null },
      {
        old: { 'Customizations.user': { name: 'alice', groups: ['sudo'] } },
        new: { 'Customizations.user': { name: 'alice', groups: ['sudo', 'adm'] } },
      },
    ]);
  });

  it('reports customizations added to a blueprint that had none', () => {
    const bare = validateBlueprint({ name: 'web' });
    const NEW = validateBlueprint({
      name: 'web',
      customizations: { hostname: 'h', kernel: { append: 'quiet' } },
    });
    assert.deepEqual(diffBlueprints(bare, NEW), [
      { old: null, new: { 'Customizations.hostname': 'h' } },
      { old: null, new: { 'Customizations.kernel': { append: 'quiet' } } },
    ]);
    assert.deepEqual(diffBlueprints(NEW, bare), [
      { old: { 'Customizations.hostname': 'h' }, new: null },
      { old: { 'Customizations.kernel': { append: 'quiet' } }, new: null },
    ]);
  });

  it('matches ssh keys by user and filesystems by mount point', () => {
    const a = validateBlueprint({
      name: 'x',
      customizations: {
        sshkey: [{ user: 'root', key: 'k1' }],
        filesystem: [{ mountpoint: '/var', minsize: 1 }],
      },
    });
    const b = validateBlueprint({
      name: 'x',
      customizations: {
        sshkey: [{ user: 'root', key: 'k2' }],
        filesystem: [{ mountpoint: '/var', minsize: 2 }],
      },
    });
    assert.deepEqual(diffBlueprints(a, b), [
      {
        old: { 'Customizations.filesystem': { mountpoint: '/var', minsize: 1 } },
        new: { 'Customizations.filesystem': { mountpoint: '/var', minsize: 2 } },
      },
      {
        old: { 'Customizations.sshkey': { user: 'root', key: 'k1' } },
        new: { 'Customizations.sshkey': { user: 'root', key: 'k2' } },
      },
    ]);
  });
});

describe('helpers', () => {
  it('diffLists keys items by the given field', () => {
    assert.deepEqual(diffLists('Group', 'name', [{ name: 'a' }], [{ name: 'b' }]), [
      { old: null, new: { Group: { name: 'b' } } },
      { old: { Group: { name: 'a' } }, new: null },
    ]);
  });

  it('deepEqual ignores key order and undefined members', () => {
    assert.equal(deepEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }), true);
    assert.equal(deepEqual({ a: 1, x: undefined }, { a: 1 }), true);
    assert.equal(deepEqual([1, 2], [2, 1]), false);
    assert.equal(deepEqual({ a: [] }, { a: {} }), false);
  });
});
