import { matchesPattern, scopeProblem } from '../auth/scopes.js';
import { type FieldError, ProServerError } from '../errors.js';
import type { EventFilter } from '../storage/ports.js';

/** At most this many topics per subscription or read. */
export const MAX_TOPICS = 100;
const MAX_TOPIC_LENGTH = 600;
const TASK_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A parsed topic: which event types it covers and, optionally, which subjects. */
interface Topic {
  /** Events whose type starts with this (`task.`) or, for `events:`, matches `typePattern`. */
  typePrefix: string | null;
  typePattern: string | null;
  /** Exact subject (`task:<id>`) or subject glob (`kv:<pattern>`). */
  subject: string | null;
  subjectPattern: string | null;
}

/** Topic prefixes naming a resource pattern, and the event types they cover. */
const PATTERN_TOPICS: Record<string, string> = { kv: 'kv.', docs: 'doc.', locks: 'lock.' };

function parseTopic(topic: unknown): Topic | string {
  if (typeof topic !== 'string' || topic.length === 0) return 'a topic is a non-empty string';
  if (topic.length > MAX_TOPIC_LENGTH) return `a topic is at most ${MAX_TOPIC_LENGTH} characters`;
  if (topic === 'tasks') return { typePrefix: 'task.', typePattern: null, subject: null, subjectPattern: null };
  if (topic === 'tokens') return { typePrefix: 'token.', typePattern: null, subject: null, subjectPattern: null };
  const colon = topic.indexOf(':');
  if (colon <= 0) return `unknown topic ${JSON.stringify(topic.slice(0, 64))}`;
  const kind = topic.slice(0, colon);
  const rest = topic.slice(colon + 1);
  if (kind === 'task') {
    if (!TASK_ID.test(rest)) return 'task:<id> needs a task id';
    return { typePrefix: 'task.', typePattern: null, subject: rest, subjectPattern: null };
  }
  const patternProblem = (pattern: string) =>
    // The scope syntax is the one glob of the platform: reuse its validation.
    scopeProblem(`kv:read:${pattern}`);
  if (kind === 'events') {
    const problem = patternProblem(rest);
    if (problem) return problem;
    return { typePrefix: null, typePattern: rest, subject: null, subjectPattern: null };
  }
  const typePrefix = PATTERN_TOPICS[kind];
  if (typePrefix === undefined) return `unknown topic kind ${JSON.stringify(kind.slice(0, 32))}`;
  const problem = patternProblem(rest);
  if (problem) return problem;
  return { typePrefix, typePattern: null, subject: null, subjectPattern: rest };
}

function topicMatches(topic: Topic, type: string, subject: string): boolean {
  if (topic.typePrefix !== null && !type.startsWith(topic.typePrefix)) return false;
  if (topic.typePattern !== null && !matchesPattern(topic.typePattern, type)) return false;
  if (topic.subject !== null && subject !== topic.subject) return false;
  if (topic.subjectPattern !== null && !matchesPattern(topic.subjectPattern, subject)) return false;
  return true;
}

/** A validated list of topics. */
export interface TopicSet {
  readonly topics: readonly string[];
  /** Whether an event of this type and subject is covered by any topic. */
  matches(event: { type: string; subject: string }): boolean;
  /** A storage prefilter equivalent to (or wider than) {@link TopicSet.matches}. */
  readonly filter: EventFilter | undefined;
}

/**
 * Validates and compiles subscription topics (SPEC §4): `tasks`, `task:<id>`, `tokens`,
 * `kv:<pattern>`, `docs:<pattern>`, `locks:<pattern>`, `events:<type pattern>`. Patterns use
 * the scope glob (`*` within a `/` segment, `**` across). `VALIDATION_FAILED` lists every bad
 * topic (`errors: [{path: 'topics.2', message}]`).
 *
 * @example
 * parseTopics(['kv:pipelines/*', 'events:custom.*']).matches({ type: 'kv.set', subject: 'pipelines/a' }); // true
 */
export function parseTopics(topics: unknown): TopicSet {
  if (!Array.isArray(topics) || topics.length === 0 || topics.length > MAX_TOPICS) {
    throw new ProServerError('VALIDATION_FAILED', `topics must be a list of 1 to ${MAX_TOPICS} topics`, {
      errors: [{ path: 'topics', message: `must be a list of 1 to ${MAX_TOPICS} topics` }],
    });
  }
  const parsed: Topic[] = [];
  const errors: FieldError[] = [];
  topics.forEach((topic, index) => {
    const result = parseTopic(topic);
    if (typeof result === 'string') errors.push({ path: `topics.${index}`, message: result });
    else parsed.push(result);
  });
  if (errors.length > 0) {
    throw new ProServerError('VALIDATION_FAILED', `invalid topics (${errors[0]?.path}: ${errors[0]?.message})`, {
      errors,
      details: { invalid: errors.map((error) => topics[Number(error.path.slice('topics.'.length))]) },
    });
  }
  return {
    topics: [...new Set(topics as string[])],
    matches: (event) => parsed.some((topic) => topicMatches(topic, event.type, event.subject)),
    filter: prefilterOf(parsed),
  };
}

/**
 * What the store can narrow by: type prefixes when every topic has one, and exact subjects
 * when every topic names one (`task:<id>` lists). Anything else is filtered in memory.
 */
function prefilterOf(topics: readonly Topic[]): EventFilter | undefined {
  const filter: { typePrefixes?: string[]; subjects?: string[] } = {};
  if (topics.every((topic) => topic.typePrefix !== null)) {
    filter.typePrefixes = [...new Set(topics.map((topic) => topic.typePrefix as string))];
  }
  if (topics.every((topic) => topic.subject !== null)) {
    filter.subjects = [...new Set(topics.map((topic) => topic.subject as string))];
  }
  return filter.typePrefixes || filter.subjects ? filter : undefined;
}

/** Matches no event: the topic set of a watch (see EventService.watch). */
export const NO_TOPICS: TopicSet = { topics: [], matches: () => false, filter: undefined };
