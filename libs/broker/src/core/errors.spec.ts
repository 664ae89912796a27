import { RocketError, StatusCode, type StatusCodeValue } from '../status-code.js';
import * as storeErrors from '../store/errors.js';
import {
  BadRequestError,
  ConsumerGroupNotFoundError,
  IllegalConsumerGroupError,
  IllegalDeliveryTimeError,
  IllegalInvisibleTimeError,
  IllegalMessageGroupError,
  IllegalMessageIdError,
  IllegalMessageKeyError,
  IllegalMessageTagError,
  IllegalPollingTimeError,
  IllegalPropertyKeyError,
  IllegalTopicError,
  InvalidReceiptHandleError,
  InvalidTransactionIdError,
  MessageBodyEmptyError,
  MessageBodyTooLargeError,
  MessageCorruptedError,
  MessagePropertiesTooLargeError,
  MessageTypeConflictError,
  TopicNotFoundError,
  preview,
  quote,
} from './errors.js';

describe('core errors', () => {
  const cases: Array<[RocketError, StatusCodeValue, string]> = [
    [new IllegalTopicError('t', 'why'), StatusCode.ILLEGAL_TOPIC, 'IllegalTopicError'],
    [new TopicNotFoundError('t'), StatusCode.TOPIC_NOT_FOUND, 'TopicNotFoundError'],
    [
      new IllegalConsumerGroupError('g', 'why'),
      StatusCode.ILLEGAL_CONSUMER_GROUP,
      'IllegalConsumerGroupError',
    ],
    [new IllegalMessageTagError('x', 'why'), StatusCode.ILLEGAL_MESSAGE_TAG, 'IllegalMessageTagError'],
    [new IllegalMessageKeyError('k', 'why'), StatusCode.ILLEGAL_MESSAGE_KEY, 'IllegalMessageKeyError'],
    [new IllegalMessageGroupError('g', 'why'), StatusCode.ILLEGAL_MESSAGE_GROUP, 'IllegalMessageGroupError'],
    [
      new IllegalPropertyKeyError('k', 'why'),
      StatusCode.ILLEGAL_MESSAGE_PROPERTY_KEY,
      'IllegalPropertyKeyError',
    ],
    [
      new MessagePropertiesTooLargeError('why'),
      StatusCode.MESSAGE_PROPERTIES_TOO_LARGE,
      'MessagePropertiesTooLargeError',
    ],
    [new IllegalMessageIdError('i', 'why'), StatusCode.ILLEGAL_MESSAGE_ID, 'IllegalMessageIdError'],
    [new IllegalDeliveryTimeError(5, 'why'), StatusCode.ILLEGAL_DELIVERY_TIME, 'IllegalDeliveryTimeError'],
    [
      new MessageTypeConflictError('FIFO', 'why'),
      StatusCode.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
      'MessageTypeConflictError',
    ],
    [new IllegalInvisibleTimeError(5, 'why'), StatusCode.ILLEGAL_INVISIBLE_TIME, 'IllegalInvisibleTimeError'],
    [new IllegalPollingTimeError(5, 'why'), StatusCode.ILLEGAL_POLLING_TIME, 'IllegalPollingTimeError'],
    [new InvalidReceiptHandleError('why'), StatusCode.INVALID_RECEIPT_HANDLE, 'InvalidReceiptHandleError'],
    [
      new InvalidTransactionIdError('x', 'why'),
      StatusCode.INVALID_TRANSACTION_ID,
      'InvalidTransactionIdError',
    ],
    [new MessageBodyEmptyError(), StatusCode.MESSAGE_BODY_EMPTY, 'MessageBodyEmptyError'],
    [new MessageBodyTooLargeError(10, 5), StatusCode.MESSAGE_BODY_TOO_LARGE, 'MessageBodyTooLargeError'],
    [new MessageCorruptedError('why'), StatusCode.MESSAGE_CORRUPTED, 'MessageCorruptedError'],
    [new BadRequestError('why'), StatusCode.BAD_REQUEST, 'BadRequestError'],
    [new ConsumerGroupNotFoundError('g'), StatusCode.CONSUMER_GROUP_NOT_FOUND, 'ConsumerGroupNotFoundError'],
  ];

  it.each(cases)('%s carries its RocketMQ status code', (error, code, name) => {
    expect(error).toBeInstanceOf(RocketError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.name).toBe(name);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('re-exports the store classes for the faults the store already names', () => {
    expect(IllegalTopicError).toBe(storeErrors.IllegalTopicError);
    expect(IllegalMessageKeyError).toBe(storeErrors.IllegalMessageKeyError);
    expect(MessageBodyEmptyError).toBe(storeErrors.MessageBodyEmptyError);
    expect(MessageBodyTooLargeError).toBe(storeErrors.MessageBodyTooLargeError);
    expect(MessagePropertiesTooLargeError).toBe(storeErrors.MessagePropertiesTooLargeError);
  });

  it('names the offending value, quoted and escaped', () => {
    const error = new IllegalMessageTagError('a\u0001b', 'cannot contain a control character');
    expect(error.message).toBe('illegal message tag "a\\u0001b": cannot contain a control character');
    expect(error.tag).toBe('a\u0001b');
  });

  it('truncates long values', () => {
    const long = 'x'.repeat(10_000);
    const error = new IllegalConsumerGroupError(long, 'too long');
    expect(error.message.length).toBeLessThan(200);
    expect(error.message).toContain('(10000 chars)');
  });

  it('does not split a surrogate pair when truncating', () => {
    const value = 'a'.repeat(63) + '😀' + 'b';
    const cut = preview(value);
    expect(cut.startsWith('a'.repeat(63) + '…')).toBe(true);
    expect(preview('short')).toBe('short');
    expect(quote('q"')).toBe('"q\\""');
    expect(() => encodeURIComponent(cut)).not.toThrow();
  });

  it('does not repeat a receipt handle', () => {
    expect(new InvalidReceiptHandleError('authentication failed').message).toBe(
      'invalid receipt handle: authentication failed',
    );
  });
});
