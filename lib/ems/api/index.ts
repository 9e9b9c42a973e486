/** The API's operation table: every section's operations, in the order of the documentation. */
import fs from 'node:fs';
import path from 'node:path';
import { ALARM_OPERATIONS } from './alarms';
import { AUTH_OPERATIONS } from './auth';
import { BILLING_OPERATIONS } from './billing';
import { DATA_OPERATIONS } from './data';
import { withDictionaryForms } from './dictionary';
import { docsOperations } from './docs';
import { EVENT_OPERATIONS } from './events';
import { KEYS_OPERATIONS } from './keys';
import { LICENSE_OPERATIONS } from './license';
import { NOTIFICATION_OPERATIONS } from './notifications';
import { OBJECT_OPERATIONS } from './objects';
import { POLL_SERVER_OPERATIONS } from './poll-server';
import { POLLING_OPERATIONS } from './polling';
import { RAW_RESPONSE_OPERATIONS } from './raw-responses';
import { READINGS_OPERATIONS } from './readings';
import { GAP_OPERATIONS } from './gaps';
import { IMPORT_OPERATIONS } from './imports';
import { REPORT_OPERATIONS } from './reports';
import { SITE_OPERATIONS } from './sites';
import type { Operation } from './types';
import { USERS_OPERATIONS } from './users';

/** The package version, from the nearest package.json above this file (source or dist). */
function packageVersion(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
}
const VERSION = packageVersion();

// The data dictionary's forms (?list, ?id, { data } bodies, no meter, ...) wrap the REST operations: ./dictionary.
export const OPERATIONS: Operation[] = withDictionaryForms([
  ...AUTH_OPERATIONS,
  ...USERS_OPERATIONS,
  ...KEYS_OPERATIONS,
  ...POLL_SERVER_OPERATIONS,
  ...POLLING_OPERATIONS,
  ...READINGS_OPERATIONS,
  ...GAP_OPERATIONS,
  ...RAW_RESPONSE_OPERATIONS,
  ...OBJECT_OPERATIONS,
  ...DATA_OPERATIONS,
  ...REPORT_OPERATIONS,
  ...SITE_OPERATIONS,
  ...EVENT_OPERATIONS,
  ...ALARM_OPERATIONS,
  ...NOTIFICATION_OPERATIONS,
  ...BILLING_OPERATIONS,
  ...LICENSE_OPERATIONS,
  ...IMPORT_OPERATIONS,
]);
OPERATIONS.push(...docsOperations(() => OPERATIONS, VERSION));

export function operationByName(name: string): Operation | undefined {
  return OPERATIONS.find((o) => o.name === name);
}

export * from './types';
export * from './dispatch';
export { openApiDocument, openApiHtml } from './docs';
