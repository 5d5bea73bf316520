import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StageError } from '../../shared/errors.ts';
import { binaryOnlyEntry, binaryVersion, parseChangelogFields } from './changelog.ts';

const PARSED = `Source: hello
Version: 2.10-3
Distribution: unstable
Urgency: medium
Maintainer: Santiago Vila <sanvila@debian.org>
Timestamp: 1663600000
Date: Mon, 19 Sep 2022 15:06:40 +0000
Closes: 871622
Changes:
 hello (2.10-3) unstable; urgency=medium
`;

describe('org.osbuild.sbuild changelog', () => {
  it('reads the top entry as dpkg-parsechangelog prints it', () => {
    assert.deepEqual(parseChangelogFields(PARSED), {
      source: 'hello',
      version: '2.10-3',
      distribution: 'unstable',
      timestamp: 1663600000,
    });
    assert.throws(() => parseChangelogFields(PARSED.replace('2.10-3', '2.10 3')), StageError);
    assert.throws(() => parseChangelogFields(PARSED.replace(/^Timestamp.*\n/m, '')), /no readable date/);
    assert.throws(() => parseChangelogFields(PARSED.replace('Source: hello', 'Source: ../x')), StageError);
  });

  it('writes the binNMU entry sbuild writes, with the version sbuild gives', () => {
    const top = parseChangelogFields(PARSED);
    const entry = binaryOnlyEntry(top, {
      binnmu: 2,
      message: 'Rebuild against libfoo 2.',
      appendToVersion: '~forge1',
      maintainer: 'Forge Builder <builder@example.org>',
      distribution: 'bookworm',
      timestamp: 0,
      arch: 'amd64',
    });
    assert.equal(
      entry,
      [
        'hello (2.10-3~forge1+b2) bookworm; urgency=low, binary-only=yes',
        '',
        '  * Append ~forge1 to version number; no source changes',
        '  * Binary-only non-maintainer upload for amd64; no source changes.',
        '  * Rebuild against libfoo 2.',
        '',
        ' -- Forge Builder <builder@example.org>  Thu, 01 Jan 1970 00:00:00 +0000',
        '',
        '',
      ].join('\n'),
    );
    assert.equal(binaryVersion('1:2.0-1', { binnmu: 1 }), '1:2.0-1+b1');
    assert.equal(binaryVersion('2.0-1', {}), '2.0-1');
  });
});
