/**
 * The drizzle schema: the same tables the migrations in `migrations.ts` create. Columns that
 * hold JSON are `jsonb`; keys use the "C" collation so that ordering is bytewise (the same
 * order as the memory adapter's string comparison for ASCII keys) and `LIKE 'prefix%'` can
 * use the primary-key index.
 */
import { index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const time = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const kvEntries = pgTable(
  'kv_entries',
  {
    key: text('key').primaryKey(),
    value: jsonb('value').notNull(),
    version: integer('version').notNull(),
    tags: jsonb('tags').$type<string[]>().notNull(),
    expiresAt: time('expires_at'),
    createdAt: time('created_at').notNull(),
    updatedAt: time('updated_at').notNull(),
  },
  (t) => [index('kv_entries_expires_at_idx').on(t.expiresAt)],
);

export const users = pgTable('users', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  email: text('email').unique(),
  role: text('role', { enum: ['owner', 'member'] }).notNull(),
  createdAt: time('created_at').notNull(),
  deletedAt: time('deleted_at'),
});

export const applicationTokens = pgTable(
  'application_tokens',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    last4: text('last4').notNull(),
    scopes: jsonb('scopes').$type<string[]>().notNull(),
    secretHash: text('secret_hash').notNull().unique(),
    previousSecretHash: text('previous_secret_hash').unique(),
    previousSecretExpiresAt: time('previous_secret_expires_at'),
    createdAt: time('created_at').notNull(),
    expiresAt: time('expires_at').notNull(),
    lastUsedAt: time('last_used_at'),
    lastUsedIp: text('last_used_ip'),
    revokedAt: time('revoked_at'),
    rotatedAt: time('rotated_at'),
  },
  (t) => [index('application_tokens_user_idx').on(t.userId, t.id)],
);
