/**
 * What a build's metadata (per pipeline name, per stage type: BuildResult.metadata, and `metadata`
 * of `forge build --json`) says about what it made. The org.osbuild.ostree.commit stage reports
 * `{compose: {ref, "ostree-commit", …}}`; `forge compose` prints that commit and the worker sends
 * it to the API with the job's result, one reading for both.
 */

const COMMIT_STAGE = 'org.osbuild.ostree.commit';
const CHECKSUM = /^[0-9a-f]{64}$/;

/** The OSTree commit the build made and its ref, or undefined when no stage reported a checksum. */
export function ostreeCommitOf(
  metadata: Record<string, Record<string, unknown>>,
): { id: string; ref: string } | undefined {
  for (const stages of Object.values(metadata)) {
    const compose = (stages[COMMIT_STAGE] as { compose?: unknown } | undefined)?.compose as
      | { 'ostree-commit'?: unknown; ref?: unknown }
      | undefined;
    const id = compose?.['ostree-commit'];
    if (typeof id === 'string' && CHECKSUM.test(id)) {
      return { id, ref: typeof compose?.ref === 'string' ? compose.ref : '' };
    }
  }
  return undefined;
}
