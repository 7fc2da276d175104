/**
 * Writes a streamed (SSE) response body. Each network write of a stream is one HTTP chunk; at
 * the token rates a benchmark drives (10⁵ writes per second) node:http's generic chunked writer
 * (three buffers per write and a cork/uncork round trip through nextTick) costs a noticeable
 * share of a core, so while the response owns its socket we frame the chunk ourselves and write
 * it in one piece. The response still ends through node:http (`res.end()` sends the last chunk
 * and runs keep-alive), and a response that does not own its socket yet (a pipelined request
 * waiting its turn) falls back to `res.write`, which queues correctly.
 */
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";

export class SseWriter {
  constructor(private readonly res: ServerResponse) {}

  /** Sends the status and headers now (a stream starts before its first token). */
  open(headers: OutgoingHttpHeaders): void {
    // Declaring chunked ourselves keeps node:http framing the body (and ending it) as chunks.
    this.res.writeHead(200, { ...headers, "transfer-encoding": "chunked" });
    this.res.flushHeaders();
  }

  write(data: string, callback?: () => void): void {
    const socket = this.res.socket;
    // `_httpMessage` is the response that currently owns the socket (node:http internals).
    if (socket?.writable && (socket as unknown as { _httpMessage?: unknown })._httpMessage === this.res) {
      socket.write(`${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`, callback);
    } else {
      this.res.write(data, callback);
    }
  }

  /** Writes the last data and ends the body (node:http adds the terminating empty chunk). */
  end(data: string): void {
    if (data) this.write(data);
    this.res.end();
  }
}
