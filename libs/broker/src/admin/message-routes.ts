/**
 * `/messages`: a stored message by id (with its retry and DLQ copies), or the messages of a topic
 * carrying a business key. Bodies are base64 with their metadata (admin-views.ts).
 */
import { quote } from '../core/errors.js';
import { StatusCode } from '../status-code.js';
import { type AdminCore } from './admin-core.js';
import { notFound } from './admin-http-errors.js';
import { type AdminRoute, queryInteger, queryText } from './admin-router.js';
import { messageView } from './admin-views.js';

/** Most messages a key query returns (the core's own bound). */
export const MAX_QUERY_RESULTS = 64;

export function messageRoutes(core: AdminCore): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/messages/:messageId',
      query: ['topic'],
      handle: async ({ params, query }) => {
        const id = params.messageId!;
        const found = await core.queryMessageById(queryText(query, 'topic'), id);
        if (found.length === 0)
          throw notFound(StatusCode.MESSAGE_NOT_FOUND, `no stored message has id ${quote(id)}`);
        return { status: 200, body: { messages: found.map(messageView) } };
      },
    },
    {
      method: 'GET',
      path: '/messages',
      query: ['topic', 'key', 'max'],
      handle: async ({ query }) => {
        const topic = queryText(query, 'topic', true);
        const key = queryText(query, 'key', true);
        const max = queryInteger(query, 'max', 1, MAX_QUERY_RESULTS, MAX_QUERY_RESULTS);
        const found = await core.queryMessagesByKey(topic, key, max);
        return { status: 200, body: { messages: found.map(messageView) } };
      },
    },
  ];
}
