/**
 * A stage's expected failures: bad options for this tree, a path escaping the tree, a tool that
 * failed. `runStage` prints them as one line and exits non-zero; anything else is a bug and
 * prints its stack.
 */
export class StageError extends Error {
  override readonly name = 'StageError';
}
