/** The EMS API's response envelope: { data, error, status } (see the data dictionary). */
export interface Envelope<T = unknown> {
  data: T | null;
  error: string | null;
  status: number;
  /** Paged lists only: the cursor of the next page (?cursor=), null on the last page. */
  next_cursor?: string | null;
}

/** An error with the HTTP status it answers with; the message is shown to the API caller, `data` (optional) as the envelope's data. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly data?: unknown) {
    super(message);
    this.name = 'ApiError';
  }
}

export function ok<T>(data: T, status = 200): Envelope<T> {
  return { data, error: null, status };
}

export function failure(status: number, message: string): Envelope<null> {
  return { data: null, error: message, status };
}
