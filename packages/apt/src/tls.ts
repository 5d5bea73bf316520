/**
 * TLS checks turned off for the repositories that ask for it (`verifyTls: false`). sources.list has
 * no per-source option for this; apt reads `Acquire::https::<host>::Verify-Peer` and
 * `Acquire::https::<host>::Verify-Host` (apt-transport-https(1), the host-specific variants), so the
 * switch is per host: every https URI on such a host is fetched without the checks. Downloads made
 * outside apt (the build's curl source) use the same hosts, so both sides agree.
 */
import { AptError, AptErrorCode } from './errors.ts';
import type { Repository } from './sources.ts';

/** The hosts of the https URIs of the repositories with `verifyTls: false`, sorted, each once. */
export function insecureHosts(repositories: readonly Repository[]): string[] {
  const hosts = new Set<string>();
  for (const repo of repositories) {
    if (repo.verifyTls !== false) continue;
    for (const uri of repo.uris) {
      let url: URL;
      try {
        url = new URL(uri);
      } catch {
        continue; // not a URL: apt refuses it on its own, with its message
      }
      if (url.protocol !== 'https:') continue;
      // apt's configuration tree splits names on "::", so an IPv6 literal cannot name a host in it;
      // and the host goes into apt.conf, where a quote or ";" (which URLs allow in host names) would
      // end the setting and start another.
      if (!/^[A-Za-z0-9.-]+$/.test(url.hostname)) {
        throw new AptError(
          AptErrorCode.Sources,
          `repository '${repo.id}': TLS checks can only be turned off for a host name or an IPv4 address, not ${url.hostname}`,
          { repository: repo.id },
        );
      }
      hosts.add(url.hostname);
    }
  }
  return [...hosts].sort();
}

/** apt.conf lines that turn the certificate and host name checks off for those hosts. */
export function tlsConfigLines(repositories: readonly Repository[]): string[] {
  return insecureHosts(repositories).flatMap((host) => [
    `Acquire::https::${host}::Verify-Peer "false";`,
    `Acquire::https::${host}::Verify-Host "false";`,
  ]);
}

/** Whether `url` is an https URL on one of `hosts` (as insecureHosts gives them). */
export function onInsecureHost(url: string, hosts: readonly string[]): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && hosts.includes(u.hostname);
  } catch {
    return false;
  }
}
