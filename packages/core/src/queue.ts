/**
 * A first-in first-out ring buffer that grows by doubling as needed, so an idle
 * subscription costs a few slots rather than its whole bound. Callers enforce
 * the bound; the queue only stores.
 */
export class FifoQueue<T> {
  #slots: (T | undefined)[] = new Array(4);
  #head = 0;
  #length = 0;

  /** How many items are queued. */
  get length(): number {
    return this.#length;
  }

  /** Adds an item at the back. */
  push(item: T): void {
    if (this.#length === this.#slots.length) this.#grow();
    this.#slots[(this.#head + this.#length) % this.#slots.length] = item;
    this.#length++;
  }

  /** Removes and returns the item at the front, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#slots[this.#head];
    this.#slots[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#slots.length;
    this.#length--;
    return item;
  }

  /** The item `index` places from the front (0 is the front), or `undefined` past the back. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#slots[(this.#head + index) % this.#slots.length];
  }

  /** Empties the queue and releases its storage. */
  clear(): void {
    this.#slots = new Array(4);
    this.#head = 0;
    this.#length = 0;
  }

  #grow(): void {
    const grown: (T | undefined)[] = new Array(this.#slots.length * 2);
    for (let i = 0; i < this.#length; i++) {
      grown[i] = this.#slots[(this.#head + i) % this.#slots.length];
    }
    this.#slots = grown;
    this.#head = 0;
  }
}
