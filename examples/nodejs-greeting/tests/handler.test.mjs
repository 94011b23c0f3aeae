// node --test tests/ (after `npm ci` in src/, or against slipway's build:
// `slipway invoke greeting --event -`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { handler } from "../src/index.mjs";

test("greets by name", async () => {
  assert.deepEqual(await handler({ name: "Ada" }), { greeting: "Hello, Ada!" });
});

test("reminders add the duration", async () => {
  const r = await handler({ name: "Ada", in: "2h", at: "2026-01-01T10:00:00Z" });
  assert.equal(r.remindAt, "2026-01-01T12:00:00.000Z");
});

test("unreadable durations are errors", async () => {
  await assert.rejects(handler({ in: "soon" }), RangeError);
});
