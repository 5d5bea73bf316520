import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

const hasSysusers = (() => {
  try {
    execFileSync('systemd-sysusers', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('org.osbuild.systemd-sysusers.d', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  const entries = [
    { type: 'g' as const, name: 'forgegrp', id: '4711' },
    { type: 'u' as const, name: 'forge', id: '4712:4711', gecos: 'Forge daemon', home: '/var/lib/forge' },
    { type: 'm' as const, name: 'forge', id: 'forgegrp' },
    { type: 'r' as const, name: '-', id: '500-900' },
  ];

  it('writes the lines to /usr/lib/sysusers.d by default', () => {
    main(root.args({ config: { filename: 'forge.conf', entries } }));
    assert.equal(
      readFileSync(join(root.tree, 'usr/lib/sysusers.d/forge.conf'), 'utf8'),
      'g forgegrp 4711 - - -\nu forge 4712:4711 "Forge daemon" /var/lib/forge -\nm forge forgegrp - - -\nr - 500-900 - - -\n',
    );
  });

  it('writes to /etc/sysusers.d with path-prefix etc', () => {
    main(
      root.args({
        config: { 'path-prefix': 'etc', filename: 'a.conf', entries: [{ type: 'g', name: 'web' }] },
      }),
    );
    assert.equal(readFileSync(join(root.tree, 'etc/sysusers.d/a.conf'), 'utf8'), 'g web - - - -\n');
  });

  it('gives a file systemd-sysusers applies', { skip: !hasSysusers && 'systemd-sysusers missing' }, () => {
    mkdirSync(join(root.tree, 'etc'));
    main(root.args({ config: { filename: 'forge.conf', entries: entries.slice(0, 3) } }));
    execFileSync('systemd-sysusers', ['--root', root.tree], { stdio: 'inherit' });
    assert.match(readFileSync(join(root.tree, 'etc/passwd'), 'utf8'), /^forge:x:4712:4711:Forge daemon:/m);
    assert.match(readFileSync(join(root.tree, 'etc/group'), 'utf8'), /^forgegrp:x:4711:forge$/m);
  });

  it('rejects entries OSBuild rejects', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ type: 'r', name: 'x', id: '1-2' }, /must be '-' for type 'r'/],
      [{ type: 'u', name: 'x', id: '65535' }, /reserved/],
      [{ type: 'u', name: 'x', id: '1:2:3' }, /invalid format/],
      [{ type: 'r', name: '-', id: 'a-b' }, /invalid format/],
      [{ type: 'm', name: 'x', id: 'Bad Group' }, /group name/],
      [{ type: 'g', name: 'x', gecos: 'not for groups' }, /only type 'u'/],
      [{ type: 'u', name: 'x', gecos: 'a"b' }, /no quotes/],
    ];
    for (const [entry, message] of bad) {
      assert.throws(
        () => main(root.args({ config: { filename: 'x.conf', entries: [entry as never] } })),
        message,
        JSON.stringify(entry),
      );
    }
    assert.throws(
      () => main(root.args({ config: { filename: '../../x.conf', entries: [{ type: 'g', name: 'x' }] } })),
      /must be a file name/,
    );
    assert.equal(existsSync(join(root.tree, 'usr/lib/sysusers.d/x.conf')), false);
  });
});
