import { TOKEN_EVENTS, tokenEvent } from '../../auth/token-events.js';
import { SYSTEM_CHANGE } from '../change-context.js';
import type { AuthStore, ChangeContext, TokenRecord, TokenRotation, UserRecord } from '../ports.js';
import { MemoryEventLog } from './event-log.js';

const copyUser = (user: UserRecord): UserRecord => ({ ...user });
const copyToken = (token: TokenRecord): TokenRecord => ({ ...token, scopes: [...token.scopes] });

/**
 * Users and application tokens in process memory. Every method completes its check-and-write
 * without an `await` in between, which makes it as atomic as the PostgreSQL transaction; the
 * unique secret hashes are enforced like the database's unique constraints. Token changes
 * append their events to the shared event log in the same step.
 *
 * @example
 * const store = new MemoryAuthStore();
 * await store.createOwnerIfNone(owner, token);
 */
export class MemoryAuthStore implements AuthStore {
  private readonly users = new Map<string, UserRecord>();
  private readonly tokens = new Map<string, TokenRecord>();

  constructor(private readonly log: MemoryEventLog = new MemoryEventLog()) {}

  async createOwnerIfNone(
    owner: UserRecord,
    token: TokenRecord,
    change: ChangeContext = SYSTEM_CHANGE,
  ): Promise<boolean> {
    if (this.liveOwner()) return false;
    this.assertUniqueHashes(token);
    this.users.set(owner.id, copyUser(owner));
    this.tokens.set(token.id, copyToken(token));
    this.log.append([tokenEvent(change, TOKEN_EVENTS.created, token, token.createdAt)]);
    return true;
  }

  async findOwner(): Promise<UserRecord | null> {
    const owner = this.liveOwner();
    return owner ? copyUser(owner) : null;
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const user = this.users.get(id);
    return user ? copyUser(user) : null;
  }

  /**
   * Adds a user (not part of the AuthStore port yet: the users domain will own it; the
   * contract suite uses it to create members).
   */
  async insertUser(user: UserRecord): Promise<void> {
    if (this.users.has(user.id)) throw new Error(`duplicate user id ${user.id}`);
    this.users.set(user.id, copyUser(user));
  }

  /** Changes a user's role or marks it deleted (test support until the users domain exists). */
  async updateUser(id: string, change: Partial<Pick<UserRecord, 'role' | 'deletedAt'>>): Promise<void> {
    const user = this.users.get(id);
    if (user) this.users.set(id, { ...user, ...change });
  }

  async insertToken(token: TokenRecord, change: ChangeContext = SYSTEM_CHANGE): Promise<void> {
    if (this.tokens.has(token.id)) throw new Error(`duplicate token id ${token.id}`);
    if (!this.users.has(token.userId)) throw new Error(`token ${token.id} references unknown user ${token.userId}`);
    this.assertUniqueHashes(token);
    this.tokens.set(token.id, copyToken(token));
    this.log.append([tokenEvent(change, TOKEN_EVENTS.created, token, token.createdAt)]);
  }

  async findTokenBySecretHash(hash: string, now: Date): Promise<{ token: TokenRecord; user: UserRecord } | null> {
    for (const token of this.tokens.values()) {
      const current = token.secretHash === hash;
      const previous =
        token.previousSecretHash === hash &&
        token.previousSecretExpiresAt !== null &&
        token.previousSecretExpiresAt.getTime() > now.getTime();
      if (!current && !previous) continue;
      const user = this.users.get(token.userId);
      return user ? { token: copyToken(token), user: copyUser(user) } : null;
    }
    return null;
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const token = this.tokens.get(id);
    return token ? copyToken(token) : null;
  }

  async listTokens(query: { userId?: string; afterId?: string; limit: number }): Promise<TokenRecord[]> {
    return [...this.tokens.values()]
      .filter((t) => query.userId === undefined || t.userId === query.userId)
      .filter((t) => query.afterId === undefined || t.id > query.afterId)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, query.limit)
      .map(copyToken);
  }

  async revokeToken(id: string, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TokenRecord | null> {
    const token = this.tokens.get(id);
    if (!token) return null;
    if (!token.revokedAt) {
      token.revokedAt = now;
      this.log.append([tokenEvent(change, TOKEN_EVENTS.revoked, token, now)]);
    }
    return copyToken(token);
  }

  async rotateToken(
    id: string,
    rotation: TokenRotation,
    change: ChangeContext = SYSTEM_CHANGE,
  ): Promise<TokenRecord | null> {
    const token = this.tokens.get(id);
    if (!token || token.revokedAt) return null;
    const keepPrevious = rotation.previousSecretExpiresAt !== null;
    const next: TokenRecord = {
      ...token,
      secretHash: rotation.secretHash,
      last4: rotation.last4,
      previousSecretHash: keepPrevious ? token.secretHash : null,
      previousSecretExpiresAt: rotation.previousSecretExpiresAt,
      rotatedAt: rotation.rotatedAt,
    };
    this.assertUniqueHashes(next, id);
    this.tokens.set(id, next);
    this.log.append([tokenEvent(change, TOKEN_EVENTS.rotated, next, rotation.rotatedAt)]);
    return copyToken(next);
  }

  async touchToken(id: string, at: Date, ip: string | null): Promise<void> {
    const token = this.tokens.get(id);
    // Like the SQL guard: a late write from an earlier request never moves the time backwards.
    if (!token || (token.lastUsedAt !== null && token.lastUsedAt.getTime() > at.getTime())) return;
    token.lastUsedAt = at;
    token.lastUsedIp = ip;
  }

  private liveOwner(): UserRecord | undefined {
    let oldest: UserRecord | undefined;
    for (const user of this.users.values()) {
      if (user.role !== 'owner' || user.deletedAt) continue;
      if (
        !oldest ||
        user.createdAt < oldest.createdAt ||
        (+user.createdAt === +oldest.createdAt && user.id < oldest.id)
      ) {
        oldest = user;
      }
    }
    return oldest;
  }

  /** The database's UNIQUE constraints on secret_hash and previous_secret_hash. */
  private assertUniqueHashes(token: TokenRecord, ignoreId?: string): void {
    for (const other of this.tokens.values()) {
      if (other.id === ignoreId || other.id === token.id) continue;
      const clash =
        other.secretHash === token.secretHash ||
        (token.previousSecretHash !== null && other.previousSecretHash === token.previousSecretHash);
      if (clash) throw new Error('duplicate application token secret hash');
    }
  }
}
