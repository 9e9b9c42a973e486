/** The dashboard channel: hands each recipient's batch to a function (a ui feed, a websocket push). */
import { ChannelError, type Batch, type Channel } from '../types';

export type DashboardPush = (userId: string, batch: Batch) => void | Promise<void>;

export function createDashboardChannel(push: DashboardPush): Channel {
  if (typeof push !== 'function') throw new TypeError(`dashboard push must be a function, got ${typeof push}`);
  return {
    name: 'dashboard',
    audience: 'recipient',
    async send(batch: Batch): Promise<void> {
      if (!batch.recipient) throw new ChannelError('dashboard', 'a dashboard message needs a recipient', false);
      try {
        await push(batch.recipient.userId, batch);
      } catch (e) {
        throw new ChannelError('dashboard', `push to ${JSON.stringify(batch.recipient.userId)} failed: ${(e as Error).message}`);
      }
    },
  };
}
