import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { createClient } from 'redis';

type RedisClient = ReturnType<typeof createClient>;
import { CosignkitError, type Logger } from '@cosignkit/core';
import type { Plan } from './config.js';
import { overQuota, unavailable } from './problem.js';

export interface QuotaState {
  plan: string;
  qps: number;
  /** Requests left in the current one-second window. */
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

type Limiter = Pick<RateLimiterAbstract, 'consume'>;

/**
 * Plan quotas: QPS (with an optional burst allowance) in a shared store, so replicas on one Redis hold one
 * quota; concurrency per replica (an in-flight count is meaningless across a crash, so it stays local).
 * Without Redis the store is this process's memory.
 */
export class QuotaEnforcer {
  private readonly limiters = new Map<string, Limiter>();
  private readonly inFlight = new Map<string, number>();

  private constructor(
    private readonly plans: Record<string, Plan>,
    private readonly redis: RedisClient | undefined,
  ) {
    for (const [name, plan] of Object.entries(plans)) this.limiters.set(name, this.limiterFor(name, plan));
  }

  static async create(plans: Record<string, Plan>, store: string, logger: Logger): Promise<QuotaEnforcer> {
    if (store === 'memory') return new QuotaEnforcer(plans, undefined);
    const client: RedisClient = createClient({
      url: store,
      socket: { connectTimeout: 5000, reconnectStrategy: (n) => Math.min(n * 100, 2000) },
    });
    // Errors while reconnecting are reported by readiness; logging each one would flood the log.
    let reported = false;
    client.on('error', (error: Error) => {
      if (!reported) logger.warn('quota store: redis connection error', { error: error.message });
      reported = true;
    });
    client.on('ready', () => {
      reported = false;
    });
    try {
      await client.connect();
    } catch (error) {
      throw new CosignkitError(
        'BACKEND_UNAVAILABLE',
        `quota store ${redactUrl(store)} cannot be reached: ${(error as Error).message}`,
      );
    }
    return new QuotaEnforcer(plans, client as unknown as RedisClient);
  }

  get ready(): boolean {
    return this.redis === undefined || this.redis.isReady;
  }

  /** Takes one request from the tenant's QPS quota, or throws 429 with Retry-After (503 if the store is down). */
  async consume(tenant: string, planName: string): Promise<QuotaState> {
    const plan = this.plans[planName]!;
    const limiter = this.limiters.get(planName)!;
    try {
      const res = await limiter.consume(`${planName}:${tenant}`, 1);
      const main = Array.isArray(res) ? res[0] : res;
      return {
        plan: planName,
        qps: plan.qps,
        remaining: Math.max(0, main?.remainingPoints ?? 0),
        resetMs: main?.msBeforeNext ?? 0,
      };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        throw overQuota(`plan ${planName} allows ${plan.qps} signatures per second`, rejection.msBeforeNext / 1000);
      }
      throw unavailable('the quota store cannot be reached');
    }
  }

  /** Takes a concurrency slot; the returned function gives it back. */
  acquire(tenant: string, planName: string): () => void {
    const plan = this.plans[planName]!;
    const key = `${planName}:${tenant}`;
    const now = this.inFlight.get(key) ?? 0;
    if (now >= plan.concurrency)
      throw overQuota(`plan ${planName} allows ${plan.concurrency} concurrent signatures`, 1);
    this.inFlight.set(key, now + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(key);
      else this.inFlight.set(key, left);
    };
  }

  async close(): Promise<void> {
    if (this.redis?.isOpen) await this.redis.quit().catch(() => undefined);
  }

  private limiterFor(name: string, plan: Plan): Limiter {
    const make = (points: number, duration: number, prefix: string): RateLimiterAbstract =>
      this.redis
        ? new RateLimiterRedis({
            storeClient: this.redis,
            useRedisPackage: true,
            points,
            duration,
            keyPrefix: prefix,
            rejectIfRedisNotReady: true,
          })
        : new RateLimiterMemory({ points, duration, keyPrefix: prefix });
    const perSecond = make(plan.qps, 1, `cosignkit-qps-${name}`);
    if (plan.burst <= 0) return perSecond;
    return new BurstyRateLimiter(perSecond, make(plan.burst, plan.burstWindowSeconds, `cosignkit-burst-${name}`));
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://…';
  }
}
