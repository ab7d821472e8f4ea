/**
 * Errors as the SDK reports them: one {@link ApiError} rebuilt from the server's
 * `application/problem+json` bodies (SPEC §1), with the same stable `code`s as core.
 */

/**
 * One problem with one field of the request: `path` is dotted (`tags.3`), `''` for the whole body.
 *
 * @example
 * for (const { path, message } of error.errors ?? []) console.error(`${path}: ${message}`);
 */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * The fields an {@link ApiError} is made of.
 *
 * @example
 * new ApiError({ status: 404, code: 'NOT_FOUND', detail: 'no key a/b' } satisfies ApiErrorInit);
 */
export interface ApiErrorInit {
  status: number;
  code: string;
  detail: string;
  requestId?: string | null;
  title?: string;
  type?: string;
  errors?: FieldError[];
  cause?: unknown;
}

/**
 * Every failure of a client call. `code` is the server's stable UPPER_SNAKE code
 * (`NOT_FOUND`, `PRECONDITION_FAILED`, `FORBIDDEN`, …); a response that is not a problem
 * document gets `HTTP_<status>`; a request that never got an answer has status 0 and code
 * `NETWORK_ERROR` (the underlying error is the `cause`).
 *
 * @example
 * try {
 *   await client.kv.update(key, { value: 2 }, { ifVersion: 1 });
 * } catch (error) {
 *   if (isApiError(error, 'PRECONDITION_FAILED')) console.log('changed meanwhile', error.requestId);
 *   else throw error;
 * }
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  /** The server's `X-Request-Id` for this call (quote it when reporting a problem). */
  readonly requestId: string | null;
  readonly title: string | undefined;
  readonly type: string | undefined;
  /** Per-field problems of a `VALIDATION_FAILED`. */
  readonly errors?: FieldError[];

  constructor(init: ApiErrorInit) {
    super(`${init.code}: ${init.detail}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.requestId = init.requestId ?? null;
    this.title = init.title;
    this.type = init.type;
    if (init.errors) this.errors = init.errors;
  }
}

/**
 * True when `error` is an {@link ApiError} (optionally with the given code). Checks the name
 * rather than `instanceof`, so it holds across bundles and duplicated SDK copies.
 *
 * @example
 * if (isApiError(error, 'NOT_FOUND')) return undefined;
 */
export function isApiError(error: unknown, code?: string): error is ApiError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { name?: unknown; code?: unknown; status?: unknown };
  if (candidate.name !== 'ApiError' || typeof candidate.code !== 'string') return false;
  return code === undefined || candidate.code === code;
}

/** Longest piece of a non-problem body quoted in `detail`: enough to recognise a proxy's error page. */
const MAX_QUOTED_BODY = 500;

/** Builds the error for a response that is not 2xx; reads (and so consumes) its body. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const headerRequestId = response.headers.get('x-request-id');
  let text = '';
  try {
    text = await response.text();
  } catch (cause) {
    return networkError(cause, `reading the ${response.status} error response failed`);
  }
  const problem = parseProblem(text);
  if (problem) {
    return new ApiError({
      status: response.status,
      code: problem.code,
      detail: problem.detail ?? problem.title ?? response.statusText,
      requestId: problem.requestId ?? headerRequestId,
      ...(problem.title === undefined ? {} : { title: problem.title }),
      ...(problem.type === undefined ? {} : { type: problem.type }),
      ...(problem.errors === undefined ? {} : { errors: problem.errors }),
    });
  }
  const quoted = text.trim().slice(0, MAX_QUOTED_BODY);
  return new ApiError({
    status: response.status,
    code: `HTTP_${response.status}`,
    detail: quoted || response.statusText || `HTTP ${response.status}`,
    requestId: headerRequestId,
  });
}

/** The error for a request that got no (complete) answer. */
export function networkError(cause: unknown, detail?: string): ApiError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ApiError({ status: 0, code: 'NETWORK_ERROR', detail: detail ?? reason, cause });
}

/** The error for a 2xx answer whose body is not what the wire format promises. */
export function invalidResponse(response: Response, detail: string, cause?: unknown): ApiError {
  return new ApiError({
    status: response.status,
    code: 'INVALID_RESPONSE',
    detail,
    requestId: response.headers.get('x-request-id'),
    cause,
  });
}

interface Problem {
  code: string;
  detail?: string;
  title?: string;
  type?: string;
  requestId?: string;
  errors?: FieldError[];
}

/** A problem document needs at least a string `code`; anything else falls back to `HTTP_<status>`. */
function parseProblem(text: string): Problem | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.code !== 'string') return undefined;
  const problem: Problem = { code: record.code };
  if (typeof record.detail === 'string') problem.detail = record.detail;
  if (typeof record.title === 'string') problem.title = record.title;
  if (typeof record.type === 'string') problem.type = record.type;
  if (typeof record.requestId === 'string') problem.requestId = record.requestId;
  if (Array.isArray(record.errors)) problem.errors = record.errors.filter(isFieldError);
  return problem;
}

function isFieldError(value: unknown): value is FieldError {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.path === 'string' && typeof record.message === 'string';
}
