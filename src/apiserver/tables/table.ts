/**
 * Server-side printing: objects to `meta.k8s.io/v1` Table, as the API server answers
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
 *
 * - Every column is sent, wide ones with priority 1; kubectl hides those unless `-o wide`.
 * - Rows carry the object as PartialObjectMetadata by default (includeObject=Metadata), the whole
 *   object with includeObject=Object, or nothing with includeObject=None.
 * - Watch: the API server sends column definitions with the first event only; later events are
 *   converted with noHeaders, which makes `columnDefinitions` null (as Kubernetes does).
 */

import type { ResourceInfo } from '../../api/resources.js';
import { goPrintValue } from './format.js';
import { humanDuration, parseTime } from './human-duration.js';
import { compileJSONPath, type CompiledPath } from './jsonpath.js';
import {
  DEFAULT_COLUMNS, defaultCells, printerFor, type PrintedRow, type TableColumnDefinition, type TableRowCondition,
} from './printers.js';

export type { TableColumnDefinition, TableRowCondition } from './printers.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  /** PartialObjectMetadata (default), the full object (includeObject=Object), or absent (None). */
  object?: Record<string, any>;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: TableListMeta;
  /** null when converted with noHeaders (watch events after the first). */
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[];
}

export interface TableOptions {
  /** Reference time for ages and durations (default: now). */
  now?: Date;
  /**
   * The list's metadata, for list responses. Leave it out when printing one object (a GET or a
   * watch event): the table then carries that object's resourceVersion, as Kubernetes does.
   */
  listMeta?: TableListMeta;
  /** What each row's `object` holds: PartialObjectMetadata (default), the full object, or nothing. */
  includeObject?: IncludeObject;
  /** Omit the column definitions (columnDefinitions: null), for watch events after the first. */
  noHeaders?: boolean;
}

/** A CRD additionalPrinterColumns entry. */
export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

/** The columns Kubernetes uses for a custom resource whose CRD version has no additionalPrinterColumns. */
export const DEFAULT_CRD_PRINTER_COLUMNS: PrinterColumn[] = [
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

const NAME_COLUMN: TableColumnDefinition = {
  name: 'Name', type: 'string', format: 'name', priority: 0,
  description: 'Name must be unique within a namespace. It is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.',
};

/** The column definitions a built-in resource's table has (the default Name/Created At table when it has no printer). */
export function tableColumns(info: Pick<ResourceInfo, 'group' | 'kind'>): TableColumnDefinition[] {
  return (printerFor(info.group, info.kind)?.columns ?? DEFAULT_COLUMNS).map((c) => ({ ...c }));
}

/** Prints objects of a built-in resource (a list, or one object) as a Table. */
export function toTable(info: ResourceInfo, objects: any[], opts: TableOptions = {}): Table {
  const printer = printerFor(info.group, info.kind);
  const ctx = { now: (opts.now ?? new Date()).getTime() };
  const items = printer?.sortList ? printer.sortList(objects) : objects;
  const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
  const rows = items.map((obj) => {
    const printed: PrintedRow = printer ? printer.print(obj, ctx) : { cells: defaultCells(obj) };
    return makeRow(printed, obj, opts.includeObject, { apiVersion, kind: info.kind });
  });
  return assemble(tableColumns(info), rows, objects, opts);
}

/**
 * Prints custom resources with a CRD's additionalPrinterColumns (JSONPath cells; date columns as
 * ages). A Name column always comes first. Pass DEFAULT_CRD_PRINTER_COLUMNS when the CRD version
 * defines none.
 */
export function toTableWithColumns(columns: PrinterColumn[], objects: any[], opts: TableOptions = {}): Table {
  const now = (opts.now ?? new Date()).getTime();
  const headers: TableColumnDefinition[] = [{ ...NAME_COLUMN }];
  const paths: (CompiledPath | null)[] = [];
  for (const c of columns) {
    headers.push({
      name: c.name, type: c.type, format: c.format ?? '', priority: c.priority ?? 0,
      description: c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
    });
    let path: CompiledPath | null = null;
    try {
      path = compileJSONPath(c.jsonPath);
    } catch {
      path = null;
    }
    paths.push(path);
  }
  const rows = objects.map((obj) => {
    const cells: unknown[] = [obj?.metadata?.name ?? ''];
    columns.forEach((c, i) => {
      const path = paths[i];
      const found = path ? path.find(obj) : [];
      cells.push(found.length === 0 ? null : cellForJSONValue(c.type, found[0], now));
    });
    return makeRow({ cells }, obj, opts.includeObject, undefined);
  });
  return assemble(headers, rows, objects, opts);
}

/** The cell of a printer column for a value its JSONPath found. */
export function cellForJSONValue(type: string, value: unknown, now: number): unknown {
  switch (type) {
    case 'string':
      // client-go's JSONPath prints a JSON null as "<no value>", maps and lists as JSON.
      return value === null || value === undefined ? '<no value>' : goPrintValue(value);
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      if (value === '' || value === 'null') return '<unknown>';
      if (!RFC3339.test(value)) return '<invalid>';
      const t = parseTime(value);
      if (t === undefined) return Number.isNaN(Date.parse(value)) ? '<invalid>' : '<unknown>';
      return humanDuration(now - t);
    }
  }
  return null;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function makeRow(printed: PrintedRow, obj: any, include: IncludeObject | undefined, typeMeta: { apiVersion: string; kind: string } | undefined): TableRow {
  const row: TableRow = { cells: printed.cells };
  if (printed.conditions) row.conditions = printed.conditions;
  switch (include ?? 'Metadata') {
    case 'None':
      break;
    case 'Object': {
      if (typeMeta && (!obj?.apiVersion || !obj?.kind)) {
        const full: Record<string, any> = { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind };
        for (const [k, v] of Object.entries(obj ?? {})) if (k !== 'apiVersion' && k !== 'kind') full[k] = v;
        if (obj?.apiVersion) full.apiVersion = obj.apiVersion;
        if (obj?.kind) full.kind = obj.kind;
        row.object = full;
      } else {
        row.object = obj;
      }
      break;
    }
    default:
      row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj?.metadata ?? {} };
  }
  return row;
}

function assemble(columns: TableColumnDefinition[], rows: TableRow[], objects: any[], opts: TableOptions): Table {
  const metadata: TableListMeta = {};
  if (opts.listMeta) {
    const lm = opts.listMeta;
    if (lm.resourceVersion) metadata.resourceVersion = lm.resourceVersion;
    if (lm.continue) metadata.continue = lm.continue;
    if (typeof lm.remainingItemCount === 'number') metadata.remainingItemCount = lm.remainingItemCount;
  } else if (objects.length === 1) {
    const rv = objects[0]?.metadata?.resourceVersion;
    if (rv) metadata.resourceVersion = String(rv);
  }
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: opts.noHeaders ? null : columns,
    rows,
  };
}
