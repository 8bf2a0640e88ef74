/** A backend broke the KeyBackend contract. Thrown by the checks; the message names the rule that failed. */
export class ConformanceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConformanceError';
  }
}
