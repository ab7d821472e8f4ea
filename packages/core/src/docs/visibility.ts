/**
 * What a principal may read, as path patterns the stores apply inside queries (SQL on
 * PostgreSQL, the same globs in memory), so a page is filled with readable documents only
 * and never leaks or comes back short because of hidden ones.
 */
import { can, globToRegExp, parseScope } from '../auth/scopes.js';
import type { Principal } from '../auth/types.js';

type DocScope = 'docs:read' | 'docs:write';

/**
 * The path patterns of `name` the principal holds; null when it may act on every path.
 *
 * @example
 * scopePatterns(tokenWith(['docs:read:projects/acme/**']), 'docs:read'); // ['projects/acme/**']
 */
export function scopePatterns(principal: Principal, name: DocScope): string[] | null {
  if (principal.kind === 'system') return null;
  const patterns: string[] = [];
  for (const scope of principal.scopes) {
    let parsed: ReturnType<typeof parseScope>;
    try {
      parsed = parseScope(scope);
    } catch {
      continue;
    }
    if (parsed.all) return null;
    if (parsed.name !== name) continue;
    if (parsed.pattern === null) return null;
    patterns.push(parsed.pattern);
  }
  return patterns;
}

/** True when a path matches one of the patterns (null: all). */
export function isVisible(patterns: readonly string[] | null, path: string): boolean {
  return patterns === null || patterns.some((pattern) => globToRegExp(pattern).test(path));
}

/** The literal text before a pattern's first `*` (every match starts with it). */
export function literalPrefix(pattern: string): string {
  const star = pattern.indexOf('*');
  return star === -1 ? pattern : pattern.slice(0, star);
}

/**
 * The pattern as a PostgreSQL regular expression with the same meaning as the scope glob
 * (`*` one segment, `**` anything); bound as a parameter, never spliced into SQL. Pattern
 * characters are `A-Z a-z 0-9 _ . : / @ * -`: only `.` is special in a regex here.
 *
 * @example
 * globToPgRegex('projects/*\/releases/**'); // '^projects/[^/]*\/releases/.*$'
 */
export function globToPgRegex(pattern: string): string {
  return `^${pattern.replace(/\*\*+|\*|\./g, (token) => (token === '.' ? '\\.' : token === '*' ? '[^/]*' : '.*'))}$`;
}

/**
 * Could the principal read anything below `prefix` (a path or `''` for the root)? Used to
 * list collection ids, which are not documents: a pattern whose literal part diverges from
 * `prefix` can match nothing there.
 *
 * @example
 * mayReadBelow(tokenWith(['docs:read:projects/acme/**']), 'projects/other'); // false
 */
export function mayReadBelow(principal: Principal, prefix: string): boolean {
  if (!can(principal, 'docs:read')) return false;
  const patterns = scopePatterns(principal, 'docs:read');
  if (patterns === null) return true;
  const below = prefix === '' ? '' : `${prefix}/`;
  return patterns.some((pattern) => {
    const literal = literalPrefix(pattern);
    return literal.startsWith(below) || below.startsWith(literal);
  });
}
