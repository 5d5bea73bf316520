import { z } from 'zod';
import { defineStage } from '../../shared/define.ts';
import { deployment } from '../../shared/ostree.ts';

export const options = z.strictObject({
  deployment: deployment.describe('the deployment whose stateroot /var is filled'),
});

export default defineStage({
  type: 'org.osbuild.ostree.fillvar',
  summary: 'Pre-populate /var directory for a given stateroot.',
  description: [
    'Fills the /var of the deployment’s stateroot (ostree/deploy/<osname>/var) as the booted system',
    'would see it first, the way OSBuild (after anaconda and Fedora CoreOS) does: /var/lib and /var/log',
    'are created, then each of /var/home, roothome, lib/dpkg, opt, srv, usrlocal, mnt, media, spool and',
    'spool/mail that does not exist yet is created from the commit’s own tmpfiles.d by',
    '`systemd-tmpfiles --create --boot --root=<deployment> --prefix=/var/…` (exit status 65, lines',
    'ignored, is accepted). OSBuild’s list names lib/rpm; a Debian commit keeps its package database at',
    'lib/dpkg (a link that org.osbuild.ostree.preptree writes into tmpfiles.d). The stateroot /var is',
    'bind-mounted on the deployment’s /var in a mount namespace of its own while tmpfiles runs.',
  ],
  options,
});
