import { z } from 'zod';
import { ProServerError } from '../errors.js';
import { parseInput } from '../validation.js';
import { resolveRetryPolicy } from './retry-policy.js';
import type { RetryPolicy, TaskDefinition, TaskPriority, TaskTypeInfo } from './types.js';
import { MAX_TASK_TIMEOUT_MS, retryPolicyInputSchema, taskPrioritySchema, taskTypeSchema } from './validation.js';

/** Timeout of a type that sets none: 15 minutes per attempt. */
export const DEFAULT_TASK_TIMEOUT_MS = 15 * 60_000;

/** A registered type with its defaults resolved. */
export interface RegisteredType {
  definition: TaskDefinition;
  priority: TaskPriority;
  timeoutMs: number;
  retry: RetryPolicy;
}

const definitionSchema = z.object({
  type: taskTypeSchema,
  description: z.string().max(2000).optional(),
  priority: taskPrioritySchema.optional(),
  timeoutMs: z.number().int('must be a whole number').min(1).max(MAX_TASK_TIMEOUT_MS).optional(),
  retry: retryPolicyInputSchema.optional(),
  payload: z.custom<z.ZodType>((value) => value instanceof z.ZodType, 'must be a zod schema'),
  run: z.custom<TaskDefinition['run']>((value) => typeof value === 'function', 'must be a function'),
});

/**
 * The task types this process knows (and therefore claims). A process claims only types it
 * has a handler for, so nodes running different sets of types can share one database.
 */
export class TaskRegistry {
  private readonly byType = new Map<string, RegisteredType>();
  private names: string[] = [];

  define(definition: TaskDefinition): void {
    parseInput(definitionSchema, definition, 'task definition');
    if (this.byType.has(definition.type)) {
      throw new ProServerError('ALREADY_EXISTS', `task type ${definition.type} is already defined`);
    }
    this.byType.set(definition.type, {
      definition,
      priority: definition.priority ?? 'normal',
      timeoutMs: definition.timeoutMs ?? DEFAULT_TASK_TIMEOUT_MS,
      retry: resolveRetryPolicy(definition.retry),
    });
    this.names = [...this.byType.keys()];
  }

  get(type: string): RegisteredType | undefined {
    return this.byType.get(type);
  }

  /** The registered type names (the same array until a type is added). */
  typeNames(): readonly string[] {
    return this.names;
  }

  info(): TaskTypeInfo[] {
    return [...this.byType.values()].map(({ definition, priority, timeoutMs, retry }) => ({
      type: definition.type,
      description: definition.description ?? null,
      priority,
      timeoutMs,
      retry,
      payloadSchema: jsonSchemaOf(definition.payload),
    }));
  }
}

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  try {
    return z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
  } catch {
    // A schema with parts JSON Schema cannot express still validates; it just documents as "any".
    return {};
  }
}
