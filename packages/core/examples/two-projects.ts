/**
 * The runnable example behind `npm start`: agents and users of two projects
 * publish one event of every type on the in-memory bus; a subscriber per
 * project prints what it receives, showing that project A never sees project B.
 */
import { randomUUID } from "node:crypto";
import {
  createEvent,
  createEventBus,
  EVENT_TYPES,
  type Event,
  type EventType,
  type Subscription,
} from "../src/index.js";

const bus = createEventBus(process.env.EVENTBUS_URL);
bus.on("malformed", (error) => console.error(`skipped: ${error.message}`));

const projects = { A: randomUUID(), B: randomUUID() };
const agentOf = { A: randomUUID(), B: randomUUID() };
const userOf = { A: randomUUID(), B: randomUUID() };

async function printAll(name: keyof typeof projects, sub: Subscription): Promise<Event[]> {
  const received: Event[] = [];
  for await (const event of sub) {
    received.push(event);
    const actor = `${event.actor_type}${event.actor_id ? ` ${event.actor_id.slice(0, 8)}` : ""}`;
    console.log(
      `project ${name} <- ${event.type.padEnd(20)} by ${actor.padEnd(14)} ${JSON.stringify(event.payload)}`,
    );
    if (received.length === EVENT_TYPES.length) break;
  }
  return received;
}

function eventFor(name: keyof typeof projects, type: EventType, index: number): Event {
  const byUser = type.startsWith("approval.") && type !== "approval.requested";
  return createEvent({
    type,
    project_id: projects[name],
    actor_type: byUser ? "user" : type.startsWith("sprint.") ? "system" : "agent",
    actor_id: byUser ? userOf[name] : type.startsWith("sprint.") ? null : agentOf[name],
    payload: { project: name, seq: index },
  });
}

const subA = bus.subscribe([bus.getProjectChannel(projects.A)]);
const subB = bus.subscribe([bus.getProjectChannel(projects.B)]);
await Promise.all([subA.ready, subB.ready]);
console.log(`project A ${projects.A}\nproject B ${projects.B}\n`);

const receiving = Promise.all([printAll("A", subA), printAll("B", subB)]);
for (const [index, type] of EVENT_TYPES.entries()) {
  for (const name of ["A", "B"] as const) {
    await bus.publish(bus.getProjectChannel(projects[name]), eventFor(name, type, index));
  }
}
const [gotA, gotB] = await receiving;
await bus.close();

const leaked = [
  ...gotA.filter((event) => event.project_id !== projects.A),
  ...gotB.filter((event) => event.project_id !== projects.B),
];
console.log(
  `\nA received ${gotA.length} events, B received ${gotB.length}; events of the other project seen: ${leaked.length}`,
);
process.exitCode = leaked.length === 0 ? 0 : 1;
