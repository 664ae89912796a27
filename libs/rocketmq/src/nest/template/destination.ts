/**
 * Destinations as rocketmq-spring writes them: `topic` or `topic:tag`. The tag is everything after
 * the first `:` (topic names cannot contain one).
 */
export interface Destination {
  readonly topic: string;
  readonly tag: string | undefined;
}

/** @throws RangeError for an empty topic, or an empty tag after `:` */
export function parseDestination(destination: string): Destination {
  if (typeof destination !== 'string' || destination === '') {
    throw new RangeError('a destination is "topic" or "topic:tag"');
  }
  const colon = destination.indexOf(':');
  if (colon < 0) return { topic: destination, tag: undefined };
  const topic = destination.slice(0, colon);
  const tag = destination.slice(colon + 1);
  if (topic === '' || tag === '') {
    throw new RangeError(`destination ${JSON.stringify(destination)}: write "topic" or "topic:tag"`);
  }
  return { topic, tag };
}
