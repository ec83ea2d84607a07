/** oauth2-mock-server issuing client-credentials tokens, RS256 with a 2048-bit key. */
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(Number(process.env.PORT), '127.0.0.1');
