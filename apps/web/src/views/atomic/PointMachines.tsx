/**
 * Where machines get a commit from. The service serves no OSTree repository: a commit is in its
 * compose's commit.tar (an archive repository at repo/), downloaded like any image. The commands
 * are what a person runs to serve it and point a machine at it, said as such.
 */
import { ClipboardCopy, CodeBlock, CodeBlockCode, Content, ExpandableSection } from '@patternfly/react-core';
import { useState } from 'react';
import type { OstreeCommit } from '../../api/atomic.ts';
import { downloadPath } from '../../api/composes.ts';

/** The update remote of an atomic disk (packages/composer's ATOMIC_REMOTE). */
const ATOMIC_REMOTE = 'debian';

/** The service's address as this page reaches it: the page's own origin, except in Cockpit. */
function serviceUrl(): string {
  return 'cockpit' in window ? 'http://FORGE-HOST:PORT' : window.location.origin;
}

export function PointMachines({ refName: name, commit }: { refName: string; commit: OstreeCommit }) {
  const [open, setOpen] = useState(false);
  const url = `${serviceUrl()}${downloadPath(commit.compose, 'image')}`;
  const commands = [
    '# On the machine that serves the updates:',
    `curl -fH "Authorization: Bearer $FORGE_TOKEN" -o commit.tar ${url}`,
    'tar -xf commit.tar          # repo/: an OSTree archive repository holding the commit',
    'ostree --repo=repo summary -u',
    'python3 -m http.server --directory repo 8000   # or any static HTTP server',
    '',
    '# On each machine (a debian-atomic-qcow2 disk built with an ostree url has this remote already):',
    `sudo ostree remote add --force --no-gpg-verify ${ATOMIC_REMOTE} http://UPDATE-HOST:8000/ ${name}`,
    `sudo ostree admin switch ${ATOMIC_REMOTE}:${name}   # later versions: sudo ostree admin upgrade`,
  ].join('\n');
  return (
    <ExpandableSection
      toggleText={open ? 'Hide how to point machines at it' : 'Point machines at it'}
      onToggle={(_e, v) => setOpen(v)}
      isExpanded={open}
    >
      <Content component="p">
        The service does not serve OSTree repositories. The commit {commit.commit} is in the commit.tar of its
        compose, downloaded from:
      </Content>
      <ClipboardCopy
        isReadOnly
        hoverTip="Copy"
        clickTip="Copied"
        textAriaLabel="Commit download URL"
        copyAriaLabel="Copy the commit download URL"
      >
        {url}
      </ClipboardCopy>
      <Content component="p">Serve it yourself and point machines at that server, for example:</Content>
      <CodeBlock>
        <CodeBlockCode>{commands}</CodeBlockCode>
      </CodeBlock>
    </ExpandableSection>
  );
}
