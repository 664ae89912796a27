/**
 * What a consumer subscribes to: a topic and a filter, TAG or SQL92 (PROTOCOL.md §4).
 *
 * - TAG: `*` or empty = every message; `a||b` = a tag equal to `a` or `b` (trimmed); an untagged
 *   message matches only `*`.
 * - SQL92: a boolean expression over user properties and `TAGS` (`a > 1 AND TAGS IN ('x')`); the
 *   group must allow SQL filters on Apache RocketMQ (`enablePropertyFilter`).
 *
 * Filters are checked when the consumer starts (the broker's own compiler, so the rules are the
 * server's): a bad expression fails `Consumer.start` with ILLEGAL_FILTER_EXPRESSION instead of
 * failing every receive later.
 */
import { compileFilter } from '@rocketnest/broker/core/filter/index.js';
import { validateTopicName } from '@rocketnest/broker/core/validation.js';
import {
  FilterType,
  type FilterExpression as ProtoFilterExpression,
} from '@rocketnest/broker/grpc/proto-types.js';

export interface FilterExpression {
  readonly type: 'TAG' | 'SQL92';
  readonly expression: string;
}

export const Filter = Object.freeze({
  /** Every message of the topic. */
  ALL: Object.freeze({ type: 'TAG', expression: '*' }) as FilterExpression,
  /** Messages whose tag is one of `a||b||…` (`*` = all). */
  tag(expression: string): FilterExpression {
    return Object.freeze({ type: 'TAG', expression });
  },
  /** Messages for which the SQL92 expression over user properties (and `TAGS`) is true. */
  sql(expression: string): FilterExpression {
    return Object.freeze({ type: 'SQL92', expression });
  },
});

export interface Subscription {
  readonly topic: string;
  /** Default `Filter.ALL`. */
  readonly filter?: FilterExpression;
}

/** A subscription with its filter resolved and checked. */
export interface CheckedSubscription {
  readonly topic: string;
  readonly filter: FilterExpression;
}

/**
 * Checks the subscriptions: at least one, legal topic names, each topic once, compilable filters.
 * @throws IllegalTopicError (40002), IllegalFilterExpressionError (40010), RangeError (none, or a
 *   topic twice)
 */
export function checkSubscriptions(subscriptions: readonly Subscription[]): CheckedSubscription[] {
  if (!Array.isArray(subscriptions) || subscriptions.length === 0) {
    throw new RangeError('a consumer needs at least one subscription');
  }
  const seen = new Set<string>();
  return subscriptions.map((s) => {
    validateTopicName(s?.topic, { allowRetryDlq: true });
    if (seen.has(s.topic)) throw new RangeError(`topic ${s.topic} is subscribed twice`);
    seen.add(s.topic);
    const filter = s.filter ?? Filter.ALL;
    compileFilter({ type: filter.type, expression: filter.expression });
    return { topic: s.topic, filter: { type: filter.type, expression: filter.expression } };
  });
}

/** The filter as ReceiveMessage and the Settings carry it. */
export function toProtoFilter(filter: FilterExpression): ProtoFilterExpression {
  return { type: filter.type === 'SQL92' ? FilterType.SQL : FilterType.TAG, expression: filter.expression };
}
