/**
 * From the patterns of a server's handlers to what it subscribes to and how it dispatches.
 *
 * - A pattern is `topic` (every message of the topic) or `topic:tag` (that tag). Topic names cannot
 *   contain `:`, so the first `:` splits; spaces around either part are ignored. `topic:*` is `topic`.
 * - One subscription per topic: `Filter.ALL` when a handler takes the whole topic, else a TAG filter
 *   listing the handled tags (`a || b`), so that the server only delivers what has a handler.
 * - A topic's filter can be given instead (an SQL92 expression, a wider tag list): what it lets
 *   through without a handler is a message with no handler (not acknowledged; see NoHandlerError).
 * - Dispatch: the exact `topic:tag` handler first, else the topic's handler.
 */
import { validateTag, validateTopicName } from '@rocketnest/broker/core/validation.js';
import { RocketError } from '@rocketnest/broker/status-code.js';
import { Filter, type FilterExpression, type Subscription } from '../../client/index.js';
import { InvalidPatternError } from './transport-errors.js';

/** The pattern that matches every tag of a topic, written out. */
const ALL_TAGS = '*';

export interface ParsedPattern {
  readonly topic: string;
  /** Undefined: every tag. */
  readonly tag: string | undefined;
}

/**
 * `topic` or `topic:tag`.
 * @throws InvalidPatternError for a pattern that is not such a string (an object pattern), an
 *   illegal topic name or tag
 */
export function parsePattern(pattern: string): ParsedPattern {
  if (typeof pattern !== 'string') {
    throw new InvalidPatternError(String(pattern), 'patterns are strings: `topic` or `topic:tag`');
  }
  const colon = pattern.indexOf(':');
  const topic = (colon < 0 ? pattern : pattern.slice(0, colon)).trim();
  const tagText = colon < 0 ? '' : pattern.slice(colon + 1).trim();
  const tag = tagText === '' || tagText === ALL_TAGS ? undefined : tagText;
  try {
    validateTopicName(topic);
    validateTag(tag);
  } catch (err) {
    if (err instanceof RocketError) {
      const hint = pattern.trimStart().startsWith('{') ? ' (object patterns are not supported)' : '';
      throw new InvalidPatternError(pattern, `${err.message}${hint}`);
    }
    throw err;
  }
  return { topic, tag };
}

/** `topic` or `topic:tag`, as destinations are written. */
export function formatPattern(parsed: ParsedPattern): string {
  return parsed.tag === undefined ? parsed.topic : `${parsed.topic}:${parsed.tag}`;
}

interface TopicRoutes {
  /** The pattern (as registered) of the whole-topic handler. */
  all: string | undefined;
  /** Tag → the pattern (as registered). */
  readonly tags: Map<string, string>;
}

export class PatternRoutes {
  readonly #topics = new Map<string, TopicRoutes>();
  readonly #filters: ReadonlyMap<string, FilterExpression>;

  /**
   * @param patterns the handlers' patterns as registered (the keys of their map)
   * @param filters per topic, a filter to subscribe with instead of the derived one
   * @throws InvalidPatternError for a pattern that cannot be served, two patterns for the same
   *   messages, or a filter for a topic no pattern names
   */
  constructor(patterns: Iterable<string>, filters: Readonly<Record<string, FilterExpression>> = {}) {
    for (const pattern of patterns) {
      const { topic, tag } = parsePattern(pattern);
      let routes = this.#topics.get(topic);
      if (!routes) this.#topics.set(topic, (routes = { all: undefined, tags: new Map() }));
      const taken = tag === undefined ? routes.all : routes.tags.get(tag);
      if (taken !== undefined) {
        throw new InvalidPatternError(pattern, `it names the same messages as ${JSON.stringify(taken)}`);
      }
      if (tag === undefined) routes.all = pattern;
      else routes.tags.set(tag, pattern);
    }
    for (const topic of Object.keys(filters)) {
      if (!this.#topics.has(topic)) {
        throw new InvalidPatternError(topic, 'a filter is given for a topic that no handler serves');
      }
    }
    this.#filters = new Map(Object.entries(filters));
  }

  /** Topics served. */
  get topics(): string[] {
    return [...this.#topics.keys()];
  }

  /** One subscription per topic (see the file comment). */
  subscriptions(): Subscription[] {
    return [...this.#topics].map(([topic, routes]) => ({
      topic,
      filter:
        this.#filters.get(topic) ??
        (routes.all !== undefined ? Filter.ALL : Filter.tag([...routes.tags.keys()].join(' || '))),
    }));
  }

  /** The registered pattern whose handler takes a message of `topic` with `tag`; undefined when none. */
  match(topic: string, tag: string | undefined): string | undefined {
    const routes = this.#topics.get(topic);
    if (!routes) return undefined;
    return (tag === undefined ? undefined : routes.tags.get(tag)) ?? routes.all;
  }
}
