import { describe, expect, it } from 'vitest';
import {
  authorize,
  can,
  covers,
  effectiveScopes,
  globToRegExp,
  matchesPattern,
  parseScope,
  ROLE_SCOPES,
  SCOPE_NAMES,
  validateScopes,
} from '../src/auth/scopes.js';
import { type Principal, SYSTEM_PRINCIPAL } from '../src/auth/types.js';
import { createTokenInputSchema, rotateTokenInputSchema } from '../src/auth/validation.js';
import { isProServerError } from '../src/errors.js';

const token = (scopes: string[], role: 'owner' | 'member' = 'owner'): Principal => ({
  kind: 'token',
  tokenId: 'tok_1',
  userId: 'usr_1',
  role,
  scopes,
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('parseScope and validateScopes', () => {
  it('parses *, names and names with patterns (patterns may contain colons)', () => {
    expect(parseScope('*')).toEqual({ all: true });
    expect(parseScope('kv:read')).toEqual({ all: false, name: 'kv:read', pattern: null });
    expect(parseScope('orgs:credentials:uat-*')).toEqual({ all: false, name: 'orgs:credentials', pattern: 'uat-*' });
    expect(parseScope('kv:write:a:b/c')).toEqual({ all: false, name: 'kv:write', pattern: 'a:b/c' });
  });

  it('accepts every SPEC name', () => {
    expect(SCOPE_NAMES).toHaveLength(18);
    expect(validateScopes([...SCOPE_NAMES, '*'])).toHaveLength(19);
  });

  it('reports every bad scope by index and removes duplicates', () => {
    const error = thrown(() =>
      validateScopes(['kv:read', 'kv', 'kv:write:', 'kv:write:a b', `kv:write:${'a'.repeat(513)}`, 7, 'kv:*']),
    );
    expect(isProServerError(error, 'VALIDATION_FAILED')).toBe(true);
    expect((error as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual([
      'scopes.1',
      'scopes.2',
      'scopes.3',
      'scopes.4',
      'scopes.5',
      'scopes.6',
    ]);
    expect(validateScopes(['kv:read', 'kv:read', `kv:write:${'a'.repeat(512)}`])).toHaveLength(2);
    expect(
      isProServerError(
        thrown(() => parseScope('nope:nope')),
        'VALIDATION_FAILED',
      ),
    ).toBe(true);
  });
});

describe('resource globs', () => {
  it('* stays within one segment, ** crosses segments', () => {
    expect(matchesPattern('pipelines/*', 'pipelines/main')).toBe(true);
    expect(matchesPattern('pipelines/*', 'pipelines/main/x')).toBe(false);
    expect(matchesPattern('pipelines/*', 'pipelines')).toBe(false);
    expect(matchesPattern('pipelines/**', 'pipelines/main/x/y')).toBe(true);
    expect(matchesPattern('uat-*', 'uat-1')).toBe(true);
    expect(matchesPattern('uat-*', 'prod-1')).toBe(false);
    expect(matchesPattern('**/status', 'a/b/status')).toBe(true);
    expect(matchesPattern('a/*/c', 'a/b/c')).toBe(true);
    expect(matchesPattern('a/*/c', 'a/b/x/c')).toBe(false);
  });

  it('treats every other character literally and caches the compiled RegExp', () => {
    expect(matchesPattern('salesforce.deploy', 'salesforceXdeploy')).toBe(false);
    expect(matchesPattern('salesforce.deploy', 'salesforce.deploy')).toBe(true);
    expect(matchesPattern('a-b', 'a-b')).toBe(true);
    expect(matchesPattern('env/uat', 'env/uat2')).toBe(false);
    expect(globToRegExp('x/*')).toBe(globToRegExp('x/*'));
  });
});

describe('can and authorize', () => {
  it('lets the system principal and * do everything', () => {
    expect(can(SYSTEM_PRINCIPAL, 'users:write')).toBe(true);
    expect(can(token(['*']), 'audit:read', 'x')).toBe(true);
  });

  it('a scope without pattern covers every resource; with one, only matching resources', () => {
    const p = token(['kv:read', 'kv:write:pipelines/*']);
    expect(can(p, 'kv:read', 'anything/at/all')).toBe(true);
    expect(can(p, 'kv:write', 'pipelines/a')).toBe(true);
    expect(can(p, 'kv:write', 'other/a')).toBe(false);
    expect(can(p, 'docs:read')).toBe(false);
  });

  it('without a resource asks whether the name is held for some resource', () => {
    expect(can(token(['kv:write:pipelines/*']), 'kv:write')).toBe(true);
    expect(can(token(['kv:read']), 'kv:write')).toBe(false);
  });

  it('authorize throws FORBIDDEN naming the scope needed', () => {
    const error = thrown(() => authorize(token(['kv:read']), 'kv:write', 'pipelines/a'));
    expect(error).toMatchObject({
      code: 'FORBIDDEN',
      message: 'needs scope kv:write:pipelines/a',
      details: { scope: 'kv:write:pipelines/a' },
    });
    expect(thrown(() => authorize(token([]), 'audit:read'))).toMatchObject({ message: 'needs scope audit:read' });
    expect(() => authorize(token(['kv:write']), 'kv:write', 'x')).not.toThrow();
  });
});

describe('covers (what a holder may mint)', () => {
  const cases: [string[], string, boolean][] = [
    [['*'], '*', true],
    [['*'], 'kv:write:x/*', true],
    [['kv:write'], '*', false],
    [['kv:write'], 'kv:write:x/**', true],
    [['kv:write:**'], 'kv:write', true],
    [['kv:write:x/*'], 'kv:write', false],
    [['kv:write:x/*'], 'kv:write:x/*', true],
    [['kv:write:x/**'], 'kv:write:x/a/*', true],
    [['kv:write:x/**'], 'kv:write:x/**', true],
    [['kv:write:x/**'], 'kv:write:y/*', false],
    [['kv:write:x/*'], 'kv:write:x/a', true],
    [['kv:write:x/*'], 'kv:write:x/a/b', false],
    [['kv:write:x/*'], 'kv:write:x/**', false],
    [['kv:write:x/*'], 'kv:write:x/a*', false],
    [['kv:write:*/**'], 'kv:write:*/a/*', false],
    [['kv:read'], 'kv:write', false],
    [['kv:read', 'kv:write:a'], 'kv:write:a', true],
    [[], 'kv:read', false],
    [['kv:read'], 'not a scope', false],
  ];
  for (const [granted, requested, expected] of cases) {
    it(`${JSON.stringify(granted)} ${expected ? 'covers' : 'does not cover'} ${requested}`, () => {
      expect(covers(granted, requested)).toBe(expected);
    });
  }
});

describe('roles and effectiveScopes', () => {
  it('an owner keeps every scope it was given', () => {
    expect(effectiveScopes(['*'], 'owner')).toEqual(['*']);
    expect(effectiveScopes(['users:write', 'kv:read:x/*'], 'owner')).toEqual(['users:write', 'kv:read:x/*']);
  });

  it('a member loses what the role does not allow; * becomes the member scopes', () => {
    const member = effectiveScopes(['*'], 'member');
    expect(member).toEqual([...ROLE_SCOPES.member]);
    for (const denied of ['*', 'users:write', 'audit:read', 'orgs:write', 'orgs:credentials', 'webhooks:write']) {
      expect(member).not.toContain(denied);
    }
    for (const allowed of ['tasks:write', 'docs:write', 'kv:write', 'locks:write', 'environments:write', 'orgs:read']) {
      expect(member).toContain(allowed);
    }
    expect(effectiveScopes(['users:write', 'kv:write:pipelines/*', 'orgs:credentials:uat'], 'member')).toEqual([
      'kv:write:pipelines/*',
    ]);
    expect(effectiveScopes(['*', 'kv:read'], 'member')).toEqual([...ROLE_SCOPES.member]);
  });
});

describe('token input schemas', () => {
  it('trims the name and rejects unknown fields', () => {
    const ok = createTokenInputSchema.parse({ name: '  ci  ', expiresInDays: 1, scopes: ['kv:read'] });
    expect(ok.name).toBe('ci');
    expect(createTokenInputSchema.safeParse({ ...ok, extra: 1 }).success).toBe(false);
    expect(createTokenInputSchema.safeParse({ ...ok, scopes: Array(51).fill('kv:read') }).success).toBe(false);
    expect(createTokenInputSchema.safeParse({ ...ok, name: 'x'.repeat(101) }).success).toBe(false);
    const bad = createTokenInputSchema.safeParse({ ...ok, scopes: ['kv:read', 'kv:nope'] });
    expect(bad.error?.issues[0]?.path).toEqual(['scopes', 1]);
  });

  it('defaults graceSeconds to 0 and rejects negatives and fractions', () => {
    expect(rotateTokenInputSchema.parse({})).toEqual({ graceSeconds: 0 });
    expect(rotateTokenInputSchema.safeParse({ graceSeconds: -1 }).success).toBe(false);
    expect(rotateTokenInputSchema.safeParse({ graceSeconds: 1.5 }).success).toBe(false);
  });
});
