/**
 * The real app in process for SDK tests: a core on a test storage, createApp on top, and
 * clients whose fetch calls `app.fetch` directly (no socket).
 */
import { type Core, createCore } from '@proserver/core';
import { type BackendName, createTestStorage, ManualClock } from '@proserver/core/testing';
import { createApp } from '@proserver/http';
import { type ClientOptions, createClient, type ProServerClient } from '@proserver/sdk';

export const BASE_URL = 'http://proserver.test';

export interface InProcessServer {
  core: Core;
  clock: ManualClock;
  /** The bootstrap owner's secret (scopes `*`). */
  ownerSecret: string;
  /** An owner client. */
  owner: ProServerClient;
  /** A client with another token (or none), same server. */
  clientWith(token?: string, extra?: Partial<ClientOptions>): ProServerClient;
  /** Every request the clients sent, in order (method, URL, headers). */
  requests: Request[];
  close(): Promise<void>;
}

export async function startInProcess(backend: BackendName): Promise<InProcessServer> {
  const clock = new ManualClock(new Date());
  const core = createCore({ storage: await createTestStorage(backend), clock, kv: { sweepIntervalMs: 0 } });
  const app = createApp(core);
  const requests: Request[] = [];
  const fetchViaApp: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    requests.push(request.clone());
    return app.fetch(request);
  };
  const boot = await core.auth.bootstrap();
  if (!boot.secret) throw new Error('bootstrap did not issue an owner secret on an empty storage');
  const clientWith = (token?: string, extra: Partial<ClientOptions> = {}) =>
    createClient({ baseUrl: BASE_URL, fetch: fetchViaApp, ...(token ? { token } : {}), ...extra });
  return {
    core,
    clock,
    ownerSecret: boot.secret,
    owner: clientWith(boot.secret),
    clientWith,
    requests,
    close: () => core.close(),
  };
}
