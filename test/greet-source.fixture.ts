/**
 * A small local source package made by a test: built by `forge sbuild` (cli-sbuild.test.ts) and
 * through a blueprint in the service (service-source-packages.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A 3.0 (quilt) source `forge-greet` 1.0-1 in `parent`: upstream's script says "hello from
 * upstream", a patch of debian/patches makes it say "hello, patched". Its build dependencies are
 * hello's, so it builds in hello's environment.
 */
export function greetSource(parent: string, change: { buildDepends?: string; rules?: string } = {}): string {
  const tree = join(parent, 'forge-greet-1.0');
  mkdirSync(join(tree, 'debian/source'), { recursive: true });
  mkdirSync(join(tree, 'debian/patches'));
  writeFileSync(join(tree, 'greet'), '#!/bin/sh\necho "hello from upstream"\n');
  chmodSync(join(tree, 'greet'), 0o755);
  writeFileSync(
    join(tree, 'Makefile'),
    'all:\n\ninstall:\n\tinstall -D -m 0755 greet $(DESTDIR)/usr/bin/greet\n',
  );
  const orig = spawnSync('tar', ['-czf', 'forge-greet_1.0.orig.tar.gz', 'forge-greet-1.0'], {
    cwd: parent,
    encoding: 'utf8',
  });
  assert.equal(orig.status, 0, orig.stderr);
  writeFileSync(
    join(tree, 'debian/changelog'),
    'forge-greet (1.0-1) bookworm; urgency=medium\n\n  * Test package.\n\n -- Forge Test <test@example.org>  Tue, 14 Nov 2023 22:13:20 +0000\n',
  );
  writeFileSync(
    join(tree, 'debian/control'),
    [
      'Source: forge-greet',
      'Maintainer: Forge Test <test@example.org>',
      `Build-Depends: ${change.buildDepends ?? 'debhelper-compat (= 13), help2man, texinfo'}`,
      'Standards-Version: 4.6.2',
      '',
      'Package: forge-greet',
      'Architecture: all',
      'Description: greets, as patched',
      ' A test package.',
      '',
    ].join('\n'),
  );
  writeFileSync(join(tree, 'debian/rules'), change.rules ?? '#!/usr/bin/make -f\n%:\n\tdh $@\n');
  chmodSync(join(tree, 'debian/rules'), 0o755);
  writeFileSync(join(tree, 'debian/source/format'), '3.0 (quilt)\n');
  writeFileSync(
    join(tree, 'debian/patches/greet.patch'),
    [
      'Description: greet as patched',
      '--- a/greet',
      '+++ b/greet',
      '@@ -1,2 +1,2 @@',
      ' #!/bin/sh',
      '-echo "hello from upstream"',
      '+echo "hello, patched"',
      '',
    ].join('\n'),
  );
  writeFileSync(join(tree, 'debian/patches/series'), 'greet.patch\n');
  return tree;
}
