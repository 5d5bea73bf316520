/**
 * `describeManifest` + `pyDumps` print exactly what `osbuild --inspect` printed (osbuild 191 on
 * Debian 12, see `oracle-cases.fixture.ts`), byte for byte, and the host runner is named as OSBuild
 * names it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeManifest,
  detectRunner,
  getPipeline,
  hostRunnerName,
  loadManifest,
  parseManifestText,
  pyDumps,
  runnerFor,
} from './index.ts';
import * as cases from './oracle-cases.fixture.ts';

/** The runner OSBuild 191 names for the host on Debian 12 (and 13): its `runners/org.osbuild.debian`. */
const DEBIAN_RUNNER = 'org.osbuild.debian';

function inspect(text: string): string {
  const manifest = loadManifest(parseManifestText(text));
  return pyDumps(describeManifest(manifest, { hostRunner: DEBIAN_RUNNER }));
}

describe('inspect output', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(`equals osbuild --inspect for ${name}`, () => {
      assert.equal(inspect(c.manifest), c.inspect);
    });
  }

  it('names the runner of the last of several build pipelines with the same id', () => {
    const manifest = loadManifest(parseManifestText(cases.SAME_ID_RUNNERS.manifest));
    const os = getPipeline(manifest, 'os');
    assert.ok(os);
    assert.equal(runnerFor(manifest, os, DEBIAN_RUNNER), 'org.osbuild.centos9');
  });
});

describe('host runner', () => {
  const osRelease = (id: string, version?: string) =>
    `NAME="Some OS"\nID=${id}\n${version === undefined ? '' : `VERSION_ID="${version}"\n`}`;

  it('derives org.osbuild.<ID><VERSION_ID> from os-release, dots removed', () => {
    assert.equal(hostRunnerName(osRelease('debian', '12')), 'org.osbuild.debian12');
    assert.equal(hostRunnerName(osRelease('rhel', '9.4')), 'org.osbuild.rhel94');
    assert.equal(hostRunnerName(osRelease('arch')), 'org.osbuild.arch');
    assert.equal(hostRunnerName(''), 'org.osbuild.linux');
  });

  it("picks OSBuild's runner: same distribution, highest version not above the host's", () => {
    const detect = (id: string, version?: string) => detectRunner(hostRunnerName(osRelease(id, version)));
    assert.equal(detect('debian', '12'), DEBIAN_RUNNER);
    assert.equal(detect('debian', '13'), DEBIAN_RUNNER);
    assert.equal(detect('fedora', '41'), 'org.osbuild.fedora38');
    assert.equal(detect('fedora', '37'), 'org.osbuild.fedora30');
    assert.equal(detect('rhel', '9.4'), 'org.osbuild.rhel82');
    assert.equal(detect('rhel', '8.1'), 'org.osbuild.rhel81');
    assert.equal(detect('ubuntu', '24.04'), 'org.osbuild.ubuntu1804');
    assert.equal(detect('arch'), 'org.osbuild.arch');
    assert.equal(detect('rhel', '6'), undefined);
    assert.equal(detect('plan9', '4'), undefined);
  });

  it('picks among the runners it is given', () => {
    assert.equal(
      detectRunner('org.osbuild.debian13', ['org.osbuild.debian12', 'org.osbuild.debian']),
      'org.osbuild.debian12',
    );
  });
});
