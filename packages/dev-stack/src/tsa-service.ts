import { generateKeyPairSync } from 'node:crypto';
import { tsaHandler } from '@sigstore/mock/dist/timestamp/handler.js';
import { initializeTSA, type TSA } from '@sigstore/mock/dist/timestamp/tsa.js';
import { HttpService, type RouteResult } from './http-service.js';

/**
 * An RFC 3161 timestamp authority on @sigstore/mock's TSA, answering sigstore-js's JSON request
 * (`{artifactHash, hashAlgorithm, certificates, nonce}`) at Sigstore's path `/api/v1/timestamp`.
 * (cosign's DER `application/timestamp-query` requests are not understood by the mock.)
 */
export class TsaService {
  readonly service = new HttpService('tsa');
  /**
   * Milliseconds the TSA's clock is off from the real one. Its certificates are valid for a year from start,
   * so an offset beyond that (or below zero) stamps times its own certificate does not cover.
   */
  clockOffsetMs = 0;
  readonly keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  tsa!: TSA;

  async start(): Promise<string> {
    this.tsa = await initializeTSA(this.keys);
    // Mock defect: with a clock whose milliseconds end in 0 it encodes genTime with one or two fractional
    // digits, which verifiers reject ("invalid time"). Its clock option is a fixed Date, so the instance's
    // clock is replaced by one that reads the time now, rounded down to whole seconds.
    (this.tsa as unknown as { getCurrentTime: () => Date }).getCurrentTime = () =>
      new Date(Math.floor((Date.now() + this.clockOffsetMs) / 1000) * 1000);
    const mock = tsaHandler(this.tsa, { strict: true });
    this.service.route('POST', mock.path, async (request) => {
      try {
        JSON.parse(request.body.toString('utf8'));
      } catch {
        return { statusCode: 400, response: 'this TSA takes the JSON timestamp request only' };
      }
      return mock.fn(request.body.toString('utf8')) as Promise<RouteResult>;
    });
    return this.service.listen();
  }

  get timestampUrl(): string {
    return `${this.service.url}/api/v1/timestamp`;
  }
}
