/**
 * The wire format, declared here on purpose: the SDK knows only what travels over HTTP, never
 * core's or the Hono app's TypeScript types (SPEC §11, CONVENTIONS "SDK").
 */

/**
 * Any JSON value.
 *
 * @example
 * const value: JsonValue = { build: 42, tags: ['main'], ok: true };
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * One page of a keyset-paginated list. Pass `nextCursor` back as `cursor` for the next page;
 * it is `null` on the last one.
 *
 * @example
 * const page: Page<KvEntry> = await client.kv.list({ prefix: 'pipelines/' });
 */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Options of every paginated list. `limit` defaults to 50 on the server (max 1000).
 *
 * @example
 * await client.tokens.list({ limit: 100, cursor: previous.nextCursor ?? undefined });
 */
export interface PageOptions {
  cursor?: string;
  limit?: number;
}

/**
 * `GET /health`: no authentication needed.
 *
 * @example
 * const { status, version } = await client.health(); // { status: 'ok', version: '0.1.0' }
 */
export interface HealthStatus {
  status: 'ok' | 'degraded' | 'down';
  version: string;
}

/**
 * `GET /api`: the detailed status of the server (needs a token). The server adds detail
 * (database, queues, workers, uptime) as it grows, so unknown fields are kept as they are.
 *
 * @example
 * const status = await client.status();
 * if (status.status !== 'ok') alert(JSON.stringify(status));
 */
export interface ServerStatus {
  status: 'ok' | 'degraded' | 'down';
  version: string;
  [detail: string]: unknown;
}

/**
 * A key-value entry. Times are ISO 8601 UTC strings.
 *
 * @example
 * const entry: KvEntry = await client.kv.get('pipelines/main/status');
 * entry.version; // 3: pass it as `ifVersion` for compare-and-swap
 */
export interface KvEntry {
  key: string;
  value: JsonValue;
  /** 1 on creation, +1 on every write; sent as the ETag. */
  version: number;
  tags: string[];
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * Body of create and upsert.
 *
 * @example
 * await client.kv.upsert({ key: 'build/42', value: { ok: true }, ttlSeconds: 3600, tags: ['ci'] });
 */
export interface KvSetInput {
  key: string;
  value: JsonValue;
  ttlSeconds?: number;
  tags?: string[];
}

/**
 * Body of update. `ttlSeconds` omitted keeps the current expiry and `null` removes it;
 * `tags` omitted keeps the current tags.
 *
 * @example
 * await client.kv.update('build/42', { value: { ok: false }, ttlSeconds: null });
 */
export interface KvUpdateInput {
  value: JsonValue;
  ttlSeconds?: number | null;
  tags?: string[];
}

/**
 * Compare-and-swap: the write happens only if the entry is still at this version
 * (otherwise `PRECONDITION_FAILED`, HTTP 412).
 *
 * @example
 * await client.kv.delete('lock/deploy', { ifVersion: 7 });
 */
export interface KvWriteCondition {
  ifVersion?: number;
}

/**
 * Filters of list, listAll and export.
 *
 * @example
 * await client.kv.list({ prefix: 'pipelines/', tag: 'ci', limit: 100 });
 */
export interface KvFilter {
  /** Only keys starting with this text. */
  prefix?: string;
  /** Only entries carrying this tag. */
  tag?: string;
}

/**
 * Options of a paginated key-value list: filters plus cursor and limit.
 *
 * @example
 * const page = await client.kv.list({ prefix: 'pipelines/', limit: 200 });
 */
export interface KvListOptions extends KvFilter, PageOptions {}

/**
 * One entry to import: the export format. Extra fields of an exported {@link KvEntry}
 * (`version`, `createdAt`, `updatedAt`) are accepted and ignored by the server.
 *
 * @example
 * await client.kv.import([{ key: 'a', value: 1 }, { key: 'b', value: 2, expiresAt: null }]);
 */
export interface KvImportEntry {
  key: string;
  value: JsonValue;
  tags?: string[];
  expiresAt?: string | null;
}

/**
 * What an import did. `skipped` counts entries whose `expiresAt` had already passed.
 *
 * @example
 * const { created, updated, skipped } = await client.kv.import(entries);
 */
export interface KvImportResult {
  created: number;
  updated: number;
  skipped: number;
}

/**
 * Status of an application token.
 *
 * @example
 * const active = (await client.tokens.list()).items.filter((t) => t.status === 'active');
 */
export type TokenStatus = 'active' | 'expired' | 'revoked';

/**
 * An application token as listed: never its secret, only the last four characters.
 *
 * @example
 * const token: ApplicationToken = await client.tokens.get('tok_01J…');
 * console.log(token.name, token.last4, token.status, token.lastUsedAt);
 */
export interface ApplicationToken {
  id: string;
  name: string;
  userId: string;
  last4: string;
  scopes: string[];
  status: TokenStatus;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  revokedAt: string | null;
  rotatedAt: string | null;
  /** While a rotation's grace period runs: when the previous secret stops working. */
  previousSecretExpiresAt: string | null;
}

/**
 * A token with its secret, answered once by create and rotate: store the secret now.
 *
 * @example
 * const { token, secret } = await client.tokens.create({ name: 'ci', expiresInDays: 30, scopes: ['kv:read'] });
 */
export interface IssuedToken {
  token: ApplicationToken;
  secret: string;
}

/**
 * Body of token creation. `scopes` may be narrowed to resources (`kv:write:pipelines/*`).
 *
 * @example
 * await client.tokens.create({ name: 'deploy bot', expiresInDays: 90, scopes: ['kv:read', 'kv:write:deploy/*'] });
 */
export interface CreateTokenInput {
  name: string;
  expiresInDays: number;
  scopes: string[];
}

/**
 * Body of token rotation: the old secret keeps working for `graceSeconds` (0 = stops now).
 *
 * @example
 * const { secret } = await client.tokens.rotate(id, { graceSeconds: 3600 });
 */
export interface RotateTokenInput {
  graceSeconds: number;
}
