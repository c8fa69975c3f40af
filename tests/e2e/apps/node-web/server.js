const http = require("http");
const port = process.env.PORT || 5000;
http
  .createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end(`Hello from node ${process.version} on ${process.env.DEIS_APP}\n`);
  })
  .listen(port, () => console.log(`listening on ${port}`));
