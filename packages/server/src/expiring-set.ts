/**
 * A bounded set of keys that expire: used for DPoP `jti` replay detection. When full it evicts the
 * entries nearest to expiry first (insertion order approximates that, since windows are equal).
 */
export class ExpiringSet {
  private readonly entries = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** False when the key is present and unexpired (a replay); else remembers it until `expiresAt` (ms). */
  add(key: string, expiresAt: number): boolean {
    const now = Date.now();
    const existing = this.entries.get(key);
    if (existing !== undefined && existing > now) return false;
    if (this.entries.size >= this.max) this.sweep(now);
    this.entries.set(key, expiresAt);
    return true;
  }

  private sweep(now: number): void {
    for (const [key, expiry] of this.entries) {
      if (expiry <= now || this.entries.size >= this.max) this.entries.delete(key);
      else break;
    }
  }
}

/** A bounded cache with per-entry expiry (PoE verdicts, release verdicts). */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expiresAt: Date.now() + ttlMs });
  }
}
