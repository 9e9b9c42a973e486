/** Alarm notifications: rendering, channels (email, MQTT, webhook, dashboard) and the dispatcher. */
export * from './types';
export * from './message';
export * from './quiet-hours';
export * from './subscriptions';
export * from './dispatcher';
export * from './channels/email';
export * from './channels/mqtt';
export * from './channels/webhook';
export * from './channels/dashboard';
