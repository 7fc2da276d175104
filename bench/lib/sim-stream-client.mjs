// A deliberately light load client for bench/sim.bench.mjs, run as its own process so its CPU is
// not counted as the simulator's: opens N streaming completions over raw sockets (one each,
// HTTP/1.1), counts the SSE events that arrive, and reports the count once a second as a JSON
// line on stdout. Usage: node sim-stream-client.mjs URL STREAMS MAX_TOKENS
import net from "node:net";

const [url, streamsArg, maxTokensArg] = process.argv.slice(2);
const { hostname, port } = new URL(url);
const streams = Number(streamsArg);
const body = JSON.stringify({
  prompt: [1, 2, 3, 4, 5, 6, 7, 8],
  max_tokens: Number(maxTokensArg),
  ignore_eos: true,
  stream: true,
});
const request =
  `POST /v1/completions HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\n` +
  `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

let events = 0;
let open = 0;
for (let i = 0; i < streams; i++) {
  const socket = net.connect(Number(port), hostname, () => {
    open += 1;
    socket.write(request);
  });
  let previous = 0; // last byte of the previous read, so a "\n\n" split across reads still counts
  socket.on("data", (data) => {
    if (previous === 10 && data[0] === 10) events += 1;
    for (let at = data.indexOf("\n\n"); at >= 0; at = data.indexOf("\n\n", at + 2)) events += 1;
    previous = data[data.length - 1];
  });
  socket.on("error", () => {});
}
setInterval(() => {
  const cpu = process.cpuUsage();
  process.stdout.write(
    `${JSON.stringify({ t: performance.now(), events, open, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`,
  );
}, 1000);
