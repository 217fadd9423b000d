/**
 * The publish routes' decision on a request's `Content-Type`, made before its
 * body is read: JSON in UTF-8, as RFC 8259 requires of JSON exchanged between
 * systems. Parsing the JSON itself is the body parser's job.
 */
import { parse } from "content-type";
import { UnsupportedMediaTypeError } from "./errors.js";

/**
 * Accepts `application/json` with no charset or a UTF-8 one (`utf-8`, `utf8`,
 * any case, quoted or not).
 *
 * @throws {UnsupportedMediaTypeError} no `Content-Type` (even for an empty
 * body), another media type, or another charset (the body would be read as
 * UTF-8 and mean something else).
 */
export function assertJsonUtf8(header: string | undefined): void {
  if (header === undefined) {
    throw new UnsupportedMediaTypeError(
      "publishing needs a JSON body with Content-Type: application/json",
    );
  }
  let type: string;
  let charset: string | undefined;
  try {
    const parsed = parse(header);
    type = parsed.type;
    charset = parsed.parameters.charset;
  } catch {
    throw new UnsupportedMediaTypeError(
      "the Content-Type header does not parse; use Content-Type: application/json",
    );
  }
  if (type !== "application/json") {
    throw new UnsupportedMediaTypeError(
      `the body must be JSON (Content-Type: application/json), not ${type}`,
    );
  }
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new UnsupportedMediaTypeError(
      `the body must be JSON in UTF-8; charset=${charset.slice(0, 40)} is not accepted`,
    );
  }
}
