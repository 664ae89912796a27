/**
 * `/topics`: list, get, create (POST, 409 when it exists), create-or-update (PUT, idempotent: what
 * scripts and the config file use), delete.
 */
import { StatusCode } from '../status-code.js';
import { topicDiffers, topicOptionsOf } from './apply-broker-config.js';
import { type AdminCore } from './admin-core.js';
import { conflict, notFound } from './admin-http-errors.js';
import { type AdminRoute, queryBoolean } from './admin-router.js';
import { topicView } from './admin-views.js';
import { readTopicSpec } from './resource-specs.js';

export function topicRoutes(core: AdminCore): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/topics',
      query: ['includeRetryAndDlq'],
      handle: ({ query }) => ({
        status: 200,
        body: {
          topics: core
            .listTopics({ includeRetryAndDlq: queryBoolean(query, 'includeRetryAndDlq', true) })
            .map(topicView),
        },
      }),
    },
    {
      method: 'GET',
      path: '/topics/:topic',
      handle: ({ params }) => {
        const topic = core.getTopic(params.topic!);
        if (!topic || topic.kind === 'system') {
          throw notFound(StatusCode.TOPIC_NOT_FOUND, `topic ${JSON.stringify(params.topic)} does not exist`);
        }
        return { status: 200, body: topicView(topic) };
      },
    },
    {
      method: 'POST',
      path: '/topics',
      handle: async ({ body }) => {
        const spec = readTopicSpec(await body(), '');
        if (core.getTopic(spec.name)) throw conflict(`topic ${JSON.stringify(spec.name)} already exists`);
        return { status: 201, body: topicView(core.createTopic(spec.name, topicOptionsOf(spec))) };
      },
    },
    {
      method: 'PUT',
      path: '/topics/:topic',
      handle: async ({ params, body }) => {
        const spec = readTopicSpec((await body()) ?? {}, '', { name: params.topic! });
        const current = core.getTopic(spec.name);
        if (!current)
          return { status: 201, body: topicView(core.createTopic(spec.name, topicOptionsOf(spec))) };
        if (!topicDiffers(spec, current)) return { status: 200, body: topicView(current) };
        return { status: 200, body: topicView(core.updateTopic(spec.name, topicOptionsOf(spec))) };
      },
    },
    {
      method: 'DELETE',
      path: '/topics/:topic',
      handle: ({ params }) => {
        if (!core.deleteTopic(params.topic!)) {
          throw notFound(StatusCode.TOPIC_NOT_FOUND, `topic ${JSON.stringify(params.topic)} does not exist`);
        }
        return { status: 204 };
      },
    },
  ];
}
