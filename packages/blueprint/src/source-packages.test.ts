/**
 * `[[source_packages]]`: Debian source packages built into the image. Valid entries survive TOML
 * and JSON unchanged; hostile ones are refused with a message naming the entry; diff reports them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffBlueprints } from './diff.ts';
import { formatIssue } from './errors.ts';
import { parseBlueprint, toJson, toToml } from './format.ts';
import { checkBlueprint, validateBlueprint } from './schema.ts';

const TOML = `name = "with-sources"
version = "1.0.0"

[[source_packages]]
name = "hello"
version = "2.10-3"

[[source_packages]]
path = "/srv/src/mytool"
install = ["mytool", "mytool-data"]
`;

function problems(entry: Record<string, unknown>): string[] {
  const r = checkBlueprint({ name: 'x', source_packages: [entry] });
  assert.equal(r.ok, false, `expected ${JSON.stringify(entry)} to be refused`);
  return r.ok ? [] : r.issues.map(formatIssue);
}

describe('blueprint [[source_packages]]', () => {
  it('reads archive and local entries and keeps them through TOML and JSON', () => {
    const bp = parseBlueprint(TOML, 'toml');
    assert.deepEqual(bp.source_packages, [
      { name: 'hello', version: '2.10-3' },
      { path: '/srv/src/mytool', install: ['mytool', 'mytool-data'] },
    ]);
    assert.deepEqual(parseBlueprint(toToml(bp), 'toml'), bp);
    assert.deepEqual(parseBlueprint(toJson(bp), 'json'), bp);
    assert.equal(validateBlueprint({ name: 'x' }).source_packages, undefined, 'absent unless given');
  });

  it('refuses hostile entries, naming each', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ name: 'hello', path: '/srv/hello' }, /source package "hello": give exactly one of "name"/],
      [{}, /give exactly one of "name" \(from the archive\) or "path"/],
      [{ install: ['x1'] }, /give exactly one of/],
      [{ path: 'src/mytool' }, /source package at "src\/mytool": "src\/mytool" is not an absolute path/],
      [{ path: '/srv/../etc' }, /source package at "\/srv\/..\/etc": .* must be canonical/],
      [{ path: '/srv//x' }, /must be canonical/],
      [{ path: '/' }, /not "\/" itself/],
      [{ path: '/srv/x\ny' }, /holds a control character/],
      [{ path: '/srv/x', version: '1.0' }, /source package at "\/srv\/x": a local source has the version/],
      [{ name: 'hello', version: '2.10 3' }, /source package "hello": "2.10 3" is not a Debian version/],
      [{ name: 'hello', version: '>= 2' }, /is not a Debian version \(an exact one/],
      [{ name: 'hello', version: '' }, /"" is not a Debian version/],
      [{ name: 'Hello' }, /source package "Hello": not a Debian source package name/],
      [{ name: 'hel*' }, /not a Debian source package name/],
      [{ name: '-rf' }, /not a Debian source package name/],
      [
        { name: 'hello', install: ['Hello', '../x', 'ok-name'] },
        /"Hello" is not a Debian binary package name/,
      ],
      [{ name: 'hello', install: ['--purge'] }, /"--purge" is not a Debian binary package name/],
      [{ name: 'hello', install: [] }, /"install" must name a package when given/],
      [{ name: 'hello', install: 'hello' }, /expected a list/],
      [{ name: 'hello', arch: 'amd64' }, /unknown key "arch"/],
      [{ name: 7 }, /expected a string, got an integer/],
    ];
    for (const [entry, expected] of cases) {
      const said = problems(entry);
      assert.ok(
        said.some((p) => expected.test(p)),
        `${JSON.stringify(entry)}: ${said.join('; ')}`,
      );
      assert.ok(
        said.every((p) => p.startsWith('.source_packages[0]')),
        `the problem is at the entry: ${said.join('; ')}`,
      );
    }
    const two = problems({ name: 'hello', install: ['A', 'ok', 'C'] });
    assert.equal(two.length, 2, 'every bad install name is named');
  });

  it('diffs entries by name or path', () => {
    const old = parseBlueprint(TOML, 'toml');
    const next = validateBlueprint({
      name: 'with-sources',
      version: '1.0.0',
      source_packages: [{ name: 'hello', version: '2.10-2' }, { path: '/srv/src/other' }],
    });
    assert.deepEqual(diffBlueprints(old, next), [
      { old: null, new: { SourcePackage: { path: '/srv/src/other' } } },
      { old: { SourcePackage: { path: '/srv/src/mytool', install: ['mytool', 'mytool-data'] } }, new: null },
      {
        old: { SourcePackage: { name: 'hello', version: '2.10-3' } },
        new: { SourcePackage: { name: 'hello', version: '2.10-2' } },
      },
    ]);
  });
});
