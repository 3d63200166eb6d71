/**
 * Kubernetes `Status` errors. Every failure a client sees is one of these, with the code and
 * reason Kubernetes uses (k8s.io/apimachinery/pkg/api/errors). Validation returns FieldError
 * lists and never throws; the registry turns a non-empty list into `invalid(...)`.
 */

export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'AlreadyExists' | 'Conflict'
  | 'Gone' | 'Invalid' | 'ServerTimeout' | 'Timeout' | 'TooManyRequests' | 'MethodNotAllowed'
  | 'NotAcceptable' | 'RequestEntityTooLarge' | 'UnsupportedMediaType' | 'InternalError'
  | 'Expired' | 'ServiceUnavailable' | '';

export interface StatusCause { reason?: string; message?: string; field?: string }

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

export class StatusError extends Error {
  constructor(public code: number, public reason: StatusReason, message: string, public details?: StatusDetails) {
    super(message);
  }
  toStatus(): Status {
    const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** A resource name for messages: "pods", "deployments.apps". */
export interface GroupResource { group: string; resource: string }
const qualified = (gr: GroupResource) => (gr.group ? `${gr.resource}.${gr.group}` : gr.resource);

export const badRequest = (message: string) => new StatusError(400, 'BadRequest', message);
export const unauthorized = (message = 'Unauthorized') => new StatusError(401, 'Unauthorized', message);
export const forbidden = (message: string) => new StatusError(403, 'Forbidden', message);
export const notFound = (gr: GroupResource, name: string) =>
  new StatusError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, { name, group: gr.group || undefined, kind: gr.resource });
export const pathNotFound = (message = 'the server could not find the requested resource') =>
  new StatusError(404, 'NotFound', message, {});
export const alreadyExists = (gr: GroupResource, name: string) =>
  new StatusError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, { name, group: gr.group || undefined, kind: gr.resource });
export const conflict = (gr: GroupResource, name: string, why: string) =>
  new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, { name, group: gr.group || undefined, kind: gr.resource });
export const gone = (message: string) => new StatusError(410, 'Gone', message);
export const expired = (message: string) => new StatusError(410, 'Expired', message);
export const methodNotAllowed = (message: string) => new StatusError(405, 'MethodNotAllowed', message);
export const notAcceptable = (message: string) => new StatusError(406, 'NotAcceptable', message);
export const unsupportedMediaType = (message: string) => new StatusError(415, 'UnsupportedMediaType', message);
export const tooLarge = (message = 'Request entity too large: limit is 3145728') => new StatusError(413, 'RequestEntityTooLarge', message);
export const tooManyRequests = (message: string, retryAfterSeconds = 1) => new StatusError(429, 'TooManyRequests', message, { retryAfterSeconds });
export const internalError = (message: string) => new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
export const serviceUnavailable = (message: string) => new StatusError(503, 'ServiceUnavailable', message);

/** One validation failure, as field.Error in Kubernetes. */
export type FieldErrorType =
  | 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueDuplicate'
  | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueTooMany' | 'FieldValueTypeInvalid' | 'FieldValueNotFound';

export interface FieldError {
  type: FieldErrorType;
  /** Path like `spec.containers[0].image` or `metadata.labels`. */
  field: string;
  /** The bad value when it helps the message (omitted for Required). */
  value?: unknown;
  /** Detail, e.g. "must be no more than 63 characters". */
  detail?: string;
  /** For NotSupported: the allowed values. */
  allowed?: string[];
}

const renderValue = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : v === null ? 'null' : JSON.stringify(v));

/** The message Kubernetes prints for one field error: `spec.containers[0].image: Required value`. */
export function fieldErrorMessage(e: FieldError): string {
  switch (e.type) {
    case 'FieldValueRequired': return `${e.field}: Required value${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueNotSupported': {
      const allowed = e.allowed?.length ? `: supported values: ${e.allowed.map((a) => JSON.stringify(a)).join(', ')}` : '';
      return `${e.field}: Unsupported value: ${renderValue(e.value)}${allowed}`;
    }
    case 'FieldValueDuplicate': return `${e.field}: Duplicate value: ${renderValue(e.value)}`;
    case 'FieldValueNotFound': return `${e.field}: Not found: ${renderValue(e.value)}`;
    case 'FieldValueForbidden': return `${e.field}: Forbidden${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueTooLong': return `${e.field}: Too long: ${e.detail ?? ''}`;
    case 'FieldValueTooMany': return `${e.field}: Too many: ${e.detail ?? ''}`;
    case 'FieldValueTypeInvalid': return `${e.field}: Invalid value: ${renderValue(e.value)}: ${e.detail ?? ''}`;
    default: return `${e.field}: Invalid value: ${renderValue(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
  }
}

/** 422 Invalid, as errors.NewInvalid: `Pod "x" is invalid: [a, b]`. */
export function invalid(kind: string, group: string, name: string, errs: FieldError[]): StatusError {
  const msgs = errs.map(fieldErrorMessage);
  const agg = msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
  return new StatusError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${agg}`, {
    name, group: group || undefined, kind,
    causes: errs.map((e) => ({ reason: e.type, message: fieldErrorMessage(e).slice(e.field.length + 2), field: e.field })),
  });
}

export const fieldError = {
  required: (field: string, detail?: string): FieldError => ({ type: 'FieldValueRequired', field, detail }),
  invalid: (field: string, value: unknown, detail?: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail }),
  notSupported: (field: string, value: unknown, allowed: string[]): FieldError => ({ type: 'FieldValueNotSupported', field, value, allowed }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail }),
  tooLong: (field: string, value: unknown, max: number): FieldError => ({ type: 'FieldValueTooLong', field, value, detail: `may not be more than ${max} bytes` }),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueTypeInvalid', field, value, detail }),
};

export const isStatusError = (e: unknown): e is StatusError => e instanceof StatusError;
