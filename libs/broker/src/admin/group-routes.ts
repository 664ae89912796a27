/**
 * `/groups`: list, get (with messages in flight), create (POST, 409 when it exists),
 * create-or-update (PUT, idempotent: how a client makes sure an `@Orderly` group is FIFO), delete;
 * lag per queue of one topic, and a reset of the offsets to a point in time.
 */
import { quote } from '../core/errors.js';
import { StatusCode } from '../status-code.js';
import { groupChanges } from './apply-broker-config.js';
import { type AdminCore } from './admin-core.js';
import { conflict, notFound } from './admin-http-errors.js';
import { type AdminRoute, queryText } from './admin-router.js';
import { groupView, lagView } from './admin-views.js';
import { readGroupSpec } from './resource-specs.js';
import { readObject, readString, readTimestamp } from './spec-reader.js';

export function groupRoutes(core: AdminCore): AdminRoute[] {
  const existing = (name: string) => {
    const group = core.getGroup(name);
    if (!group)
      throw notFound(StatusCode.CONSUMER_GROUP_NOT_FOUND, `consumer group ${quote(name)} does not exist`);
    return group;
  };
  return [
    {
      method: 'GET',
      path: '/groups',
      handle: () => ({ status: 200, body: { groups: core.listGroups().map(groupView) } }),
    },
    {
      method: 'GET',
      path: '/groups/:group',
      handle: ({ params }) => {
        const group = existing(params.group!);
        return { status: 200, body: { ...groupView(group), inFlight: core.inFlightCount(group.name) } };
      },
    },
    {
      method: 'POST',
      path: '/groups',
      handle: async ({ body }) => {
        const spec = readGroupSpec(await body(), '');
        if (core.getGroup(spec.name)) throw conflict(`consumer group ${quote(spec.name)} already exists`);
        return { status: 201, body: groupView(core.createGroup(spec.name, spec.options)) };
      },
    },
    {
      method: 'PUT',
      path: '/groups/:group',
      handle: async ({ params, body }) => {
        const spec = readGroupSpec((await body()) ?? {}, '', { name: params.group! });
        const current = core.getGroup(spec.name);
        if (!current) return { status: 201, body: groupView(core.createGroup(spec.name, spec.options)) };
        const changes = groupChanges(spec, current);
        return { status: 200, body: groupView(changes ? core.updateGroup(spec.name, changes) : current) };
      },
    },
    {
      method: 'DELETE',
      path: '/groups/:group',
      handle: ({ params }) => {
        if (!core.deleteGroup(params.group!)) {
          throw notFound(
            StatusCode.CONSUMER_GROUP_NOT_FOUND,
            `consumer group ${quote(params.group!)} does not exist`,
          );
        }
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/groups/:group/lag',
      query: ['topic'],
      handle: ({ params, query }) => ({
        status: 200,
        body: lagView(core.lag(params.group!, queryText(query, 'topic', true))),
      }),
    },
    {
      method: 'POST',
      path: '/groups/:group/reset-offsets',
      handle: async ({ params, body }) => {
        const request = readObject(await body(), '', ['topic', 'timestamp']);
        const topic = readString(request.topic, 'topic');
        const timestamp = readTimestamp(request.timestamp, 'timestamp');
        const offsets = core.resetOffsets(params.group!, topic, timestamp);
        return { status: 200, body: { group: params.group, topic, timestamp, offsets } };
      },
    },
  ];
}
