// Starts bench/token-server.mjs in its own process (the server must not share the client's core
// time slices more than the machine forces it to) and returns its URL and a stop function.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export async function startTokenServer(args = []) {
  const entry = fileURLToPath(new URL("./token-server.mjs", import.meta.url));
  const child = spawn(process.execPath, [entry, "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      buffer += d;
      const line = buffer.split("\n")[0];
      if (buffer.includes("\n")) resolve(JSON.parse(line).port);
    });
    child.on("exit", (code) => reject(new Error(`token server exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async stats(reset = false) {
      const response = await fetch(`${url}/stats${reset ? "?reset" : ""}`);
      return { at: performance.timeOrigin + performance.now(), ...(await response.json()) };
    },
    stop() {
      child.kill("SIGTERM");
    },
  };
}
