/** The auth store's port: users, API tokens and token rotation. */
import type { Role } from '../../auth/types.js';
import type { ChangeContext } from './events.js';

export interface UserRecord {
  id: string;
  name: string;
  email: string | null;
  role: Role;
  createdAt: Date;
  deletedAt: Date | null;
}

export interface TokenRecord {
  id: string;
  name: string;
  userId: string;
  last4: string;
  scopes: string[];
  /** SHA-256 (hex) of the current secret: the secret itself is never stored. */
  secretHash: string;
  previousSecretHash: string | null;
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  revokedAt: Date | null;
  rotatedAt: Date | null;
}

export interface TokenRotation {
  secretHash: string;
  last4: string;
  /** The current hash becomes the previous one, valid until this time (null: drop it). */
  previousSecretExpiresAt: Date | null;
  rotatedAt: Date;
}

export interface AuthStore {
  /** Atomically: when no (non-deleted) owner exists, inserts `owner` and `token`; returns whether it did. */
  createOwnerIfNone(owner: UserRecord, token: TokenRecord, change?: ChangeContext): Promise<boolean>;
  /** The oldest non-deleted owner. */
  findOwner(): Promise<UserRecord | null>;
  getUser(id: string): Promise<UserRecord | null>;
  insertUser(user: UserRecord): Promise<void>;
  /** Changes a user's role or marks it deleted (its tokens stop working at once). */
  updateUser(id: string, change: Partial<Pick<UserRecord, 'role' | 'deletedAt'>>): Promise<void>;
  /** Inserts a token and appends its `token.created` event. */
  insertToken(token: TokenRecord, change?: ChangeContext): Promise<void>;
  /**
   * The token whose current secret hash is `hash`, or whose previous hash is `hash` while
   * `previousSecretExpiresAt > now`, with its creator.
   */
  findTokenBySecretHash(hash: string, now: Date): Promise<{ token: TokenRecord; user: UserRecord } | null>;
  getToken(id: string): Promise<TokenRecord | null>;
  /** Ordered by id; `userId` restricts to one creator. */
  listTokens(query: { userId?: string; afterId?: string; limit: number }): Promise<TokenRecord[]>;
  /**
   * Sets `revokedAt` if not yet set (appending `token.revoked` then); returns the token as
   * stored after, or null if unknown.
   */
  revokeToken(id: string, now: Date, change?: ChangeContext): Promise<TokenRecord | null>;
  /** Replaces the secret of a non-revoked token (appending `token.rotated`); null if unknown or revoked. */
  rotateToken(id: string, rotation: TokenRotation, change?: ChangeContext): Promise<TokenRecord | null>;
  /** Records a use (time and client IP). */
  touchToken(id: string, at: Date, ip: string | null): Promise<void>;
}
