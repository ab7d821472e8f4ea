/**
 * Names of what a child creates (PostgreSQL schemas, Redis queues). The parent makes them up
 * and hands them to the child, so it can remove them itself when a child had to be killed.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export function uniqueName(prefix) {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** DROP SCHEMA … CASCADE for each name (quoted; names come from {@link uniqueName}). */
export async function dropSchemas(databaseUrl, schemas) {
  if (schemas.length === 0) return;
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    for (const schema of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** Removes BullMQ queues with all their jobs, even when the child died mid-run. */
export async function removeBullQueues(connection, queues) {
  if (queues.length === 0) return;
  const { Queue } = await import('bullmq');
  for (const name of queues) {
    const queue = new Queue(name, { connection: { ...connection, maxRetriesPerRequest: 1 } });
    try {
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  }
}
