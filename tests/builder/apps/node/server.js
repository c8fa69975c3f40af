const http = require("http");
const port = process.env.PORT || 5000;
http.createServer((req, res) => res.end("Powered by Node.js\n")).listen(port);
