/**
 * Forge priorities and BullMQ's.
 *
 * BullMQ takes priority 0 ("none") before every prioritised job, and among prioritised jobs a LOWER
 * number first (1 is the most urgent, 2,097,152 the largest it accepts). Forge priorities read the
 * other way, as people expect: an integer from 0 to 1000 where a HIGHER number is taken first;
 * equal priorities are taken first come, first served. Weldr composes get DEFAULT_PRIORITY; the
 * Forge API may set any value in the range, also while the job waits.
 *
 * Mapping: bullmq = 1001 - forge, so forge 1000 → bullmq 1 and forge 0 → bullmq 1001. Every Forge
 * job is therefore prioritised in BullMQ (never 0). The workers use BullMQ priority 0 for one thing
 * only: to move the job they chose to the front just before taking it (see worker.ts).
 */
export const MIN_PRIORITY = 0;
export const MAX_PRIORITY = 1000;
/** The priority of a Weldr compose, and of any job that does not name one. */
export const DEFAULT_PRIORITY = 500;

export function toBullPriority(priority: number): number {
  if (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    throw new RangeError(
      `priority must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}, got ${priority}`,
    );
  }
  return MAX_PRIORITY + 1 - priority;
}

export function fromBullPriority(bullPriority: number): number {
  if (!Number.isInteger(bullPriority) || bullPriority < 1 || bullPriority > MAX_PRIORITY + 1) {
    throw new RangeError(`not a Forge job's BullMQ priority: ${bullPriority}`);
  }
  return MAX_PRIORITY + 1 - bullPriority;
}
