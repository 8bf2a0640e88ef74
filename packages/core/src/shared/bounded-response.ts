/**
 * An HTTP answer's body, refused as soon as it would pass `limit` bytes: the declared length first, then
 * every chunk as it comes (a hostile server may declare nothing and never stop). Undefined when too large;
 * the body is then cancelled, so the connection is not left reading.
 */
export async function readBoundedResponse(response: Response, limit: number): Promise<Buffer | undefined> {
  if (Number(response.headers.get('content-length') ?? 0) > limit) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.length;
    if (size > limit) {
      await response.body?.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
