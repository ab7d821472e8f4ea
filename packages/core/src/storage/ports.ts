/**
 * The storage interfaces, one per domain, with just the methods the domain's use cases need.
 * Implementations: memory (`@proserver/core/memory`) and one PostgreSQL implementation used
 * through both the `postgres` driver and PGlite. The current time is always passed in
 * (`now`): stores never read a clock of their own.
 */
import type { Role } from '../auth/types.js';
import type { JsonValue } from '../kv/types.js';

export interface KvRecord {
  key: string;
  value: JsonValue;
  version: number;
  tags: string[];
  expiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface KvWrite {
  key: string;
  value: JsonValue;
  tags: string[];
  expiresAt: Date | null;
}

/** A change to a live entry; `tags`/`expiresAt` undefined keeps the current ones. */
export interface KvChange {
  value: JsonValue;
  tags?: string[];
  expiresAt?: Date | null;
}

export interface KvListQuery {
  prefix?: string;
  tag?: string;
  /** Exclusive lower bound (keyset pagination). */
  afterKey?: string;
  limit: number;
}

/**
 * Every method treats an entry whose `expiresAt <= now` as absent, whether or not it has
 * been swept yet.
 */
export interface KvStore {
  get(key: string, now: Date): Promise<KvRecord | null>;
  /** Inserts (replacing an expired entry); null when a live entry already has the key. */
  insert(entry: KvWrite, now: Date): Promise<KvRecord | null>;
  /** Inserts or replaces; a replaced expired entry starts again at version 1. */
  upsert(entry: KvWrite, now: Date): Promise<KvRecord>;
  /** Changes a live entry (only at `expectedVersion` when given); null when nothing matched. */
  update(key: string, change: KvChange, expectedVersion: number | undefined, now: Date): Promise<KvRecord | null>;
  /** Deletes a live entry (only at `expectedVersion` when given); the deleted record or null. */
  delete(key: string, expectedVersion: number | undefined, now: Date): Promise<KvRecord | null>;
  /**
   * Atomically adds `by`; a missing or expired key is created as `by` (from 0, no tags, no
   * expiry). Null when the live value is not a number.
   */
  increment(key: string, by: number, now: Date): Promise<KvRecord | null>;
  /** Live entries in key order (bytewise; keys are ASCII). */
  list(query: KvListQuery, now: Date): Promise<KvRecord[]>;
  /** Upserts all entries in one transaction: all or nothing. */
  importEntries(entries: readonly KvWrite[], now: Date): Promise<{ created: number; updated: number }>;
  /** Deletes up to `limit` expired entries; returns their keys. */
  deleteExpired(now: Date, limit: number): Promise<string[]>;
}

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
  createOwnerIfNone(owner: UserRecord, token: TokenRecord): Promise<boolean>;
  /** The oldest non-deleted owner. */
  findOwner(): Promise<UserRecord | null>;
  getUser(id: string): Promise<UserRecord | null>;
  insertUser(user: UserRecord): Promise<void>;
  /** Changes a user's role or marks it deleted (its tokens stop working at once). */
  updateUser(id: string, change: Partial<Pick<UserRecord, 'role' | 'deletedAt'>>): Promise<void>;
  insertToken(token: TokenRecord): Promise<void>;
  /**
   * The token whose current secret hash is `hash`, or whose previous hash is `hash` while
   * `previousSecretExpiresAt > now`, with its creator.
   */
  findTokenBySecretHash(hash: string, now: Date): Promise<{ token: TokenRecord; user: UserRecord } | null>;
  getToken(id: string): Promise<TokenRecord | null>;
  /** Ordered by id; `userId` restricts to one creator. */
  listTokens(query: { userId?: string; afterId?: string; limit: number }): Promise<TokenRecord[]>;
  /** Sets `revokedAt` if not yet set; returns the token as stored after, or null if unknown. */
  revokeToken(id: string, now: Date): Promise<TokenRecord | null>;
  /** Replaces the secret of a non-revoked token; null if unknown or revoked. */
  rotateToken(id: string, rotation: TokenRotation): Promise<TokenRecord | null>;
  /** Records a use (time and client IP). */
  touchToken(id: string, at: Date, ip: string | null): Promise<void>;
}

/** All the stores of one backend. `close()` releases its connections. */
export interface Storage {
  readonly kind: 'memory' | 'pglite' | 'postgres';
  readonly kv: KvStore;
  readonly auth: AuthStore;
  /** Throws when the backend cannot answer (used by health checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
