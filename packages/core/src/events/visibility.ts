import { can } from '../auth/scopes.js';
import type { Principal } from '../auth/types.js';
import type { JsonValue } from '../kv/types.js';

/** What visibility looks at. */
interface VisibleEvent {
  type: string;
  subject: string;
  data: JsonValue;
}

function dataField(data: JsonValue, field: string): string | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const value = data[field];
  return typeof value === 'string' ? value : undefined;
}

/**
 * May `principal` see `event`? The one scope check of the event log, made per event with
 * {@link can}: `task.*` needs `tasks:read:<task type>`, `kv.*` `kv:read:<key>`, `doc.*`
 * `docs:read:<path>`, `lock.*` `locks:read:<resource>`, `token.*` `tokens:write` (a member's
 * only for the member's own tokens), `webhook.*` `webhooks:read`, `org.*` `orgs:read:<alias>`,
 * `security.*` `audit:read`; `custom.*` any authenticated principal. Other types: only
 * principals that may read the audit log. The system principal sees everything.
 *
 * @example
 * canSeeEvent(principal, { type: 'kv.set', subject: 'a/b', data: {} });
 */
export function canSeeEvent(principal: Principal, event: VisibleEvent): boolean {
  if (principal.kind === 'system') return true;
  const family = event.type.slice(0, event.type.indexOf('.') + 1);
  switch (family) {
    case 'task.':
      return can(principal, 'tasks:read', dataField(event.data, 'type') ?? '');
    case 'kv.':
      return can(principal, 'kv:read', event.subject);
    case 'doc.':
      return can(principal, 'docs:read', event.subject);
    case 'lock.':
      return can(principal, 'locks:read', event.subject);
    case 'token.':
      if (!can(principal, 'tokens:write')) return false;
      return principal.role === 'owner' || dataField(event.data, 'userId') === principal.userId;
    case 'webhook.':
      return can(principal, 'webhooks:read');
    case 'org.':
      return can(principal, 'orgs:read', event.subject);
    case 'security.':
      return can(principal, 'audit:read');
    case 'custom.':
      return true;
    default:
      return can(principal, 'audit:read');
  }
}
