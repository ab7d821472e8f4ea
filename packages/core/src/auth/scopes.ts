/**
 * Scopes (SPEC §2): what a principal may do. A scope is `*`, a name (`kv:write`) or a name
 * narrowed to resources by a glob pattern (`kv:write:pipelines/*`). {@link can} and
 * {@link authorize} are THE checks every route and service uses; {@link covers} decides what a
 * principal may put into a token it mints, so a token never carries more power than its holder.
 */
import { ProServerError } from '../errors.js';
import type { Principal, Role } from './types.js';

/** Every scope name, in the order of SPEC §2. `*` (everything) is not a name but a whole scope. */
export const SCOPE_NAMES = [
  'tasks:read',
  'tasks:write',
  'docs:read',
  'docs:write',
  'kv:read',
  'kv:write',
  'webhooks:read',
  'webhooks:write',
  'orgs:read',
  'orgs:write',
  'orgs:credentials',
  'locks:read',
  'locks:write',
  'environments:read',
  'environments:write',
  'tokens:write',
  'users:write',
  'audit:read',
] as const;

export type ScopeName = (typeof SCOPE_NAMES)[number];

/** The scope that grants everything. */
export const ALL_SCOPES = '*';

const NAME_SET: ReadonlySet<string> = new Set(SCOPE_NAMES);
const PATTERN_CHARS = /^[A-Za-z0-9_.:/@*-]+$/;
export const MAX_SCOPE_PATTERN_LENGTH = 512;

/** A parsed scope: `{all: true}` for `*`, else a name with an optional resource pattern. */
export type ParsedScope = { all: true } | { all: false; name: ScopeName; pattern: string | null };

function isScopeName(value: string): value is ScopeName {
  return NAME_SET.has(value);
}

/**
 * Why `scope` is not a valid scope string, or null when it is.
 *
 * @example
 * scopeProblem('kv:delete'); // 'unknown scope "kv:delete"'
 */
export function scopeProblem(scope: unknown): string | null {
  if (typeof scope !== 'string') return 'a scope is a string';
  if (scope === ALL_SCOPES) return null;
  const [resourceKind = '', action = ''] = scope.split(':', 2);
  const name = `${resourceKind}:${action}`;
  if (!isScopeName(name)) return `unknown scope ${JSON.stringify(scope.slice(0, 64))}`;
  if (scope.length === name.length) return null;
  const pattern = scope.slice(name.length + 1);
  if (pattern.length === 0) return `scope ${name} has an empty resource pattern`;
  if (pattern.length > MAX_SCOPE_PATTERN_LENGTH) {
    return `resource pattern is longer than ${MAX_SCOPE_PATTERN_LENGTH} characters`;
  }
  if (!PATTERN_CHARS.test(pattern)) return 'resource pattern may contain only A-Z a-z 0-9 _ . : / @ * -';
  return null;
}

/**
 * Parses a scope string; `VALIDATION_FAILED` when it is not one.
 *
 * @example
 * parseScope('kv:write:pipelines/*'); // { all: false, name: 'kv:write', pattern: 'pipelines/*' }
 */
export function parseScope(scope: string): ParsedScope {
  const problem = scopeProblem(scope);
  if (problem !== null) {
    throw new ProServerError('VALIDATION_FAILED', `invalid scope: ${problem}`, {
      errors: [{ path: '', message: problem }],
    });
  }
  if (scope === ALL_SCOPES) return { all: true };
  const second = scope.indexOf(':', scope.indexOf(':') + 1);
  if (second === -1) return { all: false, name: scope as ScopeName, pattern: null };
  return { all: false, name: scope.slice(0, second) as ScopeName, pattern: scope.slice(second + 1) };
}

/**
 * Checks a list of scopes; `VALIDATION_FAILED` listing every bad one by index
 * (`errors: [{path: 'scopes.2', message}]`). Returns the list without duplicates.
 *
 * @example
 * validateScopes(['kv:read', 'kv:write:pipelines/*']);
 */
export function validateScopes(list: readonly unknown[], path = 'scopes'): string[] {
  const errors = list.flatMap((scope, index) => {
    const problem = scopeProblem(scope);
    return problem === null ? [] : [{ path: `${path}.${index}`, message: problem }];
  });
  if (errors.length > 0) {
    throw new ProServerError('VALIDATION_FAILED', `invalid scopes (${errors[0]?.path}: ${errors[0]?.message})`, {
      errors,
    });
  }
  return [...new Set(list as string[])];
}

const MEMBER_SCOPE_NAMES: readonly ScopeName[] = [
  'tasks:read',
  'tasks:write',
  'docs:read',
  'docs:write',
  'kv:read',
  'kv:write',
  'locks:read',
  'locks:write',
  'environments:read',
  'environments:write',
  'orgs:read',
  'webhooks:read',
  // Own tokens only: the token service hides other users' tokens from members.
  'tokens:write',
];

/**
 * What each role allows. An owner may do everything; a member reads and writes work but
 * manages no users, webhooks or org credentials and sees no audit log.
 *
 * @example
 * ROLE_SCOPES.member.includes('kv:write'); // true
 */
export const ROLE_SCOPES: Readonly<Record<Role, readonly string[]>> = {
  owner: [ALL_SCOPES],
  member: MEMBER_SCOPE_NAMES,
};

/**
 * A token's power: its scopes intersected with its creator's current role. Scopes the role
 * does not allow are dropped; `*` expands to the role's own scopes.
 *
 * @example
 * effectiveScopes(['*'], 'member'); // ['tasks:read', 'tasks:write', …] (no users:write)
 * effectiveScopes(['users:write', 'kv:read'], 'member'); // ['kv:read']
 */
export function effectiveScopes(tokenScopes: readonly string[], role: Role): string[] {
  const allowed = ROLE_SCOPES[role];
  const out = new Set<string>();
  for (const scope of tokenScopes) {
    if (scopeProblem(scope) !== null) continue;
    if (covers(allowed, scope)) out.add(scope);
    else if (scope === ALL_SCOPES) for (const name of allowed) out.add(name);
  }
  return [...out];
}

const GLOB_CACHE_LIMIT = 1000;
const globCache = new Map<string, RegExp>();

/**
 * A resource pattern as a RegExp: `*` matches within one `/` segment, `**` across segments,
 * every other character is literal. Compiled once and cached.
 *
 * @example
 * globToRegExp('pipelines/*').test('pipelines/main'); // true
 */
export function globToRegExp(pattern: string): RegExp {
  const cached = globCache.get(pattern);
  if (cached) return cached;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '*' && pattern[i + 1] === '*') {
      source += '.*';
      while (pattern[i + 1] === '*') i++;
    } else if (char === '*') {
      source += '[^/]*';
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  const regexp = new RegExp(`^${source}$`);
  // Patterns come from stored tokens, so the set is small; the bound only guards against surprises.
  if (globCache.size >= GLOB_CACHE_LIMIT) globCache.clear();
  globCache.set(pattern, regexp);
  return regexp;
}

/**
 * True when the resource pattern matches `resource`.
 *
 * @example
 * matchesPattern('docs/**', 'docs/a/b'); // true
 */
export function matchesPattern(pattern: string, resource: string): boolean {
  return globToRegExp(pattern).test(resource);
}

const PARSE_CACHE_LIMIT = 1000;
const parseCache = new Map<string, ParsedScope | null>();

/** Parsed form of a scope, or null when it is not valid; cached because `can` runs on every request. */
function parseCached(scope: string): ParsedScope | null {
  let parsed = parseCache.get(scope);
  if (parsed === undefined) {
    parsed = scopeProblem(scope) === null ? parseScope(scope) : null;
    if (parseCache.size >= PARSE_CACHE_LIMIT) parseCache.clear();
    parseCache.set(scope, parsed);
  }
  return parsed;
}

function scopesOf(principal: Principal): readonly string[] | 'all' {
  return principal.kind === 'system' ? 'all' : principal.scopes;
}

/**
 * May `principal` do `name` on `resource`? Without `resource` the question is "on at least
 * some resource", so any scope with that name answers yes. The system principal may do all.
 *
 * @example
 * can(principal, 'kv:write', 'pipelines/a');
 */
export function can(principal: Principal, name: ScopeName, resource?: string): boolean {
  const scopes = scopesOf(principal);
  if (scopes === 'all') return true;
  for (const scope of scopes) {
    const parsed = parseCached(scope);
    if (parsed?.all) return true;
    if (!parsed || parsed.name !== name) continue;
    if (resource === undefined || parsed.pattern === null) return true;
    if (matchesPattern(parsed.pattern, resource)) return true;
  }
  return false;
}

/**
 * Like {@link can}, but throws `FORBIDDEN` naming the scope needed (`details.scope`).
 *
 * @example
 * authorize(principal, 'kv:write', key); // throws "needs scope kv:write:pipelines/a"
 */
export function authorize(principal: Principal, name: ScopeName, resource?: string): void {
  if (can(principal, name, resource)) return;
  const scope = resource === undefined ? name : `${name}:${resource}`;
  throw new ProServerError('FORBIDDEN', `needs scope ${scope}`, { details: { scope } });
}

function hasWildcard(pattern: string): boolean {
  return pattern.includes('*');
}

/**
 * Does holding `granted` include everything `requested` allows? Used when minting a token or
 * intersecting with a role. Conservative: when in doubt, not covered.
 *
 * @example
 * covers(['kv:write:pipelines/**'], 'kv:write:pipelines/main/*'); // true
 * covers(['kv:read'], 'kv:write'); // false
 */
export function covers(granted: readonly string[], requested: string): boolean {
  if (granted.includes(ALL_SCOPES)) return true;
  const wanted = parseCached(requested);
  if (!wanted || wanted.all) return false;
  for (const scope of granted) {
    const held = parseCached(scope);
    if (!held) continue;
    if (held.all) return true;
    if (held.name !== wanted.name) continue;
    if (held.pattern === null || held.pattern === '**') return true;
    if (wanted.pattern === null) continue;
    if (held.pattern === wanted.pattern) return true;
    if (held.pattern.endsWith('/**')) {
      const prefix = held.pattern.slice(0, -2);
      // Only a literal prefix: with wildcards in it, "starts with" says nothing about the match.
      if (!hasWildcard(prefix) && wanted.pattern.startsWith(prefix)) return true;
    }
    if (!hasWildcard(wanted.pattern) && matchesPattern(held.pattern, wanted.pattern)) return true;
  }
  return false;
}
