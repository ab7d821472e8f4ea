import { sql } from 'drizzle-orm';
import type { JsonObject } from '../../docs/types.js';
import type { DocRecord } from '../ports.js';
import { parseJson, toDate } from './sql-helpers.js';

/** The document columns, JSON read back as text (see sql-helpers.ts). */
export const DOC_COLUMNS = sql.raw(`d.path, d.parent_path, d.collection, d.doc_id, d.data::text AS data, d.version,
  d.revision, d.created_at, d.updated_at, d.created_by, d.updated_by`);
export interface DocRow {
  path: string;
  parent_path: string;
  collection: string;
  doc_id: string;
  data: string;
  version: number | string;
  revision: number | string | bigint;
  created_at: unknown;
  updated_at: unknown;
  created_by: string;
  updated_by: string;
}

export function toDocRecord(row: DocRow): DocRecord {
  return {
    path: row.path,
    parentPath: row.parent_path,
    collection: row.collection,
    id: row.doc_id,
    data: parseJson<JsonObject>(row.data),
    version: Number(row.version),
    revision: Number(row.revision),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    createdBy: row.created_by,
    updatedBy: row.updated_by,
  };
}
