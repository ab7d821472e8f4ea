/**
 * The query strings of the SSE and polling routes. `topics` is a comma-separated list (topic
 * patterns contain no commas: keys, paths and event types cannot).
 */
import { z } from 'zod';

const seqSchema = z.coerce
  .number()
  .int('must be a whole number')
  .min(0, 'must be at least 0')
  .max(Number.MAX_SAFE_INTEGER, 'is too large');

/**
 * `?topics=a,b` as a list: 1 to `maxTopics` non-empty entries.
 *
 * @example
 * topicsSchema(50).parse('tasks,kv:pipelines/*'); // ['tasks', 'kv:pipelines/*']
 */
export function topicsSchema(maxTopics: number) {
  return z
    .string({ error: 'is required (a comma-separated list, e.g. topics=tasks,kv:pipelines/*)' })
    .max(16 * 1024, 'is too long')
    .transform((value) => value.split(',').map((topic) => topic.trim()))
    .pipe(
      z
        .array(z.string().min(1, 'must not contain an empty topic'))
        .min(1)
        .max(maxTopics, `must list at most ${maxTopics} topics`),
    );
}

/**
 * `GET <basePath>/events?topics=&after=&limit=` (polling).
 *
 * @example
 * readQuery(c, pollQuerySchema(50));
 */
export function pollQuerySchema(maxTopics: number) {
  return z.strictObject({
    topics: topicsSchema(maxTopics),
    after: seqSchema.optional(),
    limit: z.coerce.number().int('must be a whole number').min(1).max(1000).optional(),
  });
}

/**
 * `GET <basePath>/events/stream?topics=&since=` (SSE; `Last-Event-ID` wins over `since`).
 *
 * @example
 * readQuery(c, streamQuerySchema(50));
 */
export function streamQuerySchema(maxTopics: number) {
  return z.strictObject({ topics: topicsSchema(maxTopics), since: seqSchema.optional() });
}

/**
 * A `Last-Event-ID` header as a seq, `undefined` when absent; anything but a whole number
 * is refused (the server only ever sends seqs as ids).
 *
 * @example
 * lastEventIdSchema.parse('42'); // 42
 */
export const lastEventIdSchema = z
  .string()
  .regex(/^\d{1,16}$/, 'must be the seq of an event this stream sent (a whole number)')
  .transform(Number)
  .optional();
