import { createServer } from 'node:net';
import { StatusCode } from '../status-code.js';
import { hostOfHeader, isLoopbackHost, tokensEqual } from './admin-auth.js';
import { httpStatusOf } from './admin-http-errors.js';
import { AdminHttpServer } from './admin-http-server.js';
import { adminRequest, AdminHarness, withOverrides } from './admin-testing.js';

const TOKEN = 'a-long-enough-admin-token';

describe('admin API: who may call it', () => {
  it('refuses to be exposed on a non-loopback address without a token', () => {
    const core = {} as never;
    expect(() => new AdminHttpServer({ core, host: '0.0.0.0', port: 0 })).toThrow(
      'refusing to expose the admin API on 0.0.0.0 without a token',
    );
    expect(() => new AdminHttpServer({ core, host: '192.168.1.10', port: 0, token: '' })).toThrow(RangeError);
    expect(() => new AdminHttpServer({ core, host: '127.0.0.1', port: 0, token: 'short' })).toThrow(
      'the admin token must be at least 16 characters',
    );
    expect(() => new AdminHttpServer({ core, port: 65536 })).toThrow('admin port 65536 is not a port number');
  });

  it('knows loopback addresses and names', () => {
    for (const host of [
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      'localhost',
      'LOCALHOST',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackHost(host)).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1', 'localhost.evil.com']) {
      expect(isLoopbackHost(host)).toBe(false);
    }
    expect(hostOfHeader('127.0.0.1:8082')).toBe('127.0.0.1');
    expect(hostOfHeader('[::1]:8082')).toBe('[::1]');
    expect(hostOfHeader('localhost')).toBe('localhost');
    expect(tokensEqual(TOKEN, TOKEN)).toBe(true);
    expect(tokensEqual(TOKEN, `${TOKEN}x`)).toBe(false);
    expect(tokensEqual('', TOKEN)).toBe(false);
  });

  describe('without a token (loopback only)', () => {
    let a: AdminHarness;
    beforeAll(async () => {
      a = await AdminHarness.open();
    });
    afterAll(() => a.close());

    it('answers local tools', async () => {
      const reply = await a.call('GET', '/topics');
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(reply.json).toEqual({ topics: [] });
    });

    it('refuses a request whose Host is not a loopback name (DNS rebinding)', async () => {
      const reply = await a.call('GET', '/topics', { headers: { host: 'attacker.example:8082' } });
      expect(reply.status).toBe(403);
      expect(reply.json).toEqual({
        code: StatusCode.FORBIDDEN,
        message: 'the admin API is loopback-only: the Host header must name a loopback address',
      });
    });

    it('refuses browser requests (an Origin header), so a web page cannot delete a topic', async () => {
      a.h.core.createTopic('precious');
      const reply = await a.call('DELETE', '/topics/precious', {
        headers: { origin: 'https://evil.example' },
      });
      expect(reply.status).toBe(403);
      expect(reply.json).toMatchObject({ code: StatusCode.FORBIDDEN });
      expect(a.h.core.getTopic('precious')).toBeDefined();
    });
  });

  describe('with a token', () => {
    let a: AdminHarness;
    beforeAll(async () => {
      a = await AdminHarness.open({ host: '0.0.0.0', token: TOKEN });
    });
    afterAll(() => a.close());
    const local = () => ({ host: '127.0.0.1', port: a.address.port });

    it('binds the requested non-loopback address', () => {
      expect(a.address.host).toBe('0.0.0.0');
      expect(a.address.port).toBeGreaterThan(0);
    });

    it('answers with the right bearer token', async () => {
      const reply = await adminRequest(local(), 'GET', '/groups', { token: TOKEN });
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({ groups: [] });
    });

    it('answers 401 with a challenge when the token is missing, also for routes that do not exist', async () => {
      for (const path of ['/groups', '/no/such/route']) {
        const reply = await adminRequest(local(), 'GET', path);
        expect(reply.status).toBe(401);
        expect(reply.headers['www-authenticate']).toBe('Bearer realm="rocketnest-broker-admin"');
        expect(reply.json).toEqual({
          code: StatusCode.UNAUTHORIZED,
          message: 'missing "Authorization: Bearer <token>"',
        });
      }
    });

    it('answers 401 for a wrong token or another scheme', async () => {
      const wrong = await adminRequest(local(), 'GET', '/groups', { token: `${TOKEN}-but-not` });
      expect(wrong.status).toBe(401);
      expect(wrong.json).toEqual({ code: StatusCode.UNAUTHORIZED, message: 'wrong admin token' });
      const basic = await adminRequest(local(), 'GET', '/groups', {
        headers: { authorization: `Basic ${TOKEN}` },
      });
      expect(basic.status).toBe(401);
    });

    it('lets health probes in without the token', async () => {
      const reply = await adminRequest(local(), 'GET', '/health');
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({ status: 'ok' });
    });

    it('accepts any Host when the token protects it (it is meant to be reached from elsewhere)', async () => {
      const reply = await adminRequest(local(), 'GET', '/groups', {
        token: TOKEN,
        headers: { host: 'broker.internal' },
      });
      expect(reply.status).toBe(200);
    });
  });
});

describe('admin API: transport errors', () => {
  let a: AdminHarness;
  beforeAll(async () => {
    a = await AdminHarness.open({ maxBodyBytes: 1024 });
  });
  afterAll(() => a.close());

  it('answers 404 NOT_FOUND for an unknown route', async () => {
    const reply = await a.call('GET', '/queues');
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ code: StatusCode.NOT_FOUND, message: 'no admin route "/queues"' });
  });

  it('answers 405 with Allow for a method the route does not have', async () => {
    const reply = await a.call('PATCH', '/topics/orders', { body: {} });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('GET, PUT, DELETE');
    expect(reply.json).toEqual({
      code: StatusCode.BAD_REQUEST,
      message: 'PATCH is not allowed on /topics/orders (allowed: GET, PUT, DELETE)',
    });
  });

  it('answers 400 for a body that is not JSON', async () => {
    const reply = await a.call('POST', '/topics', { rawBody: '{"name": orders}' });
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({
      code: StatusCode.BAD_REQUEST,
      message: expect.stringMatching(/^the request body is not valid JSON/),
    });
  });

  it('answers 415 for a body that is not declared as JSON', async () => {
    const reply = await a.call('POST', '/topics', {
      rawBody: 'name=orders',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(reply.status).toBe(415);
    expect(reply.json).toMatchObject({ code: StatusCode.BAD_REQUEST });
    expect(a.h.core.getTopic('orders')).toBeUndefined();
  });

  it('answers 413 PAYLOAD_TOO_LARGE for a body over the limit', async () => {
    const reply = await a.call('POST', '/topics', { body: { name: 'x'.repeat(2000) } });
    expect(reply.status).toBe(413);
    expect(reply.json).toEqual({
      code: StatusCode.PAYLOAD_TOO_LARGE,
      message: 'request body larger than 1024 bytes',
    });
  });

  it('answers 400 for an unknown or repeated query parameter', async () => {
    const unknown = await a.call('GET', '/topics?includeRetry=false');
    expect(unknown.status).toBe(400);
    expect(unknown.json).toEqual({
      code: StatusCode.BAD_REQUEST,
      message: 'unknown query parameter "includeRetry" (allowed here: includeRetryAndDlq)',
    });
    const twice = await a.call('GET', '/topics?includeRetryAndDlq=true&includeRetryAndDlq=false');
    expect(twice.status).toBe(400);
    const badBool = await a.call('GET', '/topics?includeRetryAndDlq=yes');
    expect(badBool.json).toMatchObject({
      message: 'query parameter "includeRetryAndDlq" must be true or false, got "yes"',
    });
  });

  it('answers 400 for bad percent-encoding in the path', async () => {
    const reply = await a.call('GET', '/topics/%E0%A4%A');
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({
      code: StatusCode.BAD_REQUEST,
      message: expect.stringMatching(/^bad percent-encoding/),
    });
  });

  it('maps RocketMQ codes to HTTP statuses by class', () => {
    expect(httpStatusOf(StatusCode.ILLEGAL_TOPIC)).toBe(400);
    expect(httpStatusOf(StatusCode.UNAUTHORIZED)).toBe(401);
    expect(httpStatusOf(StatusCode.FORBIDDEN)).toBe(403);
    expect(httpStatusOf(StatusCode.TOPIC_NOT_FOUND)).toBe(404);
    expect(httpStatusOf(StatusCode.MESSAGE_NOT_FOUND)).toBe(404);
    expect(httpStatusOf(StatusCode.MESSAGE_BODY_TOO_LARGE)).toBe(413);
    expect(httpStatusOf(StatusCode.TOO_MANY_REQUESTS)).toBe(429);
    expect(httpStatusOf(StatusCode.NOT_IMPLEMENTED)).toBe(501);
    expect(httpStatusOf(StatusCode.INTERNAL_ERROR)).toBe(500);
  });
});

describe('admin API: failures inside the broker', () => {
  it('answers 500 with a generic message for an unexpected error and logs the details', async () => {
    const a = await AdminHarness.open({}, (core) =>
      withOverrides(core, {
        listGroups: () => {
          throw new Error('disk on fire at /secret/path');
        },
      }),
    );
    try {
      const reply = await a.call('GET', '/groups');
      expect(reply.status).toBe(500);
      expect(reply.json).toEqual({
        code: StatusCode.INTERNAL_SERVER_ERROR,
        message: 'internal error (see the broker log)',
      });
      expect(
        a.h.logger.lines.some((l) => l.includes('GET /groups failed') && l.includes('disk on fire')),
      ).toBe(true);
    } finally {
      await a.close();
    }
  });

  it('answers 503 while the broker core is closing, and health says so', async () => {
    const a = await AdminHarness.open();
    try {
      await a.h.core.close();
      const reply = await a.call('POST', '/topics', { body: { name: 'late' } });
      expect(reply.status).toBe(503);
      expect(reply.json).toEqual({
        code: StatusCode.INTERNAL_SERVER_ERROR,
        message: 'the broker is shutting down',
      });
      const health = await a.call('GET', '/health');
      expect(health.status).toBe(503);
      expect(health.json).toEqual({ status: 'closing' });
    } finally {
      await a.close();
    }
  });

  it('rejects listen() with a clear message when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const server = new AdminHttpServer({ core: {} as never, host: '127.0.0.1', port });
      await expect(server.listen()).rejects.toThrow(
        `the admin API cannot listen on 127.0.0.1:${port}: the port is in use`,
      );
      await server.close();
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('closes with requests under way: they finish, new connections are refused', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const a = await AdminHarness.open({}, (core) =>
      withOverrides(core, {
        queryMessageById: async () => {
          await gate;
          return [];
        },
      }),
    );
    const slow = a.call('GET', '/messages/ABC');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = a.server.close();
    release();
    const reply = await slow;
    expect(reply.status).toBe(404);
    await closing;
    await expect(a.call('GET', '/health')).rejects.toThrow(/ECONNREFUSED/);
    await a.h.close();
  });
});
