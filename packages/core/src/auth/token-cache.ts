/**
 * A short-lived cache of successful token lookups in front of an {@link AuthStore}, so that a
 * busy token does not cost a query on every request (the lookup is the only query of a
 * cached read on the key-value hot path).
 *
 * Why it never lets a revoked token through for longer than it takes a notification to travel:
 * - Only successful lookups are cached: unknown or garbled secrets always reach the store.
 * - Every write that can change a cached answer (revoke, rotate, a user's role or deletion)
 *   clears this process's cache before it returns, then publishes on
 *   {@link AUTH_CHANGES_CHANNEL}; every other process clears its cache when that arrives.
 * - The cache serves only while this process is listening on that channel, and is cleared each
 *   time listening (re)starts: notifications sent while a listener was reconnecting are lost.
 * - An entry lives at most `ttlMs`, which bounds staleness if a notification is lost anyway.
 * - Expiry and the rotation grace period are checked against the clock on every use.
 */
import type { Logger } from '../logger.js';
import type { AuthStore, ChangeContext, Notifier, TokenRecord, TokenRotation, UserRecord } from '../storage/ports.js';

export const AUTH_CHANGES_CHANNEL = 'auth_changes';
/** Default lifetime of a cached lookup. */
export const DEFAULT_TOKEN_CACHE_TTL_MS = 2_000;
const MAX_ENTRIES = 10_000;

interface CachedLookup {
  token: TokenRecord;
  user: UserRecord;
  cachedAt: number;
}

export interface TokenCacheOptions {
  store: AuthStore;
  notifier: Notifier;
  logger: Logger;
  /** 0 disables the cache. */
  ttlMs: number;
}

/**
 * @example
 * const auth = new CachingAuthStore({ store: storage.auth, notifier: storage.notifier, logger, ttlMs: 2000 });
 * await auth.start();
 * const found = await auth.findTokenBySecretHash(hash, now); // a query only on a miss
 */
export class CachingAuthStore implements AuthStore {
  private readonly store: AuthStore;
  private readonly entries = new Map<string, CachedLookup>();
  private listening = false;
  /** Bumped on every clear, so a lookup that raced with a change is not cached. */
  private generation = 0;
  private unsubscribe: (() => Promise<void>) | undefined;
  private starting: Promise<void> | undefined;

  constructor(private readonly options: TokenCacheOptions) {
    this.store = options.store;
  }

  /** Starts listening for changes made by other processes; the cache serves only after this. */
  start(): Promise<void> {
    if (this.options.ttlMs <= 0) return Promise.resolve();
    this.starting ??= this.options.notifier
      .subscribe(AUTH_CHANGES_CHANNEL, () => this.clear(), {
        onListen: () => {
          this.clear();
          this.listening = true;
        },
      })
      .then(
        (unsubscribe) => {
          this.unsubscribe = unsubscribe;
        },
        (error: unknown) => {
          // Without the channel, caching would be unsafe across nodes: go on uncached.
          this.options.logger.warn('token cache disabled: cannot listen for token changes', { error: String(error) });
        },
      );
    return this.starting;
  }

  async stop(): Promise<void> {
    await this.starting;
    this.listening = false;
    this.clear();
    await this.unsubscribe?.();
  }

  async findTokenBySecretHash(hash: string, now: Date): Promise<{ token: TokenRecord; user: UserRecord } | null> {
    const cached = this.entries.get(hash);
    if (cached && this.isFresh(cached, hash, now)) return { token: cached.token, user: cached.user };
    if (cached) this.entries.delete(hash);
    const generation = this.generation;
    const found = await this.store.findTokenBySecretHash(hash, now);
    // Cache only if nothing changed during the lookup (a change would have bumped the generation).
    if (found && this.listening && generation === this.generation) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(hash, { ...found, cachedAt: Date.now() });
    }
    return found;
  }

  async touchToken(id: string, at: Date, ip: string | null): Promise<void> {
    await this.store.touchToken(id, at, ip);
    for (const entry of this.entries.values()) {
      if (entry.token.id === id) entry.token = { ...entry.token, lastUsedAt: at, lastUsedIp: ip };
    }
  }

  async revokeToken(id: string, now: Date, change?: ChangeContext): Promise<TokenRecord | null> {
    return this.changed(await this.store.revokeToken(id, now, change));
  }

  async rotateToken(id: string, rotation: TokenRotation, change?: ChangeContext): Promise<TokenRecord | null> {
    return this.changed(await this.store.rotateToken(id, rotation, change));
  }

  async updateUser(id: string, change: Partial<Pick<UserRecord, 'role' | 'deletedAt'>>): Promise<void> {
    await this.store.updateUser(id, change);
    await this.changed(undefined);
  }

  createOwnerIfNone(owner: UserRecord, token: TokenRecord, change?: ChangeContext): Promise<boolean> {
    return this.store.createOwnerIfNone(owner, token, change);
  }

  findOwner(): Promise<UserRecord | null> {
    return this.store.findOwner();
  }

  getUser(id: string): Promise<UserRecord | null> {
    return this.store.getUser(id);
  }

  insertUser(user: UserRecord): Promise<void> {
    return this.store.insertUser(user);
  }

  insertToken(token: TokenRecord, change?: ChangeContext): Promise<void> {
    return this.store.insertToken(token, change);
  }

  getToken(id: string): Promise<TokenRecord | null> {
    return this.store.getToken(id);
  }

  listTokens(query: { userId?: string; afterId?: string; limit: number }): Promise<TokenRecord[]> {
    return this.store.listTokens(query);
  }

  private isFresh(entry: CachedLookup, hash: string, now: Date): boolean {
    if (!this.listening || Date.now() - entry.cachedAt >= this.options.ttlMs) return false;
    if (entry.token.secretHash === hash) return true;
    // Found through the previous secret: valid only while its grace period runs.
    const graceEnd = entry.token.previousSecretExpiresAt;
    return graceEnd !== null && graceEnd.getTime() > now.getTime();
  }

  private clear(): void {
    this.generation++;
    this.entries.clear();
  }

  private async changed<T>(result: T): Promise<T> {
    this.clear();
    try {
      await this.options.notifier.publish(AUTH_CHANGES_CHANNEL, 'changed');
    } catch (error) {
      // Other nodes fall back on the TTL; the write itself has committed and stands.
      this.options.logger.error('could not announce a token change to other nodes', { error: String(error) });
    }
    return result;
  }
}
