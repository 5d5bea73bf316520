/** Parts of a Debian version (Debian policy §5.6.12) the source stages name directories by. */

/** The upstream part of a Debian version: no epoch, no Debian revision. */
export function upstreamVersion(version: string): string {
  const noEpoch = version.replace(/^\d+:/, '');
  const dash = noEpoch.lastIndexOf('-');
  return dash > 0 ? noEpoch.slice(0, dash) : noEpoch;
}
