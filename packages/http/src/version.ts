import { readFileSync } from 'node:fs';

/**
 * The version of @proserver/http, read from its package.json. Both the sources (`src/`) and
 * the bundles (`dist/`) sit one folder below the package root, so one relative path serves both.
 *
 * @example
 * console.log(`ProServer ${PROSERVER_VERSION}`);
 */
export const PROSERVER_VERSION: string = (() => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
})();
