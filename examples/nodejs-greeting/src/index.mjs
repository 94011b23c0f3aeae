import dayjs from "dayjs";
import utc from "dayjs/plugin/utc.js";
import ms from "ms";

dayjs.extend(utc);

/** Greets `event.name` and says when a reminder `event.in` ("2h", "1d") from `event.at` falls. */
export const handler = async (event) => {
  const name = event?.name ?? "world";
  const result = { greeting: `Hello, ${name}!` };
  if (event?.in) {
    const delay = ms(String(event.in));
    if (delay === undefined) {
      throw new RangeError(`cannot read the duration ${JSON.stringify(event.in)}`);
    }
    const at = event.at ? dayjs.utc(event.at) : dayjs.utc();
    result.remindAt = at.add(delay, "millisecond").toISOString();
  }
  return result;
};
