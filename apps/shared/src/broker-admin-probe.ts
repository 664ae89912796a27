/**
 * Reads a consumer group's backlog (lag) from the built-in broker's admin API
 * (`GET /groups/:group/lag?topic=`), for the services' `GET /stats` and the load demo's
 * "backlog draining" chart. Optional: without `BROKER_ADMIN_URL` (an Apache cluster, whose
 * dashboard shows the same) the probe answers `null` rather than a made-up number.
 */

/** How long one admin call may take before the probe gives up (stats must not hang). */
export const ADMIN_CALL_TIMEOUT_MS = 2_000;

export interface BrokerAdminTarget {
  /** `http://host:port` of the admin API. */
  readonly url: string;
  readonly token?: string | undefined;
  /** RocketMQ namespace the services use (groups are `<namespace>%<group>` on the broker). */
  readonly namespace?: string | undefined;
}

export class BrokerAdminProbe {
  constructor(private readonly target: BrokerAdminTarget | undefined) {}

  /** Whether a broker admin API is configured. */
  get available(): boolean {
    return this.target !== undefined;
  }

  /**
   * Messages of `topic` stored but not yet consumed by `group`; `null` when no admin API is
   * configured or it cannot answer now (the reason is in `lastError`).
   */
  async lag(group: string, topic: string): Promise<number | null> {
    const target = this.target;
    if (target === undefined) return null;
    const name = (n: string) => (target.namespace ? `${target.namespace}%${n}` : n);
    const url = `${target.url.replace(/\/+$/, '')}/groups/${encodeURIComponent(name(group))}/lag?topic=${encodeURIComponent(name(topic))}`;
    try {
      const response = await fetch(url, {
        headers: target.token ? { authorization: `Bearer ${target.token}` } : {},
        signal: AbortSignal.timeout(ADMIN_CALL_TIMEOUT_MS),
      });
      if (response.status === 404) return 0; // the group has not consumed yet: nothing is behind it
      if (!response.ok) {
        this.lastError = `${url}: HTTP ${response.status}`;
        return null;
      }
      const body = (await response.json()) as { total?: unknown };
      return typeof body.total === 'number' ? body.total : null;
    } catch (err) {
      this.lastError = `${url}: ${err instanceof Error ? err.message : String(err)}`;
      return null;
    }
  }

  /** Why the last `lag` answered null. */
  lastError: string | undefined;
}
