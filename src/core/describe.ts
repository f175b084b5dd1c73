// How a value from user code or a file appears inside an error message: one short line, whatever
// the value is. A message must not grow with its input (a 5,000-digit number, a long string), must
// not break a terminal (control characters), and must not throw itself (symbols, BigInts, objects
// whose toString throws).

/** The longest a quoted value gets in a message before the middle is cut. */
export const MESSAGE_VALUE_LIMIT = 60;

/** Cuts `text` to about `limit` characters, keeping both ends and saying how much was cut. */
export function clipText(text: string, limit = MESSAGE_VALUE_LIMIT): string {
  if (text.length <= limit) return text;
  const keep = Math.max(1, Math.floor((limit - 20) / 2));
  return `${text.slice(0, keep)}...(${text.length - 2 * keep} more characters)...${text.slice(-keep)}`;
}

/** A string as a message shows it: quoted, control characters escaped, clipped. */
export function quote(text: string, limit = MESSAGE_VALUE_LIMIT): string {
  return JSON.stringify(clipText(text, limit)).replace(/[\u007f-\u009f\ufffe\uffff]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/** Any value as a message shows it: its kind and a short, safe rendering. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return `the string ${quote(value)}`;
    case "number":
      return clipText(String(value));
    case "bigint":
      return `the BigInt ${clipText(String(value))}n`;
    case "boolean":
    case "undefined":
      return String(value);
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
    case "object":
      return describeObject(value);
  }
}

/** A value that should have been a name (a dtype, a backend, an activation): quoted if a string. */
export function describeName(value: unknown): string {
  return typeof value === "string" ? quote(value) : describeValue(value);
}

function describeObject(value: object | null): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  const name = constructorName(value);
  return name === "Object" || name === undefined ? "an object" : `a ${name}`;
}

function constructorName(value: object): string | undefined {
  try {
    const ctor = (value as { constructor?: unknown }).constructor;
    return typeof ctor === "function" && typeof ctor.name === "string" ? ctor.name : undefined;
  } catch {
    return undefined;
  }
}
