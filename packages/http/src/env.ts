import type { Principal } from '@proserver/core';

/**
 * The typed per-request variables of the app: set by the middlewares, read by the routes.
 *
 * @example
 * const principal = c.get('principal');
 */
export interface AppEnv {
  Variables: {
    /** The request's id: echoed from a sane `X-Request-Id`, else generated. */
    requestId: string;
    /** Who is calling (set by the auth middleware on every authenticated route). */
    principal: Principal;
    /** True once the caller sent an `Authorization` header (shapes `WWW-Authenticate` on a 401). */
    credentialsPresented: boolean;
  };
}
