/** The baseline: a bare node:http server answering a fixed 1 KB string. */
import { createServer } from 'node:http';

const body = 'x'.repeat(1024);
createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  response.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1');
