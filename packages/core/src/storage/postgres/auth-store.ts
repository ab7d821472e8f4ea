import { and, asc, eq, gt, isNull, or, type SQL, sql } from 'drizzle-orm';
import { TOKEN_EVENTS, tokenEvent } from '../../auth/token-events.js';
import type { Role } from '../../auth/types.js';
import { SYSTEM_CHANGE } from '../change-context.js';
import type { AuthStore, ChangeContext, TokenRecord, TokenRotation, UserRecord } from '../ports.js';
import type { PgDb } from './db.js';
import { appendEvents } from './event-append.js';
import { applicationTokens, users } from './schema.js';
import { timestamptz, toDate, toDateOrNull } from './sql-helpers.js';

/** Any fixed number, distinct from the migration lock: serialises first-start bootstraps. */
const BOOTSTRAP_LOCK_KEY = 7_301_030;

type UserRow = typeof users.$inferSelect;
type TokenRow = typeof applicationTokens.$inferSelect;

function toUserRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role: row.role as Role,
    createdAt: toDate(row.createdAt),
    deletedAt: toDateOrNull(row.deletedAt),
  };
}

function toTokenRecord(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    userId: row.userId,
    last4: row.last4,
    scopes: [...row.scopes],
    secretHash: row.secretHash,
    previousSecretHash: row.previousSecretHash,
    previousSecretExpiresAt: toDateOrNull(row.previousSecretExpiresAt),
    createdAt: toDate(row.createdAt),
    expiresAt: toDate(row.expiresAt),
    lastUsedAt: toDateOrNull(row.lastUsedAt),
    lastUsedIp: row.lastUsedIp,
    revokedAt: toDateOrNull(row.revokedAt),
    rotatedAt: toDateOrNull(row.rotatedAt),
  };
}

/**
 * The token lookup runs on every request, so its two queries are built once (drizzle prepared
 * queries with placeholders) rather than on each call. The current hash is probed first (one
 * unique-index lookup, the usual case); only on a miss is a rotated-out secret still in its
 * grace period looked for. (A single query with OR costs a BitmapOr over both indexes.)
 */
function prepareTokenLookup(db: PgDb, which: 'current' | 'previous') {
  const t = applicationTokens;
  const where =
    which === 'current'
      ? eq(t.secretHash, sql.placeholder('hash'))
      : and(
          eq(t.previousSecretHash, sql.placeholder('hash')),
          gt(t.previousSecretExpiresAt, sql`${sql.placeholder('now')}::timestamptz`),
        );
  return db
    .select({ token: t, user: users })
    .from(t)
    .innerJoin(users, eq(users.id, t.userId))
    .where(where)
    .limit(1)
    .prepare(`auth_token_by_${which}_hash`);
}

const liveOwner: SQL = and(eq(users.role, 'owner'), isNull(users.deletedAt)) as SQL;

/**
 * Users and application tokens on PostgreSQL (either driver). The `scopes` column holds a
 * JSON array of strings, which drizzle's jsonb mapping round-trips faithfully, so the query
 * builder is used throughout.
 *
 * @example
 * const store = new PgAuthStore(db);
 * const found = await store.findTokenBySecretHash(hashTokenSecret(bearer), new Date());
 */
export class PgAuthStore implements AuthStore {
  private readonly byCurrentHash;
  private readonly byPreviousHash;

  constructor(private readonly db: PgDb) {
    this.byCurrentHash = prepareTokenLookup(db, 'current');
    this.byPreviousHash = prepareTokenLookup(db, 'previous');
  }

  async createOwnerIfNone(
    owner: UserRecord,
    token: TokenRecord,
    change: ChangeContext = SYSTEM_CHANGE,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // Two processes starting on an empty database would both see "no owner" under READ
      // COMMITTED and both insert one. The transaction-scoped advisory lock makes the
      // check-then-insert run one at a time; the second sees the first's committed owner.
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY})`);
      const existing = await tx.select({ id: users.id }).from(users).where(liveOwner).limit(1);
      if (existing.length > 0) return false;
      await tx.insert(users).values(owner);
      await tx.insert(applicationTokens).values(token);
      await appendEvents(tx, [tokenEvent(change, TOKEN_EVENTS.created, token, token.createdAt)]);
      return true;
    });
  }

  async findOwner(): Promise<UserRecord | null> {
    const rows = await this.db
      .select()
      .from(users)
      .where(liveOwner)
      .orderBy(asc(users.createdAt), asc(users.id))
      .limit(1);
    return rows[0] ? toUserRecord(rows[0]) : null;
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const rows = await this.db.select().from(users).where(eq(users.id, id)).limit(1);
    return rows[0] ? toUserRecord(rows[0]) : null;
  }

  /**
   * Adds a user (not part of the AuthStore port yet: the users domain will own it; the
   * contract suite uses it to create members).
   */
  async insertUser(user: UserRecord): Promise<void> {
    await this.db.insert(users).values(user);
  }

  /** Changes a user's role or marks it deleted (test support until the users domain exists). */
  async updateUser(id: string, change: Partial<Pick<UserRecord, 'role' | 'deletedAt'>>): Promise<void> {
    if (Object.keys(change).length === 0) return;
    await this.db.update(users).set(change).where(eq(users.id, id));
  }

  async insertToken(token: TokenRecord, change: ChangeContext = SYSTEM_CHANGE): Promise<void> {
    // Token writes are rare: a plain transaction carries the change and its event.
    await this.db.transaction(async (tx) => {
      await tx.insert(applicationTokens).values(token);
      await appendEvents(tx, [tokenEvent(change, TOKEN_EVENTS.created, token, token.createdAt)]);
    });
  }

  async findTokenBySecretHash(hash: string, now: Date): Promise<{ token: TokenRecord; user: UserRecord } | null> {
    const byCurrent = await this.byCurrentHash.execute({ hash });
    const rows = byCurrent.length > 0 ? byCurrent : await this.byPreviousHash.execute({ hash, now: now.toISOString() });
    const row = rows[0];
    return row ? { token: toTokenRecord(row.token), user: toUserRecord(row.user) } : null;
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const rows = await this.db.select().from(applicationTokens).where(eq(applicationTokens.id, id)).limit(1);
    return rows[0] ? toTokenRecord(rows[0]) : null;
  }

  async listTokens(query: { userId?: string; afterId?: string; limit: number }): Promise<TokenRecord[]> {
    const t = applicationTokens;
    const rows = await this.db
      .select()
      .from(t)
      .where(
        and(
          query.userId === undefined ? undefined : eq(t.userId, query.userId),
          query.afterId === undefined ? undefined : gt(t.id, query.afterId),
        ),
      )
      .orderBy(asc(t.id))
      .limit(query.limit);
    return rows.map(toTokenRecord);
  }

  async revokeToken(id: string, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TokenRecord | null> {
    const t = applicationTokens;
    return this.db.transaction(async (tx) => {
      // Only the first revocation writes (and is announced); revoking again returns the token
      // as it is, with its first revocation time.
      const revoked = await tx
        .update(t)
        .set({ revokedAt: now })
        .where(and(eq(t.id, id), isNull(t.revokedAt)))
        .returning();
      if (revoked[0]) {
        const record = toTokenRecord(revoked[0]);
        await appendEvents(tx, [tokenEvent(change, TOKEN_EVENTS.revoked, record, now)]);
        return record;
      }
      const rows = await tx.select().from(t).where(eq(t.id, id)).limit(1);
      return rows[0] ? toTokenRecord(rows[0]) : null;
    });
  }

  async rotateToken(
    id: string,
    rotation: TokenRotation,
    change: ChangeContext = SYSTEM_CHANGE,
  ): Promise<TokenRecord | null> {
    const t = applicationTokens;
    // In an UPDATE every right-hand side reads the row as it was, so `secret_hash` here is the
    // old secret's hash, moved to previous_secret_hash in the same statement as the new one lands.
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .update(t)
        .set({
          previousSecretHash: rotation.previousSecretExpiresAt === null ? null : sql`${t.secretHash}`,
          previousSecretExpiresAt: rotation.previousSecretExpiresAt,
          secretHash: rotation.secretHash,
          last4: rotation.last4,
          rotatedAt: rotation.rotatedAt,
        })
        .where(and(eq(t.id, id), isNull(t.revokedAt)))
        .returning();
      if (!rows[0]) return null;
      const record = toTokenRecord(rows[0]);
      await appendEvents(tx, [tokenEvent(change, TOKEN_EVENTS.rotated, record, rotation.rotatedAt)]);
      return record;
    });
  }

  async touchToken(id: string, at: Date, ip: string | null): Promise<void> {
    const t = applicationTokens;
    // The guard keeps a late write from an earlier request from moving the time backwards.
    await this.db
      .update(t)
      .set({ lastUsedAt: at, lastUsedIp: ip })
      .where(and(eq(t.id, id), or(isNull(t.lastUsedAt), sql`${t.lastUsedAt} <= ${timestamptz(at)}`)));
  }
}
