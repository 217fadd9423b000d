/**
 * The gateway's Prometheus metrics (prom-client), on a registry of its own so
 * several gateways in one process (tests, embedding) never share counters.
 * What the bus already counts is read from `bus.stats()` at scrape time
 * rather than counted twice.
 */
import type { EventBus, EventBusStats } from "@eventbus/core";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";

/** The metrics a gateway updates as it serves, and the registry `GET /metrics` renders. */
export class GatewayMetrics {
  /** Everything below, plus the process's default metrics (CPU, memory, event loop). */
  readonly registry = new Registry();
  /** Open SSE streams, by kind: `project`, `agent`, or `multi` (`GET /v1/events`). */
  readonly openStreams: Gauge<"kind">;
  /** Clients (tokens, or addresses without access control) with at least one stream open. */
  readonly streamClients: Gauge;
  /** Streams refused because their client held its quota of open streams. */
  readonly streamsRefused: Counter;
  /** Publishes refused by the publish rate limit. */
  readonly publishesRateLimited: Counter;
  /** Events written to SSE streams, after each stream's `?types=` filter (see {@link eventSent}). */
  #eventsSent = 0;
  /** Events buffered for a stream that was cut off as a slow consumer, so never sent. */
  readonly eventsDropped: Counter;
  /**
   * Reads of the history routes, by outcome: `complete`, `incomplete` (the
   * page has a gap: the client must reload) or `invalid` (a malformed
   * position, limit or id: 400).
   */
  readonly historyReads: Counter<"outcome">;

  /**
   * @param bus - the bus whose counters are read at scrape time.
   * @param openSockets - how many HTTP sockets the server holds now, read at scrape time.
   */
  constructor(bus: EventBus, openSockets: () => Promise<number>) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.openStreams = new Gauge({
      name: "eventbus_sse_open_streams",
      help: "SSE streams open now",
      labelNames: ["kind"],
      registers,
    });
    this.streamClients = new Gauge({
      name: "eventbus_sse_stream_clients",
      help: "Clients (tokens, or addresses without access control) with at least one SSE stream open",
      registers,
    });
    this.streamsRefused = new Counter({
      name: "eventbus_sse_streams_refused_total",
      help: "SSE streams refused (429) because their client held its quota of open streams",
      registers,
    });
    this.publishesRateLimited = new Counter({
      name: "eventbus_publish_rate_limited_total",
      help: "Publishes refused (429) by the publish rate limit",
      registers,
    });
    const eventsSent = (): number => this.#eventsSent;
    new Counter({
      name: "eventbus_sse_events_sent_total",
      help: "Events written to SSE streams",
      registers,
      collect() {
        this.reset();
        this.inc(eventsSent());
      },
    });
    this.eventsDropped = new Counter({
      name: "eventbus_sse_events_dropped_total",
      help: "Events never sent because their stream was cut off as a slow consumer",
      registers,
    });
    this.historyReads = new Counter({
      name: "eventbus_history_reads_total",
      help: "Reads of GET .../history, by outcome: complete, incomplete (a gap) or invalid (400)",
      labelNames: ["outcome"],
      registers,
    });
    const fromBus = (name: string, help: string, read: (stats: EventBusStats) => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read(bus.stats()));
        },
      });
    };
    fromBus("eventbus_events_published_total", "Events published to the bus", (s) => s.published);
    fromBus(
      "eventbus_events_delivered_total",
      "Events the bus handed to local subscriptions (one per stream of their channel)",
      (s) => s.delivered,
    );
    fromBus(
      "eventbus_slow_consumers_total",
      "Subscriptions (streams) ended because they fell behind",
      (s) => s.slowConsumers,
    );
    fromBus(
      "eventbus_malformed_messages_total",
      "Messages on subscribed channels skipped as not valid events",
      (s) => s.malformed,
    );
    fromBus(
      "eventbus_transport_disconnects_total",
      "Times the bus lost its connection",
      (s) => s.disconnects,
    );
    fromBus(
      "eventbus_transport_reconnects_total",
      "Times the bus reconnected and re-subscribed every channel",
      (s) => s.reconnects,
    );
    new Counter({
      name: "eventbus_resumes_total",
      help: "Streams (bus subscriptions) resumed from a position, by outcome: complete, or incomplete (told to reload)",
      labelNames: ["outcome"],
      registers,
      collect() {
        const stats = bus.stats();
        this.reset();
        this.inc({ outcome: "complete" }, stats.resumes);
        this.inc({ outcome: "incomplete" }, stats.resumesIncomplete);
      },
    });
    fromBus(
      "eventbus_events_replayed_total",
      "Events replayed from history to resuming streams",
      (s) => s.replayed,
    );
    fromBus(
      "eventbus_backfills_total",
      "Live catch-ups from history (after a reconnect or a skipped offset)",
      (s) => s.backfills,
    );
    fromBus(
      "eventbus_events_backfilled_total",
      "Events those catch-ups delivered",
      (s) => s.backfilled,
    );
    fromBus(
      "eventbus_gaps_total",
      "Live gaps history could not fill (each told to its streams as event: reload); incomplete resumes count in eventbus_resumes_total",
      (s) => s.gaps,
    );
    new Gauge({
      name: "eventbus_http_connections",
      help: "HTTP sockets the gateway holds open (streams, keep-alive and idle sockets)",
      registers,
      async collect() {
        this.set(await openSockets());
      },
    });
    new Gauge({
      name: "eventbus_bus_channels",
      help: "Channels subscribed at the server: one per followed project or agent, however many streams follow it",
      registers,
      collect() {
        this.set(bus.stats().channels);
      },
    });
  }

  /**
   * Counts one event written to an SSE stream. It runs once per event per
   * stream, so it is a plain increment, read into
   * `eventbus_sse_events_sent_total` at scrape time.
   */
  eventSent(): void {
    this.#eventsSent++;
  }
}
