/**
 * Type tests of the public API: `tsc` checks them (npm run typecheck), and
 * vitest runs them as ordinary tests.
 */
import { describe, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import {
  type ActorType,
  createEvent,
  createEventBus,
  type Event,
  type EventBus,
  type EventInput,
  type EventSchema,
  EventType,
  type JsonObject,
  type JsonValue,
  type Subscription,
  type WireEventSchema,
} from "../src/index.js";

describe("types - public API", () => {
  it("EventType is both a const object and the union of its values", () => {
    expectTypeOf(EventType.AGENT_SPAWNED).toEqualTypeOf<"agent.spawned">();
    expectTypeOf<EventType>().toEqualTypeOf<
      | "agent.spawned"
      | "agent.status_changed"
      | "agent.message"
      | "agent.terminated"
      | "issue.created"
      | "issue.updated"
      | "issue.assigned"
      | "issue.closed"
      | "sprint.started"
      | "sprint.completed"
      | "approval.requested"
      | "approval.granted"
      | "approval.denied"
    >();
  });

  it("Event keeps the wire's field names, with a Date timestamp", () => {
    expectTypeOf<Event>().toEqualTypeOf<{
      readonly id: string;
      readonly type: EventType;
      readonly timestamp: Date;
      readonly project_id: string;
      readonly actor_id: string | null;
      readonly actor_type: ActorType;
      readonly payload: JsonObject;
    }>();
    // What the schema parses is an Event, read-only.
    expectTypeOf<Readonly<z.output<typeof EventSchema>>>().toEqualTypeOf<Event>();
    expectTypeOf<z.output<typeof WireEventSchema>>().toMatchObjectType<{ timestamp: string }>();
  });

  it("Event is read-only at every depth, its payload too", () => {
    expectTypeOf<JsonObject>().toEqualTypeOf<{ readonly [key: string]: JsonValue }>();
    expectTypeOf<JsonValue>().toEqualTypeOf<
      string | number | boolean | null | readonly JsonValue[] | JsonObject
    >();
    // Only type-checked: each assignment is refused by the compiler.
    const mutations = (event: Event, list: readonly JsonValue[], nested: JsonObject) => {
      // @ts-expect-error -- a field of an event
      event.type = EventType.ISSUE_CLOSED;
      // @ts-expect-error -- a key of its payload
      event.payload.issue_id = "x";
      // @ts-expect-error -- a key of an object nested in its payload
      nested.key = 1;
      // @ts-expect-error -- an array in its payload
      list.push(1);
    };
    expectTypeOf(mutations).returns.toEqualTypeOf<void>();
    // A received event can be handed to createEvent as it is.
    expectTypeOf<Event>().toExtend<EventInput>();
  });

  it("createEvent needs type, project_id and actor_type", () => {
    expectTypeOf(createEvent).parameter(0).toHaveProperty("type").toEqualTypeOf<EventType>();
    // Only type-checked: these calls would throw at run time.
    const invalidCalls = () => [
      // @ts-expect-error -- actor_type is required
      createEvent({ type: EventType.ISSUE_CREATED, project_id: "p" }),
      createEvent({
        type: EventType.ISSUE_CREATED,
        project_id: "p",
        actor_type: "user",
        // @ts-expect-error -- payload must be JSON
        payload: { at: new Date() },
      }),
    ];
    expectTypeOf(invalidCalls).returns.items.toEqualTypeOf<Event>();
  });

  it("a subscription is an async iterator of events, disposable, with ready and closed", () => {
    expectTypeOf<Subscription>().toExtend<AsyncIterable<Event>>();
    expectTypeOf<Subscription>().toExtend<AsyncDisposable>();
    expectTypeOf<Subscription["ready"]>().toEqualTypeOf<Promise<void>>();
    expectTypeOf<Subscription["closed"]>().toEqualTypeOf<Promise<Error | undefined>>();
    expectTypeOf<ReturnType<EventBus["subscribe"]>>().toEqualTypeOf<Subscription>();
    expectTypeOf<ReturnType<EventBus["publish"]>>().toEqualTypeOf<Promise<string | undefined>>();
    expectTypeOf(createEventBus).returns.toEqualTypeOf<EventBus>();
  });
});
