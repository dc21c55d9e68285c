// pack's web UI: start the router (nav.js), which loads each page's module on first use.
import { start } from './nav.js';

start();
