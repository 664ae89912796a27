/**
 * Errors of the transport, in the client's typed family (`RocketMQClientError`, status codes).
 */
import { BadRequestError, RocketMQClientError, StatusCode } from '../../client/index.js';

/**
 * A pattern the transport cannot serve: patterns are strings, `topic` (every tag) or
 * `topic:tag`, with a legal topic name and tag; two patterns may not name the same messages.
 */
export class InvalidPatternError extends BadRequestError {
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(StatusCode.BAD_REQUEST, `pattern ${JSON.stringify(pattern)} cannot be served: ${reason}`);
  }
}

/**
 * A delivered message that no `@EventPattern` / `@MessagePattern` handler matches (its tag is let
 * through by a topic filter of the options, or the handlers changed). It is not acknowledged: it
 * is retried and, after the group's max attempts, dead-lettered.
 */
export class NoHandlerError extends RocketMQClientError {
  constructor(
    readonly messageId: string,
    readonly topic: string,
    readonly tag: string | undefined,
  ) {
    super(
      StatusCode.NOT_FOUND,
      `no handler for message ${messageId} (topic ${topic}, tag ${tag ?? '(none)'}); it is not acknowledged: ` +
        'it will be delivered again and, after the max attempts, dead-lettered',
      false,
    );
  }
}
