/**
 * `@eventbus/test-redis`: throw-away `redis-server` processes for tests and
 * benchmarks, alone ({@link startRedisServer}) or as a Redis Cluster
 * ({@link startRedisCluster}). Each server runs on a free port of 127.0.0.1
 * with persistence off and its own temporary directory, is stopped by its
 * pid, and never touches a Redis the machine already runs.
 */
export {
  type ClusterNode,
  type RedisCluster,
  type RedisClusterOptions,
  type Reply,
  ReplyError,
  startRedisCluster,
} from "./cluster.js";
export { type RedisServer, type RedisServerOptions, startRedisServer } from "./server.js";
