// The Python literal in a .npy header, {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), },
// which numpy reads with ast.literal_eval. This parser accepts a strict subset of what numpy
// accepts (checked against numpy 1.24, see test/cli-npy-header.test.ts): whatever it accepts,
// numpy reads the same way, so a file we take is a file numpy takes. Anything outside the subset
// is reported as a malformed header rather than guessed at.

import { quote } from "../core/describe.js";

/** A problem with a file's contents; the caller prefixes the file name. */
export class NpyError extends Error {
  override name = "NpyError";
}

/** A Python tuple, kept apart from a list: numpy wants the shape to be a tuple. */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export type PyValue =
  string | boolean | bigint | null | PyTuple | PyValue[] | ReadonlyMap<string, PyValue>;

/**
 * How deep brackets may nest. numpy's headers need three levels (a dict holding a tuple, or for
 * structured dtypes a list of tuples holding a shape tuple); the bound keeps a corrupt header of
 * thousands of parentheses from exhausting the stack.
 */
export const MAX_NESTING = 32;

// Python's whitespace between tokens inside brackets (where newlines do not end a statement).
// Vertical tab and non-breaking space are not whitespace to Python's tokenizer.
const INNER_SPACE = /[ \t\f\r\n]/;

// Integers as Python 3 writes them in decimal: no leading zeros except in 0 itself ("03" is a
// syntax error; "00" is zero). Hex, octal, binary and underscores are valid Python that numpy
// never writes; they are refused.
const INTEGER = /[+-]?(?:0+|[1-9][0-9]*)(?![0-9A-Za-z_])/y;
const INTEGER_LONG = /[+-]?(?:0+|[1-9][0-9]*)L(?![0-9A-Za-z_])/y;
const KEYWORD = /(?:True|False|None)(?![0-9A-Za-z_])/y;

/**
 * Parses a header's text. `pythonTwoLongs`: versions 1.0 and 2.0 may come from Python 2, whose
 * integers can end in L; numpy strips it for those versions only.
 */
export function parseLiteral(text: string, pythonTwoLongs: boolean): ReadonlyMap<string, PyValue> {
  let at = 0;
  const fail = (): never => {
    throw new NpyError(
      `has a malformed header near ${quote(text.slice(at, at + 20))}: it is not a valid .npy file`,
    );
  };
  const skip = (): void => {
    while (at < text.length && INNER_SPACE.test(text[at]!)) at++;
  };
  const eat = (char: string): boolean => {
    skip();
    if (text[at] !== char) return false;
    at++;
    return true;
  };
  // Items up to `close`, separated by commas, with an optional trailing comma. `trailing` says
  // whether the last item was followed by a comma (what makes (3,) a tuple and (3) just 3).
  const sequence = <T>(close: string, item: () => T): { items: T[]; trailing: boolean } => {
    const items: T[] = [];
    for (;;) {
      if (eat(close)) return { items, trailing: items.length > 0 };
      items.push(item());
      if (eat(",")) continue;
      if (eat(close)) return { items, trailing: false };
      return fail();
    }
  };
  const value = (depth: number): PyValue => {
    if (depth > MAX_NESTING) {
      throw new NpyError(
        `has a header nested more than ${MAX_NESTING} brackets deep: it is not a valid .npy file`,
      );
    }
    skip();
    const char = text[at];
    if (char === "'" || char === '"') return string(char);
    if (char === "(") {
      at++;
      const { items, trailing } = sequence(")", () => value(depth + 1));
      // (x) is x in parentheses; a tuple needs a comma, or no items at all.
      return items.length === 1 && !trailing ? items[0]! : new PyTuple(items);
    }
    if (char === "[") {
      at++;
      return sequence("]", () => value(depth + 1)).items;
    }
    if (char === "{") {
      at++;
      const entries = sequence("}", () => {
        const key = value(depth + 1);
        if (typeof key !== "string" || !eat(":")) return fail();
        return [key, value(depth + 1)] as const;
      }).items;
      // A later duplicate key wins, as in Python.
      return new Map(entries);
    }
    const keyword = match(KEYWORD);
    if (keyword !== null) return keyword === "None" ? null : keyword === "True";
    const integer = (pythonTwoLongs ? match(INTEGER_LONG) : null) ?? match(INTEGER);
    if (integer === null) return fail();
    return BigInt(integer.replace("L", ""));
  };
  const match = (pattern: RegExp): string | null => {
    pattern.lastIndex = at;
    const found = pattern.exec(text);
    if (found === null) return null;
    at += found[0].length;
    return found[0];
  };
  // Plain quoted text only: an escape, a line break or a NUL would make Python read it otherwise
  // (or not at all), and numpy's descr and keys never contain one.
  const string = (delimiter: string): string => {
    const end = text.indexOf(delimiter, at + 1);
    if (end === -1) return fail();
    const body = text.slice(at + 1, end);
    if (/[\\\r\n\0]/.test(body)) return fail();
    at = end + 1;
    return body;
  };

  // Python strips leading spaces and tabs only; a line break before an indented dict is an
  // indentation error there.
  while (text[at] === " " || text[at] === "\t") at++;
  if (text[at] !== "{") fail();
  const result = value(0);
  // numpy pads with spaces and ends the header with a newline.
  const tail = text.slice(at);
  if (!/^[ \t\f]*\r?\n$/.test(tail)) {
    if (/^[ \t\f]*$/.test(tail)) {
      throw new NpyError(
        "has a header that does not end with a newline: it is not a valid .npy file",
      );
    }
    fail();
  }
  return result as ReadonlyMap<string, PyValue>;
}
