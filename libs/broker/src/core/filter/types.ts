/** The two filter languages of RocketMQ 5 (`apache.rocketmq.v2.FilterType`: TAG = 1, SQL = 2). */
export type FilterType = 'TAG' | 'SQL92';

/** A subscription's filter as a client sends it. */
export interface FilterExpression {
  readonly type: FilterType;
  readonly expression: string;
}

/** What a filter may look at: the tag (`TAGS` in SQL92) and the user properties. */
export interface FilterableMessage {
  readonly tag: string | undefined;
  readonly userProperties: Readonly<Record<string, string>>;
}

/**
 * A filter compiled once and evaluated per message, in two stages as in RocketMQ: stage 1 on the
 * consume-queue entry (the tag hash, no commit-log read) and stage 2 on the decoded message.
 * Neither stage ever throws.
 */
export interface CompiledFilter {
  readonly type: FilterType;
  readonly expression: string;
  /** Stage 1, on the consume-queue tag hash; undefined = no pre-filter (accept all at stage 1). */
  readonly tagsCodeFilter: ((tagsCode: number) => boolean) | undefined;
  /** Stage 2, on the decoded message. */
  matches(message: FilterableMessage): boolean;
}
