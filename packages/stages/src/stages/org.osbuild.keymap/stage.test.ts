import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main } from './stage.ts';

describe('org.osbuild.keymap', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());
  const read = (p: string) => readFileSync(join(root.tree, p), 'utf8');

  it('writes vconsole.conf anew, with the font when given', () => {
    mkdirSync(join(root.tree, 'etc'));
    writeFileSync(join(root.tree, 'etc/vconsole.conf'), 'KEYMAP=us\nFONT=old\n');
    main(root.args({ keymap: 'de-latin1', font: 'eurlatgr' }));
    assert.equal(read('etc/vconsole.conf'), 'KEYMAP=de-latin1\nFONT=eurlatgr\n');
    main(root.args({ keymap: 'fr' }));
    assert.equal(read('etc/vconsole.conf'), 'KEYMAP=fr\n');
    assert.equal(existsSync(join(root.tree, 'etc/default/keyboard')), false);
  });

  it('configures X11 and creates /etc/default/keyboard with Debian defaults', () => {
    main(root.args({ keymap: 'de', 'x11-keymap': { layouts: ['de', 'us'] } }));
    const xorg = read('etc/X11/xorg.conf.d/00-keyboard.conf');
    assert.match(xorg, /Section "InputClass"/);
    assert.match(xorg, /Option "XkbLayout" "de,us"/);
    const kb = read('etc/default/keyboard');
    assert.match(kb, /^XKBLAYOUT="de,us"$/m);
    assert.match(kb, /^XKBMODEL="pc105"$/m);
  });

  it('updates only XKBLAYOUT in an existing /etc/default/keyboard', () => {
    mkdirSync(join(root.tree, 'etc/default'), { recursive: true });
    writeFileSync(
      join(root.tree, 'etc/default/keyboard'),
      'XKBMODEL="pc104"\nXKBLAYOUT="us"\nXKBVARIANT=""\nXKBOPTIONS="ctrl:nocaps"\n',
    );
    main(root.args({ keymap: 'fr', 'x11-keymap': { layouts: ['fr'] } }));
    assert.equal(
      read('etc/default/keyboard'),
      'XKBMODEL="pc104"\nXKBLAYOUT="fr"\nXKBVARIANT=""\nXKBOPTIONS="ctrl:nocaps"\n',
    );
  });

  it('rejects unsafe names', () => {
    assert.throws(() => main(root.args({ keymap: 'us\nFONT=x' })), /not a valid keymap/);
    assert.throws(() => main(root.args({ keymap: '../us' })), /not a valid keymap/);
    assert.throws(() => main(root.args({ keymap: 'us', font: 'a"b' })), /not a valid font/);
    assert.throws(
      () => main(root.args({ keymap: 'us', 'x11-keymap': { layouts: ['us,de'] } })),
      /not a valid keyboard layout/,
    );
    assert.equal(existsSync(join(root.tree, 'etc/vconsole.conf')), false);
  });
});
