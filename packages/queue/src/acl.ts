/**
 * Redis ACL rules for the users of a Forge deployment (Redis 7; acl.int.test.ts runs the queue on a
 * real redis-server under them): one user per role, the API (`forge serve`) and the workers
 * (`forge worker`), each with its own password, and the `default` user off.
 *
 * Both roles get the same rules, because BullMQ needs the same of both: a worker moves, updates and
 * removes the very job keys the producer writes, so no key pattern or command list can let a worker
 * take jobs without letting it write them. What the rules do keep out is everything beyond the
 * queue: keys outside the deployment's prefix, pub/sub channels, and Redis's dangerous commands
 * (CONFIG, MODULE, DEBUG, KEYS, FLUSHALL, SHUTDOWN, ACL, REPLICAOF, CLIENT KILL …), with which a
 * client could take over the Redis host or wipe other data. INFO (BullMQ reads the server's version
 * and memory policy) and CLIENT SETNAME (BullMQ names its connections) are let back in. Because a
 * worker's user can still write jobs, a worker does not trust what a job says: it builds only the
 * plan the API serves it (see contracts.ts).
 */
import { createHash } from 'node:crypto';
import { DEFAULT_PREFIX } from './options.ts';

/** Keys, channels and commands of a Forge user, for `ACL SETUSER` or an ACL file's `user` line. */
export function redisAclRules(prefix: string = DEFAULT_PREFIX): string {
  return `~${prefix}:* resetchannels +@all -@dangerous +info +client|setname`;
}

/** An ACL file line for one user; the password is kept as its SHA-256 (`#…`), never in clear. */
export function redisAclUser(name: string, password: string, prefix: string = DEFAULT_PREFIX): string {
  const hash = createHash('sha256').update(password).digest('hex');
  return `user ${name} on #${hash} ${redisAclRules(prefix)}`;
}
