/**
 * `GET /health`: reachable without the token (for probes), so it says only whether the broker is up;
 * the counters need the token (`GET /status`).
 */
import { type AdminCore } from './admin-core.js';
import { type AdminRoute } from './admin-router.js';

export function healthRoutes(core: AdminCore): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/health',
      public: true,
      handle: () =>
        core.closed ? { status: 503, body: { status: 'closing' } } : { status: 200, body: { status: 'ok' } },
    },
    {
      method: 'GET',
      path: '/status',
      handle: () => ({
        status: 200,
        body: {
          status: core.closed ? 'closing' : 'ok',
          epoch: core.epoch,
          topics: core.listTopics({ includeRetryAndDlq: false }).length,
          groups: core.listGroups().length,
          pendingTimers: core.pendingTimers,
          pendingTransactions: core.pendingTransactions,
        },
      }),
    },
  ];
}
