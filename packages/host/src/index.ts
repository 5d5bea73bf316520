export { HostError, HostErrorCode } from './errors.ts';
export {
  currentBootId,
  ownStartTime,
  type ProcessIdentity,
  processAlive,
  processGone,
  processIdentity,
  processStartTime,
} from './identity.ts';
export { type HeldLock, type LockMode, lock, tryLock } from './lock.ts';
export {
  type GroupProcess,
  type GroupStartOptions,
  groupAlive,
  pidAlive,
  type RunOptions,
  type RunResult,
  run,
  type Started,
  type StartOptions,
  start,
  startGroup,
  which,
} from './process.ts';
export { type RedisServerOptions, redisServerArgv } from './redis.ts';
