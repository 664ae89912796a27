import { BadRequestError } from '../core/errors.js';
import { RocketError, StatusCode, type StatusCodeValue } from '../status-code.js';
import { isSuccessCode, statusOf, STATUS_MESSAGE_MAX_CHARS } from './status.js';
import { MemoryLogger } from './testing/grpc-harness.js';

describe('statusOf', () => {
  it('keeps the code and message of a RocketError', () => {
    expect(statusOf(new BadRequestError('nope'))).toEqual({
      code: StatusCode.BAD_REQUEST,
      message: 'bad request: nope',
    });
  });

  it.each([
    ['a plain Error', new Error('boom')],
    ['a thrown string', 'boom'],
    ['undefined', undefined],
    ['a RocketError with code 0', new RocketError(0 as StatusCodeValue, 'unspecified')],
    ['a RocketError with an unknown code', new RocketError(12345 as StatusCodeValue, 'made up')],
    ['a RocketError claiming OK', new RocketError(StatusCode.OK, 'not an error')],
  ])('maps %s to INTERNAL_ERROR, logged, never code 0', (_what, err) => {
    const logger = new MemoryLogger();
    expect(statusOf(err, logger, 'Test')).toEqual({
      code: StatusCode.INTERNAL_ERROR,
      message: 'internal error',
    });
    expect(logger.errors()).toHaveLength(1);
    expect(logger.errors()[0]).toMatch(/^Test failed unexpectedly/);
  });

  it('clips very long messages', () => {
    const status = statusOf(new BadRequestError('x'.repeat(10_000)));
    expect(status.message!.length).toBe(STATUS_MESSAGE_MAX_CHARS);
  });

  it('knows which codes the official client does not throw on', () => {
    expect([StatusCode.OK, StatusCode.MULTIPLE_RESULTS, StatusCode.BAD_REQUEST].map(isSuccessCode)).toEqual([
      true,
      true,
      false,
    ]);
  });
});
