// Runs the pages' own LeaderboardSocket (service/web/static/common.js) in Node, with
// just enough of a browser around it (location, relative fetch, WebSocket), and prints
// what happened as one JSON line: the socket's states, the URLs it opened, and the
// `full` flag of the first results it was handed.
//   node --experimental-websocket console_socket.mjs <base url> <contest> <token> <common.js>
const [base, cid, token, commonPath] = process.argv.slice(2);
const origin = new URL(base);
globalThis.location = { protocol: origin.protocol, host: origin.host };
const realFetch = globalThis.fetch;
const posted = [];
globalThis.fetch = (path, options = {}) => {
  posted.push(`${options.method || "GET"} ${path}`);
  return realFetch(new URL(path, base), options);
};
const urls = [];
const RealWebSocket = globalThis.WebSocket;
globalThis.WebSocket = class extends RealWebSocket {
  constructor(url, ...rest) {
    urls.push(String(url));
    super(url, ...rest);
  }
};

const { LeaderboardSocket } = await import(commonPath);
const states = [];
const report = (extra) => {
  console.log(JSON.stringify({ states, urls, posted, ...extra }));
  process.exit(0);
};
const socket = new LeaderboardSocket(cid, {
  token: token || null,
  onState: (state) => {
    states.push(state);
    if (state === "unauthorized") report({ full: null });
  },
  onResults: (results) => {
    socket.stop();
    report({ full: results.full });
  },
});
socket.start();
setTimeout(() => report({ timeout: true }), 15000);
