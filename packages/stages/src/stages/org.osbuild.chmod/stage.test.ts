import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { moduleSchema, Schema } from '@debian-forge/manifest';
import { metaJsonOf } from '../../shared/define.ts';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import definition from './schema.ts';
import { main } from './stage.ts';

describe('org.osbuild.chmod', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
  });
  afterEach(() => root.cleanup());

  const mode = (p: string) => statSync(join(root.tree, p)).mode & 0o7777;

  it('applies octal and symbolic modes, recursively on request', () => {
    mkdirSync(join(root.tree, 'srv/www'), { recursive: true });
    writeFileSync(join(root.tree, 'srv/www/index.html'), '');
    writeFileSync(join(root.tree, 'tool'), '');
    chmodSync(join(root.tree, 'srv/www/index.html'), 0o666);
    chmodSync(join(root.tree, 'tool'), 0o644);
    main(
      root.args({
        items: {
          '/tool': { mode: 'u+x,g+s' },
          '/srv': { mode: 'go-w', recursive: true },
          '/srv/www': { mode: '0700' },
        },
      }),
    );
    assert.equal(mode('tool'), 0o2744);
    assert.equal(mode('srv/www/index.html'), 0o644);
    assert.equal(mode('srv/www'), 0o700);
  });

  it('follows symbolic links inside the tree only', () => {
    const outside = join(root.dir, 'outside');
    writeFileSync(outside, '');
    chmodSync(outside, 0o644);
    mkdirSync(join(root.tree, root.dir), { recursive: true });
    writeFileSync(join(root.tree, outside), '');
    chmodSync(join(root.tree, outside), 0o644);
    symlinkSync(outside, join(root.tree, 'link'));
    main(root.args({ items: { '/link': { mode: '0600' } } }));
    assert.equal(statSync(outside).mode & 0o777, 0o644);
    assert.equal(statSync(join(root.tree, outside)).mode & 0o777, 0o600);
  });

  it('fails on a missing path or a bad mode', () => {
    assert.throws(() => main(root.args({ items: { '/nope': { mode: '0644' } } })), /does not exist/);
    writeFileSync(join(root.tree, 'f'), '');
    assert.throws(() => main(root.args({ items: { '/f': { mode: 'q+z' } } })), /chmod .* failed/);
  });

  it('accepts only absolute paths without .. as keys', () => {
    const schema = new Schema(
      moduleSchema('Stage', definition.type, undefined, metaJsonOf(definition).schema_2),
    );
    const check = (items: unknown) => schema.validate({ type: definition.type, options: { items } }).valid;
    assert.ok(check({ '/etc/shadow': { mode: '0640' } }));
    assert.ok(!check({ 'etc/shadow': { mode: '0640' } }));
    assert.ok(!check({ '/../etc': { mode: '0640' } }));
    assert.ok(!check({ '/etc': { recursive: true } }));
  });
});
