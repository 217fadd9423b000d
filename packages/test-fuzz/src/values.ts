/** Generators of values as code may hand them over, not as JSON carries them. */
import fc from "fast-check";

/**
 * Any JavaScript value: besides JSON's, Maps, Sets, Dates, boxed values,
 * typed and sparse arrays, objects with a null prototype, BigInts, and
 * strings of any code point.
 */
export const anyValue: fc.Arbitrary<unknown> = fc.anything({
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withObjectString: true,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  stringUnit: "binary",
});
