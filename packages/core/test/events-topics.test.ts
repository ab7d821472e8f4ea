import { canSeeEvent, type Principal, parseTopics } from '@proserver/core';
import { describe, expect, it } from 'vitest';

const member = (scopes: string[]): Principal => ({
  kind: 'token',
  tokenId: 'tok_m',
  userId: 'usr_m',
  role: 'member',
  scopes,
});
const owner = (scopes: string[]): Principal => ({
  kind: 'token',
  tokenId: 'tok_o',
  userId: 'usr_o',
  role: 'owner',
  scopes,
});

describe('event topics', () => {
  it('matches each topic kind with the scope glob', () => {
    const topics = parseTopics([
      'task:task_1',
      'kv:pipelines/*',
      'docs:projects/**',
      'locks:env/*',
      'events:custom.*',
      'tokens',
    ]);
    const matches = (type: string, subject: string) => topics.matches({ type, subject });
    expect(matches('task.completed', 'task_1')).toBe(true);
    expect(matches('task.completed', 'task_2')).toBe(false);
    expect(matches('kv.set', 'pipelines/main')).toBe(true);
    expect(matches('kv.set', 'pipelines/main/x')).toBe(false);
    expect(matches('doc.updated', 'projects/acme/releases/r1')).toBe(true);
    expect(matches('lock.acquired', 'env/uat')).toBe(true);
    expect(matches('custom.build.done', 'anything')).toBe(true);
    expect(matches('token.revoked', 'tok_1')).toBe(true);
    expect(matches('kv.set', 'other')).toBe(false);
    expect(parseTopics(['tasks']).matches({ type: 'kv.set', subject: 'x' })).toBe(false);
  });

  it('narrows storage reads only when every topic allows it', () => {
    expect(parseTopics(['task:task_1', 'task:task_2']).filter).toEqual({
      typePrefixes: ['task.'],
      subjects: ['task_1', 'task_2'],
    });
    expect(parseTopics(['tasks', 'kv:a/*']).filter).toEqual({ typePrefixes: ['task.', 'kv.'] });
    expect(parseTopics(['tasks', 'events:custom.*']).filter).toBeUndefined();
  });

  it('lists every invalid topic', () => {
    expect(() => parseTopics(['tasks', 'bogus', 'kv:', 'task:a b', 42])).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        errors: [
          { path: 'topics.1', message: expect.any(String) },
          { path: 'topics.2', message: expect.any(String) },
          { path: 'topics.3', message: expect.any(String) },
          { path: 'topics.4', message: expect.any(String) },
        ],
      }),
    );
    expect(() => parseTopics([])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => parseTopics(Array.from({ length: 101 }, () => 'tasks'))).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });
});

describe('event visibility', () => {
  const event = (type: string, subject: string, data: Record<string, string> = {}) => ({ type, subject, data });

  it('checks the scope of each event family', () => {
    const reader = member(['kv:read:a/*', 'tasks:read:report.build', 'docs:read:projects/**', 'locks:read:env/*']);
    expect(canSeeEvent(reader, event('kv.set', 'a/1'))).toBe(true);
    expect(canSeeEvent(reader, event('kv.set', 'b/1'))).toBe(false);
    expect(canSeeEvent(reader, event('task.started', 'task_1', { type: 'report.build' }))).toBe(true);
    expect(canSeeEvent(reader, event('task.started', 'task_1', { type: 'other' }))).toBe(false);
    expect(canSeeEvent(reader, event('doc.updated', 'projects/acme'))).toBe(true);
    expect(canSeeEvent(reader, event('lock.acquired', 'env/uat'))).toBe(true);
    expect(canSeeEvent(reader, event('custom.hello', 'x'))).toBe(true);
    expect(canSeeEvent(reader, event('security.login_failed', 'usr_1'))).toBe(false);
    expect(canSeeEvent(reader, event('something.else', 'x'))).toBe(false);
    expect(canSeeEvent({ kind: 'system' }, event('something.else', 'x'))).toBe(true);
  });

  it('shows token events to owners, and to members only for their own tokens', () => {
    const mine = event('token.revoked', 'tok_1', { userId: 'usr_m' });
    const theirs = event('token.revoked', 'tok_2', { userId: 'usr_x' });
    expect(canSeeEvent(member(['tokens:write']), mine)).toBe(true);
    expect(canSeeEvent(member(['tokens:write']), theirs)).toBe(false);
    expect(canSeeEvent(member(['kv:read']), mine)).toBe(false);
    expect(canSeeEvent(owner(['*']), theirs)).toBe(true);
  });
});
