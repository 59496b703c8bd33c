/** Ports for the servers the tests start, all on 127.0.0.1: the harness's own free-port helper, under the name the tests use. */
export { freeLoopbackPort as freePort } from '../../src/harness/drivers/reload-under-load-run.js';
