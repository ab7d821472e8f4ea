import {
  KV_KEY_PATTERN,
  kvImportLineSchema,
  kvIncrementInputSchema,
  kvKeySchema,
  kvListOptionsSchema,
  kvSetInputSchema,
  kvTagSchema,
  kvTtlSecondsSchema,
  kvUpdateInputSchema,
  parseInput,
} from '@proserver/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

function pathsOf(schema: z.ZodType, input: unknown): string[] {
  const result = schema.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
}

describe('key-value schemas', () => {
  it('keys: the SPEC character set, 1 to 512 characters', () => {
    expect(KV_KEY_PATTERN.test('a/B-c_d.e:f@g/0')).toBe(true);
    expect(kvKeySchema.safeParse('k'.repeat(512)).success).toBe(true);
    for (const bad of ['', 'k'.repeat(513), 'a b', 'ä', 'a\\b', 'a+b', 'a,b']) {
      expect(kvKeySchema.safeParse(bad).success).toBe(false);
    }
  });

  it('tags: no slash, 1 to 64 characters', () => {
    expect(kvTagSchema.safeParse('release:1.2@main').success).toBe(true);
    for (const bad of ['', 't'.repeat(65), 'a/b', 'a b']) expect(kvTagSchema.safeParse(bad).success).toBe(false);
  });

  it('ttlSeconds: a whole number from 1 second to 10 years', () => {
    expect(kvTtlSecondsSchema.safeParse(1).success).toBe(true);
    expect(kvTtlSecondsSchema.safeParse(315_360_000).success).toBe(true);
    for (const bad of [0, -1, 0.5, 315_360_001, '60', null]) {
      expect(kvTtlSecondsSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('set input: value is required (null is a value), unknown fields and duplicate tags rejected', () => {
    expect(kvSetInputSchema.safeParse({ key: 'a', value: null }).success).toBe(true);
    expect(pathsOf(kvSetInputSchema, { key: 'a' })).toEqual(['value']);
    expect(pathsOf(kvSetInputSchema, { key: 'a', value: 1, extra: 1 })).toEqual(['']);
    expect(pathsOf(kvSetInputSchema, { key: 'a', value: 1, tags: ['x', 'y', 'x'] })).toEqual(['tags.2']);
    expect(pathsOf(kvSetInputSchema, { key: 'a', value: { deep: [1, { n: Number.NaN }] } })).toEqual([
      'value.deep.1.n',
    ]);
  });

  it('update input: ttlSeconds may be null; key is not part of the body', () => {
    expect(kvUpdateInputSchema.parse({ value: 1, ttlSeconds: null })).toEqual({ value: 1, ttlSeconds: null });
    expect(pathsOf(kvUpdateInputSchema, { value: 1, key: 'a' })).toEqual(['']);
  });

  it('increment input: by defaults to 1 and must be finite', () => {
    expect(kvIncrementInputSchema.parse({})).toEqual({ by: 1 });
    expect(kvIncrementInputSchema.parse({ by: -0.5 })).toEqual({ by: -0.5 });
    expect(kvIncrementInputSchema.safeParse({ by: Number.POSITIVE_INFINITY }).success).toBe(false);
    expect(kvIncrementInputSchema.safeParse({ by: '2' }).success).toBe(false);
  });

  it('list options: limit arrives as a query-string and is coerced', () => {
    expect(kvListOptionsSchema.parse({ prefix: 'a/', limit: '100' })).toEqual({ prefix: 'a/', limit: 100 });
    for (const limit of ['0', '1001', 'ten', '1.5', '']) {
      expect(pathsOf(kvListOptionsSchema, { limit })).toEqual(['limit']);
    }
    expect(pathsOf(kvListOptionsSchema, { sort: 'desc' })).toEqual(['']);
  });

  it('import lines: export fields are accepted and dropped', () => {
    const line = {
      key: 'a',
      value: '123',
      version: 4,
      tags: ['t'],
      expiresAt: '2030-01-01T00:00:00.000Z',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    expect(kvImportLineSchema.parse(line)).toEqual({
      key: 'a',
      value: '123',
      tags: ['t'],
      expiresAt: '2030-01-01T00:00:00.000Z',
    });
    expect(kvImportLineSchema.safeParse({ key: 'a', value: 1, expiresAt: null }).success).toBe(true);
    expect(pathsOf(kvImportLineSchema, { key: 'a', value: 1, expiresAt: '2030-01-01' })).toEqual(['expiresAt']);
  });

  it('parseInput turns a failure into VALIDATION_FAILED with every field', () => {
    expect(() => parseInput(kvSetInputSchema, { key: '', ttlSeconds: 0 })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  it('every schema can be described as JSON Schema (for the OpenAPI document)', () => {
    for (const schema of [kvSetInputSchema, kvUpdateInputSchema, kvIncrementInputSchema, kvImportLineSchema]) {
      expect(() => z.toJSONSchema(schema)).not.toThrow();
    }
    expect(() => z.toJSONSchema(kvListOptionsSchema, { io: 'input' })).not.toThrow();
    expect(z.toJSONSchema(kvSetInputSchema)).toMatchObject({ required: ['key', 'value'] });
  });
});
