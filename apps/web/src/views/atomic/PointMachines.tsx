/**
 * Where machines get a ref's commits: the service's own OSTree repository (the Forge API's
 * `ostree/repo`, each ref at its newest published commit). Machines reach it on forge serve's TCP
 * listener with the bearer token as the password of the remote's URL; the URL shown has a TOKEN
 * placeholder, never the token this tab holds. In Cockpit the page talks to the unix socket, which
 * has no URL a machine could use: it says where the repository is instead. A ref whose newest
 * commit is not in the repository says so, with the reason the service gives.
 */
import {
  Alert,
  ClipboardCopy,
  CodeBlock,
  CodeBlockCode,
  Content,
  ExpandableSection,
} from '@patternfly/react-core';
import { useState } from 'react';
import { type OstreeRef, shortId } from '../../api/atomic.ts';

/** The update remote of an atomic disk (packages/composer's ATOMIC_REMOTE). */
const ATOMIC_REMOTE = 'debian';

/** The repository's URL for machines: this page's origin with the token as password, except in Cockpit. */
function repositoryUrl(repo: string): string | undefined {
  if ('cockpit' in window) return undefined;
  const { protocol, host } = window.location;
  return `${protocol}//forge:TOKEN@${host}${repo}`;
}

function Publication({ ostreeRef }: { ostreeRef: OstreeRef }) {
  const newest = ostreeRef.commits[0];
  if (!newest || ostreeRef.published) return null;
  const pulled = ostreeRef.head
    ? `Machines pull ${shortId(ostreeRef.head)} meanwhile.`
    : 'Machines find nothing yet.';
  return (
    <Alert variant="warning" isInline isPlain title={`${shortId(newest.commit)} is not in the repository`}>
      {newest.publish_error ?? 'It has not been published (yet).'} {pulled}
    </Alert>
  );
}

export function PointMachines({ ostreeRef, repo }: { ostreeRef: OstreeRef; repo: string }) {
  const [open, setOpen] = useState(false);
  const name = ostreeRef.ref;
  const url = repositoryUrl(repo);
  const commands = [
    `# On each machine (--force replaces the remote a debian-atomic-qcow2 disk comes with):`,
    `sudo ostree remote add --force --no-gpg-verify ${ATOMIC_REMOTE} ${url ?? `http://forge:TOKEN@HOST:PORT${repo}`} ${name}`,
    `sudo ostree admin switch ${ATOMIC_REMOTE}:${name}   # later versions: sudo ostree admin upgrade`,
  ].join('\n');
  return (
    <ExpandableSection
      toggleText={open ? 'Hide how to point machines at it' : 'Point machines at it'}
      onToggle={(_e, v) => setOpen(v)}
      isExpanded={open}
    >
      <Publication ostreeRef={ostreeRef} />
      {url ? (
        <>
          <Content component="p">
            Point machines at the service's OSTree repository, where {name} points at its newest published
            commit. TOKEN is the service's access token (OSTree sends it as the password of the URL):
          </Content>
          <ClipboardCopy
            isReadOnly
            hoverTip="Copy"
            clickTip="Copied"
            textAriaLabel="Repository URL"
            copyAriaLabel="Copy the repository URL"
          >
            {url}
          </ClipboardCopy>
        </>
      ) : (
        <Content component="p">
          This page reaches the service over its unix socket, which machines cannot use. The repository is at{' '}
          <code>{repo}</code> on forge serve's TCP listener (<code>forge serve --listen HOST:PORT</code>),
          with the access token as the password of the URL:
        </Content>
      )}
      <CodeBlock>
        <CodeBlockCode>{commands}</CodeBlockCode>
      </CodeBlock>
    </ExpandableSection>
  );
}
