/**
 * `/groups/:group/dlq`: the dead letters of a group, paged by queue offset in `%DLQ%<group>` and read
 * without consuming them, and resending them (all, or by id) to the topic they came from.
 */
import { RETRY_DLQ_QUEUE_ID } from '../core/consume/copies.js';
import { quote } from '../core/errors.js';
import { dlqTopicOf } from '../core/topic-registry.js';
import { validateMessageId } from '../core/validation.js';
import { StatusCode } from '../status-code.js';
import { type AdminCore } from './admin-core.js';
import { notFound } from './admin-http-errors.js';
import { type AdminRoute, queryInteger } from './admin-router.js';
import { messageView } from './admin-views.js';
import { checkWith, readList, readObject, readString, SpecError } from './spec-reader.js';

/** Dead letters per page by default and at most. */
export const DLQ_PAGE_DEFAULT = 20;
export const DLQ_PAGE_MAX = 100;
/** Most ids one resend request names. */
export const RESEND_MAX_IDS = 1000;

function readMessageIds(body: unknown): readonly string[] | undefined {
  if (body === undefined) return undefined;
  const request = readObject(body, '', ['messageIds']);
  if (request.messageIds === undefined) return undefined;
  const list = readList(request.messageIds, 'messageIds');
  if (list.length === 0 || list.length > RESEND_MAX_IDS) {
    throw new SpecError(
      'messageIds',
      `must name 1..${RESEND_MAX_IDS} ids (leave it out to resend all), got ${list.length}`,
    );
  }
  return list.map((item, i) => {
    const id = readString(item, `messageIds[${i}]`);
    checkWith(`messageIds[${i}]`, () => validateMessageId(id));
    return id;
  });
}

export function deadLetterRoutes(core: AdminCore): AdminRoute[] {
  const existing = (group: string): void => {
    if (!core.getGroup(group)) {
      throw notFound(StatusCode.CONSUMER_GROUP_NOT_FOUND, `consumer group ${quote(group)} does not exist`);
    }
  };
  return [
    {
      method: 'GET',
      path: '/groups/:group/dlq',
      query: ['from', 'limit'],
      handle: ({ params, query }) => {
        const group = params.group!;
        existing(group);
        const from = queryInteger(query, 'from', 0, Number.MAX_SAFE_INTEGER, 0);
        const limit = queryInteger(query, 'limit', 1, DLQ_PAGE_MAX, DLQ_PAGE_DEFAULT);
        const topic = dlqTopicOf(group);
        const page = core.browseQueue(topic, RETRY_DLQ_QUEUE_ID, from, limit);
        return {
          status: 200,
          body: {
            group,
            topic,
            minOffset: page.minOffset,
            maxOffset: page.maxOffset,
            nextOffset: page.nextOffset,
            messages: page.messages.map(messageView),
          },
        };
      },
    },
    {
      method: 'POST',
      path: '/groups/:group/dlq/resend',
      handle: async ({ params, body }) => {
        const group = params.group!;
        const messageIds = readMessageIds(await body());
        existing(group);
        const resent = await core.resendFromDeadLetter(group, messageIds);
        return { status: 200, body: { group, resent } };
      },
    },
  ];
}
