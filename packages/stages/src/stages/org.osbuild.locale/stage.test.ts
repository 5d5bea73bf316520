import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

describe('org.osbuild.locale', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  it('writes LANG to /etc/locale.conf and /etc/default/locale, replacing what is there', () => {
    mkdirSync(join(root.tree, 'etc/default'), { recursive: true });
    writeFileSync(join(root.tree, 'etc/default/locale'), 'LANG=C.UTF-8\nLC_TIME=C\n');
    symlinkSync('default/locale', join(root.tree, 'etc/locale.conf'));
    main(root.args({ language: 'de_DE.UTF-8' }));
    assert.equal(readFileSync(join(root.tree, 'etc/locale.conf'), 'utf8'), 'LANG=de_DE.UTF-8\n');
    assert.ok(lstatSync(join(root.tree, 'etc/locale.conf')).isFile());
    assert.equal(readFileSync(join(root.tree, 'etc/default/locale'), 'utf8'), 'LANG=de_DE.UTF-8\n');
  });

  it('rejects names that are not one safe path component', () => {
    for (const bad of ['', '..', 'en_US/UTF-8', 'en_US.UTF-8\nLC_ALL=C', 'a"b']) {
      assert.throws(() => main(root.args({ language: bad })), /not a valid locale name/, JSON.stringify(bad));
    }
  });
});
