/**
 * The request-reply convention (RocketTemplate.request, RocketMQClientProxy.send, answered by a
 * `@MessagePattern` handler's return value). RocketMQ 5's gRPC protocol has no reply RPC, so a
 * request is an ordinary message carrying a correlation id and where to answer, and the reply is an
 * ordinary message to that reply topic, tagged with the requester's client id so that each
 * requester's own subscription (TAG filter, a group per requester instance) receives only its
 * answers. RocketMQ 4's request-reply carried `CORRELATION_ID` and `REPLY_TO_CLIENT` as system
 * properties; RocketMQ 5 reserves both names (`MessageConst.STRING_HASH_SET`: the proxy, and the
 * built-in broker, refuse them as user properties with ILLEGAL_MESSAGE_PROPERTY_KEY), so ours carry
 * an `RN_` prefix and read the same otherwise.
 */

/** Ties a reply to its request. */
export const CORRELATION_ID_PROPERTY = 'RN_CORRELATION_ID';
/** The topic the reply goes to. */
export const REPLY_TOPIC_PROPERTY = 'REPLY_TOPIC';
/** The requester's client id; the reply carries it as its tag. */
export const REPLY_TO_CLIENT_PROPERTY = 'RN_REPLY_TO_CLIENT';
/** Epoch ms after which nobody waits for the answer: a responder skips expired requests. */
export const REQUEST_DEADLINE_PROPERTY = 'REQUEST_DEADLINE';
/** Set on a reply when the handler threw: the body is `{ message, name, status? }` as JSON. */
export const REPLY_ERROR_PROPERTY = 'REPLY_ERROR';

/** The reply topic when the module options do not name one; it must exist (created by the module on the built-in broker). */
export const DEFAULT_REPLY_TOPIC = 'rocketnest-reply';
