/** This client's version, sent as `x-mq-client-version` and in the Settings user agent. */
export const CLIENT_VERSION = '0.1.0';
