import { RocketError, StatusCode } from '../status-code.js';

/** Any failure raised by the store. */
export class StoreError extends RocketError {}

export class MessageBodyTooLargeError extends StoreError {
  constructor(size: number, limit: number) {
    super(
      StatusCode.MESSAGE_BODY_TOO_LARGE,
      `message body of ${size} bytes exceeds the limit of ${limit} bytes`,
    );
  }
}

export class MessageBodyEmptyError extends StoreError {
  constructor() {
    super(StatusCode.MESSAGE_BODY_EMPTY, 'message body is empty');
  }
}

export class MessagePropertiesTooLargeError extends StoreError {
  constructor(detail: string) {
    super(StatusCode.MESSAGE_PROPERTIES_TOO_LARGE, `message properties too large: ${detail}`);
  }
}

export class IllegalTopicError extends StoreError {
  constructor(topic: string, reason: string) {
    super(StatusCode.ILLEGAL_TOPIC, `illegal topic ${JSON.stringify(topic)}: ${reason}`);
  }
}

export class IllegalMessageKeyError extends StoreError {
  constructor(key: string, reason: string) {
    super(StatusCode.ILLEGAL_MESSAGE_KEY, `illegal message key ${JSON.stringify(key)}: ${reason}`);
  }
}

export class IllegalQueueIdError extends StoreError {
  constructor(queueId: number) {
    super(StatusCode.BAD_REQUEST, `illegal queue id ${queueId}: must be an integer in [0, 65535]`);
  }
}

/** A record failed its CRC or structure check. Names the file and offset so an operator can look. */
export class CorruptRecordError extends StoreError {
  constructor(
    readonly file: string,
    readonly fileOffset: number,
    readonly physicalOffset: number,
    reason: string,
  ) {
    super(
      StatusCode.MESSAGE_CORRUPTED,
      `corrupt record in ${file} at file offset ${fileOffset} (physical offset ${physicalOffset}): ${reason}`,
    );
  }
}

/** The disk refused a write (ENOSPC, EDQUOT). The append was not stored; retry once space is freed. */
export class DiskFullError extends StoreError {
  constructor(cause: unknown) {
    super(StatusCode.INTERNAL_SERVER_ERROR, 'disk full: the message was not stored', { cause });
  }
}

/** An I/O error made the store's durability unknowable (EIO on write or fdatasync). */
export class StoreIOError extends StoreError {
  constructor(operation: string, cause: unknown) {
    super(StatusCode.INTERNAL_SERVER_ERROR, `store I/O failure during ${operation}`, { cause });
  }
}

/** Group commit did not cover the append within the sync-flush timeout (RocketMQ FLUSH_DISK_TIMEOUT). */
export class FlushTimeoutError extends StoreError {
  constructor(timeoutMs: number) {
    super(
      StatusCode.MASTER_PERSISTENCE_TIMEOUT,
      `message written but not flushed to disk within ${timeoutMs} ms`,
    );
  }
}

export class StoreClosedError extends StoreError {
  constructor() {
    super(StatusCode.INTERNAL_SERVER_ERROR, 'the message store is closed');
  }
}

/** Another process holds the data directory. */
export class StoreLockedError extends StoreError {
  constructor(dir: string, pid: string) {
    super(StatusCode.INTERNAL_SERVER_ERROR, `data directory ${dir} is in use by process ${pid}`);
  }
}
