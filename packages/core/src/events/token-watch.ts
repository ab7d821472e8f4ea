import { effectiveScopes } from '../auth/scopes.js';
import { AUTH_CHANGES_CHANNEL } from '../auth/token-cache.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { AuthStore, Notifier } from '../storage/ports.js';
import type { Subscription } from './subscription.js';

/** Longest setTimeout delay Node accepts. */
const MAX_TIMER_MS = 2_147_483_647;

export interface TokenWatchOptions {
  /** The store itself (not a cache): a re-check must see the change that was announced. */
  auth: AuthStore;
  notifier: Notifier;
  clock: Clock;
  logger: Logger;
  subscriptions: () => Iterable<Subscription>;
}

/**
 * Ends the subscriptions of tokens that stop being valid. Every token revocation, rotation
 * and user change is announced on {@link AUTH_CHANGES_CHANNEL} (on every node, see
 * auth/token-cache.ts); each announcement re-reads the tokens that have subscriptions here:
 * revoked (or their user deleted) → `token_revoked`, expired → `token_expired`, and a changed
 * role narrows the principal's scopes from then on. Expiry also ends them by a timer, and the
 * tailer checks it against the clock before each dispatch.
 *
 * @example
 * const watch = new TokenWatch({ auth: storage.auth, notifier, clock, logger, subscriptions: () => tailer.subscriptions });
 * await watch.start();
 */
export class TokenWatch {
  private unsubscribe: (() => Promise<void>) | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private checking: Promise<void> | undefined;
  private again = false;

  constructor(private readonly options: TokenWatchOptions) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.options.notifier.subscribe(AUTH_CHANGES_CHANNEL, () => this.recheck(), {
      onListen: () => this.recheck(),
    });
  }

  /** Arms the expiry timer of a token with subscriptions. */
  track(tokenId: string, expiresAtMs: number): void {
    if (this.timers.has(tokenId)) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, expiresAtMs - this.options.clock.now().getTime()));
    const timer = setTimeout(() => {
      this.timers.delete(tokenId);
      this.recheck();
    }, delay);
    timer.unref?.();
    this.timers.set(tokenId, timer);
  }

  /** Re-reads every token with subscriptions (coalesced). */
  recheck(): void {
    this.again = true;
    this.checking ??= this.run();
  }

  async stop(): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.unsubscribe?.().catch(() => {});
    await this.checking;
  }

  private async run(): Promise<void> {
    try {
      while (this.again) {
        this.again = false;
        await this.checkAll();
      }
    } catch (error) {
      this.options.logger.error('event subscriptions token check failed', { error: String(error) });
    } finally {
      this.checking = undefined;
    }
  }

  private async checkAll(): Promise<void> {
    const byToken = new Map<string, Subscription[]>();
    for (const subscription of this.options.subscriptions()) {
      const tokenId = subscription.tokenId;
      if (tokenId !== null) byToken.set(tokenId, [...(byToken.get(tokenId) ?? []), subscription]);
    }
    const { auth, clock } = this.options;
    for (const [tokenId, subscriptions] of byToken) {
      const token = await auth.getToken(tokenId);
      const user = token ? await auth.getUser(token.userId) : null;
      const now = clock.now().getTime();
      let reason: 'token_revoked' | 'token_expired' | null = null;
      if (!token || token.revokedAt || !user || user.deletedAt) reason = 'token_revoked';
      else if (token.expiresAt.getTime() <= now) reason = 'token_expired';
      for (const subscription of subscriptions) {
        if (reason) subscription.end(reason);
        else if (token && user && subscription.principal.kind === 'token') {
          subscription.principal = {
            ...subscription.principal,
            role: user.role,
            scopes: effectiveScopes(token.scopes, user.role),
          };
        }
      }
      if (reason) {
        clearTimeout(this.timers.get(tokenId));
        this.timers.delete(tokenId);
      }
    }
  }
}
